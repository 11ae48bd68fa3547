"""How the engine daemon runs the Docker proxy: where it listens, what it forwards to.

``engine run`` binds the proxy's socket next to its own before serving (:func:`listen`, 0600
in a 0700 directory, recorded in the engine lock for ``engine status``), then serves it on the
daemon's event loop (:func:`serve`).  h11 and the proxy itself are imported only then.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from docker_pass.daemon.limits import PacedListener
from docker_pass.daemon.sockets import BACKLOG, PathSocket, clear_stale_socket, prepare_directory

if TYPE_CHECKING:
    from pathlib import Path

    from docker_pass.core.docker.endpoint import DockerHost
    from docker_pass.daemon.docker.proxy import DockerProxy
    from docker_pass.daemon.docker.rewrite import EngineCall
    from docker_pass.daemon.limits import ServerLimits
    from docker_pass.daemon.sockets import EngineLock

log = logging.getLogger("docker_pass.engine")


class DockerProxySettings:
    """Where the Docker API proxy listens (``socket``), the engine it forwards to, and whether
    a variable sent empty takes the secret named like it (``empty_lookup``: on or off, and what
    said so)."""

    def __init__(
        self,
        socket_path: Path,
        upstream: DockerHost,
        *,
        empty_lookup: tuple[bool, str] = (True, "default"),
    ) -> None:
        self.socket = socket_path
        self.upstream = upstream
        self.empty_lookup = empty_lookup

    def __repr__(self) -> str:
        return f"DockerProxySettings({str(self.socket)!r}, {self.upstream!r})"


def listen(docker: DockerProxySettings, engine_socket: Path, lock: EngineLock) -> PathSocket:
    """The Docker proxy's listening socket, recorded in ``lock`` for ``engine status``.

    Its directory is prepared unless it is the engine socket's, which is ready already.
    """
    if docker.socket.parent != engine_socket.parent:
        prepare_directory(docker.socket.parent)
    clear_stale_socket(docker.socket)
    listener = PathSocket(docker.socket)
    lock.record(
        docker_socket=str(docker.socket),
        docker_upstream=docker.upstream.url,
        docker_upstream_source=docker.upstream.source,
        empty_env_lookup=docker.empty_lookup[0],
        empty_env_lookup_source=docker.empty_lookup[1],
    )
    log.info(
        "docker proxy listening on %s, forwarding to %s (%s)",
        docker.socket,
        docker.upstream.url,
        docker.upstream.source,
    )
    return listener


async def serve(
    docker: DockerProxySettings,
    listener: PathSocket,
    engine_call: EngineCall,
    limits: ServerLimits,
    max_connections: int,
) -> tuple[asyncio.Server, DockerProxy]:
    """Serve the Docker API proxy on ``listener``; the server and the proxy, to close both
    (the proxy's :meth:`~DockerProxy.close_connections` ends hijacked sessions too).

    ``limits``: the daemon's (the request timeout bounds resolving, the idle timeout idle
    connections); ``max_connections``: the proxy's share of the descriptors
    (:func:`~docker_pass.daemon.limits.connection_limits`).
    """
    from docker_pass.daemon.docker.proxy import DockerProxy, busy_answer
    from docker_pass.daemon.docker.relay import Upstream

    proxy = DockerProxy(
        Upstream(docker.upstream),
        engine_call,
        resolve_timeout=limits.request_timeout,
        empty_lookup=docker.empty_lookup[0],
        limits=limits,
        max_connections=max_connections,
    )
    # Connections past the limit are refused as they are accepted (no burst of them holds
    # descriptors the engine socket needs).
    if isinstance(listener.sock, PacedListener):
        listener.sock.refuse_past(proxy.guard, busy_answer(proxy.guard.max_connections))
        proxy.counted_on_accept = True
    server = await asyncio.start_unix_server(proxy.handle, sock=listener.sock, backlog=BACKLOG)
    return server, proxy
