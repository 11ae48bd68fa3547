"""Who is at the other end of a connection, and the one rule for serving them.

Every socket the daemon listens on (the engine's path and abstract sockets, the Docker proxy's)
serves only processes of the same user, or root, as the kernel reports them (SO_PEERCRED):
:func:`accepted_peer` is that check, for all of them.  The abstract namespace has no file
modes, so for it the check is the only guard.  A request's handler learns who is asking from
:func:`request_peer`.
"""

from __future__ import annotations

import contextvars
import logging
from typing import TYPE_CHECKING, Any

from docker_pass.core.remote.endpoint import PeerCredentials, peer_credentials
from docker_pass.daemon.hijack import SWITCHED, is_hijack, refused, take_over
from docker_pass.daemon.limits import CorkedTransport, GuardedH11Protocol, LimitedConfig

if TYPE_CHECKING:
    import asyncio
    import socket
    from collections.abc import Mapping

    import h11
    import uvicorn

log = logging.getLogger("docker_pass.engine")

#: Where a connection's :class:`PeerCredentials` rides in each request's ASGI ``state``.
PEER_STATE_KEY = "docker_pass.peer"

#: The peer of the connection the current request came on.
_REQUEST_PEER: contextvars.ContextVar[PeerCredentials | None] = contextvars.ContextVar(
    "docker_pass_peer", default=None
)


def accepted_peer(sock: socket.socket, logger: logging.Logger = log) -> PeerCredentials | None:
    """The peer of a connection just accepted on ``sock``, if it may be served (the same user
    or root); ``None``, said in ``logger``'s log, if it may not or cannot be told."""
    try:
        peer = peer_credentials(sock)
    except OSError as exc:
        logger.warning("refused a connection: cannot read its credentials (%s)", exc.strerror)
        return None
    if not peer.trusted():
        logger.warning("refused a connection from pid %d (uid %d)", peer.pid, peer.uid)
        return None
    return peer


def request_peer() -> PeerCredentials | None:
    """The peer of the connection the request being handled came on (``None`` outside one)."""
    return _REQUEST_PEER.get()


def set_request_peer(scope: Mapping[str, Any]) -> None:
    """Make the peer that :class:`PeerCheckedH11Protocol` put in a request's ASGI ``state``
    the one :func:`request_peer` answers, for the rest of this request's task."""
    state = scope.get("state")
    peer = state.get(PEER_STATE_KEY) if isinstance(state, dict) else None
    _REQUEST_PEER.set(peer if isinstance(peer, PeerCredentials) else None)


class PeerCheckedH11Protocol(GuardedH11Protocol):
    """uvicorn's HTTP/1.1 protocol with the daemon's limits, serving only peers of the same
    user (or root), and handing connections that plugins hijack to the config's acceptor.

    uvicorn asks ``_should_upgrade`` of every request head and calls
    ``handle_websocket_upgrade`` for one it takes: those are the seam (a hijack is the only
    upgrade taken; any other goes on as uvicorn answers it today).
    """

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._hijack = config.hijack if isinstance(config, LimitedConfig) else None

    def _should_upgrade(self) -> bool:
        if self._hijack is not None and self._is_hijack():
            return True
        return bool(super()._should_upgrade())

    def _is_hijack(self) -> bool:
        scope = self.scope
        return is_hijack(scope["method"].encode(), scope["raw_path"], self.headers)

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        acceptor = self._hijack
        if acceptor is None or not self._is_hijack():
            super().handle_websocket_upgrade(event)
            return
        # No longer an HTTP connection: it leaves uvicorn's count (and its shutdown) and the
        # idle rule; the external plugin host bounds and ends it from now on.
        self.connections.discard(self)
        self.stop_idle_timer()
        transport = self.transport
        raw = transport.raw if isinstance(transport, CorkedTransport) else transport
        why_not = acceptor.refusal()
        if why_not is not None:
            log.warning("refused a plugin connection: %s", why_not)
            raw.write(refused(why_not))
            raw.close()
            return
        pending, at_eof = self.conn.trailing_data
        raw.write(SWITCHED)
        reader, writer = take_over(raw, pending, at_eof)
        acceptor.accept_hijacked(reader, writer, self.app_state.get(PEER_STATE_KEY))

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if transport.is_closing():
            return  # refused already: past the connection limit
        peer = accepted_peer(transport.get_extra_info("socket"))
        if peer is None:
            transport.abort()
            return
        # Every request's scope copies this state: the handlers learn who is asking.
        self.app_state = {**self.app_state, PEER_STATE_KEY: peer}
