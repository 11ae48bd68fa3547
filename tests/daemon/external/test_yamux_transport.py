"""A stream as an asyncio transport: uvicorn's HTTP protocol serves over it, asyncio's own
StreamReader/StreamWriter (and h11 on them) talk over it, and flow control carries through."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

import h11
import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from docker_pass.daemon.external.yamux import StreamResetError, attach, open_connection, serve
from docker_pass.daemon.external.yamux.frames import INITIAL_WINDOW
from docker_pass.daemon.external.yamux.transport import STREAM_INFO
from tests.daemon.external.peers import eventually, run, session_pair

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from docker_pass.daemon.external.yamux import Session

Scope = dict[str, Any]
Message = MutableMapping[str, Any]


async def echo_app(
    scope: Scope,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """An ASGI app answering each POST with its body (and the path), a GET with 1 MiB."""
    assert scope["type"] == "http"
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    answer = bytes(body) if scope["method"] == "POST" else bytes(range(256)) * 4096
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"x-path", scope["path"].encode()), (b"content-type", b"x/y")],
        }
    )
    await send({"type": "http.response.body", "body": answer})


def uvicorn_protocol_factory() -> Callable[[], asyncio.Protocol]:
    """uvicorn's HTTP/1.1 protocol as the daemon builds it (logging left alone)."""
    config = uvicorn.Config(echo_app, lifespan="off", access_log=False, log_config=None)
    config.load()
    state = ServerState()
    return lambda: H11Protocol(config, state, {})


async def h11_request(
    session: Session, method: str, path: str, body: bytes = b""
) -> tuple[int, dict[bytes, bytes], bytes]:
    """One HTTP/1.1 request over a new stream with h11 on asyncio's reader and writer."""
    reader, writer = await open_connection(session)
    client = h11.Connection(h11.CLIENT)
    headers = [("host", "plugin"), ("content-length", str(len(body))), ("connection", "close")]
    writer.write(client.send(h11.Request(method=method, target=path, headers=headers)))
    writer.write(client.send(h11.Data(data=body)))
    writer.write(client.send(h11.EndOfMessage()))
    await writer.drain()
    status, answer, received = 0, {}, bytearray()
    while True:
        event = client.next_event()
        if event is h11.NEED_DATA:
            client.receive_data(await reader.read(1 << 16))
        elif isinstance(event, h11.Response):
            status, answer = event.status_code, dict(event.headers)
        elif isinstance(event, h11.Data):
            received += event.data
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            break
    writer.close()
    await writer.wait_closed()
    return status, answer, bytes(received)


def test_uvicorns_protocol_serves_http_over_streams_to_an_h11_client() -> None:
    async def body() -> None:
        async with session_pair() as (client, server):
            serving = asyncio.create_task(serve(server, uvicorn_protocol_factory()))
            payload = os.urandom(3 * INITIAL_WINDOW + 7)
            status, headers, answer = await h11_request(client, "POST", "/echo", payload)
            assert (status, headers[b"x-path"], answer) == (200, b"/echo", payload)
            results = await asyncio.gather(
                *(h11_request(client, "GET", f"/big/{n}") for n in range(10))
            )
            for n, (status, headers, answer) in enumerate(results):
                assert (status, headers[b"x-path"]) == (200, f"/big/{n}".encode())
                assert answer == bytes(range(256)) * 4096
            await eventually(lambda: client.num_streams == 0 == server.num_streams)
            serving.cancel()

    run(body())


class Recorder(asyncio.Protocol):
    """Records what a transport gives it; pauses reading when told to."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.received = bytearray()
        self.eof = False
        self.lost: list[Exception | None] = []
        self.paused_writing = 0
        self.resumed_writing = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received += data

    def eof_received(self) -> bool:
        self.eof = True
        return True  # keep our side open: we still write

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.append(exc)

    def pause_writing(self) -> None:
        self.paused_writing += 1

    def resume_writing(self) -> None:
        self.resumed_writing += 1


def test_a_protocol_that_pauses_reading_stops_the_peer_by_the_window() -> None:
    async def body() -> None:
        async with session_pair() as (client, server):
            stream = await client.open_stream()
            accepted = await server.accept_stream()
            recorder = Recorder()
            transport = attach(accepted, recorder)
            assert transport.get_extra_info(STREAM_INFO) is accepted
            # What it does not know itself comes from the session's connection (for the
            # peer's credentials, say).
            assert transport.get_extra_info("socket").family == socket.AF_UNIX
            transport.pause_reading()
            payload = os.urandom(4 * INITIAL_WINDOW)
            stream.write(payload)
            await eventually(lambda: stream.send_window == 0)
            # The window is spent once it is sent; it arrives a loop turn or more later.
            await eventually(lambda: accepted.buffered[0] == INITIAL_WINDOW)
            assert recorder.received == b""
            transport.resume_reading()
            stream.close()
            await eventually(lambda: recorder.eof)
            assert recorder.received == payload
            # Half-closed by the peer, our side still writes, then closes.
            transport.write(b"bye")
            transport.close()
            assert await stream.read() == b"bye"
            await eventually(lambda: recorder.lost == [None])

    run(body())


def test_the_transport_pauses_its_protocols_writing_above_the_high_water_mark() -> None:
    async def body() -> None:
        async with session_pair() as (client, server):
            stream = await client.open_stream()
            accepted = await server.accept_stream()
            recorder = Recorder()
            transport = attach(accepted, recorder)
            transport.write(bytes(4 * INITIAL_WINDOW))
            await eventually(lambda: recorder.paused_writing == 1)
            assert transport.get_write_buffer_size() > transport.get_write_buffer_limits()[1]
            await stream.readexactly(4 * INITIAL_WINDOW)
            await eventually(lambda: recorder.resumed_writing == 1)

    run(body())


def test_a_reset_reaches_the_protocol_as_a_lost_connection() -> None:
    async def body() -> None:
        async with session_pair() as (client, server):
            stream = await client.open_stream()
            accepted = await server.accept_stream()
            recorder = Recorder()
            attach(accepted, recorder)
            stream.reset()
            await eventually(lambda: bool(recorder.lost))
            assert isinstance(recorder.lost[0], StreamResetError)
            assert recorder.transport is not None
            assert recorder.transport.is_closing()

    run(body())


def test_abort_resets_the_stream() -> None:
    async def body() -> None:
        async with session_pair() as (client, server):
            stream = await client.open_stream()
            accepted = await server.accept_stream()
            recorder = Recorder()
            attach(accepted, recorder).abort()
            with pytest.raises(StreamResetError):
                await stream.read(1)
            await eventually(lambda: recorder.lost == [None])

    run(body())
