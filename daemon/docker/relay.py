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
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import h11

from docker_pass.core.outside import clean_outside

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
        # What a refusal says may carry the engine's text or the client's (a path, a variable
        # name): it reaches the client's terminal and our log only cleaned.
        message = clean_outside(message, 1000)
        super().__init__(message)
        self.status = status
        self.message = message


class BodyTooLargeError(ConnectionResetError):
    """A body too large to rewrite (the connection is closed)."""


class EngineWriteError(ConnectionError):
    """Writing to the engine failed: it has closed its end (raised by :meth:`Side.send`)."""


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
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=READ_SIZE, loop=loop)
        protocol = EngineProtocol(reader, loop)
        try:
            if self.host.scheme == "unix":
                transport, _ = await loop.create_unix_connection(lambda: protocol, self.host.path)
            else:
                transport, _ = await loop.create_connection(
                    lambda: protocol, self.host.host, self.host.port, ssl=self._ssl
                )
            return reader, asyncio.StreamWriter(transport, protocol, reader, loop)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise Refusal(
                502, f"docker-pass: cannot reach the Docker engine at {self.host.url}: {reason}"
            ) from None


class EngineProtocol(asyncio.StreamReaderProtocol):
    """The protocol of a connection to the engine: when the connection fails, the engine's
    answer that came before the failure is still read.

    The engine may answer before it has read a whole request, and close (a 301, a 404 with
    ``Connection: close``).  Writing the rest of the request then fails (EPIPE), or the kernel
    resets the connection (Linux does, for Unix sockets too, when unread data is left), and
    asyncio closes the whole connection: the answer waiting in the socket would be lost, and
    the reader would raise before handing out the part it holds.  Here, on such a failure,
    what the socket still holds is read (it is all there: the engine wrote it before
    closing), and the stream ends after it.  (Over TLS the records cannot be read this way;
    the answer is then as lost as before.)
    """

    def __init__(self, reader: asyncio.StreamReader, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(reader, loop=loop)
        self._reader = reader
        self._sock: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if transport.get_extra_info("sslcontext") is None:
            self._sock = transport.get_extra_info("socket")
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if isinstance(exc, ConnectionError):
            if self._sock is not None:  # still open: asyncio closes it after this call
                with suppress(OSError), self._sock.dup() as sock:
                    sock.setblocking(False)
                    while chunk := sock.recv(READ_SIZE):
                        self._reader.feed_data(chunk)
            exc = None  # the end of the stream, after what came
        super().connection_lost(exc)


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
        #: Whether this is the engine's end (its write errors are :class:`EngineWriteError`).
        self.is_engine = conn.our_role is h11.CLIENT

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
        if not data:
            return
        try:
            self.writer.write(data)
            await self.writer.drain()
        except OSError as exc:
            if self.is_engine:
                raise EngineWriteError(type(exc).__name__) from None
            raise

    def done(self) -> bool:
        """Whether both directions of this side's exchange have finished."""
        return self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE

    def close(self) -> None:
        """Close this side's connection (errors closing it do not matter)."""
        with suppress(Exception):
            self.writer.close()


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
    """Tell ``conn`` about an event whose bytes were passed on raw; whether it could follow.

    h11 writes HTTP/1.1 only: an HTTP/1.0 answer is told as the same answer in 1.1 (its
    bytes, already on their way, are the engine's own).
    """
    answer = isinstance(event, h11.Response | h11.InformationalResponse)
    if answer and event.http_version != b"1.1":
        event = type(event)(
            status_code=event.status_code, headers=event.headers, reason=event.reason
        )
    try:
        conn.send(event)
    except h11.LocalProtocolError:
        return False
    return True


def mirror_request(upstream: Side, request: h11.Request) -> None:
    """Tell the engine side's h11 about a request whose bytes go on raw (the client's own).

    An HTTP/1.0 request (h11 sends 1.1 only) is told as the same request in 1.1 that closes
    the connection, as 1.0 does: h11 then reads the engine's 1.0 answer, framed or not.
    """
    if request.http_version == b"1.1":
        upstream.conn.send(request)
        return
    upstream.conn.send(
        h11.Request(method=request.method, target=request.target, headers=as_http11(request))
    )


def as_http11(request: h11.Request) -> list[tuple[bytes, bytes]]:
    """An HTTP/1.0 request's headers for the same request in HTTP/1.1: it closes the
    connection, and has the ``Host`` header 1.1 requires (1.0 may leave it out)."""
    headers = [(n, v) for n, v in request.headers if n != b"connection"]
    if not any(name == b"host" for name, _ in headers):
        headers.append((b"host", b"docker"))
    return [*headers, (b"connection", b"close")]


async def read_body(side: Side) -> bytes:
    """The rest of a message's body, whole (at most :data:`MAX_REWRITE_BODY` bytes).

    A client waiting for ``100 Continue`` before it sends the body is told to go on.
    """
    if side.conn.our_role is h11.SERVER and side.conn.client_is_waiting_for_100_continue:
        go_on = h11.InformationalResponse(status_code=100, headers=[])
        await side.send(side.conn.send(go_on) or b"")
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
    """The rest of a request, passed on as it arrives.

    The engine may answer before it has read the whole request, and close (a 301, a 404): once
    it stops reading, the rest is no longer passed on, and its answer is still relayed.  A
    client that goes away mid-body ends the exchange (the error is raised).
    """
    try:
        while True:
            event = await client.next_event(forward_to=upstream)
            await upstream.send(client.consumed())
            if isinstance(event, h11.Data | h11.EndOfMessage):
                upstream.conn.send(event)
            if not isinstance(event, h11.Data):
                return
    except (EngineWriteError, h11.LocalProtocolError):
        return  # the engine stopped reading: its answer says the rest


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
    await respond(client, refusal.status, headers, body, _reason(refusal.status))


def _reason(status: int) -> bytes:
    """The standard reason phrase of ``status`` (``Bad Request``), as dockerd sends one."""
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


async def answer_malformed(client: Side, exc: h11.RemoteProtocolError) -> None:
    """Answer a request h11 could not read (a bad request line, header or framing), if the
    answer can still be sent, and say nothing the client sent (a header can hold a token)."""
    status = exc.error_status_hint
    reason = {
        431: "its head is too large",
        505: "its HTTP version is not 1.0 or 1.1",
    }.get(status, "it is not valid HTTP/1.1")
    if client.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return
    with suppress(h11.LocalProtocolError, OSError):
        await answer(
            client, Refusal(status, f"docker-pass: cannot read the request: {reason}"), close=True
        )
