"""The file store's verbs: save, get, list, resolve and delete secrets under the store's lock.

The files it reads and writes are :mod:`.records`'s, the keys it encrypts with :mod:`.keys`'s,
the listing it answers from :mod:`.index`'s; the package's docstring says how they fit.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import TYPE_CHECKING

from docker_pass.backends.keychain.filestore import index as _index
from docker_pass.backends.keychain.filestore.keys import AGE_MAGIC, AgeKey, KeyMode, passphrase_from
from docker_pass.backends.keychain.filestore.records import (
    LOCK_NAME,
    RECORD_NAME,
    SLOTS,
    Record,
    check_record_version,
    clear_way,
    describe,
    dump_record,
    file_name,
    new_record,
    now,
    read_record,
    read_value_file,
    refuse_linked_root,
    remove_hint,
    skipped_warning,
    sweep_temp_files,
    unlink_durably,
    write_atomically,
)
from docker_pass.backends.keychain.filestore.warm import WARM_VALUES, WarmValues
from docker_pass.backends.keychain.versioning import record_token, version_conflict
from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.errors import (
    SecretNotFoundError,
    StoreError,
    StoreUnavailableError,
    UnsafePathError,
)
from docker_pass.core.private_files import ensure_private_dir, open_private, print_warning
from docker_pass.core.store import xdg_dir

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Iterator, Mapping
    from pathlib import Path

    from docker_pass.core.ids import ID, Pattern

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows; the constructor says why the store cannot run
    _HAVE_FCNTL = False
else:
    _HAVE_FCNTL = True


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
        data = xdg_dir("data")
        self.root = root if root is not None else data / "store"
        self._swept = False
        self._warn_sink = warn if warn is not None else print_warning
        #: The key material (:mod:`.keys`): the identity file, or the passphrase.
        self.key = AgeKey(
            identity_path if identity_path is not None else data / "identity.txt",
            passphrase,
            self.root,
            self._warn,
        )
        #: The warnings this store has given, in order, each once.
        self.warnings: builtins.list[str] = []
        #: The provider its listing names: the plugin that wraps it sets its own name, so that
        #: it need not copy every entry to stamp it.
        self.provider = ""
        #: How many values this store has decrypted (instrumentation for tests and benchmarks).
        self.values_read = 0
        self._index_file = _index.IndexFile(self.root, self._warn, self._index_settle_ns)
        #: Decrypted values, while they are kept warm (:meth:`keep_values_warm`, the engine
        #: daemon only); ``None`` otherwise.
        self._warm: WarmValues | None = None

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
        return cls(root, identity_path, passphrase=passphrase_from(env))

    @property
    def identity_path(self) -> Path:
        """The age identity file (used when no passphrase is given)."""
        return self.key.identity_path

    @property
    def key_mode(self) -> KeyMode:
        """Which key material encrypts new values: the identity file or a passphrase."""
        return self.key.mode

    def location(self) -> str:
        """The store directory and the key material, for ``plugins ls`` and the TUI."""
        return f"file store {self.root} (age, {self.key.describe()})"

    def watch_hint(self) -> tuple[str, str]:
        """What a front watches to notice other processes' changes: the store directory (one
        file per secret, replaced by rename, so its entries change with every write)."""
        return ("directory", str(self.root))

    def __repr__(self) -> str:
        # Spelled out so that the passphrase can never show up in a repr.
        return f"FileStore(root={str(self.root)!r}, key_mode={self.key_mode!r})"

    # -- the SecretStore protocol ------------------------------------------------------------

    def save(
        self,
        id_: ID,
        value: bytes,
        metadata: Mapping[str, str],
        *,
        expected_version: str | None = None,
    ) -> str:
        """Encrypt ``value`` and store it with ``metadata``, replacing any earlier version (only
        if it is ``expected_version``, unless that is ``None``); the new version."""
        meta = dict(metadata)
        name = file_name(id_)
        try:
            # Encrypt before taking the lock: a passphrase costs a ~1 s scrypt, and other
            # writers need not wait for it.
            ciphertext = self.key.encrypt(value)
            with self._locked(exclusive=True):
                self._sweep_temp_files()
                clear_way(self.root, (f"{name}.json", *(f"{name}.{s}.age" for s in SLOTS)))
                try:
                    old = self._read_record(name)
                except StoreError:
                    if expected_version is not None:
                        raise version_conflict(id_, expected_version, "") from None
                    old = None  # a damaged record is replaced, not an obstacle to saving
                check_record_version(id_, expected_version, old)
                slot = "b" if old is not None and old.slot == "a" else "a"
                index = self._index_file.take()
                saved_at = now()
                created = old.created if old is not None and old.created else saved_at
                # An older record without a version counts as the first one.
                version = max(old.version, 1) + 1 if old is not None else 1
                record = dump_record(new_record(id_, slot, meta, created, saved_at, version))
                token = record_token(version, record)
                write_atomically(self.root, f"{name}.{slot}.age", ciphertext)
                # The commit point: from here on the record names the new value.
                write_atomically(self.root, f"{name}.json", record)
                for other in SLOTS:
                    if other != slot:
                        unlink_durably(self.root, f"{name}.{other}.age")
                self._index_file.put_back(
                    index, id_, meta, os.stat(self.root / f"{name}.json"), token
                )
        except OSError as exc:
            raise StoreError(f"file store: cannot save {id_.value}: {describe(exc)}") from exc
        return token

    def get(self, id_: ID) -> Envelope:
        """Decrypt the secret ``id_``; raise :class:`SecretNotFoundError` if there is none."""
        name = file_name(id_)
        warm = self._warm.get(self.root, name) if self._warm is not None else None
        if warm is not None:
            return warm
        if not self.root.is_dir():
            raise SecretNotFoundError()
        try:
            with self._locked(exclusive=False):
                record = self._read_record(name)
                if record is None:
                    raise SecretNotFoundError()
                ciphertext = read_value_file(self.root, record)
        except OSError as exc:
            raise StoreError(f"file store: cannot read {id_.value}: {describe(exc)}") from exc
        return self._envelope(record, ciphertext)

    def list(self, pattern: Pattern) -> list[SecretInfo]:
        """IDs and metadata of the secrets matching ``pattern``, sorted by ID; decrypts nothing."""
        if not self.root.is_dir():
            return []
        try:
            with self._locked(exclusive=False):
                infos = self._listing()
        except OSError as exc:
            raise StoreError(f"file store: cannot list {self.root}: {describe(exc)}") from exc
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
            warm = self._warm.get(self.root, file_name(pattern.as_id()))
            if warm is not None:
                return [warm]
        if not self.root.is_dir():
            return []
        problems: builtins.list[StoreError] = []
        loaded: builtins.list[tuple[Record, bytes]] = []
        try:
            # Read every file under one shared lock, so the answer is one consistent snapshot;
            # decrypt after releasing it.
            with self._locked(exclusive=False):
                if pattern.is_literal:
                    record = self._read_record(file_name(pattern.as_id()))
                    records = [] if record is None else [record]
                else:
                    records = self._scan(pattern)
                for record in records:
                    try:
                        loaded.append((record, read_value_file(self.root, record)))
                    except StoreError as exc:
                        problems.append(exc)
        except OSError as exc:
            raise StoreError(f"file store: cannot read {self.root}: {describe(exc)}") from exc
        envelopes: builtins.list[Envelope] = []
        for record, ciphertext in loaded:
            try:
                envelopes.append(self._envelope(record, ciphertext))
            except StoreError as exc:
                problems.append(exc)
        if problems and not envelopes:
            for problem in problems[1:]:
                self._warn(skipped_warning(problem))
            raise problems[0]
        for problem in problems:
            self._warn(skipped_warning(problem))
        return envelopes

    def delete(self, id_: ID, *, expected_version: str | None = None) -> bool:
        """Remove ``id_`` (only if it is ``expected_version``, unless that is ``None``);
        ``True`` if it existed."""
        name = file_name(id_)
        if not self.root.is_dir():
            return False
        try:
            with self._locked(exclusive=True):
                clear_way(self.root, (f"{name}.json", *(f"{name}.{s}.age" for s in SLOTS)))
                if expected_version is not None:
                    try:
                        old = self._read_record(name)
                    except StoreError:
                        raise version_conflict(id_, expected_version, "", removing=True) from None
                    if old is None:
                        return False  # gone already: nothing of anyone's is lost
                    check_record_version(id_, expected_version, old, removing=True)
                index = self._index_file.take()
                # Removing the record is the commit point; the value files go after it.
                existed = unlink_durably(self.root, f"{name}.json")
                for slot in SLOTS:
                    unlink_durably(self.root, f"{name}.{slot}.age")
                self._index_file.put_back(index, id_, None, None)
        except OSError as exc:
            raise StoreError(f"file store: cannot delete {id_.value}: {describe(exc)}") from exc
        return existed

    def close(self) -> None:
        """Forget the loaded identity and any warm values; the store holds no open files
        between calls."""
        self.key.forget()
        if self._warm is not None:
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
            self._warm = WarmValues()

    def peek_warm(self, pattern: Pattern) -> builtins.list[Envelope] | None:
        """The warm value of a literal ``pattern`` whose record file has not changed since it
        was read (one ``stat``, nothing read or decrypted); ``None`` for anything else (see
        :class:`~docker_pass.core.plugin.WarmAnswers`)."""
        if not pattern.is_literal or self._warm is None:
            return None
        warm = self._warm.get(self.root, file_name(pattern.as_id()))
        return None if warm is None else [warm]

    def fill_warm(self) -> int:
        """Decrypt and keep every value, when the store holds no more than are kept warm
        (:data:`~docker_pass.backends.keychain.filestore.warm.WARM_VALUES`); how many values
        are warm now.  A damaged secret is skipped (with the warning :meth:`resolve` gives)."""
        if self._warm is None:
            return 0
        from docker_pass.core.ids import Pattern  # the daemon's start only

        everything = Pattern.parse("**")
        if len(self.list(everything)) <= WARM_VALUES:
            self.resolve(everything)
        return len(self._warm)

    def warm_directory(self) -> str | None:
        """The store directory while values are kept warm (:meth:`keep_values_warm`), else
        ``None``.  What :meth:`resolve` answers comes from it alone: a record and a value file
        per secret, directly in it, each replaced by a rename and removed by an unlink, so a
        change by any process is a change to its entries.  (The key decrypts; a value once
        decrypted does not depend on it.)"""
        return str(self.root) if self._warm is not None else None

    # -- interop -----------------------------------------------------------------------------

    def value_path(self, id_: ID) -> Path:
        """The age file holding the value of ``id_`` now (``age -d -i IDENTITY FILE`` reads it).

        Raises :class:`SecretNotFoundError` if there is no such secret.
        """
        if not self.root.is_dir():
            raise SecretNotFoundError()
        try:
            with self._locked(exclusive=False):
                record = self._read_record(file_name(id_))
        except OSError as exc:
            raise StoreError(f"file store: cannot read {id_.value}: {describe(exc)}") from exc
        if record is None:
            raise SecretNotFoundError()
        return self.root / record.value_name

    # -- records and files ------------------------------------------------------------------

    def _scan(self, pattern: Pattern) -> builtins.list[Record]:
        """The records matching ``pattern``, by ID; each damaged record is skipped with a
        warning (its ID is unknown, so it might have matched)."""
        records, skipped = self._scan_all(pattern)
        for message in skipped:
            self._warn(message)
        return records

    def _scan_all(self, pattern: Pattern) -> tuple[builtins.list[Record], builtins.list[str]]:
        """The records matching ``pattern`` sorted by ID, and a warning per damaged record."""
        records: builtins.list[Record] = []
        skipped: builtins.list[str] = []
        root = os.fspath(self.root)
        everything = all(c == "**" for c in pattern.components)
        with os.scandir(root) as entries:
            names = [e.name for e in entries if RECORD_NAME.fullmatch(e.name) is not None]
        for name in names:
            try:
                record = self._read_record(name[: -len(".json")], root)
            except StoreError as exc:
                skipped.append(skipped_warning(exc))
                continue
            if record is not None and (everything or pattern.matches(record.id)):
                records.append(record)
        records.sort(key=lambda r: r.id.value)
        return records, skipped

    # -- the listing index (:mod:`.index`) --------------------------------------------------

    def _listing(self) -> builtins.list[SecretInfo]:
        """Every secret's ID, metadata and change time, sorted by ID (under the shared lock).

        From the index when it is current, else from the records, then written to the index
        (when the store has settled: see :mod:`~docker_pass.backends.keychain.filestore.index`).
        """
        stamp = _index.stamp_of(os.stat(self.root))
        loaded = self._index_file.load(stamp, self.provider)
        if loaded is not None:
            infos, skipped = loaded
        else:
            infos, skipped = self._listing_from_records()
            self._index_file.save(stamp, infos, skipped)
        for message in skipped:
            self._warn(message)
        return infos

    def _listing_from_records(self) -> tuple[builtins.list[SecretInfo], builtins.list[str]]:
        """Every record's listing entry sorted by ID, and a warning per damaged record
        (:func:`~docker_pass.backends.keychain.filestore.index.from_records`)."""
        return _index.from_records(os.fspath(self.root), self.provider, self._read_record)

    def _read_record(self, name: str, root: str | None = None) -> Record | None:
        """The record stored under ``name`` (a digest), ``None`` if absent; StoreError if bad."""
        return read_record(os.fspath(self.root) if root is None else root, name)

    def _sweep_temp_files(self) -> None:
        """Remove temporary files a crashed writer left (once per store object).

        Safe because it runs under the exclusive lock, and every temporary file in the store
        is written under that lock: none of them can belong to a live writer.
        """
        if not self._swept:
            self._swept = True
            sweep_temp_files((self.root, self.root / _index.INDEX_DIR))

    @contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[None]:
        """Hold ``flock`` on the store's lock file: exclusive for writes, shared for reads.

        A fresh descriptor per call (closing it releases the lock) makes the lock exclude
        threads of this process as well as other processes.  The store directory is made (or
        checked to be) private first, every time: it costs a few system calls.
        """
        try:
            if exclusive:
                refuse_linked_root(self.root)
            ensure_private_dir(self.root, warn=self._warn)
            fd = open_private(self.root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        except UnsafePathError as exc:
            message = str(exc)
            raise UnsafePathError(
                message if message.startswith("file store: ") else f"file store: {message}"
            ) from None
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

    # -- values ------------------------------------------------------------------------------

    def _envelope(self, record: Record, ciphertext: bytes) -> Envelope:
        """The envelope of ``record`` with its value decrypted (kept, while values are warm)."""
        path = self.root / record.value_name
        if not ciphertext.startswith(AGE_MAGIC):
            problem = "empty" if not ciphertext else "not an age file"
            raise StoreError(
                f"file store: the value file of {record.id.value} ({path}) is damaged "
                f"({problem}); {remove_hint(record.id.value)}"
            )
        value = self.key.decrypt(ciphertext, f"{record.id.value} ({path})")
        self.values_read += 1
        envelope = Envelope(
            record.id,
            value,
            version=record.token,
            created_at=record.created_at(),
            metadata=dict(record.metadata),
        )
        if self._warm is not None and record.stamp is not None:
            self._warm.keep(file_name(record.id), record.stamp, envelope)
        return envelope
