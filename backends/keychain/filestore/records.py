"""The file store's files: the record of each secret, the names of its files, and reading and
writing them safely.

A record (``<sha256(id)>.json``) is the plain part of a secret: its ID, metadata, times,
version, and which value slot (``a`` or ``b``) holds its age-encrypted value.  Every record
written holds a fresh random ``revision`` and names its ``writer`` (a program, a process, a
host): the record's bytes are never written twice, so its digest is part of the secret's
version token (:func:`~docker_pass.backends.keychain.versioning.record_token`), and a
conflict can say who made the change.  Both keys are additions: older docker-pass reads and
writes these records as before (its records simply lack them).  Every store file
is read without following links and only when it is a regular file of ours
(:func:`~docker_pass.core.private_files.open_private`), and written by :func:`write_atomically`
so that readers see the old file or the new one, whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from docker_pass.backends.keychain.versioning import check_version, record_token
from docker_pass.core.errors import StoreError, UnsafePathError
from docker_pass.core.ids import ID, is_valid_id
from docker_pass.core.names import PROGRAM
from docker_pass.core.private_files import open_private
from docker_pass.core.regular_files import FILE_LIMIT, FileReadError, read_open_file
from docker_pass.core.versions import NO_SECRET

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

RECORD_FORMAT = 1
#: The target of ``flock``: writers take it exclusive, readers shared.
LOCK_NAME = ".lock"
#: Every temporary file in the store starts so (a crashed writer's are swept).
TEMP_PREFIX = ".tmp-"
#: The two value slots: a save writes the one that is not live.
SLOTS = ("a", "b")
#: The largest value file read: what the daemon's wire carries (a bigger one is no value we
#: wrote, and reading it would only exhaust memory).
VALUE_FILE_LIMIT = 64 * 1024 * 1024
RECORD_NAME = re.compile(r"[0-9a-f]{64}\.json")
# The longest writer a conflict message quotes.
_WRITER_LIMIT = 200
_NO_METADATA: Mapping[str, str] = MappingProxyType({})

#: What tells one record file from any other (device, inode, change time, size).
Stamp = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class Record:
    """The plain part of one secret: everything but the value."""

    id: ID
    slot: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    created: str = ""
    updated: str = ""
    #: How many times it was saved (1 for a new secret; 0 for a record from before versions).
    version: int = 0
    #: Its version token: the count and a digest of the record file (``""``: not read from one).
    token: str = ""
    #: Who wrote it, as the record says (``""`` in records of older docker-pass).
    writer: str = ""
    #: The record file's modification time (whole POSIX seconds): when the secret last changed.
    mtime: int | None = None
    #: The record file's identity when read (device, inode, change time, size): a kept value
    #: is served again only while the file is this very one.
    stamp: Stamp | None = None

    def created_at(self) -> datetime | None:
        """When the secret was first saved, if the record says so readably."""
        try:
            return datetime.fromisoformat(self.created) if self.created else None
        except ValueError:
            return None

    @property
    def value_name(self) -> str:
        """The name of the age file that holds the value now."""
        return f"{file_name(self.id)}.{self.slot}.age"


def file_name(id_: ID) -> str:
    """The file name stem of ``id_``: a digest, so no ID can name a path outside the store."""
    return digest(id_.value)


def digest(raw_id: str) -> str:
    """The SHA-256 of an ID's text, in lowercase hex."""
    return hashlib.sha256(raw_id.encode("utf-8")).hexdigest()


def read_record(root: str, name: str) -> Record | None:
    """The record stored under ``name`` (a digest) in ``root``, ``None`` if absent; StoreError
    if it is damaged.

    The error names the record's file, and the secret's ID when the record still says it
    (with the remedy: deleting that ID removes the damaged files).
    """
    path = os.path.join(root, name + ".json")
    try:
        raw, info = read_bytes(path)
    except FileNotFoundError:
        return None
    except (UnsafePathError, FileReadError) as exc:
        raise StoreError(f"file store: {exc}") from None
    if not raw.strip():
        raise StoreError(f"file store: {path} is damaged (empty)")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise StoreError(f"file store: {path} is damaged (not JSON, or cut short)") from None
    problem = record_problem(data, name)
    if problem:
        raw_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(raw_id, str) and _record_id_is_trusted(raw_id, name):
            raise StoreError(
                f"file store: the record of {raw_id} ({path}) is damaged ({problem}); "
                f"{remove_hint(raw_id)}"
            )
        raise StoreError(f"file store: {path} is damaged ({problem})")
    meta = data["metadata"]
    version = data.get("version", 0)
    writer = data.get("writer", "")
    return Record(
        id=ID(data["id"]),
        slot=data["value"][len(name) + 1 : len(name) + 2],
        metadata=MappingProxyType(meta) if meta else _NO_METADATA,
        created=data.get("created", ""),
        updated=data.get("updated", ""),
        version=version,
        token=record_token(version, raw),
        # Shown in a conflict's message: only a short, printable one (a record is ours, but
        # it is a file anyone with our permissions may edit).
        writer=writer if _is_short_text(writer) else "",
        mtime=info.st_mtime_ns // 1_000_000_000,
        stamp=stamp_of(info),
    )


def read_value_file(root: Path, record: Record) -> bytes:
    """The bytes of ``record``'s value file; StoreError naming the secret if it is missing or
    not a file of ours."""
    path = root / record.value_name
    try:
        return read_bytes(path, VALUE_FILE_LIMIT)[0]
    except FileNotFoundError:
        raise StoreError(
            f"file store: the value file of {record.id.value} is missing ({path}); "
            f"{remove_hint(record.id.value)}"
        ) from None
    except (UnsafePathError, FileReadError) as exc:
        raise StoreError(
            f"file store: the value file of {record.id.value}: {exc}; "
            f"{remove_hint(record.id.value)}"
        ) from None


def check_record_version(
    id_: ID, expected: str | None, record: Record | None, *, removing: bool = False
) -> None:
    """Raise the conflict when the stored ``record`` (``None``: no such secret) is not the
    version a write expects (under the exclusive lock, before anything is written), naming
    when and by whom it was written."""
    if record is None:
        check_version(id_, expected, NO_SECRET, removing=removing)
        return
    check_version(
        id_,
        expected,
        record.token,
        removing=removing,
        changed_at=record.mtime,
        changed_by=record.writer,
    )


def record_problem(data: object, name: str) -> str:
    """What is wrong with a parsed record stored under ``name``; empty if nothing."""
    if not isinstance(data, dict):
        return "not a JSON object"
    if "format" not in data:
        return "not a docker-pass record"
    if data.get("format") != RECORD_FORMAT:
        return f"unknown format {data.get('format')!r}"
    raw_id = data.get("id")
    if not isinstance(raw_id, str) or not is_valid_id(raw_id):
        return "no valid ID"
    if digest(raw_id) != name:
        return "its ID does not match its file name"
    meta = data.get("metadata")
    if not isinstance(meta, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
    ):
        return "metadata is not a map of strings"
    # The value file must be one of the two slots of this very record: a record edited to
    # point elsewhere (``../../etc/x``) is damaged, not followed.
    if data.get("value") not in {f"{name}.{slot}.age" for slot in SLOTS}:
        return "it names no valid value file"
    for key in ("created", "updated"):
        if not isinstance(data.get(key, ""), str):
            return f"{key} is not a string"
    version = data.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        return "version is not a count"
    return ""


def new_record(
    id_: ID,
    slot: str,
    metadata: Mapping[str, str],
    created: str,
    updated: str,
    version: int = 1,
) -> dict[str, object]:
    """The record of ``id_`` whose value is in ``slot``, as it is stored (see the package doc),
    with a revision no other record has."""
    return {
        "format": RECORD_FORMAT,
        "id": id_.value,
        "metadata": dict(metadata),
        "created": created,
        "updated": updated,
        "version": version,
        "revision": os.urandom(8).hex(),
        "writer": writer(),
        "value": f"{file_name(id_)}.{slot}.age",
    }


def dump_record(record: Mapping[str, object]) -> bytes:
    """A record's bytes on disk: indented, sorted JSON (people read these files)."""
    return (json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def skipped_warning(problem: StoreError) -> str:
    """The warning for a secret skipped because of ``problem`` (a ``file store: …`` error)."""
    text = str(problem).removeprefix("file store: ")
    return f"file store: skipped: {text}"


def remove_hint(raw_id: str) -> str:
    """How to get rid of a damaged secret."""
    # Deleting an ID unlinks its record and both value slots whatever they hold.
    return f"docker pass rm {raw_id} removes it"


def writer() -> str:
    """What a record names as its writer: this program, process and host (a store in a
    synced folder is written from several)."""
    host = os.uname().nodename if hasattr(os, "uname") else ""
    return f"{PROGRAM} (pid {os.getpid()}{f' on {host}' if host else ''})"


def _is_short_text(text: object) -> bool:
    return isinstance(text, str) and len(text) <= _WRITER_LIMIT and text.isprintable()


def _record_id_is_trusted(raw_id: str, name: str) -> bool:
    """Whether a damaged record's ``id`` is the ID its file belongs to (safe to name)."""
    return is_valid_id(raw_id) and digest(raw_id) == name


def stamp_of(info: os.stat_result) -> Stamp:
    """What tells one record file from any other, or from itself rewritten in place."""
    return (info.st_dev, info.st_ino, info.st_ctime_ns, info.st_size)


# -- store files ------------------------------------------------------------------------------


def read_bytes(path: str | Path, limit: int = FILE_LIMIT) -> tuple[bytes, os.stat_result]:
    """The bytes and ``fstat`` of a store file (one ``read`` for a file that is not growing);
    UnsafePathError for a link, a non-file, a foreign file; FileReadError for one larger than
    ``limit`` (a record, the index, the identity) or :data:`VALUE_FILE_LIMIT` (a value)."""
    fd = open_private(path, os.O_RDONLY)
    try:
        info = os.fstat(fd)
        data = read_open_file(fd, path, "file store file", limit=limit)
    finally:
        os.close(fd)
    return data, info


def sweep_temp_files(folders: Iterable[Path]) -> None:
    """Remove the temporary files a crashed writer left in ``folders``.

    Safe only under the store's exclusive lock: every temporary file in the store is written
    under it, so none of them can belong to a live writer.
    """
    for folder in folders:
        try:
            with os.scandir(folder) as entries:
                stale = [e.path for e in entries if e.name.startswith(TEMP_PREFIX)]
        except FileNotFoundError:
            continue  # no index directory (yet)
        for path in stale:
            with suppress(FileNotFoundError):
                os.unlink(path)


def refuse_linked_root(root: Path) -> None:
    """Refuse to write into ``root`` when it is a symbolic link: a write would land wherever
    the link points (another disk, a synced folder, someone else's choice) while every message
    and ``plugins ls`` name ``root``.  UnsafePathError saying what to do."""
    if not os.path.islink(root):
        return
    target = os.path.realpath(root)
    raise UnsafePathError(
        f"file store: {root} is a symbolic link (to {target}); docker-pass does not write "
        "secrets through a link, so it cannot send them somewhere else unseen: replace the "
        f"link with the folder itself (rm {root} && mv {target} {root})"
    )


def clear_way(folder: Path, names: tuple[str, ...]) -> None:
    """Remove each empty directory in ``folder`` that stands where a store file ``name`` goes
    (no rename can replace a directory); StoreError naming one that holds files."""
    for name in names:
        path = folder / name
        try:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                continue
            os.rmdir(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StoreError(
                f"file store: {path} is a directory where a file of the store belongs, and "
                f"cannot be removed ({exc.strerror or type(exc).__name__}); move it away, "
                "then save again"
            ) from None


def write_atomically(folder: Path, name: str, data: bytes) -> None:
    """Write ``data`` to ``folder/name`` so that readers see the old file or the new, whole.

    The temporary file is created 0600 with O_EXCL (so no umask or chmod is involved and no
    other file is reused), fsynced, renamed over the target, then the directory is fsynced
    so that the rename survives a crash.
    """
    tmp = folder / f"{TEMP_PREFIX}{os.urandom(8).hex()}"
    fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, folder / name)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


def unlink_durably(folder: Path, name: str) -> bool:
    """Remove ``folder/name`` (and make that survive a crash); whether it was there."""
    try:
        os.unlink(folder / name)
    except FileNotFoundError:
        return False
    fsync_dir(folder)
    return True


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (a rename or unlink in it) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def describe(exc: OSError) -> str:
    """An OSError as ``reason (path)``: the strerror and file name, which never hold a value."""
    reason = exc.strerror or type(exc).__name__
    return f"{reason} ({exc.filename})" if exc.filename else reason


def now() -> str:
    """The time now, as records and identity files write it (UTC, whole seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")
