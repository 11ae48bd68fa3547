"""The age-encrypted file store: where the ``docker-pass`` plugin keeps secrets when no Secret
Service answers (headless Linux, CI, WSL) or when configured to.

Layout of the store directory (default ``$XDG_DATA_HOME/docker-pass/store``; every directory the
store creates is 0700 and every file 0600, created with those modes)::

    .lock                     target of ``flock``: writers exclusive, readers shared
    <sha256(id)>.json         the record: ID, metadata, times, and which value slot is live
    <sha256(id)>.a.age        the value, in the age format (slot ``a``) ...
    <sha256(id)>.b.age        ... or slot ``b``: a save writes the slot that is not live
    .index/listing.json       every record's ID, metadata and time in one file, for ``list``
                              (never a value; rebuilt from the records when stale or missing:
                              :mod:`docker_pass.backends.keychain.filestore_index`)

Design choices, and why:

- **Metadata is plain JSON, not encrypted.**  Docker's keychain store writes metadata as Secret
  Service attributes, which the spec says are not secret (they are stored and searched in the
  clear), and Docker's own age store keeps ``metadata.json`` public too.  The ID is in the same
  class of data.  Plain records let ``list`` work without key material: no identity, no
  passphrase, no decryption (with a passphrase, each decryption is a ~1 s scrypt).
- **Filenames are the SHA-256 of the ID.**  IDs may hold ``..`` and ``.`` components, may differ
  only in case (and macOS/Windows file systems fold case), and may be longer than a file name
  can be; a fixed-length lowercase hex digest has none of those problems and can never name a
  path outside the store.  The record holds the ID itself.
- **Two value slots.**  A save encrypts into the slot that is not live, then atomically replaces
  the record, which is the single commit point, then removes the old slot.  A crash at any
  moment leaves a record that names a complete value file (old or new), never a mix of the new
  value and old metadata.
- **Key material.**  An age X25519 identity file (what ``age-keygen`` writes; the ``age`` CLI
  decrypts the value files with ``age -d -i identity.txt``), created 0600 on first save; or a
  passphrase (age's scrypt recipient) from ``DOCKER_PASS_FILE_PASSPHRASE``.
- **No traps** (:mod:`docker_pass.core.private_files`).  Every file is opened with
  ``O_NOFOLLOW`` and must be a regular file of ours that nobody else can write; the store
  directory and the parents it creates are 0700, and an existing store directory that other
  users can enter is made 0700 with a warning (it is ours, so tightening it loses nothing and
  keeps the store working; a directory of another user is refused).  A symbolic link in the
  store, or as the identity file, is refused with an error naming it.
- **One damaged record blocks nothing.**  A record or value file that is empty, truncated, not
  ours, a symbolic link, or owned by another user is skipped by ``list`` and by ``resolve`` of
  a pattern, with a warning naming the secret's ID when the record gives it and the file
  otherwise; ``get`` of that ID (and ``resolve`` of it alone) fails with a one-line error, and
  ``delete`` of that ID removes its files.  ``list`` reads records only, so a secret whose
  value file is damaged is still listed (``rm --all`` removes it), and fails when read.
  Warnings go to the ``warn`` callback (default: ``Warning: …`` on stderr, which the CLI
  passes on unchanged), once per message per store, and are kept in :attr:`FileStore.warnings`.
- **Listing reads one file.**  ``list`` answers from the listing index while the store
  directory's stamp (device, inode, modification time) is the one the index was built at;
  every save and delete patches the index (or, in a burst of changes, drops it).  Otherwise
  ``list`` reads every record, as ``resolve`` of a pattern always does, and writes the index
  again.  At 100,000 secrets that is ~0.3 s instead of several seconds.  A record edited in
  place by hand is listed as indexed until the store next changes (``get`` reads the record
  itself); the index module says why.
"""

from __future__ import annotations

import _thread
import errno
import hashlib
import json
import os
import re
import stat
import time
from collections import OrderedDict
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from docker_pass.backends.keychain import filestore_index as _index
from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.errors import (
    SecretNotFoundError,
    StoreError,
    StoreUnavailableError,
    UnsafePathError,
)
from docker_pass.core.ids import ID, Pattern, is_valid_id
from docker_pass.core.private_files import ensure_private_dir, open_private, print_warning
from docker_pass.core.store import xdg_dir

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Iterator, Mapping
    from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows; the constructor says why the store cannot run
    _HAVE_FCNTL = False
else:
    _HAVE_FCNTL = True

#: The environment variable that switches the store from the identity file to a passphrase.
PASSPHRASE_ENV = "DOCKER_PASS_FILE_PASSPHRASE"  # noqa: S105 - a variable name, not a secret

_RECORD_FORMAT = 1
#: Decrypted values the engine daemon keeps (:meth:`FileStore.keep_values_warm`), at most.
WARM_VALUES = 4096
_LOCK_NAME = ".lock"
_TEMP_PREFIX = ".tmp-"
_SLOTS = ("a", "b")
_RECORD_NAME = re.compile(r"[0-9a-f]{64}\.json")
_AGE_MAGIC = b"age-encryption.org/v1\n"
_IDENTITY_PREFIX = "AGE-SECRET-KEY-1"
_NO_METADATA: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class _Record:
    """The plain part of one secret: everything but the value."""

    id: ID
    slot: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    created: str = ""
    updated: str = ""
    #: How many times it was saved (1 for a new secret; 0 for a record from before versions).
    version: int = 0
    #: The record file's modification time (whole POSIX seconds): when the secret last changed.
    mtime: int | None = None
    #: The record file's identity when read (device, inode, change time, size): a kept value
    #: is served again only while the file is this very one.
    stamp: tuple[int, int, int, int] | None = None

    def created_at(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.created) if self.created else None
        except ValueError:
            return None


class FileStore:
    """Secrets in age-encrypted files, one value file and one plain metadata record per secret.

    ``root`` defaults to ``xdg_dir("data") / "store"``.  Without ``passphrase`` the values are
    encrypted to the X25519 identity at ``identity_path`` (default ``xdg_dir("data") /
    "identity.txt"``, created on the first save); with it, to the passphrase.  Use
    :meth:`from_environment` to take the passphrase from ``DOCKER_PASS_FILE_PASSPHRASE``.

    ``warn`` receives each warning (a damaged record skipped, the store directory tightened)
    once; it defaults to printing ``Warning: …`` on stderr.  ``warnings`` keeps them in order.
    ``values_read`` counts value decryptions (listing never adds to it).
    Raises :class:`StoreUnavailableError` where POSIX file locking is missing.
    """

    kind = "file"
    #: How long the store must have been left alone before its listing index is written.
    _index_settle_ns = _index.SETTLE_NS

    def __init__(
        self,
        root: Path | None = None,
        identity_path: Path | None = None,
        passphrase: str | None = None,
        *,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        if not _HAVE_FCNTL:
            raise StoreUnavailableError(
                "the file store needs POSIX file locking (fcntl), which this platform lacks"
            )
        if passphrase == "":
            raise StoreError("the file store passphrase is empty; set a non-empty passphrase")
        data = xdg_dir("data")
        self.root = root if root is not None else data / "store"
        self.identity_path = identity_path if identity_path is not None else data / "identity.txt"
        self._passphrase = passphrase
        self._identities: builtins.list[Any] | None = None
        self._swept = False
        self._warn_sink = warn if warn is not None else print_warning
        #: The warnings this store has given, in order, each once.
        self.warnings: builtins.list[str] = []
        #: The provider its listing names: the plugin that wraps it sets its own name, so that
        #: it need not copy every entry to stamp it.
        self.provider = ""
        #: How many values this store has decrypted (instrumentation for tests and benchmarks).
        self.values_read = 0
        #: Record name -> (the record file's identity, its envelope), while values are kept
        #: warm (:meth:`keep_values_warm`, the engine daemon only); ``None`` otherwise.
        self._warm: OrderedDict[str, tuple[tuple[int, int, int, int], Envelope]] | None = None
        self._warm_lock = _thread.allocate_lock()  # threading itself costs the fast path ~1 ms

    @classmethod
    def from_environment(
        cls,
        root: Path | None = None,
        identity_path: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> FileStore:
        """A store keyed by ``DOCKER_PASS_FILE_PASSPHRASE`` when it is set (and not empty), by
        the identity file otherwise."""
        env = os.environ if environ is None else environ
        return cls(root, identity_path, passphrase=env.get(PASSPHRASE_ENV) or None)

    @property
    def key_mode(self) -> Literal["identity", "passphrase"]:
        """Which key material encrypts new values: the identity file or a passphrase."""
        return "passphrase" if self._passphrase is not None else "identity"

    def location(self) -> str:
        """The store directory and the key material, for ``plugins ls`` and the TUI."""
        if self._passphrase is not None:
            return f"file store {self.root} (age, passphrase)"
        return f"file store {self.root} (age, identity {self.identity_path})"

    def watch_hint(self) -> tuple[str, str]:
        """What a front watches to notice other processes' changes: the store directory (one
        file per secret, replaced by rename, so its entries change with every write)."""
        return ("directory", str(self.root))

    def __repr__(self) -> str:
        # Spelled out so that the passphrase can never show up in a repr.
        return f"FileStore(root={str(self.root)!r}, key_mode={self.key_mode!r})"

    # -- the SecretStore protocol ------------------------------------------------------------

    def save(self, id_: ID, value: bytes, metadata: Mapping[str, str]) -> None:
        """Encrypt ``value`` and store it with ``metadata``, replacing any earlier version."""
        meta = dict(metadata)
        name = _file_name(id_)
        try:
            # Encrypt before taking the lock: a passphrase costs a ~1 s scrypt, and other
            # writers need not wait for it.
            ciphertext = self._encrypt(value)
            with self._locked(exclusive=True):
                self._sweep_temp_files()
                try:
                    old = self._read_record(name)
                except StoreError:
                    old = None  # a damaged record is replaced, not an obstacle to saving
                slot = "b" if old is not None and old.slot == "a" else "a"
                index = self._take_index()
                now = _now()
                created = old.created if old is not None and old.created else now
                # An older record without a version counts as the first one.
                version = max(old.version, 1) + 1 if old is not None else 1
                record = _new_record(id_, slot, meta, created, now, version)
                self._write_atomically(f"{name}.{slot}.age", ciphertext)
                # The commit point: from here on the record names the new value.
                self._write_atomically(f"{name}.json", _dump_record(record))
                for other in _SLOTS:
                    if other != slot:
                        self._unlink(f"{name}.{other}.age")
                self._patch_index(index, id_, meta, os.stat(self.root / f"{name}.json"))
        except OSError as exc:
            raise StoreError(f"file store: cannot save {id_.value}: {_describe(exc)}") from exc

    def get(self, id_: ID) -> Envelope:
        """Decrypt the secret ``id_``; raise :class:`SecretNotFoundError` if there is none."""
        name = _file_name(id_)
        warm = self._warm_envelope(name)
        if warm is not None:
            return warm
        if not self.root.is_dir():
            raise SecretNotFoundError()
        try:
            with self._locked(exclusive=False):
                record = self._read_record(name)
                if record is None:
                    raise SecretNotFoundError()
                ciphertext = self._read_value_file(record)
        except OSError as exc:
            raise StoreError(f"file store: cannot read {id_.value}: {_describe(exc)}") from exc
        return self._envelope(record, ciphertext)

    def list(self, pattern: Pattern) -> list[SecretInfo]:
        """IDs and metadata of the secrets matching ``pattern``, sorted by ID; decrypts nothing."""
        if not self.root.is_dir():
            return []
        try:
            with self._locked(exclusive=False):
                infos = self._listing()
        except OSError as exc:
            raise StoreError(f"file store: cannot list {self.root}: {_describe(exc)}") from exc
        if all(c == "**" for c in pattern.components):
            return infos
        return [i for i in infos if pattern.matches(i.id)]

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        """Decrypted envelopes of the secrets matching ``pattern``, sorted by ID.

        A secret that cannot be read (damaged record or value file, or a value this key
        cannot decrypt) is skipped with a warning, unless nothing at all could be read: then
        the first such problem is raised, so that asking for one damaged secret (or with the
        wrong passphrase) is an error, not an empty answer.  A literal pattern reads only the
        record of its one ID, so damage elsewhere in the store never concerns it.
        """
        if pattern.is_literal and self._warm is not None:
            warm = self._warm_envelope(_file_name(pattern.as_id()))
            if warm is not None:
                return [warm]
        if not self.root.is_dir():
            return []
        problems: builtins.list[StoreError] = []
        loaded: builtins.list[tuple[_Record, bytes]] = []
        try:
            # Read every file under one shared lock, so the answer is one consistent snapshot;
            # decrypt after releasing it.
            with self._locked(exclusive=False):
                if pattern.is_literal:
                    record = self._read_record(_file_name(pattern.as_id()))
                    records = [] if record is None else [record]
                else:
                    records = self._scan(pattern)
                for record in records:
                    try:
                        loaded.append((record, self._read_value_file(record)))
                    except StoreError as exc:
                        problems.append(exc)
        except OSError as exc:
            raise StoreError(f"file store: cannot read {self.root}: {_describe(exc)}") from exc
        envelopes: builtins.list[Envelope] = []
        for record, ciphertext in loaded:
            try:
                envelopes.append(self._envelope(record, ciphertext))
            except StoreError as exc:
                problems.append(exc)
        if problems and not envelopes:
            for problem in problems[1:]:
                self._warn(_skipped(problem))
            raise problems[0]
        for problem in problems:
            self._warn(_skipped(problem))
        return envelopes

    def delete(self, id_: ID) -> bool:
        """Remove ``id_``; ``True`` if it existed."""
        name = _file_name(id_)
        if not self.root.is_dir():
            return False
        try:
            with self._locked(exclusive=True):
                index = self._take_index()
                # Removing the record is the commit point; the value files go after it.
                existed = self._unlink(f"{name}.json")
                for slot in _SLOTS:
                    self._unlink(f"{name}.{slot}.age")
                self._patch_index(index, id_, None, None)
        except OSError as exc:
            raise StoreError(f"file store: cannot delete {id_.value}: {_describe(exc)}") from exc
        return existed

    def close(self) -> None:
        """Forget the loaded identity and any warm values; the store holds no open files
        between calls."""
        self._identities = None
        if self._warm is not None:
            with self._warm_lock:
                self._warm.clear()

    def keep_values_warm(self) -> None:
        """Keep up to :data:`WARM_VALUES` decrypted values in memory, each served again only
        while its record file is the very same one (device, inode, change time, size).

        For the engine daemon, which already holds the key that decrypts every value (the
        identity or the passphrase) in its own non-dumpable memory: kept values add nothing a
        reader of that memory could not decrypt anyway.  Every save replaces the record file
        (a rename: a new inode) and a delete removes it, so a change made by any process is
        seen on the next read; one ``stat`` replaces reading and decrypting two files.
        """
        if self._warm is None:
            self._warm = OrderedDict()

    # -- interop -----------------------------------------------------------------------------

    def value_path(self, id_: ID) -> Path:
        """The age file holding the value of ``id_`` now (``age -d -i IDENTITY FILE`` reads it).

        Raises :class:`SecretNotFoundError` if there is no such secret.
        """
        if not self.root.is_dir():
            raise SecretNotFoundError()
        try:
            with self._locked(exclusive=False):
                record = self._read_record(_file_name(id_))
        except OSError as exc:
            raise StoreError(f"file store: cannot read {id_.value}: {_describe(exc)}") from exc
        if record is None:
            raise SecretNotFoundError()
        return self.root / f"{_file_name(id_)}.{record.slot}.age"

    # -- records and files ------------------------------------------------------------------

    def _scan(self, pattern: Pattern) -> builtins.list[_Record]:
        """The records matching ``pattern``, by ID; each damaged record is skipped with a
        warning (its ID is unknown, so it might have matched)."""
        records, skipped = self._scan_all(pattern)
        for message in skipped:
            self._warn(message)
        return records

    def _scan_all(self, pattern: Pattern) -> tuple[builtins.list[_Record], builtins.list[str]]:
        """The records matching ``pattern`` sorted by ID, and a warning per damaged record."""
        records: builtins.list[_Record] = []
        skipped: builtins.list[str] = []
        root = os.fspath(self.root)
        everything = all(c == "**" for c in pattern.components)
        with os.scandir(root) as entries:
            names = [e.name for e in entries if _RECORD_NAME.fullmatch(e.name) is not None]
        for name in names:
            try:
                record = self._read_record(name[: -len(".json")], root)
            except StoreError as exc:
                skipped.append(_skipped(exc))
                continue
            if record is not None and (everything or pattern.matches(record.id)):
                records.append(record)
        records.sort(key=lambda r: r.id.value)
        return records, skipped

    # -- the listing index (docker_pass.backends.keychain.filestore_index) -----------------

    def _listing(self) -> builtins.list[SecretInfo]:
        """Every secret's ID, metadata and change time, sorted by ID (under the shared lock).

        From the index when it is current, else from the records, then written to the index
        (when the store has settled: see :mod:`~docker_pass.backends.keychain.filestore_index`).
        """
        root = os.fspath(self.root)
        stamp = _index.stamp_of(os.stat(root))
        index_path = os.path.join(root, _index.INDEX_DIR, _index.INDEX_NAME)
        loaded = self._load_index(index_path, stamp)
        if loaded is not None:
            infos, skipped = loaded
        else:
            records, skipped = self._scan_all(Pattern("**"))
            infos = [SecretInfo(r.id, self.provider, r.metadata, r.mtime) for r in records]
            self._save_index(stamp, infos, skipped)
        for message in skipped:
            self._warn(message)
        return infos

    def _load_index(
        self, path: str, stamp: builtins.list[int]
    ) -> tuple[builtins.list[SecretInfo], builtins.list[str]] | None:
        try:
            raw, _ = _read_bytes(path)
            return _index.load(raw, stamp, self.provider)
        except FileNotFoundError:
            return None
        except _index.UnknownFormatError:
            return None  # another version's: rebuilt (and replaced) without a fuss
        except (UnsafePathError, _index.DamagedIndexError) as exc:
            self._warn(f"file store: ignored the listing index {path} ({exc}); rebuilt it")
            return None
        except OSError as exc:
            self._warn(
                f"file store: ignored the listing index {path} ({_describe(exc)}); rebuilt it"
            )
            return None

    def _save_index(
        self,
        stamp: builtins.list[int],
        infos: builtins.list[SecretInfo],
        skipped: builtins.list[str],
    ) -> None:
        """Write the index of a store that has settled; creating its directory waits a turn
        (that changes the store's stamp)."""
        where = self.root / _index.INDEX_DIR
        try:
            if not os.path.isdir(where):
                ensure_private_dir(where, warn=self._warn)
                return
            if time.time_ns() - stamp[2] < self._index_settle_ns:
                return
            ensure_private_dir(where, warn=self._warn)
            self._write_atomically(
                _index.INDEX_NAME, _index.dump(stamp, infos, skipped), where=where
            )
        except (OSError, UnsafePathError) as exc:
            # The listing is right without it; the next one tries again.
            self._warn(f"file store: cannot write the listing index in {where}: {exc}")

    def _take_index(self) -> tuple[bytes, builtins.list[int]] | None:
        """Remove the listing index (under the exclusive lock, before a record changes).

        Returns its bytes and the store's stamp when it may be patched once the change is
        made: the store had settled (a burst of saves drops it; the next listing rebuilds).
        """
        path = os.path.join(self.root, _index.INDEX_DIR, _index.INDEX_NAME)
        try:
            raw: bytes | None = _read_bytes(path)[0]
        except (OSError, UnsafePathError):
            raw = None
        with suppress(FileNotFoundError):
            os.unlink(path)
        if raw is None:
            return None
        stamp = _index.stamp_of(os.stat(self.root))
        if time.time_ns() - stamp[2] < self._index_settle_ns:
            return None
        return raw, stamp

    def _patch_index(
        self,
        taken: tuple[bytes, builtins.list[int]] | None,
        id_: ID,
        metadata: Mapping[str, str] | None,
        record: os.stat_result | None,
    ) -> None:
        """Put back the index :meth:`_take_index` took, with ``id_`` saved (its record's
        ``stat``) or removed (``metadata`` ``None``).  Best effort: without it, the next listing
        rebuilds."""
        if taken is None:
            return
        raw, before = taken
        try:
            after = _index.stamp_of(os.stat(self.root))
            updated = None if record is None else record.st_mtime_ns // 1_000_000_000
            data = _index.patch(raw, before, after, id_.value, metadata, updated)
            if data is not None:
                self._write_atomically(_index.INDEX_NAME, data, where=self.root / _index.INDEX_DIR)
        except OSError:
            pass

    def _read_record(self, name: str, root: str | None = None) -> _Record | None:
        """The record stored under ``name`` (a digest), ``None`` if absent; StoreError if bad.

        The error names the record's file, and the secret's ID when the record still says it
        (with the remedy: deleting that ID removes the damaged files).
        """
        path = os.path.join(os.fspath(self.root) if root is None else root, name + ".json")
        try:
            raw, info = _read_bytes(path)
        except FileNotFoundError:
            return None
        except UnsafePathError as exc:
            raise StoreError(f"file store: {exc}") from None
        if not raw.strip():
            raise StoreError(f"file store: {path} is damaged (empty)")
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise StoreError(f"file store: {path} is damaged (not JSON, or cut short)") from None
        problem = _record_problem(data, name)
        if problem:
            raw_id = data.get("id") if isinstance(data, dict) else None
            if isinstance(raw_id, str) and _record_id_is_trusted(raw_id, name):
                raise StoreError(
                    f"file store: the record of {raw_id} ({path}) is damaged ({problem}); "
                    f"{_remove_hint(raw_id)}"
                )
            raise StoreError(f"file store: {path} is damaged ({problem})")
        meta = data["metadata"]
        return _Record(
            id=ID(data["id"]),
            slot=data["value"][len(name) + 1 : len(name) + 2],
            metadata=MappingProxyType(meta) if meta else _NO_METADATA,
            created=data.get("created", ""),
            updated=data.get("updated", ""),
            version=data.get("version", 0),
            mtime=info.st_mtime_ns // 1_000_000_000,
            stamp=_stamp_of(info),
        )

    def _read_value_file(self, record: _Record) -> bytes:
        path = self.root / f"{_file_name(record.id)}.{record.slot}.age"
        try:
            return self._read_file(path)
        except FileNotFoundError:
            raise StoreError(
                f"file store: the value file of {record.id.value} is missing ({path}); "
                f"{_remove_hint(record.id.value)}"
            ) from None
        except UnsafePathError as exc:
            raise StoreError(
                f"file store: the value file of {record.id.value}: {exc}; "
                f"{_remove_hint(record.id.value)}"
            ) from None

    @staticmethod
    def _read_file(path: Path) -> bytes:
        """The bytes of a store file; UnsafePathError for a link, a non-file, a foreign file."""
        return _read_bytes(path)[0]

    def _write_atomically(self, name: str, data: bytes, *, where: Path | None = None) -> None:
        """Write ``data`` to ``root/name`` (or ``where/name``) so that readers see the old file
        or the new, whole.

        The temporary file is created 0600 with O_EXCL (so no umask or chmod is involved and no
        other file is reused), fsynced, renamed over the target, then the directory is fsynced
        so that the rename survives a crash.
        """
        folder = self.root if where is None else where
        tmp = folder / f"{_TEMP_PREFIX}{os.urandom(8).hex()}"
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
        _fsync_dir(folder)

    def _unlink(self, name: str) -> bool:
        try:
            os.unlink(self.root / name)
        except FileNotFoundError:
            return False
        _fsync_dir(self.root)
        return True

    def _sweep_temp_files(self) -> None:
        """Remove temporary files a crashed writer left (once per store object).

        Safe because it runs under the exclusive lock, and every temporary file in the store
        is written under that lock: none of them can belong to a live writer.
        """
        if self._swept:
            return
        self._swept = True
        for folder in (self.root, self.root / _index.INDEX_DIR):
            try:
                with os.scandir(folder) as entries:
                    stale = [e.path for e in entries if e.name.startswith(_TEMP_PREFIX)]
            except FileNotFoundError:
                continue  # no index directory (yet)
            for path in stale:
                with suppress(FileNotFoundError):
                    os.unlink(path)

    @contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[None]:
        """Hold ``flock`` on the store's lock file: exclusive for writes, shared for reads.

        A fresh descriptor per call (closing it releases the lock) makes the lock exclude
        threads of this process as well as other processes.  The store directory is made (or
        checked to be) private first, every time: it costs a few system calls.
        """
        try:
            ensure_private_dir(self.root, warn=self._warn)
            fd = open_private(self.root / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        except UnsafePathError as exc:
            raise UnsafePathError(f"file store: {exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    def _warn(self, message: str) -> None:
        """Give ``message`` to the warning callback, once per store."""
        if message in self.warnings:
            return
        self.warnings.append(message)
        self._warn_sink(message)

    # -- encryption --------------------------------------------------------------------------

    def _encrypt(self, value: bytes) -> bytes:
        # pyrage is imported where it is used: listing never pays for it.
        import pyrage

        if self._passphrase is not None:
            ciphertext: bytes = pyrage.passphrase.encrypt(value, self._passphrase)
        else:
            ciphertext = pyrage.encrypt(value, [self._recipient()])
        return ciphertext

    def _envelope(self, record: _Record, ciphertext: bytes) -> Envelope:
        value = self._decrypt(record, ciphertext)
        envelope = Envelope(
            record.id,
            value,
            version=str(record.version) if record.version else "",
            created_at=record.created_at(),
            metadata=dict(record.metadata),
        )
        warm = self._warm
        if warm is not None and record.stamp is not None:
            name = _file_name(record.id)
            with self._warm_lock:
                warm[name] = (record.stamp, envelope)
                warm.move_to_end(name)
                while len(warm) > WARM_VALUES:
                    warm.popitem(last=False)
        return envelope

    def _warm_envelope(self, name: str) -> Envelope | None:
        """The kept envelope of record ``name`` if its record file has not changed since."""
        warm = self._warm
        if warm is None:
            return None
        kept = warm.get(name)
        if kept is None:
            return None
        try:
            info = os.stat(os.path.join(self.root, name + ".json"))
        except OSError:
            info = None  # deleted (or unreadable): read afresh, and say so
        if info is None or _stamp_of(info) != kept[0]:
            with self._warm_lock:
                warm.pop(name, None)
            return None
        return kept[1]

    def _decrypt(self, record: _Record, ciphertext: bytes) -> bytes:
        import pyrage

        path = self.root / f"{_file_name(record.id)}.{record.slot}.age"
        if not ciphertext.startswith(_AGE_MAGIC):
            problem = "empty" if not ciphertext else "not an age file"
            raise StoreError(
                f"file store: the value file of {record.id.value} ({path}) is damaged "
                f"({problem}); {_remove_hint(record.id.value)}"
            )
        stanza = _first_stanza(ciphertext)
        what = f"cannot decrypt {record.id.value} ({path})"
        if self._passphrase is not None:
            if stanza != "scrypt":
                raise StoreError(
                    f"file store: {what}: it is encrypted to an age identity, not a passphrase; "
                    f"unset {PASSPHRASE_ENV} to read it with the identity file"
                )
            try:
                value: bytes = pyrage.passphrase.decrypt(ciphertext, self._passphrase)
            except pyrage.DecryptError:
                raise StoreError(
                    f"file store: {what}: wrong passphrase (check {PASSPHRASE_ENV})"
                ) from None
        else:
            if stanza == "scrypt":
                raise StoreError(
                    f"file store: {what}: it is encrypted with a passphrase; "
                    f"set {PASSPHRASE_ENV} to read it"
                )
            identities = self._load_identities()
            try:
                value = pyrage.decrypt(ciphertext, identities)
            except pyrage.DecryptError:
                raise StoreError(
                    f"file store: {what}: the identity in {self.identity_path} does not "
                    "match it, or the file is damaged"
                ) from None
        self.values_read += 1
        return value

    def _recipient(self) -> Any:
        """The public key new values are encrypted to; creates the identity on first use."""
        # lexists: a dangling link in its place is refused when read, never written through.
        if not os.path.lexists(self.identity_path):
            self._refuse_new_identity_over_old_values()
            self._create_identity()
        return self._load_identities()[0].to_public()

    def _refuse_new_identity_over_old_values(self) -> None:
        """A missing identity next to values encrypted to it means the key was lost or moved.

        Making a fresh one would silently split the store in two; say what happened instead.
        """
        if not self.root.is_dir():
            return
        with os.scandir(self.root) as entries:
            for entry in entries:
                if not entry.name.endswith(".age"):
                    continue
                try:
                    fd = open_private(entry.path, os.O_RDONLY)
                except (OSError, UnsafePathError):
                    continue  # not one of our value files: it says nothing about the key
                with os.fdopen(fd, "rb") as handle:
                    if _first_stanza(handle.read(4096)) == "X25519":
                        raise StoreError(
                            f"file store: the age identity {self.identity_path} is missing but "
                            f"{self.root} holds values encrypted to an identity; restore the "
                            "identity file (or point the store at it)"
                        )

    def _create_identity(self) -> None:
        """Write a new X25519 identity in the format of ``age-keygen``, 0600, never overwriting.

        The file is written under a temporary name and published with ``link``, which fails if
        another process published one first; then everyone uses that one.
        """
        import pyrage

        identity = pyrage.x25519.Identity.generate()
        text = (f"# created: {_now()}\n# public key: {identity.to_public()}\n{identity}\n").encode()
        path = self.identity_path
        try:
            ensure_private_dir(path.parent, warn=self._warn)
        except UnsafePathError as exc:
            raise UnsafePathError(f"file store: {exc}") from None
        tmp = path.parent / f".{path.name}.{os.urandom(8).hex()}.tmp"
        fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                os.write(fd, text)
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process created it meanwhile: use theirs
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise
                # No hard links on this file system: create the final name exclusively.
                with suppress(FileExistsError):
                    final = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    try:
                        os.write(final, text)
                        os.fsync(final)
                    finally:
                        os.close(final)
        finally:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
        _fsync_dir(path.parent)

    def _load_identities(self) -> builtins.list[Any]:
        """The identities in the identity file (``age-keygen`` format); StoreError if unusable.

        Messages name the file and line, never the line's text: it is key material.
        """
        if self._identities is not None:
            return self._identities
        import pyrage

        path = self.identity_path
        try:
            with os.fdopen(open_private(path, os.O_RDONLY), "rb") as handle:
                mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
                text = handle.read().decode("utf-8")
        except FileNotFoundError:
            raise StoreError(
                f"file store: the age identity {path} is missing; the store cannot decrypt "
                f"without it (restore it, or set {PASSPHRASE_ENV} if the store uses a passphrase)"
            ) from None
        except UnsafePathError as exc:
            raise StoreError(f"file store: refusing the age identity: {exc}") from None
        except OSError as exc:
            raise StoreError(
                f"file store: cannot read the age identity {path}: {_describe(exc)}"
            ) from None
        except UnicodeDecodeError:
            raise StoreError(f"file store: the age identity {path} is not UTF-8 text") from None
        if mode & 0o044:
            # A leak, not a trap: others could read the key, but not change what we decrypt.
            self._warn(
                f"file store: the age identity {path} is readable by other users "
                f"(mode {mode:04o}); make it private with: chmod 600 {path}"
            )
        identities = []
        for number, raw_line in enumerate(text.splitlines(), start=1):
            line = raw_line.strip()
            if not line or line.startswith("#"):
                continue
            if not line.startswith(_IDENTITY_PREFIX):
                raise StoreError(
                    f"file store: {path} line {number} is not an age X25519 identity "
                    "(plugin and SSH identities are not supported)"
                )
            try:
                identities.append(pyrage.x25519.Identity.from_str(line))
            except pyrage.IdentityError:
                raise StoreError(
                    f"file store: {path} line {number} is not a valid age identity"
                ) from None
        if not identities:
            raise StoreError(f"file store: {path} holds no age identity")
        self._identities = identities
        return identities


# -- helpers ----------------------------------------------------------------------------------


def _read_bytes(path: str | Path) -> tuple[bytes, os.stat_result]:
    """The bytes and ``fstat`` of a store file (one ``read`` for a file that is not growing);
    UnsafePathError for a link, a non-file, a foreign file."""
    fd = open_private(path, os.O_RDONLY)
    try:
        info = os.fstat(fd)
        want = info.st_size + 1  # one more byte than it holds: a short read is the end
        data = os.read(fd, want)
        if len(data) == want:
            chunks = [data]
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
            data = b"".join(chunks)
    finally:
        os.close(fd)
    return data, info


def _file_name(id_: ID) -> str:
    """The file name stem of ``id_``: a digest, so no ID can name a path outside the store."""
    return _digest(id_.value)


def _digest(raw_id: str) -> str:
    return hashlib.sha256(raw_id.encode("utf-8")).hexdigest()


def _record_problem(data: object, name: str) -> str:
    """What is wrong with a parsed record stored under ``name``; empty if nothing."""
    if not isinstance(data, dict):
        return "not a JSON object"
    if "format" not in data:
        return "not a docker-pass record"
    if data.get("format") != _RECORD_FORMAT:
        return f"unknown format {data.get('format')!r}"
    raw_id = data.get("id")
    if not isinstance(raw_id, str) or not is_valid_id(raw_id):
        return "no valid ID"
    if _digest(raw_id) != name:
        return "its ID does not match its file name"
    meta = data.get("metadata")
    if not isinstance(meta, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
    ):
        return "metadata is not a map of strings"
    # The value file must be one of the two slots of this very record: a record edited to
    # point elsewhere (``../../etc/x``) is damaged, not followed.
    if data.get("value") not in {f"{name}.{slot}.age" for slot in _SLOTS}:
        return "it names no valid value file"
    for key in ("created", "updated"):
        if not isinstance(data.get(key, ""), str):
            return f"{key} is not a string"
    version = data.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        return "version is not a count"
    return ""


def _skipped(problem: StoreError) -> str:
    """The warning for a secret skipped because of ``problem`` (a ``file store: …`` error)."""
    text = str(problem).removeprefix("file store: ")
    return f"file store: skipped: {text}"


def _remove_hint(raw_id: str) -> str:
    # Deleting an ID unlinks its record and both value slots whatever they hold.
    return f"docker pass rm {raw_id} removes it"


def _record_id_is_trusted(raw_id: str, name: str) -> bool:
    """Whether a damaged record's ``id`` is the ID its file belongs to (safe to name)."""
    return is_valid_id(raw_id) and _digest(raw_id) == name


def _stamp_of(info: os.stat_result) -> tuple[int, int, int, int]:
    """What tells one record file from any other, or from itself rewritten in place."""
    return (info.st_dev, info.st_ino, info.st_ctime_ns, info.st_size)


def _new_record(
    id_: ID,
    slot: str,
    metadata: Mapping[str, str],
    created: str,
    updated: str,
    version: int = 1,
) -> dict[str, object]:
    """The record of ``id_`` whose value is in ``slot``, as it is stored (see the module doc)."""
    return {
        "format": _RECORD_FORMAT,
        "id": id_.value,
        "metadata": dict(metadata),
        "created": created,
        "updated": updated,
        "version": version,
        "value": f"{_file_name(id_)}.{slot}.age",
    }


def _dump_record(record: Mapping[str, object]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def _first_stanza(ciphertext: bytes) -> str | None:
    """The type of the first recipient stanza of an age file (``X25519``, ``scrypt``), if any."""
    if not ciphertext.startswith(_AGE_MAGIC):
        return None
    line = ciphertext[len(_AGE_MAGIC) :].split(b"\n", 1)[0]
    if not line.startswith(b"-> "):
        return None
    parts = line[3:].split(b" ", 1)
    return parts[0].decode("ascii", "replace") if parts[0] else None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _describe(exc: OSError) -> str:
    """An OSError as ``reason (path)``: the strerror and file name, which never hold a value."""
    reason = exc.strerror or type(exc).__name__
    return f"{reason} ({exc.filename})" if exc.filename else reason


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
