"""The storage protocol behind the ``docker-pass`` plugin, and where a store keeps its files.

Three stores implement it: the freedesktop Secret Service (Linux keychain), the age-encrypted file
store, and the ``keyring`` store (macOS Keychain / Windows Credential Manager).  Each store's
tests subclass the shared contract in ``tests/backends/contract.py``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from docker_pass.core.names import PROGRAM

if TYPE_CHECKING:
    import builtins
    from collections.abc import Mapping
    from pathlib import Path

    from docker_pass.core.envelope import Envelope, SecretInfo
    from docker_pass.core.ids import ID, Pattern

# Docker's keychain naming: every item of `docker pass` carries these attributes.
SERVICE_GROUP = "com.docker.docker-pass"
SERVICE_NAME = "docker-pass-cli"
METADATA_PREFIX = "x_"


def item_label(id_: ID) -> str:
    """The label Docker's tool gives the keychain item of ``id_``."""
    return f"{SERVICE_GROUP}:{SERVICE_NAME}:{id_.value}"


@runtime_checkable
class SecretStore(Protocol):
    """A place the ``docker-pass`` plugin keeps secrets.

    Values are bytes; metadata maps ``str`` keys (``[A-Za-z0-9_.-]+``) to ``str`` values.
    Errors: :class:`~docker_pass.core.errors.SecretNotFoundError` from :meth:`get` for a missing
    ID; :class:`~docker_pass.core.errors.StoreError` (or a subclass) for any failure of the store
    itself.  No error message ever holds a value.

    Versions (:mod:`docker_pass.core.versions`): :meth:`get` puts the secret's version token in
    the envelope; :meth:`save` returns the new one; :meth:`save` and :meth:`delete` take the
    version a write expects (``None``: blind; ``NO_SECRET``: there must be none), compare it
    under the store's write lock and raise
    :class:`~docker_pass.core.errors.VersionConflictError` without writing when it differs.
    """

    #: Short name of the storage kind: ``secret-service``, ``file`` or ``keyring``.
    kind: str

    def location(self) -> str:
        """Where secrets live, for people (``Secret Service collection 'Login'``, a path)."""
        ...

    def save(
        self,
        id_: ID,
        value: bytes,
        metadata: Mapping[str, str],
        *,
        expected_version: str | None = None,
    ) -> str:
        """Create or replace the secret ``id_`` (never leaving two copies of it); its new
        version."""
        ...

    def get(self, id_: ID) -> Envelope:
        """The secret ``id_`` with its value, metadata and version; raise
        ``SecretNotFoundError``."""
        ...

    def list(self, pattern: Pattern) -> list[SecretInfo]:
        """IDs and metadata of the secrets matching ``pattern``, sorted by ID; reads no value
        (versions only where the store knows them without: the file store)."""
        ...

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        """Envelopes (with values) of the secrets matching ``pattern``, sorted by ID."""
        ...

    def delete(self, id_: ID, *, expected_version: str | None = None) -> bool:
        """Remove ``id_``; ``True`` if it existed, ``False`` if there was nothing to remove
        (whatever version was expected: a secret already gone loses nothing)."""
        ...

    def close(self) -> None:
        """Release connections and locks; the store is not used afterwards."""
        ...


def xdg_dir(kind: str) -> Path:
    """``$XDG_<KIND>_HOME/docker-pass`` (kind: config, data, state or cache)."""
    from pathlib import Path  # ~4 ms: not on the `get` path, which uses xdg_path

    return Path(xdg_path(kind))


_XDG_DEFAULTS = {
    "config": ".config",
    "data": ".local/share",
    "state": ".local/state",
    "cache": ".cache",
}


def xdg_path(kind: str) -> str:
    """:func:`xdg_dir` as a string, without importing pathlib."""
    base = os.environ.get(f"XDG_{kind.upper()}_HOME")
    root = base if base else os.path.join(os.path.expanduser("~"), _XDG_DEFAULTS[kind])
    return os.path.join(root, PROGRAM)
