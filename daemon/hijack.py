"""``GET /hijack``: a plugin built with Docker's SDK turns its connection into a raw stream.

Docker's plugin SDK (``x/ipc/hijack.go``) dials the engine's socket, sends ``GET /hijack``
with ``Connection: upgrade`` and ``Upgrade: tcp``, and waits two seconds for ``101``; from then
on the connection carries yamux, with the engine as the yamux server.  uvicorn's HTTP/1.1
protocol would refuse that upgrade (it knows only WebSocket), so the daemon's protocol
(:class:`~.peers.PeerCheckedH11Protocol`) asks :func:`is_hijack` of each request head first;
for one, it answers ``101`` at once and hands the socket, with the bytes h11 had already
read past the head, to a :class:`HijackAcceptor` (:mod:`.external.host`) as asyncio's own
reader and writer (:func:`take_over`).  The peer check happened when the connection was
accepted, as for every connection.

Anything else (another path or method, a body, no ``Upgrade: tcp``) is an ordinary request and
gets today's answer.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable

    from docker_pass.core.remote.endpoint import PeerCredentials

HIJACK_PATH = b"/hijack"
#: The whole answer that switches the connection (Go's ``http.ReadResponse`` reads it).
SWITCHED = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
#: Bytes the reader of a hijacked connection holds before it stops reading the socket (its
#: one reader, the yamux session, takes 12-byte headers and payloads in chunks).
READ_LIMIT = 256 * 1024


class HijackAcceptor(Protocol):
    """Who takes hijacked connections (the daemon's external plugin host)."""

    def refusal(self) -> str | None:
        """Why no more plugin connections are taken now (``None``: one is welcome)."""
        ...

    def accept_hijacked(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        peer: PeerCredentials | None,
    ) -> None:
        """Serve a plugin on a connection that was just switched (the ``101`` is sent)."""
        ...


def _tokens(value: bytes) -> set[bytes]:
    return {token.strip().lower() for token in value.split(b",")}


def is_hijack(method: bytes, target: bytes, headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether a request head asks to hijack the connection: ``GET /hijack`` (any query),
    ``Connection`` naming ``upgrade`` and ``Upgrade`` naming ``tcp`` (any case, any spacing),
    and no body.  Header names come lower-cased (h11, then uvicorn, lower them)."""
    if method != b"GET" or target.partition(b"?")[0] != HIJACK_PATH:
        return False
    connection: set[bytes] = set()
    upgrade: set[bytes] = set()
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"connection":
            connection |= _tokens(value)
        elif lowered == b"upgrade":
            upgrade |= _tokens(value)
        elif lowered == b"transfer-encoding" or (
            lowered == b"content-length" and value.strip() != b"0"
        ):
            return False  # a body: not what the SDK sends, and not bytes to hand on as yamux
    return b"upgrade" in connection and b"tcp" in upgrade


def refused(message: str) -> bytes:
    """Connect's ``resource_exhausted`` as a whole HTTP/1.1 answer that closes the connection
    (the SDK prints it: ``external plugin rejected: unexpected status 503: …``)."""
    body = json.dumps({"code": "resource_exhausted", "message": message}).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


def take_over(
    transport: asyncio.Transport, pending: bytes, at_eof: bool
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """asyncio's reader and writer on a connection whose HTTP protocol is done with it;
    ``pending``: the bytes it had read past the request head (they come first), ``at_eof``:
    the peer had already closed its side.  Called on the event loop."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=READ_LIMIT, loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport.set_protocol(protocol)
    protocol.connection_made(transport)
    if pending:
        reader.feed_data(pending)
    if at_eof:
        reader.feed_eof()
    if not transport.is_reading():
        transport.resume_reading()  # the HTTP protocol may have paused it
    return reader, asyncio.StreamWriter(transport, protocol, reader, loop)
