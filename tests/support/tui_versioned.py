"""A versioned writable plugin for the TUI tests: a counter per secret as its version, the
check made under a lock as the real stores do, and a hook for "another process" to change a
secret behind the app's back (``outside_*``: what ``docker-pass set`` in another terminal, or
``bao kv put``, does to a real store)."""

from __future__ import annotations

import threading
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.errors import SecretNotFoundError, VersionConflictError
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import READ_WRITE
from docker_pass.core.versions import NO_SECRET

if TYPE_CHECKING:
    import builtins
    from collections.abc import Mapping

#: A fixed "changed at" (2026-12-06 23:19 UTC), so that questions and snapshots are steady.
CHANGED_AT = 1796599140.0


class Held:
    """One secret: value, metadata, version number, who changed it last, and whether its
    latest version is deleted (a vault-like store keeps it then)."""

    __slots__ = ("by", "deleted", "metadata", "value", "version")

    def __init__(self, value: bytes, metadata: Mapping[str, str], version: int, by: str) -> None:
        self.value = value
        self.metadata = dict(metadata)
        self.version = version
        self.by = by
        self.deleted = False


def versioned_class(
    name: str = "docker-pass",
    secrets: Mapping[str, tuple[bytes, Mapping[str, str]]] | None = None,
    *,
    list_versions: bool = False,
    store_kind: str = "file",
) -> type[Any]:
    """A writable plugin ``name`` that keeps versions (``versioned = True``), over its own
    dict; ``list_versions``: its listing carries them (else only a read says, as the Secret
    Service's)."""
    lock = threading.Lock()
    store: dict[str, Held] = {k: Held(v, m, 1, "seed") for k, (v, m) in (secrets or {}).items()}
    #: Versions stay unique per ID across deletes (a recreated secret never reuses one).
    counter: dict[str, int] = {k: 1 for k in store}

    class Versioned:
        version = "0.1.0"
        pattern = Pattern("**")
        configurable = name != "docker-pass"
        enabled_by_default = True
        capabilities = READ_WRITE
        versioned = True
        held = store
        reads = 0

        def __init__(self) -> None:
            self.name = name

        def start(self) -> None:
            pass

        def stop(self) -> None:
            pass

        def storage(self) -> str:
            return f"{name} (versioned test store)"

        def store_kind(self) -> str:
            return store_kind

        def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
            with lock:
                return [
                    SecretInfo(
                        ID(k),
                        self.name,
                        MappingProxyType(dict(h.metadata)),
                        version=str(h.version) if list_versions else "",
                    )
                    for k, h in sorted(store.items())
                    if pattern.matches(k)
                ]

        def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
            return [self.get(ID(k)) for k in sorted(store) if pattern.matches(k)]

        def get(self, id_: ID) -> Envelope:
            type(self).reads += 1
            with lock:
                held = store.get(id_.value)
                if held is None:
                    raise SecretNotFoundError()
                meta = MappingProxyType(dict(held.metadata))
                return Envelope(
                    id_, held.value, self.name, metadata=meta, version=str(held.version)
                )

        def save(
            self,
            id_: ID,
            value: bytes,
            metadata: Mapping[str, str],
            *,
            expected_version: str | None = None,
        ) -> str:
            with lock:
                self._check(id_, expected_version)
                return _put(id_.value, value, metadata, "the app")

        def delete(self, id_: ID, *, expected_version: str | None = None) -> bool:
            with lock:
                self._check(id_, expected_version)
                return store.pop(id_.value, None) is not None

        def _check(self, id_: ID, expected: str | None) -> None:
            if expected is None:
                return
            held = store.get(id_.value)
            found = NO_SECRET if held is None else str(held.version)
            if found != expected:
                raise VersionConflictError(
                    f"{id_.value} changed since version {expected}: it is now {found}",
                    id_=id_.value,
                    provider=self.name,
                    expected=expected,
                    found=found,
                    changed_at=CHANGED_AT,
                    changed_by="" if held is None else held.by,
                )

    def _put(id_: str, value: bytes, metadata: Mapping[str, str], by: str) -> str:
        counter[id_] = counter.get(id_, 0) + 1
        store[id_] = Held(value, metadata, counter[id_], by)
        return str(counter[id_])

    def outside_set(id_: str, value: bytes, metadata: Mapping[str, str] | None = None) -> None:
        """Another process writes ``id_`` (keeping its metadata unless given)."""
        with lock:
            held = store.get(id_)
            keep = held.metadata if held is not None and metadata is None else (metadata or {})
            _put(id_, value, keep, "alice@laptop")

    def outside_delete(id_: str) -> None:
        """Another process removes ``id_``."""
        with lock:
            store.pop(id_, None)

    Versioned.outside_set = staticmethod(outside_set)  # type: ignore[attr-defined]
    Versioned.outside_delete = staticmethod(outside_delete)  # type: ignore[attr-defined]
    Versioned.__name__ = f"Versioned{name.title().replace('-', '')}"
    return Versioned


def vaultlike_class(
    name: str = "vault", secrets: Mapping[str, tuple[bytes, Mapping[str, str]]] | None = None
) -> type[Any]:
    """A versioned plugin that keeps deleted secrets as vault does: a delete marks the latest
    version deleted (no live secret: not listed unless asked, not read), ``undelete`` brings
    it back, ``purge`` removes every version."""
    base: type[Any] = versioned_class(name, secrets, list_versions=True, store_kind="")
    store: dict[str, Held] = base.held

    class KeepsDeleted(base):  # type: ignore[misc]
        def list(self, pattern: Pattern, *, deleted: bool = False) -> builtins.list[SecretInfo]:
            infos = [
                SecretInfo(
                    ID(k),
                    self.name,
                    MappingProxyType(dict(h.metadata)),
                    version=str(h.version),
                    deleted=h.deleted,
                )
                for k, h in sorted(store.items())
                if pattern.matches(k) and (deleted or not h.deleted)
            ]
            return infos

        def get(self, id_: ID) -> Envelope:
            held = store.get(id_.value)
            if held is not None and held.deleted:
                raise SecretNotFoundError()
            return super().get(id_)  # type: ignore[no-any-return]

        def save(
            self,
            id_: ID,
            value: bytes,
            metadata: Mapping[str, str],
            *,
            expected_version: str | None = None,
        ) -> str:
            held = store.get(id_.value)
            if held is not None and held.deleted and expected_version == NO_SECRET:
                expected_version = str(held.version)  # a deleted secret is none (as vault's)
            return super().save(id_, value, metadata, expected_version=expected_version)  # type: ignore[no-any-return]

        def delete(self, id_: ID, *, expected_version: str | None = None) -> bool:
            held = store.get(id_.value)
            if held is None or held.deleted:
                return False
            held.deleted = True
            return True

        def undelete(self, id_: ID) -> bool:
            held = store.get(id_.value)
            if held is None or not held.deleted:
                return False
            held.deleted = False
            return True

        def purge(self, id_: ID, *, expected_version: str | None = None) -> bool:
            return store.pop(id_.value, None) is not None

    KeepsDeleted.__name__ = f"KeepsDeleted{name.title()}"
    return KeepsDeleted
