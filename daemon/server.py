"""``engine run``: one warm engine per user, served with Connect over Unix sockets.

The rooms it puts together:

- :mod:`.sockets`: the engine lock (one engine per user), the socket directory, the path and
  abstract sockets; :mod:`.peers`: the one peer check every connection passes;
- :mod:`.engine_host`: the warm engine, rebuilt when the config changes behind its back, and
  the engine threads that run its calls (:mod:`.engine_calls`);
- :mod:`.services` and :mod:`.app`: the Connect services and the ASGI application routing to
  them; uvicorn speaks HTTP/1.1 on the sockets;
- :mod:`.feed` and :mod:`.feed_watch`: the change feed and the watchers that feed it;
- :mod:`.limits`: deadlines, idle connections, the connection limit, running out of
  descriptors, so the daemon is never wedged: ``GetVersion`` and SIGTERM are always answered;
- :mod:`.docker`: the Docker API proxy, on a socket of its own, on the same event loop.

Plugins are warm before any socket appears.  Nothing here logs or returns a secret value:
requests are logged by method and pattern, errors by their docker-pass message or, for
anything else, by exception type.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from contextlib import ExitStack, closing, contextmanager, suppress
from typing import TYPE_CHECKING

import uvicorn

from docker_pass.core.remote.endpoint import abstract_socket_name, lock_path
from docker_pass.core.remote.wire import ENGINE_VERSION
from docker_pass.daemon.app import EngineApplication
from docker_pass.daemon.changes import ChangeWatch
from docker_pass.daemon.engine_host import DEFAULT_REFRESH_INTERVAL, EngineHost, WarmEngine
from docker_pass.daemon.external.host import external_host
from docker_pass.daemon.external.supervisor import Launcher, launcher_for
from docker_pass.daemon.feed_watch import FeedWatchers
from docker_pass.daemon.limits import (
    ConnectionGuard,
    LimitedConfig,
    ServerLimits,
    connection_limits,
    quiet_exhaustion,
)
from docker_pass.daemon.peers import PeerCheckedH11Protocol
from docker_pass.daemon.sockets import (
    BACKLOG,
    EngineLock,
    PathSocket,
    bind_abstract_socket,
    clear_stale_socket,
    prepare_directory,
)

if TYPE_CHECKING:
    import socket
    from collections.abc import Callable, Iterator

    from docker_pass.core.engine import Engine
    from docker_pass.core.remote.endpoint import SocketLocation
    from docker_pass.core.results import PluginStatus
    from docker_pass.daemon.docker.wiring import DockerProxySettings
    from docker_pass.daemon.feed import ChangeFeed

__all__ = ["DEFAULT_REFRESH_INTERVAL", "run_engine"]

log = logging.getLogger("docker_pass.engine")

#: Seconds in-flight requests get to finish after SIGTERM.
GRACEFUL_SHUTDOWN = 5


def run_engine(
    location: SocketLocation,
    *,
    refresh_interval: float = DEFAULT_REFRESH_INTERVAL,
    factory: Callable[[], Engine] = WarmEngine,
    on_ready: Callable[[list[PluginStatus]], None] | None = None,
    limits: ServerLimits | None = None,
    docker: DockerProxySettings | None = None,
) -> None:
    """Run the engine in the foreground until SIGTERM or SIGINT.

    ``limits``: deadlines and connection limits (:class:`ServerLimits`' defaults if None).
    ``docker``: where the Docker API proxy listens and which engine it forwards to (no proxy
    if None).
    Raises :class:`~.sockets.EngineAlreadyRunningError` if this user's engine runs already.
    """
    from docker_pass.core.hardening import make_non_dumpable

    make_non_dumpable()  # before any plugin starts: no value in a core dump, none via ptrace
    limits = limits or ServerLimits()
    lock = EngineLock(lock_path())
    lock.acquire()
    host: EngineHost | None = None
    stopped = True
    try:
        with ExitStack() as listening:  # every socket closed (and its file removed) on the way out
            lock.record(socket=str(location.path))
            prepare_directory(location.path.parent)
            clear_stale_socket(location.path)
            host = EngineHost(factory)
            statuses = host.start()  # plugins warm before any client can connect
            sockets = [listening.enter_context(PathSocket(location.path)).sock]
            abstract = _listen_abstract(lock)
            if abstract is not None:
                sockets.append(listening.enter_context(abstract[0]))
            proxy = _listen_proxy(docker, location, lock, listening)
            engine_max, proxy_max = connection_limits(limits, docker_proxy=proxy is not None)
            watch = listening.enter_context(closing(ChangeWatch()))
            app = EngineApplication(host, limits, watch)
            host.run_now(app.routes.prepare)  # the first burst's routes are kept at once
            host.fill_warm_soon()  # and answered on the loop, from values read meanwhile
            # Start-up's objects (modules, the engine, its plugins) live as long as the daemon:
            # a full collection during a burst need not walk them again.
            gc.freeze()
            launcher = launcher_for(external_host(host, statuses))
            server = _make_server(app, host, launcher, limits, engine_max)
            log.info(
                "engine %s (pid %d) listening on %s (%s)%s",
                ENGINE_VERSION,
                os.getpid(),
                location.path,
                location.source,
                f" and {abstract[1]}" if abstract is not None else "",
            )
            if on_ready is not None:
                on_ready(statuses)
            with _ignoring_exit_signals():
                proxied = (proxy, proxy_max)
                asyncio.run(_serve(server, sockets, refresh_interval, limits, proxied, app.feed))
            log.info("engine stopped after %d request(s)", sum(app.requests.values()))
    finally:
        if host is not None:
            stopped = host.close()
        lock.release()
    if not stopped:
        _exit_leaving_plugin_threads()


async def _serve(
    server: EngineServer,
    sockets: list[socket.socket],
    refresh_interval: float,
    limits: ServerLimits,
    docker: tuple[tuple[DockerProxySettings, PathSocket] | None, int],
    feed: ChangeFeed,
) -> None:
    """The daemon's event loop: the launched plugins (up before the first client is
    served), the engine API, the plugin refresher, the watchers that feed the change feed
    (``feed``) and the Docker proxy (``docker``: its settings and socket, if it runs, and
    its connection limit)."""
    asyncio.get_running_loop().set_exception_handler(quiet_exhaustion)
    host = server.host
    await server.launcher.start()
    refresher = asyncio.create_task(host.refresh_forever(refresh_interval))
    watchers = asyncio.create_task(FeedWatchers(host, feed).run_forever())
    running = None
    proxy, proxy_max = docker
    if proxy is not None:
        from docker_pass.daemon.docker import wiring

        running = await wiring.serve(*proxy, host.call, limits, proxy_max)
    try:
        await server.serve(sockets=sockets)
    finally:
        refresher.cancel()
        watchers.cancel()
        if running is not None:
            running[0].close()
            running[1].close_connections()


def _listen_abstract(lock: EngineLock) -> tuple[socket.socket, str] | None:
    """The abstract socket (unless turned off or taken) and its name, recorded in the lock
    for ``engine status``."""
    name = abstract_socket_name()
    sock = bind_abstract_socket(name) if name is not None else None
    if sock is None or name is None:
        return None
    lock.record(abstract_socket=name)
    return sock, name


def _listen_proxy(
    docker: DockerProxySettings | None,
    location: SocketLocation,
    lock: EngineLock,
    listening: ExitStack,
) -> tuple[DockerProxySettings, PathSocket] | None:
    """The Docker proxy's settings and listening socket (``None`` without a proxy)."""
    if docker is None:
        return None
    from docker_pass.daemon.docker import wiring

    return docker, listening.enter_context(wiring.listen(docker, location.path, lock))


class EngineServer(uvicorn.Server):
    """uvicorn's server that, told to stop, first answers the requests waiting for the engine
    (``unavailable``): a hung plugin must not hold ``engine stop`` up; then, once the
    requests are done, tells the external plugins (``Shutdown``) and closes their
    connections."""

    def __init__(
        self,
        config: uvicorn.Config,
        host: EngineHost,
        launcher: Launcher,
        feed: ChangeFeed | None = None,
    ) -> None:
        super().__init__(config)
        self.host = host
        self.launcher = launcher
        self.feed = feed

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.host.stop_waiting()
        if self.feed is not None:
            self.feed.close()  # the change feed's streams end now, not at the grace period's
        await super().shutdown(sockets)
        await self.launcher.stop()


def _make_server(
    app: EngineApplication,
    host: EngineHost,
    launcher: Launcher,
    limits: ServerLimits,
    max_connections: int,
) -> EngineServer:
    """uvicorn on our sockets, with the daemon's limits and peer checks; plugins that hijack
    a connection go to ``plugins``."""
    guard = ConnectionGuard(limits, max_connections=max_connections)
    config = LimitedConfig(
        app,
        guard=guard,
        hijack=launcher.host,
        http=PeerCheckedH11Protocol,
        lifespan="off",
        access_log=False,
        log_config=None,
        backlog=BACKLOG,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
        server_header=False,
        date_header=False,
    )
    log.debug(
        "requests time out after %g s unless the client sets a deadline; idle connections "
        "close after %g s; at most %d connections",
        limits.request_timeout,
        limits.idle_timeout,
        guard.max_connections,
    )
    return EngineServer(config, host, launcher, app.feed)


@contextmanager
def _ignoring_exit_signals() -> Iterator[None]:
    """Handlers uvicorn restores and re-raises into after its graceful shutdown.

    uvicorn re-raises the signal that stopped it once it has shut down; with the default
    handlers that would kill the process before the socket is removed and plugins stopped.
    """

    def note(signum: int, _frame: object) -> None:
        log.debug("signal %d after shutdown", signum)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _exit_leaving_plugin_threads() -> None:
    """End the process now, once everything it owns is cleaned up.

    A plugin still in a call that never returns was not stopped (not under that call), and
    its thread is inside the plugin's code: the interpreter's finalisation would tear modules
    down under it (or, for a thread Python joins at exit, wait for it forever).
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    os._exit(0)
