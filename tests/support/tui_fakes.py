"""Plugins for the TUI tests: an in-memory keychain, a crashed 1Password, a read-only and a
slow one.  Each test builds its own classes (``Engine(factories=…)`` reads class attributes and
calls the class), so no state leaks between tests."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from docker_pass.core.engine import Engine
from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.errors import FatalPluginError, SecretNotFoundError
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import READ_ONLY, READ_WRITE, Plugin
from docker_pass.tui.demo import DEMO_SECRETS

if TYPE_CHECKING:
    import builtins
    import threading
    from collections.abc import Callable, Mapping

#: A fixed storage text, so snapshots do not depend on the temporary directory.
STORAGE = "file store ~/.local/share/docker-pass/store (age, identity) ($DOCKER_PASS_STORE)"
OP_MISSING = (
    "the 1Password CLI (op) was not found on PATH: install the 1Password CLI and sign in, "
    "then run: docker pass plugins enable 1password-cli"
)

Secrets = dict[str, tuple[bytes, dict[str, str]]]


def demo_secrets() -> Secrets:
    """The demo store's secrets, as the fakes hold them."""
    return {id_: (value.encode(), dict(meta)) for id_, value, meta in DEMO_SECRETS}


def many_secrets(count: int) -> Secrets:
    """``count`` secrets spread over realms, like a big organisation's keychain."""
    teams = ["payments", "search", "platform", "identity", "data", "mobile", "web", "infra"]
    envs = ["prod", "staging", "dev"]
    kinds = ["postgres/password", "redis/url", "api-key", "oauth/token", "tls/key"]
    out: Secrets = {}
    i = 0
    while len(out) < count:
        id_ = f"{teams[i % 8]}/{envs[i // 8 % 3]}/svc{i // 24}/{kinds[i % 5]}"
        out[id_] = (b"v", {"n": str(i)})
        i += 1
    return out


def keychain_class(
    secrets: Secrets | None = None, *, storage: str = STORAGE, store_kind: str = "file"
) -> type[Any]:
    """A writable ``docker-pass`` plugin over a dict shared by its instances; its store says it
    is of ``store_kind`` (as the real plugin's stores do)."""
    store: Secrets = dict(secrets if secrets is not None else demo_secrets())

    class MemoryKeychain:
        name = "docker-pass"
        version = "0.1.0"
        pattern = Pattern("**")
        configurable = False
        capabilities = READ_WRITE
        secrets = store
        #: How many values were read (reveal and copy must read only when asked).
        reads = 0

        def start(self) -> None:
            pass

        def stop(self) -> None:
            pass

        def storage(self) -> str:
            return storage

        def store_kind(self) -> str:
            return store_kind

        def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
            return [
                SecretInfo(ID(k), self.name, MappingProxyType(dict(m)))
                for k, (_, m) in sorted(store.items())
                if pattern.matches(k)
            ]

        def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
            return [self.get(ID(k)) for k in sorted(store) if pattern.matches(k)]

        def get(self, id_: ID) -> Envelope:
            type(self).reads += 1
            try:
                value, meta = store[id_.value]
            except KeyError:
                raise SecretNotFoundError() from None
            return Envelope(id_, value, self.name, metadata=MappingProxyType(dict(meta)))

        def save(self, id_: ID, value: bytes, metadata: Mapping[str, str]) -> None:
            store[id_.value] = (value, dict(metadata))

        def delete(self, id_: ID) -> bool:
            return store.pop(id_.value, None) is not None

    return MemoryKeychain


def crashing_class(name: str = "1password-cli", message: str = OP_MISSING) -> type[Any]:
    """A configurable plugin, enabled by default, whose start always fails fatally."""

    class Crashing:
        version = "0.1.0"
        pattern = Pattern("**")
        configurable = True
        capabilities = READ_ONLY
        enabled_by_default = True
        starts = 0

        def __init__(self) -> None:
            self.name = name

        def start(self) -> None:
            type(self).starts += 1
            raise FatalPluginError(message)

        def stop(self) -> None:
            pass

        def storage(self) -> str:
            return ""

        def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
            return []

        def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
            return []

    Crashing.__name__ = f"Crashing{name.title()}"
    return Crashing


def readonly_class(
    name: str = "1password-sdk",
    items: Mapping[str, bytes] | None = None,
    *,
    enabled: bool = True,
    list_gate: threading.Event | None = None,
    gate_seconds: float | None = 3.0,
    listing: threading.Event | None = None,
) -> type[Any]:
    """A read-only configurable plugin; with ``list_gate``, listing waits on it (slow ``op``)
    for at most ``gate_seconds`` (``None``: until it is set, perhaps never).  ``listing`` is set
    when a listing begins.  ``held`` on the class is its secrets (tests change them)."""
    held = dict(items if items is not None else {"op/vault/github/token": b"op-demo-token"})

    class ReadOnly:
        version = "0.2.0"
        pattern = Pattern("**")
        configurable = True
        capabilities = READ_ONLY
        enabled_by_default = enabled
        lists = 0
        secrets = held
        #: How many instances were stopped (an engine's close stops them).
        stops = 0

        def __init__(self) -> None:
            self.name = name

        def start(self) -> None:
            pass

        def stop(self) -> None:
            type(self).stops += 1

        def storage(self) -> str:
            return "1Password (fake)"

        def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
            type(self).lists += 1
            if listing is not None:
                listing.set()
            if list_gate is not None:
                list_gate.wait(gate_seconds)  # a slow plugin, released early by tests
            return [
                SecretInfo(ID(k), self.name, MappingProxyType({"vault": "Private"}))
                for k in sorted(held)
                if pattern.matches(k)
            ]

        def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
            return [
                Envelope(ID(k), v, self.name) for k, v in sorted(held.items()) if pattern.matches(k)
            ]

    return ReadOnly


def engine_factory(classes: Mapping[str, type]) -> Callable[[], Engine]:
    """A factory of engines over ``classes`` (plugin name -> class), in that order."""
    factories: dict[str, Callable[[], Plugin]] = dict(classes)
    return lambda: Engine(factories=factories)
