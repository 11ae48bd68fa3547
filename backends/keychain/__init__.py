"""The ``docker-pass`` plugin: the OS keychain, always on, not configurable.

It keeps secrets in one of three stores, chosen by ``DOCKER_PASS_STORE`` (environment), then the
``storage`` setting of the config file, then the best one available here:

- ``secret-service``: the freedesktop Secret Service (gnome-keyring, KWallet, KeePassXC) on Linux,
  in the same items as Docker's own ``docker pass``;
- ``keyring``: macOS Keychain / Windows Credential Manager through the ``keyring`` library;
- ``file``: an age-encrypted file store, where no keychain answers (headless Linux, CI, WSL).

Store modules are imported only once chosen, so a command pays only for the one it uses.

Every store keeps versions (:mod:`docker_pass.backends.keychain.versioning` says how each
computes its token), so the plugin is ``versioned``: ``get`` carries the version, ``save``
returns the new one, and ``save`` and ``delete`` honour an expected version under the store's
write lock.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from docker_pass.core import __version__
from docker_pass.core.config import config_path, load_config
from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.errors import (
    DockerPassError,
    StoreUnavailableError,
    VersionConflictError,
)
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.names import KEYCHAIN_PLUGIN, STORAGE_KINDS
from docker_pass.core.plugin import READ_WRITE, is_reserved
from docker_pass.core.private_files import ensure_private_dir
from docker_pass.core.store import SecretStore, xdg_path
from docker_pass.core.value import FrozenValue

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Iterator, Mapping

    from docker_pass.core.plugin import RunningWatcher, WatchHint

STORE_ENV = "DOCKER_PASS_STORE"
#: ``auto`` and the kinds of store (their home is the config's schema: ``storage`` names them).
STORE_KINDS = STORAGE_KINDS


class StoreChoice(FrozenValue):
    """Which store was chosen, and what chose it (for ``plugins ls`` and the TUI)."""

    __slots__ = ("kind", "source")
    kind: str
    source: str

    def __init__(self, kind: str, source: str) -> None:
        self._set("kind", kind)
        self._set("source", source)

    def __repr__(self) -> str:
        return f"StoreChoice({self.kind!r}, {self.source!r})"


def choose_store() -> StoreChoice:
    """Apply the precedence: environment, config file, best available."""
    from_env = os.environ.get(STORE_ENV, "").strip()
    if from_env and from_env != "auto":
        return StoreChoice(_checked_kind(from_env, f"${STORE_ENV}"), f"${STORE_ENV}")
    configured = load_config().get("storage")
    if configured and configured != "auto":
        path = config_path()
        return StoreChoice(_checked_kind(str(configured), f"{path}: storage"), f"config {path}")
    if sys.platform in ("darwin", "win32"):
        return StoreChoice("keyring", "default for this OS")
    recorded = _recorded_choice()
    if recorded is not None:
        return recorded
    from docker_pass.backends.keychain.secretservice import secret_service_available

    available, reason = secret_service_available()
    if available:
        kind, reason = "secret-service", "a Secret Service answers on the session bus"
    else:
        kind = "file"
    _record_choice(kind, reason)
    return StoreChoice(kind, f"auto: {reason}")


#: Where ``auto`` records the store it chose, so that it never switches by itself: a keychain
#: that stops answering must fail loudly, not send new secrets to another store.
CHOICE_FILE = "storage-choice"
#: More than the two lines auto writes (a kind and a reason) ever take.
CHOICE_LIMIT = 64 * 1024
#: The longest reason shown from the storage-choice file (ours are one short clause).
CHOICE_REASON_LIMIT = 200


def choice_path() -> str:
    """The file holding auto's decision (``$XDG_STATE_HOME/docker-pass/storage-choice``)."""
    return os.path.join(xdg_path("state"), CHOICE_FILE)


def _recorded_choice() -> StoreChoice | None:
    """The store auto chose before, if it recorded one (two lines: kind, reason)."""
    from docker_pass.core.regular_files import FileReadError, read_regular_file

    try:
        # Two short lines: a FIFO, a device or a huge file there is no choice of ours.
        raw = read_regular_file(choice_path(), "storage choice", limit=CHOICE_LIMIT)
        kind, _, reason = raw.decode("utf-8").partition("\n")
    except (FileReadError, ValueError):
        return None  # none recorded (or unreadable): decide afresh
    if kind not in ("secret-service", "file"):
        return None
    reason = reason.strip()
    if not reason.isprintable() or len(reason) > CHOICE_REASON_LIMIT:
        # Not what we write: shown only through the outside-text gate (``get`` never shows it,
        # and never pays for that module).
        from docker_pass.core.outside import clean_outside

        reason = clean_outside(reason, CHOICE_REASON_LIMIT)
    reason = reason or "chosen earlier"
    # Where the choice is recorded (to let auto decide again) is the README's to say.
    return StoreChoice(kind, f"auto: {reason}; kept from an earlier run")


def _record_choice(kind: str, reason: str) -> None:
    """Record auto's decision atomically; a state dir we cannot write only costs a re-probe."""
    directory = xdg_path("state")
    tmp = os.path.join(directory, f".{CHOICE_FILE}.{os.getpid()}")
    try:
        ensure_private_dir(directory)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"{kind}\n{reason}\n")
        os.replace(tmp, choice_path())
    except OSError:
        with suppress(OSError):
            os.unlink(tmp)


def open_store(kind: str) -> SecretStore:
    """Construct the store of ``kind``."""
    if kind == "secret-service":
        from docker_pass.backends.keychain.secretservice import SecretServiceStore

        return SecretServiceStore()
    if kind == "file":
        from docker_pass.backends.keychain.filestore import FileStore

        store = FileStore.from_environment()
        store.provider = KEYCHAIN_PLUGIN  # its listing comes stamped: no copy of each entry
        return store
    if kind == "keyring":
        from docker_pass.backends.keychain.keyring_store import KeyringStore

        return KeyringStore()
    raise DockerPassError(f"unknown storage {kind!r} (expected one of {', '.join(STORE_KINDS)})")


def _checked_kind(kind: str, where: str) -> str:
    if kind not in STORE_KINDS:
        raise DockerPassError(
            f"{where}: unknown storage {kind!r} (expected one of {', '.join(STORE_KINDS)})"
        )
    return kind


class KeychainPlugin:
    """The ``docker-pass`` plugin over the chosen :class:`SecretStore`."""

    name = KEYCHAIN_PLUGIN
    version = __version__
    pattern = Pattern("**")
    configurable = False
    capabilities = READ_WRITE
    #: It may be called from several threads at once (the daemon's requests): every store
    #: locks what it shares (a D-Bus connection; ``flock`` on the file store and keyring index).
    concurrent = True
    #: Every store reports versions and honours expected ones (:mod:`docker_pass.core.versions`).
    versioned = True

    def __init__(self, store: SecretStore | None = None, choice: StoreChoice | None = None) -> None:
        self._store = store
        self._choice = choice or (StoreChoice(store.kind, "given") if store else None)

    @property
    def choice(self) -> StoreChoice:
        """The storage choice (made on first use)."""
        if self._choice is None:
            self._choice = choose_store()
        return self._choice

    @property
    def store(self) -> SecretStore:
        """The store (opened on first use)."""
        if self._store is None:
            self._store = open_store(self.choice.kind)
        return self._store

    def start(self) -> None:
        """Nothing to warm: the store connects on first use."""

    def stop(self) -> None:
        """Close the store."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def storage(self) -> str:
        """The store in use and what chose it."""
        return f"{self.store.location()} ({self.choice.source})"

    def store_kind(self) -> str:
        """The kind of store in use, as the store says: ``secret-service``, ``file`` or
        ``keyring``."""
        return self.store.kind

    def watch_hint(self) -> WatchHint | None:
        """How to notice other processes' changes: the store's own hint (the Secret Service
        collection's signals, the file store's directory); ``None`` for ``keyring``."""
        ask = getattr(self.store, "watch_hint", None)
        if not callable(ask):
            return None
        with self._naming_the_keychain():
            hint = ask()
        return (str(hint[0]), str(hint[1]))

    def watcher(
        self, on_change: Callable[[], None], on_failure: Callable[[str], None]
    ) -> RunningWatcher | None:
        """On the Secret Service, a watcher of the collection's item signals (on a session-bus
        connection of its own); ``None`` for the other stores (the front follows the file
        store's directory itself)."""
        hint = self.watch_hint()
        if hint is None or hint[0] != "secret-service":
            return None
        from docker_pass.backends.keychain.signals import SecretServiceWatcher

        return SecretServiceWatcher(hint[1], on_change, on_failure=on_failure)

    def list(self, pattern: Pattern) -> list[SecretInfo]:
        """Everything matching ``pattern`` (the internal realm included; callers filter)."""
        with self._naming_the_keychain():
            infos = self.store.list(pattern)
        # A store set up here names this plugin already (its ``provider``): one count says so,
        # where a call per entry cost ~7 ms at 100,000 secrets.  (Each store's list is its own.)
        if [i.provider for i in infos].count(self.name) == len(infos):
            return infos
        return [self._stamp_info(i) for i in infos]

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        """Values for ``pattern``; internal secrets are never resolved."""
        with self._naming_the_keychain():
            found = self.store.resolve(pattern)
        return [self._stamp(e) for e in found if not is_reserved(e.id)]

    def keep_values_warm(self) -> None:
        """The engine daemon keeps decrypted values of stores that allow it (the file store,
        whose key it holds anyway); the Secret Service is asked every time, so a locked
        collection stays locked for the daemon too."""
        keep = getattr(self.store, "keep_values_warm", None)
        if callable(keep):
            keep()

    def peek_warm(self, pattern: Pattern) -> builtins.list[Envelope] | None:
        """The store's warm answer for ``pattern`` without waiting, if it has one
        (:class:`~docker_pass.core.plugin.WarmAnswers`): never for an internal secret."""
        peek = getattr(self._store, "peek_warm", None)
        found = peek(pattern) if callable(peek) else None
        if found is None or any(is_reserved(e.id) for e in found):
            return None
        return [self._stamp(e) for e in found]

    def fill_warm(self) -> int:
        """Keep the store's values warm from the start, where it keeps values warm."""
        fill = getattr(self._store, "fill_warm", None)
        if not callable(fill):
            return 0
        with self._naming_the_keychain():
            filled: int = fill()
        return filled

    def warm_directory(self) -> str | None:
        """The store's directory while it keeps values warm (the file store in the daemon):
        its entries alone decide what :meth:`resolve` answers; ``None`` for the others."""
        ask = getattr(self._store, "warm_directory", None)
        found = ask() if callable(ask) else None
        return str(found) if found is not None else None

    def get(self, id_: ID) -> Envelope:
        """One secret by ID, with its version."""
        with self._naming_the_keychain():
            return self._stamp(self.store.get(id_))

    def save(
        self,
        id_: ID,
        value: bytes,
        metadata: Mapping[str, str],
        *,
        expected_version: str | None = None,
    ) -> str:
        """Create or replace a secret (only if it is ``expected_version``, unless ``None``);
        its new version.  :class:`VersionConflictError` when it is another: nothing written."""
        with self._naming_the_keychain():
            return self.store.save(id_, value, metadata, expected_version=expected_version)

    def delete(self, id_: ID, *, expected_version: str | None = None) -> bool:
        """Remove a secret (only if it is ``expected_version``, unless ``None``); whether it
        existed.  :class:`VersionConflictError` when it is another: nothing removed."""
        with self._naming_the_keychain():
            return self.store.delete(id_, expected_version=expected_version)

    @contextmanager
    def _naming_the_keychain(self) -> Iterator[None]:
        """A store that stopped answering is reported as the keychain being unavailable, with
        how to switch on purpose: the plugin never falls back to another store by itself.  A
        version conflict is named as the plugin's."""
        try:
            yield
        except VersionConflictError as exc:
            exc.provider = self.name  # the store does not know the plugin it serves
            raise
        except StoreUnavailableError as exc:
            choice = self.choice
            raise StoreUnavailableError(
                f"the keychain ({choice.kind}) is unavailable: {exc}"
            ).with_hints(
                f"docker-pass keeps using the store it chose ({choice.source})",
                "start it again, or switch on purpose: DOCKER_PASS_STORE=file, or "
                '"storage": "file" in the config file',
            ) from None

    def _stamp(self, envelope: Envelope) -> Envelope:
        return envelope if envelope.provider == self.name else envelope.stamped(self.name)

    def _stamp_info(self, info: SecretInfo) -> SecretInfo:
        if info.provider == self.name:
            return info
        return SecretInfo(info.id, self.name, info.metadata, info.updated_at, info.version)
