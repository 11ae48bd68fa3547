"""Writers in processes of their own that race to save one secret, each with the version it read.

Run as ``python -m tests.support.version_writer`` (from the checkout, with the test's
environment).  It reads one JSON line from stdin (never argv: it holds a value): the store to
open (:func:`open_store`), the ID, the value in hex and the metadata.  It then reads the
secret's version (``NO_SECRET`` when there is none), prints ``read VERSION``, waits for a
``go`` line, saves with that version expected, and prints ``won NEW-VERSION`` or
``conflict FOUND``.  :func:`race` runs a round of them from a test.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from docker_pass.core.store import SecretStore

    Spawn = Callable[..., subprocess.Popen[bytes]]

ROOT = Path(__file__).resolve().parents[2]
#: How long a writer may take to start, read, or answer (interpreter start-up included).
STEP_TIMEOUT = 60.0


def open_store(spec: Mapping[str, Any]) -> SecretStore:
    """The store ``spec`` names: ``{"kind": "file", "root", "identity"}``, ``{"kind":
    "secret-service", "address"}`` or ``{"kind": "keyring", "path", "platform"}``."""
    kind = spec["kind"]
    if kind == "file":
        from docker_pass.backends.keychain.filestore import FileStore

        return FileStore(root=Path(spec["root"]), identity_path=Path(spec["identity"]))
    if kind == "secret-service":
        from docker_pass.backends.keychain.secretservice import SecretServiceStore

        return SecretServiceStore(spec["address"])
    from keyrings.alt.file import PlaintextKeyring

    from docker_pass.backends.keychain.keyring_store import KeyringStore

    backend = PlaintextKeyring()
    backend.file_path = spec["path"]  # as tests/backends/test_keyring_store.py makes it
    return KeyringStore(backend, platform=spec["platform"])


def main() -> int:
    """One writer (see the module's docstring)."""
    from docker_pass.core.errors import SecretNotFoundError, VersionConflictError
    from docker_pass.core.ids import ID
    from docker_pass.core.versions import NO_SECRET

    order = json.loads(sys.stdin.readline())
    store = open_store(order["store"])
    id_ = ID.parse(order["id"])
    try:
        version = store.get(id_).version
    except SecretNotFoundError:
        version = NO_SECRET
    print(f"read {version}", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 1
    try:
        new = store.save(
            id_, bytes.fromhex(order["value"]), order["metadata"], expected_version=version
        )
    except VersionConflictError as exc:
        print(f"conflict {exc.found}", flush=True)
    else:
        print(f"won {new}", flush=True)
    store.close()
    return 0


def read_line(proc: subprocess.Popen[bytes], deadline: float) -> str:
    """The next line ``proc`` prints, waiting at most until ``deadline`` (monotonic)."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(max(deadline - time.monotonic(), 0.0)):
            raise AssertionError(f"writer {proc.pid} said nothing in time")
    return proc.stdout.readline().decode().strip()


def race(
    spawn: Spawn,
    spec: Mapping[str, Any],
    raw_id: str,
    entries: Sequence[tuple[bytes, Mapping[str, str]]],
) -> tuple[list[str], list[str]]:
    """One round: a writer per entry (value, metadata), all reading before any saves.

    Returns what each read and what each answered (``won V`` or ``conflict V``), in order.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    procs = [
        spawn(
            [sys.executable, "-m", "tests.support.version_writer"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=ROOT,
        )
        for _ in entries
    ]
    for proc, (value, metadata) in zip(procs, entries, strict=True):
        order = {"store": dict(spec), "id": raw_id, "value": value.hex(), "metadata": metadata}
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(order).encode() + b"\n")
        proc.stdin.flush()
    deadline = time.monotonic() + STEP_TIMEOUT
    read = [read_line(proc, deadline).removeprefix("read ") for proc in procs]
    for proc in procs:  # every writer has read: now they race
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
    deadline = time.monotonic() + STEP_TIMEOUT
    answers = [read_line(proc, deadline) for proc in procs]
    for proc in procs:
        assert proc.wait(timeout=STEP_TIMEOUT) == 0
    return read, answers


if __name__ == "__main__":
    sys.exit(main())
