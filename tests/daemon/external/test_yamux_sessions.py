"""Two of our sessions over a socketpair: streams both ways, many at once, large transfers
under flow control, half-close, reset, ping, go-away, keepalive, close."""

from __future__ import annotations

import asyncio
import os

import pytest

from docker_pass.daemon.external.yamux import (
    KeepaliveTimeoutError,
    RemoteGoAwayError,
    SessionClosedError,
    SessionConfig,
    StreamClosedError,
    StreamResetError,
)
from docker_pass.daemon.external.yamux.frames import INITIAL_WINDOW, Flag, FrameType
from tests.daemon.external.peers import (
    QUIET,
    echo_server,
    eventually,
    raw_pair,
    run,
    send_and_receive,
    session_pair,
)


def test_the_client_opens_odd_streams_and_the_server_accepts_them() -> None:
    async def body() -> None:
        async with session_pair() as (client, server):
            opened = [await client.open_stream() for _ in range(3)]
            accepted = [await server.accept_stream() for _ in range(3)]
            assert [s.id for s in opened] == [1, 3, 5]
            assert [s.id for s in accepted] == [1, 3, 5]
            opened[1].write(b"to the server")
            assert await accepted[1].readexactly(13) == b"to the server"
            accepted[1].write(b"and back")
            assert await opened[1].readexactly(8) == b"and back"

    run(body())


def test_the_server_opens_even_streams_and_the_client_accepts_them() -> None:
    async def body() -> None:
        async with session_pair() as (client, server):
            serving = asyncio.create_task(echo_server(client))
            stream = await server.open_stream()
            assert stream.id == 2
            assert await send_and_receive(stream, b"hello from the engine") == (
                b"hello from the engine"
            )
            assert (await server.open_stream()).id == 4
            serving.cancel()

    run(body())


def test_many_streams_at_once_each_get_their_own_bytes_back() -> None:
    async def body() -> None:
        async with session_pair() as (client, server):
            serving = asyncio.create_task(echo_server(server))
            payloads = [os.urandom(1000 + 317 * n) for n in range(200)]

            async def one(payload: bytes) -> bytes:
                return await send_and_receive(await client.open_stream(), payload)

            answers = await asyncio.gather(*(one(p) for p in payloads))
            assert answers == payloads
            await eventually(lambda: client.num_streams == 0 == server.num_streams)
            serving.cancel()

    run(body())


@pytest.mark.parametrize("window", [INITIAL_WINDOW, 1 << 20])
def test_a_large_transfer_under_flow_control_arrives_identical(window: int) -> None:
    """Eight windows and more each way: the sender waits for window updates (a sender that
    overran the window would have the receiver close the session with a protocol error)."""
    config = SessionConfig(keepalive_interval=None, stream_window=window)

    async def body() -> None:
        async with session_pair(config, config) as (client, server):
            serving = asyncio.create_task(echo_server(server))
            payload = os.urandom(8 * window + 12345)
            assert await send_and_receive(await client.open_stream(), payload) == payload
            assert not client.is_closed
            assert not server.is_closed
            serving.cancel()

    run(body())


def test_a_reader_that_waits_for_more_than_a_window_still_gets_it() -> None:
    async def body() -> None:
        async with session_pair() as (client, server):
            stream = await client.open_stream()
            payload = os.urandom(3 * INITIAL_WINDOW)
            stream.write(payload)
            accepted = await server.accept_stream()
            assert await accepted.readexactly(len(payload)) == payload
            await stream.drain()

    run(body())


def test_half_close_each_way_then_the_stream_is_gone() -> None:
    async def body() -> None:
        async with session_pair() as (client, server):
            stream = await client.open_stream()
            stream.write(b"request")
            stream.close()
            with pytest.raises(StreamClosedError):
                stream.write(b"more")
            accepted = await server.accept_stream()
            assert await accepted.read() == b"request"
            assert accepted.at_eof()
            # Its sending side is still open after the peer's FIN.
            accepted.write(b"response")
            accepted.close()
            assert await stream.read() == b"response"
            await stream.wait_closed()
            await accepted.wait_closed()
            assert client.num_streams == 0 == server.num_streams

    run(body())


def test_an_early_eof_fails_readexactly() -> None:
    async def body() -> None:
        async with session_pair() as (client, server):
            stream = await client.open_stream()
            stream.write(b"short")
            stream.close()
            accepted = await server.accept_stream()
            with pytest.raises(asyncio.IncompleteReadError) as raised:
                await accepted.readexactly(10)
            assert raised.value.partial == b"short"

    run(body())


def test_a_reset_ends_the_stream_with_an_error_on_both_sides() -> None:
    async def body() -> None:
        async with session_pair() as (client, server):
            stream = await client.open_stream()
            stream.write(b"x")
            accepted = await server.accept_stream()
            assert await accepted.readexactly(1) == b"x"
            stream.reset()
            with pytest.raises(StreamResetError):
                await accepted.read(10)
            with pytest.raises(StreamResetError):
                accepted.write(b"late")
            with pytest.raises(StreamResetError):
                await stream.read(1)
            await accepted.wait_closed()
            assert client.num_streams == 0 == server.num_streams

    run(body())


def test_a_reset_wakes_a_writer_blocked_on_the_window() -> None:
    async def body() -> None:
        async with session_pair() as (client, server):
            stream = await client.open_stream()
            accepted = await server.accept_stream()

            async def flood() -> None:
                while True:
                    stream.write(bytes(1 << 16))
                    await stream.drain()

            writing = asyncio.create_task(flood())
            await eventually(lambda: stream.send_window == 0 and stream.buffered[1] > 0)
            accepted.reset()
            with pytest.raises(StreamResetError):
                await writing

    run(body())


def test_ping_both_ways() -> None:
    async def body() -> None:
        async with session_pair() as (client, server):
            assert await client.ping() >= 0
            assert await server.ping() >= 0

    run(body())


def test_go_away_refuses_new_streams_and_lets_open_ones_finish() -> None:
    async def body() -> None:
        async with session_pair() as (client, server):
            stream = await client.open_stream()
            accepted = await server.accept_stream()
            server.go_away()
            # The client learns it when the GO_AWAY frame comes.
            await client.ping()
            with pytest.raises(RemoteGoAwayError):
                await client.open_stream()
            stream.write(b"still here")
            stream.close()
            assert await accepted.read() == b"still here"
            accepted.write(b"so am I")
            accepted.close()
            assert await stream.read() == b"so am I"
            assert not client.is_closed
            assert not server.is_closed

    run(body())


def test_closing_a_session_ends_the_peer_and_every_stream() -> None:
    async def body() -> None:
        async with session_pair() as (client, server):
            stream = await client.open_stream()
            stream.write(b"unread")
            accepted = await server.accept_stream()
            await eventually(lambda: accepted.buffered[0] == 6)
            waiting = asyncio.create_task(server.accept_stream())
            await client.close()
            await server.wait_closed()
            assert isinstance(server.close_reason, SessionClosedError)
            with pytest.raises(SessionClosedError):
                await waiting
            # What came before the end can still be read; then the error.
            assert await accepted.read(100) == b"unread"
            with pytest.raises(SessionClosedError):
                await accepted.read(100)
            with pytest.raises(SessionClosedError):
                stream.write(b"x")
            with pytest.raises(SessionClosedError):
                await client.open_stream()

    run(body())


def test_open_stream_waits_at_the_stream_limit_until_one_closes() -> None:
    config = SessionConfig(keepalive_interval=None, max_streams=2)

    async def body() -> None:
        async with session_pair(config, QUIET) as (client, server):
            first = await client.open_stream()
            await client.open_stream()
            third = asyncio.create_task(client.open_stream())
            await eventually(lambda: server.num_streams == 2)
            assert not third.done()
            first.reset()
            assert (await third).id == 5

    run(body())


def test_keepalive_pings_keep_a_live_session_open() -> None:
    config = SessionConfig(keepalive_interval=0.01, keepalive_timeout=60)

    async def body() -> None:
        async with raw_pair(config) as (session, peer):
            for _ in range(3):
                ping = await peer.frame()
                assert ping.header.type is FrameType.PING
                assert ping.header.flags == Flag.SYN
                peer.send(FrameType.PING, Flag.ACK, 0, ping.header.length)
            assert not session.is_closed

    run(body())


def test_a_keepalive_ping_unanswered_closes_the_session() -> None:
    config = SessionConfig(keepalive_interval=0.01, keepalive_timeout=0.05)

    async def body() -> None:
        async with raw_pair(config) as (session, _peer):
            await session.wait_closed()
            assert isinstance(session.close_reason, KeepaliveTimeoutError)

    run(body())
