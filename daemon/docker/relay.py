"""HTTP/1.1 relaying for the Docker proxy: the two ends of a connection, and passing bytes on.

HTTP/1.1 is parsed with h11, one state machine for each side (:class:`Side`).  We pass on the
exact bytes h11 consumed for each event (its ``trailing_data`` is what it has not), so chunked
streams (``logs -f``, ``events``, pulls and builds) flow as they arrive; h11 is told about
events whose bytes went on raw (:func:`mirror`), so its state follows the conversation.  When
the engine switches protocols or answers with a body that lasts until the connection closes,
both directions are spliced raw (:func:`splice`).  Whatever the proxy answers itself goes out
as the engine words errors (:func:`answer`).
"""

from __future__ import annotations

import asyncio
import json
import ssl
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import h11

if TYPE_CHECKING:
    from docker_pass.core.docker.endpoint import DockerHost

READ_SIZE = 256 * 1024
#: Largest request or response head (Docker's are a few hundred bytes).
MAX_HEAD = 256 * 1024
#: Largest body the proxy reads whole to rewrite (a create's config, an inspect answer).
MAX_REWRITE_BODY = 32 * 1024 * 1024


class Refusal(Exception):
    """A request the proxy answers itself: ``status`` and a one-line ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BodyTooLargeError(ConnectionResetError):
    """A body too large to rewrite (the connection is closed)."""


class Upstream:
    """How to reach the real engine."""

    def __init__(self, host: DockerHost) -> None:
        self.host = host
        self._ssl: ssl.SSLContext | None = None
        if host.tls_dir:
            context = ssl.create_default_context(cafile=f"{host.tls_dir}/ca.pem")
            context.load_cert_chain(f"{host.tls_dir}/cert.pem", f"{host.tls_dir}/key.pem")
            self._ssl = context

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A new connection to the engine; :class:`Refusal` (502) naming it if it cannot."""
        try:
            if self.host.scheme == "unix":
                return await asyncio.open_unix_connection(self.host.path, limit=READ_SIZE)
            return await asyncio.open_connection(
                self.host.host, self.host.port, ssl=self._ssl, limit=READ_SIZE
            )
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise Refusal(
                502, f"docker-pass: cannot reach the Docker engine at {self.host.url}: {reason}"
            ) from None


class Side:
    """One end of a proxied connection: its stream, its HTTP/1.1 state machine, and the bytes
    received from it that have not been passed on yet."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: h11.Connection
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.conn = conn
        self.pending = bytearray()

    @classmethod
    def client(cls, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Side:
        """The side of a client that connected to the proxy."""
        return cls(reader, writer, h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD))

    @classmethod
    async def engine(cls, upstream: Upstream) -> Side:
        """A new connection to the engine (:class:`Refusal` if it cannot be made)."""
        reader, writer = await upstream.open()
        return cls(reader, writer, h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD))

    async def next_event(self, forward_to: Side | None = None) -> Any:
        """The next event; ``forward_to``: pass on what h11 has consumed to that side before
        waiting for more (a chunk's closing CRLF goes on with it, not with the next chunk)."""
        while True:
            event = self.conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            if forward_to is not None:
                await forward_to.send(self.consumed())
            data = await self.reader.read(READ_SIZE)
            self.conn.receive_data(data)
            self.pending += data

    def consumed(self) -> bytes:
        """The bytes h11 has turned into events since the last call."""
        left = len(self.conn.trailing_data[0])
        count = len(self.pending) - left
        out = bytes(self.pending[:count])
        del self.pending[:count]
        return out

    async def send(self, data: bytes) -> None:
        """Write ``data`` to this side (nothing for nothing)."""
        if data:
            self.writer.write(data)
            await self.writer.drain()

    def done(self) -> bool:
        """Whether both directions of this side's exchange have finished."""
        return self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE

    def close(self) -> None:
        """Close this side's connection (errors closing it do not matter)."""
        with suppress(Exception):
            self.writer.close()


def path_of(target: bytes) -> str:
    """A request target's path, without its query."""
    return target.split(b"?", 1)[0].decode("latin-1")


def headers_without_framing(headers: Any, length: int) -> list[tuple[bytes, bytes]]:
    """``headers`` for a body of ``length`` bytes sent whole (no chunking)."""
    kept = [(n, v) for n, v in headers if n not in (b"content-length", b"transfer-encoding")]
    return [*kept, (b"content-length", str(length).encode())]


def framed(request: h11.Request, response: h11.Response) -> bool:
    """Whether a response's body ends before the connection does."""
    if request.method == b"HEAD" or response.status_code in (204, 304):
        return True
    names = {name for name, _ in response.headers}
    return b"content-length" in names or b"transfer-encoding" in names


def mirror(conn: h11.Connection, event: Any) -> bool:
    """Tell ``conn`` about an event whose bytes were passed on raw; whether it could follow."""
    try:
        conn.send(event)
    except h11.LocalProtocolError:
        return False
    return True


async def read_body(side: Side) -> bytes:
    """The rest of a message's body, whole (at most :data:`MAX_REWRITE_BODY` bytes)."""
    parts = []
    size = 0
    while True:
        event = await side.next_event()
        if isinstance(event, h11.Data):
            size += len(event.data)
            if size > MAX_REWRITE_BODY:
                raise BodyTooLargeError("body too large to rewrite")
            parts.append(event.data)
        elif isinstance(event, h11.EndOfMessage):
            return b"".join(parts)
        else:
            raise ConnectionResetError("connection closed mid-body")


async def drain_request(client: Side) -> None:
    """Read and drop the rest of a request the proxy answers itself."""
    with suppress(Exception):
        await read_body(client)


async def pump_body(client: Side, upstream: Side) -> None:
    """The rest of a request, passed on as it arrives."""
    while True:
        event = await client.next_event(forward_to=upstream)
        await upstream.send(client.consumed())
        if isinstance(event, h11.Data | h11.EndOfMessage):
            upstream.conn.send(event)
        if not isinstance(event, h11.Data):
            return


async def splice(client: Side, upstream: Side, request_body: asyncio.Task[None] | None) -> None:
    """Both directions raw until the engine's side ends (a hijacked connection), with
    half-close, so piped stdin ending still lets the output finish; first the rest of the
    request's body, if it is still being passed on (``request_body``: :func:`pump_body`)."""
    if request_body is not None:
        await request_body
    await upstream.send(bytes(client.pending))
    await client.send(bytes(upstream.pending))
    client.pending.clear()
    upstream.pending.clear()

    async def copy(src: Side, dst: Side) -> None:
        while data := await src.reader.read(READ_SIZE):
            dst.writer.write(data)
            await dst.writer.drain()
        if dst.writer.can_write_eof():
            with suppress(OSError):
                dst.writer.write_eof()  # stdin ended: the output goes on

    up = asyncio.create_task(copy(client, upstream))
    try:
        await copy(upstream, client)
    finally:
        await cancel(up)


async def cancel(task: asyncio.Task[None]) -> None:
    """Stop ``task`` if it still runs, and wait for it to end, however it ends."""
    if not task.done():
        task.cancel()
    with suppress(BaseException):
        await task


async def respond(
    client: Side,
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    reason: bytes = b"",
) -> None:
    """Send the client a whole answer of our own making."""
    data = client.conn.send(h11.Response(status_code=status, headers=headers, reason=reason)) or b""
    data += client.conn.send(h11.Data(data=body)) or b""
    data += client.conn.send(h11.EndOfMessage()) or b""
    await client.send(data)


async def answer(client: Side, refusal: Refusal, *, close: bool = False) -> None:
    """Answer the client ourselves, the way the engine words errors (``{"message": …}``)."""
    body = (json.dumps({"message": refusal.message}) + "\n").encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await respond(client, refusal.status, headers, body)
