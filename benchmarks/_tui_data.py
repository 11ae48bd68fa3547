"""The secrets the TUI benchmarks list: generated IDs, an in-memory plugin, cached file stores.

Textual-free, so the parent process of ``python -m benchmarks tui`` stays small (its peak memory
is carried into the children it forks) and the child processes import only what they time.

File stores are built once per size under ``benchmarks/.cache`` (git-ignored) in the store's own
on-disk format, with the store's own record and encryption code, but without its per-save
``fsync``s and lock: 100,000 ``docker pass set`` calls would take the best part of an hour.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.ids import ID, Pattern

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable

    from docker_pass.core.engine import Engine
    from docker_pass.core.plugin import Plugin

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
#: Bump when the generated store changes shape, so stale caches are rebuilt.
STORE_VERSION = 1
TEAMS = ["payments", "search", "platform", "identity", "data", "mobile", "web", "infra"]
KINDS = ["postgres/password", "redis/url", "api-key", "oauth/token", "tls/key"]


def generate_ids(count: int) -> list[str]:
    """``count`` IDs of 4-5 components over team/env/service realms."""
    envs = ["prod", "staging", "dev"]
    return [f"{TEAMS[i % 8]}/{envs[i // 8 % 3]}/svc{i // 24}/{KINDS[i % 5]}" for i in range(count)]


def sorted_ids(count: int) -> list[str]:
    """:func:`generate_ids` sorted, read from a list cached under ``benchmarks/.cache``.

    Making up 100,000 ID strings and sorting them costs the in-memory plugin ~50 ms that no
    real plugin pays (a store reads its IDs, the file store's index already sorted), so it is
    done once, like the cached file stores, and the timed process reads the list.
    """
    where = CACHE / f"ids-v{STORE_VERSION}-{count}.txt"
    try:
        text = where.read_text()
    except FileNotFoundError:
        text = "\n".join(sorted(generate_ids(count)))
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = where.with_name(f"{where.name}.{os.getpid()}.tmp")
        partial.write_text(text)
        partial.replace(where)
    return text.split("\n") if text else []


def memory_plugin(ids: list[str] | None = None, *, count: int = 0) -> type:
    """A keychain plugin that lists ``ids`` (or ``count`` generated IDs) from memory.

    The listing is built on the first ``list`` (in the UI's worker, as a plugin would), once.
    """
    cache: list[SecretInfo] = []
    meta = MappingProxyType({"n": "1"})

    class MemoryKeychain:
        name = "docker-pass"
        version = "bench"
        pattern = Pattern("**")
        configurable = False
        writable = False

        def start(self) -> None:
            pass

        def stop(self) -> None:
            pass

        def storage(self) -> str:
            return "memory"

        #: Seconds the first ``list`` spent making the entries (the plugin's cost, not the UI's).
        build_seconds = 0.0
        #: Of those, the seconds spent getting the sorted ID strings: the fake's own set-up
        #: (read from a cached list, as a real plugin reads its store), not what any plugin pays.
        setup_seconds = 0.0

        def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
            if not cache:
                start = time.perf_counter()
                source = sorted(ids) if ids is not None else sorted_ids(count)
                made_up = time.perf_counter()
                # In bulk, as the file store makes its listing (one check of all the IDs,
                # no constructor call per entry): what a plugin of 100,000 secrets does.
                parsed = ID.parse_many(source)
                n = len(parsed)
                cache.extend(SecretInfo.many(parsed, "docker-pass", [meta] * n, [None] * n))
                type(self).build_seconds = time.perf_counter() - start
                type(self).setup_seconds = made_up - start
            return cache

        def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
            return []

    return MemoryKeychain


def memory_engine(
    ids: list[str] | None = None, *, count: int = 0, plugin: type | None = None
) -> Callable[[], Engine]:
    from docker_pass.core.engine import Engine

    factories: dict[str, Callable[[], Plugin]] = {
        "docker-pass": plugin or memory_plugin(ids, count=count)
    }
    return lambda: Engine(factories=factories)


def file_store_data_dir(count: int) -> Path:
    """``XDG_DATA_HOME`` of a cached age file store of ``count`` generated secrets."""
    where = CACHE / f"filestore-v{STORE_VERSION}-{count}"
    if (where / "complete").exists():
        return where
    shutil.rmtree(where, ignore_errors=True)
    print(f"building a file store of {count:,} secrets in {where} (cached)…", file=sys.stderr)
    _build_file_store(where / "docker-pass", generate_ids(count))
    (where / "complete").write_text("ok\n")
    return where


def _build_file_store(data: Path, ids: list[str]) -> None:
    from docker_pass.backends.keychain.filestore import FileStore, records
    from docker_pass.core.private_files import ensure_private_dir, open_private

    store = FileStore(data / "store", data / "identity.txt")
    ensure_private_dir(store.root)
    # Every value is the same word: one encryption, written under each secret's name.
    ciphertext = store.key.encrypt(b"value")
    now = records.now()
    for raw in ids:
        id_ = ID(raw)
        name = records.file_name(id_)
        record = records.new_record(id_, "a", {"n": "1"}, now, now)
        for file_name, data_bytes in (
            (f"{name}.a.age", ciphertext),
            (f"{name}.json", records.dump_record(record)),
        ):
            fd = open_private(store.root / file_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
            try:
                os.write(fd, data_bytes)
            finally:
                os.close(fd)


def burst_of_writes(count: int, writes: int = 20) -> None:
    """``writes`` saves through docker-pass's file store, one right after another, into the
    cached store of ``count`` secrets: each secret set again to what it holds (the store keeps
    its shape).  A burst takes the listing index away (each save within a second of the last
    leaves it away: :mod:`docker_pass.backends.keychain.filestore.index`), so the next listing
    rebuilds it from the records, as the first ``docker pass ui`` after a script's writes does."""
    from docker_pass.backends.keychain.filestore import FileStore

    data = file_store_data_dir(count) / "docker-pass"
    store = FileStore(data / "store", data / "identity.txt")
    for raw in generate_ids(count)[:writes]:
        store.save(ID(raw), b"value", {"n": "1"})
