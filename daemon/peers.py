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
from docker_pass.daemon.limits import GuardedH11Protocol

if TYPE_CHECKING:
    import asyncio
    import socket
    from collections.abc import Mapping

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
    user (or root)."""

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
