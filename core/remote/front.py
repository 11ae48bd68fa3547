"""Choosing the engine a command talks to: the daemon's, when one answers, or an embedded one.

:func:`open_engine` is what ``run``, ``plugins …`` and the TUI call.  It costs little when no
daemon runs: if the socket file is missing it returns an embedded :class:`Engine`; if the file
is there, a connect and a ``GetVersion`` call must each succeed within :data:`PROBE_TIMEOUT`,
or the embedded engine is used after all.  If the daemon goes away in the middle of a command,
the command finishes on an embedded engine.  Either way only the standard library is imported:
the daemon's client (:mod:`.client`) speaks Connect's JSON codec without Connect or protobuf.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Protocol, TypeVar

from docker_pass.core.errors import DockerPassError
from docker_pass.core.names import KEYCHAIN_PLUGIN

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from docker_pass.core.engine import Engine
    from docker_pass.core.envelope import Envelope
    from docker_pass.core.ids import ID, Pattern
    from docker_pass.core.moves import Moved, RealmMoved
    from docker_pass.core.remote.client import DaemonClient
    from docker_pass.core.results import Listing, PluginStatus, Removal, Resolution, Saved

T = TypeVar("T")

#: Seconds the socket gets to accept a connection, and then to answer GetVersion.
PROBE_TIMEOUT = 0.2


#: What :func:`front_kind` says: the daemon answers, or the engine runs in this process.
DAEMON_KIND = "daemon"
EMBEDDED_KIND = "embedded engine"


class EngineFront(Protocol):
    """What the fronts call on an engine: an embedded :class:`Engine`, or the daemon's (which
    falls back to an embedded engine if the daemon goes away) — see :func:`open_engine`.
    """

    def get(self, id_: ID, *, plugin: str = KEYCHAIN_PLUGIN) -> Envelope:
        """One secret, with its value, from ``plugin``."""
        ...

    def save(
        self,
        id_: ID,
        value: bytes,
        metadata: Mapping[str, str],
        *,
        plugin: str = KEYCHAIN_PLUGIN,
        expected_version: str | None = None,
    ) -> Saved:
        """Create or replace a secret in a writable plugin (only if it is
        ``expected_version``, when given: :mod:`docker_pass.core.versions`)."""
        ...

    def remove(
        self,
        ids: Sequence[ID],
        *,
        plugin: str = KEYCHAIN_PLUGIN,
        purge_versions: bool = False,
        expected_versions: Mapping[ID, str] | None = None,
    ) -> Removal:
        """Remove secrets from a plugin that can delete (each only if it is still the
        version expected, where one is)."""
        ...

    def undelete(self, ids: Sequence[ID], *, plugin: str) -> Removal:
        """Restore the latest version of secrets whose latest version was deleted."""
        ...

    def move(
        self, old: ID, new: ID, *, plugin: str, to_plugin: str | None = None, replace: bool = False
    ) -> Moved:
        """Rename a secret, maybe into another plugin (:mod:`docker_pass.core.moves`)."""
        ...

    def move_realm(
        self, old: ID, new: ID, *, plugin: str, to_plugin: str | None = None, replace: bool = False
    ) -> RealmMoved:
        """Move every secret under a realm (:mod:`docker_pass.core.moves`)."""
        ...

    def plugins(self, *, start: bool = True) -> list[PluginStatus]:
        """Every plugin's status."""
        ...

    def enable(self, name: str) -> PluginStatus:
        """Enable a configurable plugin (and clear a crash)."""
        ...

    def disable(self, name: str) -> PluginStatus:
        """Disable a configurable plugin."""
        ...

    def resolve(self, pattern: Pattern) -> Resolution:
        """Envelopes for ``pattern`` with who was asked, who answered and who failed."""
        ...

    def resolve_all(self, pattern: Pattern) -> list[Envelope]:
        """Envelopes for ``pattern``; ``secret not found`` when there are none."""
        ...

    def list_secrets(
        self,
        pattern: Pattern,
        *,
        plugin: str | None = None,
        reserved: bool = False,
        deleted: bool = False,
    ) -> Listing:
        """IDs, metadata and versions, never values (one plugin, or all); ``deleted``
        includes secrets whose latest version is deleted."""
        ...

    def close(self) -> None:
        """Release what the engine (or the connection) holds."""
        ...

    def __enter__(self) -> EngineFront: ...

    def __exit__(self, *exc: object) -> None: ...


def front_kind(front: object) -> str:
    """Whether ``front`` talks to the engine daemon (:data:`DAEMON_KIND`) or is an embedded
    engine (:data:`EMBEDDED_KIND`): a front says so in a ``kind`` attribute (the daemon's
    does, and changes it if it falls back); one without it (:class:`Engine`) is embedded.
    Cheap: no call reaches the daemon."""
    kind = getattr(front, "kind", EMBEDDED_KIND)
    return kind if isinstance(kind, str) else EMBEDDED_KIND


def find_daemon(timeout: float = PROBE_TIMEOUT) -> tuple[DaemonClient | None, str]:
    """A client of the running daemon, or ``None`` and the reason there is none."""
    from docker_pass.core.remote.endpoint import connect_unix, socket_location

    try:
        location = socket_location()
    except DockerPassError as exc:
        return None, str(exc)
    path = location.text
    if not os.path.exists(path):
        return None, f"no engine daemon (no socket at {path})"
    try:
        sock = connect_unix(path, timeout)
    except ConnectionRefusedError:
        return None, f"no engine daemon answers on {path} (stale socket)"
    except TimeoutError:
        return None, f"the engine daemon at {path} did not accept a connection in time"
    except DockerPassError as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"cannot reach the engine daemon at {path}: {exc.strerror or exc}"
    from docker_pass.core.remote.client import DaemonClient

    # The probe's connection carries the version check, and then the command's calls.
    client = DaemonClient(path, sock=sock)
    try:
        client.version(timeout=timeout)
    except DockerPassError as exc:
        client.close()
        return None, str(exc)
    return client, ""


def open_engine(
    *,
    no_daemon: bool = False,
    on_fallback: Callable[[str], None] | None = None,
    plugin: str | None = None,
) -> EngineFront:
    """The daemon's engine if one answers (unless ``no_daemon``), else an embedded one.

    ``on_fallback`` hears, once, why the embedded engine is used (the CLI prints it under
    ``--debug``); it is not called when ``no_daemon`` asked for it.  ``plugin``: the embedded
    engine starts only that plugin (a write to it from ``set`` or ``rm``).
    """
    from docker_pass.core.engine import Engine

    def embedded() -> EngineFront:
        return Engine() if plugin is None else Engine.for_plugin(plugin)

    if no_daemon:
        return embedded()
    client, reason = find_daemon()
    if client is None:
        if on_fallback is not None:
            on_fallback(reason)
        return embedded()
    return DaemonOrEmbedded(client, on_fallback)


class DaemonOrEmbedded:
    """The daemon's engine, replaced by an embedded one if the daemon goes away mid-command.

    Every method is safe to repeat on the embedded engine after a failed attempt: resolving
    and listing only read, and enabling or disabling twice leaves the same state.  Threads
    (the TUI's workers) may share one: the switch happens once.
    """

    def __init__(
        self, client: DaemonClient, on_fallback: Callable[[str], None] | None = None
    ) -> None:
        self.client = client
        self._on_fallback = on_fallback
        self._embedded: Engine | None = None
        #: The engine for writes when the daemon is too old to serve them, made on first use.
        self._local: Engine | None = None
        self._old_daemon = False
        #: The daemon answers GetSecret ``unimplemented``: ``get`` resolves instead.
        self._old_daemon_get = False
        self._switch = threading.Lock()

    @property
    def using_daemon(self) -> bool:
        """Whether calls still go to the daemon."""
        return self._embedded is None

    @property
    def kind(self) -> str:
        """:data:`DAEMON_KIND` while calls go to the daemon, then :data:`EMBEDDED_KIND`."""
        return DAEMON_KIND if self.using_daemon else EMBEDDED_KIND

    def plugins(self, *, start: bool = True) -> list[PluginStatus]:
        """Every plugin's status."""
        return self._call(lambda engine: engine.plugins(start=start))

    def enable(self, name: str) -> PluginStatus:
        """Enable a configurable plugin (and clear a crash)."""
        return self._call(lambda engine: engine.enable(name))

    def disable(self, name: str) -> PluginStatus:
        """Disable a configurable plugin."""
        return self._call(lambda engine: engine.disable(name))

    def resolve(self, pattern: Pattern) -> Resolution:
        """Envelopes for ``pattern`` with who was asked, who answered and who failed."""
        return self._call(lambda engine: engine.resolve(pattern))

    def resolve_all(self, pattern: Pattern) -> list[Envelope]:
        """Envelopes for ``pattern``; ``secret not found`` when there are none."""
        return self._call(lambda engine: engine.resolve_all(pattern))

    def list_secrets(
        self,
        pattern: Pattern,
        *,
        plugin: str | None = None,
        reserved: bool = False,
        deleted: bool = False,
    ) -> Listing:
        """IDs, metadata and versions, never values (one plugin, or all)."""
        return self._call(
            lambda engine: engine.list_secrets(
                pattern, plugin=plugin, reserved=reserved, deleted=deleted
            )
        )

    def get(self, id_: ID, *, plugin: str = KEYCHAIN_PLUGIN) -> Envelope:
        """One secret, with its value and version, from ``plugin`` (its warm plugins
        answer).  A daemon from before ``GetSecret`` resolves the ID instead and the envelope
        of that plugin is kept (then without a version)."""
        if self._embedded is not None:
            return self._embedded.get(id_, plugin=plugin)
        if not self._old_daemon_get:
            from docker_pass.core.remote.client import DaemonError
            from docker_pass.core.remote.wire import UNIMPLEMENTED

            try:
                return self._call(lambda engine: engine.get(id_, plugin=plugin))
            except DaemonError as exc:
                if exc.code != UNIMPLEMENTED:
                    raise
                self._old_daemon_get = True
            if self._embedded is not None:
                return self._embedded.get(id_, plugin=plugin)
        from docker_pass.core.ids import Pattern
        from docker_pass.core.results import Resolution

        resolution = self._call(lambda engine: engine.resolve(Pattern(id_.value)))
        mine = [e for e in resolution.envelopes if e.provider == plugin and e.id == id_]
        errors = {n: m for n, m in resolution.errors.items() if n == plugin}
        down = {n: m for n, m in resolution.down.items() if n == plugin}
        only = Resolution(resolution.pattern, mine, [plugin], [], errors, down)
        return only.envelopes_or_raise()[0]

    # Writes go through the daemon too, so its warm plugins and every other client see them
    # at once.  Repeated on the embedded engine after the daemon went away mid-call, a save
    # writes the same value again (and may then say "replaced"; a versioned one may be refused
    # as a conflict with the write that did reach the daemon), a removal finds it missing, a
    # move finds the old secret gone or the new one taken: never a lost value.

    def save(
        self,
        id_: ID,
        value: bytes,
        metadata: Mapping[str, str],
        *,
        plugin: str = KEYCHAIN_PLUGIN,
        expected_version: str | None = None,
    ) -> Saved:
        """Create or replace a secret in a writable plugin (only if it is
        ``expected_version``, when given)."""
        return self._write(
            lambda engine: engine.save(
                id_, value, metadata, plugin=plugin, expected_version=expected_version
            )
        )

    def remove(
        self,
        ids: Sequence[ID],
        *,
        plugin: str = KEYCHAIN_PLUGIN,
        purge_versions: bool = False,
        expected_versions: Mapping[ID, str] | None = None,
    ) -> Removal:
        """Remove secrets from a plugin that can delete (each only if it is still the
        version expected, where one is)."""
        return self._write(
            lambda engine: engine.remove(
                ids,
                plugin=plugin,
                purge_versions=purge_versions,
                expected_versions=expected_versions,
            )
        )

    def undelete(self, ids: Sequence[ID], *, plugin: str) -> Removal:
        """Restore the latest version of secrets whose latest version was deleted."""
        return self._write(lambda engine: engine.undelete(ids, plugin=plugin))

    def move(
        self, old: ID, new: ID, *, plugin: str, to_plugin: str | None = None, replace: bool = False
    ) -> Moved:
        """Rename a secret, maybe into another plugin (:mod:`docker_pass.core.moves`)."""
        return self._write(
            lambda engine: engine.move(
                old, new, plugin=plugin, to_plugin=to_plugin, replace=replace
            )
        )

    def move_realm(
        self, old: ID, new: ID, *, plugin: str, to_plugin: str | None = None, replace: bool = False
    ) -> RealmMoved:
        """Move every secret under a realm (:mod:`docker_pass.core.moves`)."""
        return self._write(
            lambda engine: engine.move_realm(
                old, new, plugin=plugin, to_plugin=to_plugin, replace=replace
            )
        )

    def close(self) -> None:
        """Close the connection, and the embedded engines if any were needed."""
        self.client.close()
        for engine in (self._embedded, self._local):
            if engine is not None:
                engine.close()

    def __enter__(self) -> DaemonOrEmbedded:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, work: Callable[[Engine | DaemonClient], T]) -> T:
        """A write through the daemon; an engine too old to serve writes (``unimplemented``)
        leaves them to an embedded engine (the stores are shared, so its reads see them)."""
        if self._old_daemon:
            return work(self._writer())
        from docker_pass.core.remote.client import DaemonError
        from docker_pass.core.remote.wire import UNIMPLEMENTED

        try:
            return self._call(work)
        except DaemonError as exc:
            if exc.code != UNIMPLEMENTED:
                raise
            self._old_daemon = True
        return work(self._writer())

    def _writer(self) -> Engine:
        if self._embedded is not None:
            return self._embedded
        with self._switch:
            if self._local is None:
                from docker_pass.core.engine import Engine

                self._local = Engine()
            return self._local

    def _call(self, work: Callable[[Engine | DaemonClient], T]) -> T:
        if self._embedded is None:
            from docker_pass.core.remote.client import DaemonUnavailableError

            try:
                return work(self.client)
            except DaemonUnavailableError as exc:
                self._fall_back(f"the engine daemon went away ({exc})")
        assert self._embedded is not None  # noqa: S101 - set by _fall_back
        return work(self._embedded)

    def _fall_back(self, reason: str) -> None:
        from docker_pass.core.engine import Engine

        with self._switch:
            if self._embedded is not None:
                return  # another thread switched first
            if self._on_fallback is not None:
                self._on_fallback(reason)
            self._embedded = Engine()
