"""The ``docker-pass`` plugin: the OS keychain, always on, not configurable.

It keeps secrets in one of three stores, chosen by ``DOCKER_PASS_STORE`` (environment), then the
``storage`` setting of the config file, then the best one available here:

- ``secret-service``: the freedesktop Secret Service (gnome-keyring, KWallet, KeePassXC) on Linux,
  in the same items as Docker's own ``docker pass``;
- ``keyring``: macOS Keychain / Windows Credential Manager through the ``keyring`` library;
- ``file``: an age-encrypted file store, where no keychain answers (headless Linux, CI, WSL).

Store modules are imported only once chosen, so a command pays only for the one it uses.
"""

from __future__ import annotations

import builtins
import os
import sys
from collections.abc import Mapping

from docker_pass.core import __version__
from docker_pass.core.config import config_path, load_config
from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.errors import DockerPassError
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import READ_WRITE, is_reserved
from docker_pass.core.store import SecretStore
from docker_pass.core.value import FrozenValue

STORE_ENV = "DOCKER_PASS_STORE"
STORE_KINDS = ("auto", "secret-service", "keyring", "file")


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
    from docker_pass.backends.keychain.secretservice import secret_service_available

    available, reason = secret_service_available()
    if available:
        return StoreChoice("secret-service", "auto: a Secret Service answers on the session bus")
    return StoreChoice("file", f"auto: {reason}")


def open_store(kind: str) -> SecretStore:
    """Construct the store of ``kind``."""
    if kind == "secret-service":
        from docker_pass.backends.keychain.secretservice import SecretServiceStore

        return SecretServiceStore()
    if kind == "file":
        from docker_pass.backends.filestore import FileStore

        return FileStore.from_environment()
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

    name = "docker-pass"
    version = __version__
    pattern = Pattern("**")
    configurable = False
    capabilities = READ_WRITE

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

    def list(self, pattern: Pattern) -> list[SecretInfo]:
        """Everything matching ``pattern`` (the internal realm included; callers filter)."""
        return [self._stamp_info(i) for i in self.store.list(pattern)]

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        """Values for ``pattern``; internal secrets are never resolved."""
        return [self._stamp(e) for e in self.store.resolve(pattern) if not is_reserved(e.id)]

    def get(self, id_: ID) -> Envelope:
        """One secret by ID."""
        return self._stamp(self.store.get(id_))

    def save(self, id_: ID, value: bytes, metadata: Mapping[str, str]) -> None:
        """Create or replace a secret."""
        self.store.save(id_, value, metadata)

    def delete(self, id_: ID) -> bool:
        """Remove a secret; whether it existed."""
        return self.store.delete(id_)

    def _stamp(self, envelope: Envelope) -> Envelope:
        return envelope if envelope.provider == self.name else envelope.stamped(self.name)

    def _stamp_info(self, info: SecretInfo) -> SecretInfo:
        return info if info.provider == self.name else SecretInfo(info.id, self.name, info.metadata)
