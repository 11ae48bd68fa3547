"""The daemon's host of external plugins: each plugin's connection, from its first yamux frame
to its registry entry, and how it ends.

A connection comes two ways, and both end up in :meth:`ExternalHost.serve_connection`:

- *manual launch*: the plugin dialled the engine's socket and hijacked it (:mod:`..hijack`),
  and :meth:`ExternalHost.accept_hijacked` takes it; its entry is the connection's own, gone
  with it;
- *engine launch*: the daemon started it with a socketpair (:mod:`.launcher`), and passes
  its supervisor as ``launched``; the entry is the supervisor's and outlives the process.

On the connection the engine is the yamux server (:mod:`.yamux`).  The plugin must register
(:mod:`.registration`) within :attr:`HostSettings.registration_timeout` seconds (the SDK's own
default), once; until the answer is on its way, the engine calls nothing of it.  A refusal is
answered with the Connect error the SDK prints, then the session is closed.  Once registered,
the plugin is an :class:`~.plugin.ExternalPlugin` in the registry, which every engine
generation follows (:class:`~docker_pass.core.external.ExternalPlugins`).

Bounds: at most :attr:`HostSettings.max_plugins` connections at once (a hijack past it is
refused), each with yamux's own limits (:data:`SESSION`); a plugin's calls have the engine's
deadlines.  Nothing here logs a secret value: plugins are named, patterns and codes shown.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from protobuf.wkt import Duration

from docker_pass.core.external import ExternalEntry
from docker_pass.core.names import PROGRAM
from docker_pass.core.remote.wire import ENGINE_VERSION
from docker_pass.daemon.external.client import SHUTDOWN, CallFailedError, PluginClient
from docker_pass.daemon.external.plugin import ExternalPlugin
from docker_pass.daemon.external.registration import protocol_factory, refusal, validate
from docker_pass.daemon.external.yamux import Session, SessionConfig, serve
from docker_pass.daemon.gen.plugins.v1 import api_pb as plugins_pb

if TYPE_CHECKING:
    from collections.abc import Iterable

    from docker_pass.core.external import ExternalPlugins
    from docker_pass.core.remote.endpoint import PeerCredentials
    from docker_pass.core.results import PluginStatus
    from docker_pass.daemon.engine_host import EngineHost
    from docker_pass.daemon.external.registration import Registered
    from docker_pass.daemon.external.yamux import Stream

log = logging.getLogger("docker_pass.engine")

#: External plugins connected at once, at most (hijacked and launched together; config
#: ``engine.max_external_plugins``).
DEFAULT_MAX_PLUGINS = 64
#: Seconds a plugin has to register (``api.DefaultPluginRegistrationTimeout``).
REGISTRATION_TIMEOUT = 5.0
#: Seconds a plugin has to answer Shutdown, and then to close its connection.
SHUTDOWN_TIMEOUT = 2.0
#: Seconds a refusal's answer gets to reach the plugin before the session closes.
_REFUSAL_FLUSH = 1.0
#: yamux limits of a plugin connection: a plugin opens a stream for its registration only,
#: the engine one per call (as many at once as calls run: not acknowledged yet, at most what
#: a plugin with hashicorp/yamux's default backlog takes without resetting any).
SESSION = SessionConfig(accept_backlog=16, open_backlog=256, max_streams=256)


@dataclass(frozen=True, slots=True)
class HostSettings:
    """The host's limits, and the deadline every call into a plugin gets (``deadline``: the
    engine's plugin deadline, sent to the plugin at registration as its request timeout)."""

    max_plugins: int = DEFAULT_MAX_PLUGINS
    registration_timeout: float = REGISTRATION_TIMEOUT
    shutdown_timeout: float = SHUTDOWN_TIMEOUT
    deadline: float = 25.0


class RegistrationFailedError(Exception):
    """Raised by :attr:`PluginConnection.registered` when the plugin did not register: the
    message says why (refused, too late, gone); ``left``: it closed the connection first
    (then how its process ended says more)."""

    def __init__(self, message: str, *, left: bool = False) -> None:
        super().__init__(message)
        self.left = left


class Owner(Protocol):
    """Whose registry entry a plugin connection fills: the connection's own (manual launch)
    or a launched plugin's supervisor."""

    #: The name the engine launched the plugin as (``None``: it dialled in).
    launched_as: str | None
    #: How the plugin came, for ``plugins ls`` (its storage column).
    origin: str

    def claim(self, registered: Registered) -> None:
        """Take ``registered.name`` for this connection, or raise a ``ConnectError``."""
        ...

    def connected(self, plugin: ExternalPlugin) -> None:
        """The plugin's registration was answered: it serves from now on (called in a
        thread: it records the run state)."""
        ...

    def disconnected(self, plugin: ExternalPlugin | None) -> None:
        """The connection ended (``plugin``: ``None`` if it never registered); in a thread."""
        ...


class ExternalHost:
    """Every external plugin connection of the daemon, and its registry (``registry``).

    ``reserved``: names no external plugin may take (the engine's own plugins).
    """

    def __init__(
        self,
        registry: ExternalPlugins,
        reserved: frozenset[str],
        settings: HostSettings | None = None,
    ) -> None:
        self.registry = registry
        self.reserved = reserved
        self.settings = settings or HostSettings()
        self._connections: set[PluginConnection] = set()
        self._closing = False

    @property
    def connections(self) -> int:
        """Plugin connections open now."""
        return len(self._connections)

    # -- the seams: a hijacked connection, a launched plugin's socketpair ---------------------

    def refusal(self) -> str | None:
        """Why a new plugin connection is refused now (``None``: it is taken)."""
        if self._closing:
            return "the engine is stopping"
        limit = self.settings.max_plugins
        if len(self._connections) >= limit:
            return f"too many external plugins (the limit is {limit})"
        return None

    def accept_hijacked(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        peer: PeerCredentials | None,
    ) -> None:
        """Serve a plugin that hijacked its connection to the engine's socket."""
        self.serve_connection(reader, writer, peer=peer)

    def serve_connection(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        launched: Owner | None = None,
        peer: PeerCredentials | None = None,
    ) -> PluginConnection:
        """Serve a plugin on a connection: ``launched``, the supervisor of a plugin the
        engine launched; else the plugin dialled in (``peer``: its process, as the kernel
        reported it).  Returns at once; the connection's
        :attr:`~PluginConnection.registered` and :meth:`~PluginConnection.wait_closed`
        tell how it goes."""
        owner = launched
        if owner is None:
            pid = f"pid {peer.pid}" if peer is not None else "an unknown process"
            owner = _ManualOwner(self, pid)
        connection = PluginConnection(self, reader, writer, owner)
        self._connections.add(connection)
        connection.start()
        return connection

    async def shutdown(self) -> None:
        """The engine is stopping: every plugin is told (Shutdown) and its connection closed;
        no new one is taken."""
        self._closing = True
        await asyncio.gather(*(c.shutdown() for c in list(self._connections)))

    def _forget(self, connection: PluginConnection) -> None:
        self._connections.discard(connection)


class PluginConnection:
    """One plugin's connection: its yamux session, its registration, its end."""

    def __init__(
        self,
        host: ExternalHost,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        owner: Owner,
    ) -> None:
        self._host = host
        self._owner = owner
        self.session = Session.server(reader, writer, SESSION)
        self.client = PluginClient(self.session)
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._asked = False
        self._pending: Registered | None = None
        self._refused: ConnectError | None = None
        self._answer_stream: Stream | None = None
        self._answered: asyncio.Future[Registered] = loop.create_future()
        #: The plugin once its registration is answered; why not otherwise.
        self.registered: asyncio.Future[ExternalPlugin] = loop.create_future()
        self.registered.add_done_callback(_seen)
        self.plugin: ExternalPlugin | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin serving (once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="external plugin connection")

    async def wait_closed(self) -> None:
        """Wait until the connection is over and its owner has been told."""
        if self._task is not None:
            await asyncio.shield(self._task)

    # -- the registration (on the plugin's own stream) -------------------------------------

    async def register(
        self, request: plugins_pb.RegisterPluginRequest
    ) -> plugins_pb.RegisterPluginResponse:
        """Check and record the registration (one per connection)."""
        if self._asked or self._answered.done():
            raise refusal(Code.FAILED_PRECONDITION, "this connection has registered already")
        self._asked = True
        try:
            registered = validate(request, self._owner.launched_as)
            self._owner.claim(registered)
        except ConnectError as exc:
            self._refused = exc
            log.warning("refused a plugin's registration (%s): %s", self._owner.origin, exc)
            raise
        self._pending = registered
        return plugins_pb.RegisterPluginResponse(
            engine_name=PROGRAM,
            engine_version=ENGINE_VERSION,
            request_timeout=Duration(seconds=int(self._host.settings.deadline)),
        )

    def answered(self, stream: Stream | None) -> None:
        """The register call's answer was handed to its stream."""
        if self._answered.done():
            return
        self._answer_stream = stream
        if self._pending is not None:
            self._answered.set_result(self._pending)
        else:
            why = str(self._refused) if self._refused is not None else "refused"
            self._answered.set_exception(RegistrationFailedError(why))

    # -- the connection's life -------------------------------------------------------------

    async def _run(self) -> None:
        serving = asyncio.create_task(serve(self.session, protocol_factory(self)))
        closed = asyncio.create_task(self.session.wait_closed())
        plugin: ExternalPlugin | None = None
        try:
            registered = await self._registration(closed)
            if registered is not None:
                plugin = ExternalPlugin(
                    registered,
                    self.client,
                    self._loop,
                    origin=self._owner.origin,
                    deadline=self._host.settings.deadline,
                )
                await asyncio.to_thread(self._owner.connected, plugin)
                self.plugin = plugin
                self.registered.set_result(plugin)
                log.info(
                    "plugin %s %s registered (pattern %s; %s)",
                    plugin.name,
                    plugin.version,
                    plugin.pattern.value,
                    self._owner.origin,
                )
                await closed
                log.info("plugin %s disconnected: %s", plugin.name, _reason(self.session))
        finally:
            if plugin is not None:
                plugin.disconnected = True
            with suppress(Exception):
                await self.session.close()
            serving.cancel()
            closed.cancel()
            self._host._forget(self)
            if not self.registered.done():
                self.registered.set_exception(
                    RegistrationFailedError("the connection closed", left=True)
                )
            await asyncio.to_thread(self._owner.disconnected, plugin)

    async def _registration(self, closed: asyncio.Task[None]) -> Registered | None:
        """The registration, once answered; ``None`` (and the reason in :attr:`registered`)
        when it was refused, came too late, or the plugin left first."""
        timeout = self._host.settings.registration_timeout
        waiting: set[asyncio.Future[Any]] = {self._answered, closed}
        await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if self._answered.done():
            failure = self._answered.exception()
            if failure is None:
                return self._answered.result()
            self.registered.set_exception(failure)
            await self._flush_refusal()
            return None
        self._answered.cancel()
        if closed.done():
            why = "the plugin closed its connection before registering"
        else:
            why = f"the plugin did not register within {timeout:g} s"
            log.warning("closing a plugin connection (%s): %s", self._owner.origin, why)
        self.registered.set_exception(RegistrationFailedError(why, left=closed.done()))
        return None

    async def _flush_refusal(self) -> None:
        """Let a refusal's answer reach the plugin (its stream ends) before the session goes."""
        stream = self._answer_stream
        if stream is not None:
            with suppress(TimeoutError):
                async with asyncio.timeout(_REFUSAL_FLUSH):
                    await stream.wait_closed()

    async def shutdown(self) -> None:
        """Tell the plugin the engine stops (``Shutdown``), give it time to close its side,
        then close the session."""
        timeout = self._host.settings.shutdown_timeout
        if self.plugin is not None and not self.session.is_closed:
            try:
                await self.client.unary(SHUTDOWN, b"", timeout)
            except CallFailedError as exc:
                log.info("plugin %s: Shutdown: %s", self.plugin.name, exc.message)
            else:
                with suppress(TimeoutError):  # the SDK closes its side once it has answered
                    async with asyncio.timeout(timeout):
                        await self.session.wait_closed()
        with suppress(Exception):
            await self.session.close()
        if self._task is not None:
            with suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._task), timeout)


class _ManualOwner:
    """The owner of a connection the plugin made itself: the entry is the connection's, and
    gone with it (``pid``: how its process is named)."""

    launched_as: str | None = None

    def __init__(self, host: ExternalHost, pid: str) -> None:
        self._host = host
        self.origin = f"external, connected by {pid}"
        self._entry: ExternalEntry | None = None

    def claim(self, registered: Registered) -> None:
        entry = ExternalEntry(
            registered.name, version=registered.version, pattern=registered.pattern
        )
        if not self._host.registry.claim(entry, self._host.reserved.__contains__):
            raise refusal(Code.ALREADY_EXISTS, f"plugin {registered.name} is already registered")
        self._entry = entry

    def connected(self, plugin: ExternalPlugin) -> None:
        from docker_pass.core.roster import running
        from docker_pass.core.state import update_run_state

        entry = self._entry
        if entry is None:
            return
        connected = ExternalEntry(
            plugin.name, version=plugin.version, pattern=plugin.pattern, plugin=plugin
        )
        if self._host.registry.replace(entry, connected):
            self._entry = connected
        update_run_state(plugin.name, running)  # after: "running" means it can be called

    def disconnected(self, plugin: ExternalPlugin | None) -> None:
        entry, self._entry = self._entry, None
        if entry is None:
            return
        if self._host.registry.remove(entry) and plugin is not None:
            # A plugin that dialled in is gone once it left; the state file says so, which
            # is also how other clients (the UI polls it) learn it is gone.
            from docker_pass.core.roster import set_state
            from docker_pass.core.state import RunStatus, update_run_state

            update_run_state(plugin.name, lambda s: set_state(s, RunStatus.STOPPED, "disconnected"))


def _reason(session: Session) -> str:
    reason = session.close_reason
    return str(reason) if reason is not None else "closed"


def _seen(future: asyncio.Future[ExternalPlugin]) -> None:
    """Nobody need await :attr:`PluginConnection.registered`: its failure is no news."""
    if not future.cancelled():
        future.exception()


def external_host(engines: EngineHost, statuses: Iterable[PluginStatus]) -> ExternalHost:
    """The daemon's host of external plugins, filling ``engines``' registry: no external
    plugin may take the name of one of the engine's own (``statuses``, and every installed
    plugin), and each call into one has the engine's plugin deadline."""
    from docker_pass.core.config import load_config
    from docker_pass.core.plugin_calls import plugin_timeout
    from docker_pass.core.registry import plugin_specs

    config = load_config()
    engine = config.get("engine")
    limit = engine.get("max_external_plugins") if isinstance(engine, dict) else None
    reserved = frozenset({*plugin_specs(), *(s.name for s in statuses)})
    settings = HostSettings(
        max_plugins=int(limit or DEFAULT_MAX_PLUGINS), deadline=plugin_timeout(config)
    )
    return ExternalHost(engines.external, reserved, settings)
