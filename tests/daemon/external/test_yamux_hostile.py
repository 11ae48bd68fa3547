"""Our session against a raw peer that sends what no correct peer would: each protocol error
closes the session with GO_AWAY (protocol error); floods and stalls cost bounded memory."""

from __future__ import annotations

import asyncio
import tracemalloc

import pytest

from docker_pass.daemon.external.yamux import (
    FrameTimeoutError,
    ProtocolError,
    RemoteProtocolError,
    SessionClosedError,
    SessionConfig,
    StreamResetError,
)
from docker_pass.daemon.external.yamux.frames import (
    HEADER_SIZE,
    INITIAL_WINDOW,
    MAX_UINT32,
    Flag,
    FrameType,
    GoAwayCode,
    encode_header,
)
from tests.daemon.external.peers import QUIET, RawPeer, eventually, is_type, raw_pair, run

PROTOCOL_ERROR_GO_AWAY = (FrameType.GO_AWAY, Flag.NONE, 0, GoAwayCode.PROTOCOL_ERROR)


async def closed_for_protocol_error(peer: RawPeer) -> None:
    """The session answers GO_AWAY (protocol error) and closes the connection."""
    frames = await peer.until_eof()
    assert frames, "no GO_AWAY before the close"
    assert tuple(frames[-1].header) == PROTOCOL_ERROR_GO_AWAY


@pytest.mark.parametrize(
    ("frame", "says"),
    [
        (bytes([1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]), "version"),
        (bytes([0, 7, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]), "type"),
        (bytes([0, 1, 0, 0x31, 0, 0, 0, 1, 0, 0, 0, 0]), "flags"),
        (encode_header(FrameType.PING, Flag.NONE, 0, 7), "neither"),
        (encode_header(FrameType.DATA, Flag.SYN, 0, 0), "ID 0"),
    ],
)
def test_a_malformed_header_closes_the_session_with_a_protocol_error(
    frame: bytes, says: str
) -> None:
    async def body() -> None:
        async with raw_pair() as (session, peer):
            peer.send_raw(frame)
            await closed_for_protocol_error(peer)
            await session.wait_closed()
            assert isinstance(session.close_reason, ProtocolError)
            assert says in str(session.close_reason)

    run(body())


def test_data_beyond_the_window_is_a_protocol_error_and_never_buffered() -> None:
    async def body() -> None:
        async with raw_pair() as (session, peer):
            peer.window_update(1, 0, Flag.SYN)
            peer.data(1, bytes(INITIAL_WINDOW))  # the whole window: allowed
            stream = await session.accept_stream()
            await eventually(lambda: stream.buffered[0] == INITIAL_WINDOW)
            peer.data(1, b"one byte too many")
            await closed_for_protocol_error(peer)
            assert "window" in str(session.close_reason)
            assert stream.buffered[0] <= INITIAL_WINDOW

    run(body())


def test_the_window_comes_back_as_the_reader_reads() -> None:
    async def body() -> None:
        async with raw_pair() as (session, peer):
            peer.window_update(1, 0, Flag.SYN)
            peer.data(1, bytes(INITIAL_WINDOW))
            stream = await session.accept_stream()
            ack = await peer.frame()
            assert ack.header.flags == Flag.ACK
            # Less than half read: no update yet; past half: all that was read comes back.
            await stream.readexactly(INITIAL_WINDOW // 4)
            await stream.readexactly(INITIAL_WINDOW // 4)
            update = await peer.frame()
            assert update.header.type is FrameType.WINDOW_UPDATE
            assert update.header.length == INITIAL_WINDOW // 2
            peer.data(1, bytes(INITIAL_WINDOW // 2))  # exactly what was given back
            await stream.readexactly(INITIAL_WINDOW)
            assert not session.is_closed

    run(body())


@pytest.mark.parametrize("updates", [1, 3])
def test_a_ten_gigabyte_window_update_is_clamped(updates: int) -> None:
    """A peer that claims a window past 2**32 - 1 gets no more than a length field holds."""

    async def body() -> None:
        async with raw_pair() as (session, peer):
            stream = await session.open_stream()
            syn = await peer.frame()
            assert syn.header.flags == Flag.SYN
            for _ in range(updates):
                peer.window_update(stream.id, MAX_UINT32, Flag.ACK if _ == 0 else Flag.NONE)
            await eventually(lambda: stream.send_window == MAX_UINT32)
            stream.write(bytes(300_000))
            stream.close()
            received = 0
            while (frame := await peer.frame()).header.type is FrameType.DATA:
                assert frame.header.length <= session.config.max_data_frame
                received += frame.header.length
            assert received == 300_000
            # The FIN follows in a WINDOW_UPDATE of its own, as hashicorp/yamux sends it.
            assert tuple(frame.header) == (FrameType.WINDOW_UPDATE, Flag.FIN, stream.id, 0)
            assert stream.send_window == MAX_UINT32 - 300_000

    run(body())


def test_we_send_exactly_what_the_peers_window_allows() -> None:
    async def body() -> None:
        async with raw_pair() as (session, peer):
            stream = await session.open_stream()
            await peer.frame()  # the SYN
            total = 4 * INITIAL_WINDOW
            stream.write(bytes(total))
            await eventually(lambda: stream.send_window == 0)
            assert stream.buffered[1] == total - INITIAL_WINDOW
            received = 0
            while received < INITIAL_WINDOW:
                received += (await peer.frame_where(is_type(FrameType.DATA))).header.length
            assert received == INITIAL_WINDOW
            peer.window_update(stream.id, 100_000, Flag.ACK)
            while received < INITIAL_WINDOW + 100_000:
                received += (await peer.frame_where(is_type(FrameType.DATA))).header.length
            assert received == INITIAL_WINDOW + 100_000
            await eventually(lambda: stream.send_window == 0)
            assert stream.buffered[1] == total - received

    run(body())


def test_a_stream_of_our_parity_opened_by_the_peer_is_a_protocol_error() -> None:
    async def body() -> None:
        # We are the server: even IDs are ours, the client must open odd ones.
        async with raw_pair() as (session, peer):
            peer.window_update(2, 0, Flag.SYN)
            await closed_for_protocol_error(peer)
            assert "parity" in str(session.close_reason)

    run(body())


def test_a_stream_opened_twice_is_a_protocol_error() -> None:
    async def body() -> None:
        async with raw_pair() as (session, peer):
            peer.window_update(1, 0, Flag.SYN)
            peer.window_update(1, 0, Flag.SYN)
            await closed_for_protocol_error(peer)
            assert "twice" in str(session.close_reason)

    run(body())


def test_a_second_fin_is_a_protocol_error() -> None:
    async def body() -> None:
        async with raw_pair() as (session, peer):
            peer.window_update(1, 0, Flag.SYN | Flag.FIN)
            peer.window_update(1, 0, Flag.FIN)
            await closed_for_protocol_error(peer)
            assert "FIN" in str(session.close_reason)

    run(body())


def test_a_stream_opened_with_data_gets_its_ack_in_the_first_frame_back() -> None:
    async def body() -> None:
        async with raw_pair() as (session, peer):
            peer.data(1, b"request", Flag.SYN)
            stream = await session.accept_stream()
            assert await stream.readexactly(7) == b"request"
            stream.write(b"answer")
            first = await peer.frame()
            assert first.header.stream_id == 1
            assert Flag.ACK in first.header.flags
            data = await peer.frame()
            assert data.payload == b"answer"

    run(body())


def test_a_syn_flood_past_the_limits_is_reset_and_holds_nothing() -> None:
    config = SessionConfig(keepalive_interval=None, accept_backlog=4, max_streams=6)

    async def body() -> None:
        async with raw_pair(config) as (session, peer):
            for stream_id in range(1, 2 * 200, 2):
                peer.window_update(stream_id, 0, Flag.SYN)
            resets: set[int] = set()
            while len(resets) < 196:
                frame = await peer.frame_where(is_type(FrameType.WINDOW_UPDATE, Flag.RST))
                resets.add(frame.header.stream_id)
            # The backlog held four; accepting them makes room for two more (max_streams).
            assert resets == set(range(9, 400, 2))
            assert session.num_streams == 4
            accepted = [await session.accept_stream() for _ in range(4)]
            assert [s.id for s in accepted] == [1, 3, 5, 7]
            for stream_id in (401, 403, 405):
                peer.window_update(stream_id, 0, Flag.SYN)
            refused = await peer.frame_where(is_type(FrameType.WINDOW_UPDATE, Flag.RST))
            assert refused.header.stream_id == 405
            assert session.num_streams == 6
            assert not session.is_closed

    run(body())


def test_go_away_resets_the_peers_new_streams_and_the_session_goes_on() -> None:
    async def body() -> None:
        async with raw_pair() as (session, peer):
            session.go_away()
            go_away = await peer.frame()
            assert tuple(go_away.header) == (FrameType.GO_AWAY, Flag.NONE, 0, GoAwayCode.NORMAL)
            peer.data(1, b"too late", Flag.SYN)
            refused = await peer.frame()
            assert refused.header.flags == Flag.RST
            assert refused.header.stream_id == 1
            pinging = asyncio.create_task(session.ping())
            ping = await peer.frame()
            peer.send(FrameType.PING, Flag.ACK, 0, ping.header.length)
            assert await pinging >= 0
            assert session.num_streams == 0

    run(body())


def test_ping_is_answered_with_the_same_opaque_value() -> None:
    async def body() -> None:
        async with raw_pair() as (_session, peer):
            peer.send(FrameType.PING, Flag.SYN, 0, 0xDEADBEEF)
            answer = await peer.frame()
            assert tuple(answer.header) == (FrameType.PING, Flag.ACK, 0, 0xDEADBEEF)

    run(body())


def test_a_go_away_with_an_error_code_ends_the_session() -> None:
    async def body() -> None:
        async with raw_pair() as (session, peer):
            peer.send(FrameType.GO_AWAY, Flag.NONE, 0, GoAwayCode.INTERNAL_ERROR)
            await session.wait_closed()
            assert isinstance(session.close_reason, RemoteProtocolError)

    run(body())


def test_data_on_an_unknown_or_reset_stream_is_dropped() -> None:
    async def body() -> None:
        async with raw_pair() as (session, peer):
            peer.data(99, b"nobody opened this")
            peer.window_update(1, 0, Flag.SYN)
            stream = await session.accept_stream()
            await peer.frame()  # its ACK
            stream.reset()
            await peer.frame_where(is_type(FrameType.WINDOW_UPDATE, Flag.RST))
            peer.data(1, b"after the reset")
            pinging = asyncio.create_task(session.ping())
            ping = await peer.frame()
            peer.send(FrameType.PING, Flag.ACK, 0, ping.header.length)
            await pinging
            assert not session.is_closed
            assert session.num_streams == 0

    run(body())


def test_a_data_frame_larger_than_any_window_is_refused_from_its_header() -> None:
    async def body() -> None:
        async with raw_pair() as (session, peer):
            peer.send(FrameType.DATA, Flag.NONE, 99, INITIAL_WINDOW + 1)
            await closed_for_protocol_error(peer)
            assert "larger" in str(session.close_reason)

    run(body())


def test_a_peer_that_never_reads_blocks_our_writer_and_nothing_grows() -> None:
    async def body() -> None:
        async with raw_pair() as (session, peer):
            stream = await session.open_stream()
            peer.reader._transport.pause_reading()  # type: ignore[attr-defined]
            written = 0

            async def flood() -> None:
                nonlocal written
                while True:
                    stream.write(bytes(1 << 16))
                    written += 1 << 16
                    await stream.drain()

            writing = asyncio.create_task(flood())
            await eventually(lambda: stream.send_window == 0)
            # Blocked on the window: the writer's buffer stops at the high-water mark.
            await eventually(lambda: stream.buffered[1] > session.config.write_high_water)
            # Turns of the loop in which the writer could go on if anything let it (no clock).
            for _ in range(100):
                await asyncio.sleep(0)
            assert not writing.done()
            assert written - INITIAL_WINDOW <= session.config.write_high_water + (1 << 16)
            assert stream.buffered[1] <= session.config.write_high_water + (1 << 16)
            writing.cancel()

    run(body())


def test_a_ping_flood_from_a_peer_that_never_reads_stops_our_reader() -> None:
    """The answers would pile up in our output: past its bound we stop reading, and the
    flood waits in the peer's own buffers."""

    async def body() -> None:
        async with raw_pair() as (session, peer):
            peer.reader._transport.pause_reading()  # type: ignore[attr-defined]
            flood = encode_header(FrameType.PING, Flag.SYN, 0, 1) * 20_000
            for _ in range(20):
                peer.send_raw(flood)
            limit = session.output.limit
            await eventually(lambda: session.output.buffered > limit)
            # Turns of the loop in which the reader could go on if anything let it (no clock).
            for _ in range(100):
                await asyncio.sleep(0)
            assert session.output.buffered <= limit + HEADER_SIZE
            assert peer.writer.transport.get_write_buffer_size() > 0
            assert not session.is_closed

    run(body())


def test_memory_stays_bounded_while_a_peer_floods_data() -> None:
    """40 MB at the session: full windows on every stream it may hold, and all the rest on
    streams it reset or never knew (read and dropped as hashicorp/yamux does)."""
    config = SessionConfig(keepalive_interval=None, max_streams=8, accept_backlog=8)

    async def body() -> None:
        async with raw_pair(config) as (session, peer):
            for stream_id in range(1, 17, 2):
                peer.window_update(stream_id, 0, Flag.SYN)
                peer.data(stream_id, bytes(INITIAL_WINDOW))
            await eventually(lambda: session.num_streams == 8)
            tracemalloc.start()
            try:
                base, _ = tracemalloc.get_traced_memory()
                chunk = bytes(INITIAL_WINDOW)
                frame = encode_header(FrameType.DATA, Flag.NONE, 1001, len(chunk)) + chunk
                for _ in range(160):
                    peer.send_raw(frame)
                    await peer.writer.drain()
                pinging = asyncio.create_task(session.ping())
                answer = await peer.frame_where(is_type(FrameType.PING))
                peer.send(FrameType.PING, Flag.ACK, 0, answer.header.length)
                await pinging
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            # The peer's own writes are in the figure too (its frames, its buffer): a few
            # MiB at most, against 40 MB sent.
            assert peak - base < 4 * 2**20
            assert sum(s.buffered[0] for s in session._streams.values()) <= 8 * INITIAL_WINDOW

    run(body())


def test_a_truncated_header_ends_the_session() -> None:
    async def body() -> None:
        async with raw_pair() as (session, peer):
            peer.window_update(1, 0, Flag.SYN)
            stream = await session.accept_stream()
            peer.send_raw(encode_header(FrameType.DATA, Flag.NONE, 1, 5)[:7])
            peer.writer.write_eof()
            await session.wait_closed()
            assert "middle of a frame" in str(session.close_reason)
            with pytest.raises(SessionClosedError):
                await stream.read(1)

    run(body())


def test_a_peer_that_disconnects_mid_payload_ends_the_session() -> None:
    async def body() -> None:
        async with raw_pair() as (session, peer):
            peer.window_update(1, 0, Flag.SYN)
            stream = await session.accept_stream()
            peer.send_raw(encode_header(FrameType.DATA, Flag.NONE, 1, 1000) + b"0123456789")
            await eventually(lambda: stream.buffered[0] == 10)
            peer.close()
            await session.wait_closed()
            assert "middle of a frame" in str(session.close_reason)
            assert await stream.read(100) == b"0123456789"
            with pytest.raises(SessionClosedError):
                await stream.read(100)

    run(body())


def test_a_frame_that_stalls_halfway_misses_its_deadline() -> None:
    config = SessionConfig(keepalive_interval=None, frame_timeout=0.05)

    async def body() -> None:
        async with raw_pair(config) as (session, peer):
            peer.send_raw(encode_header(FrameType.PING, Flag.SYN, 0, 1)[:5])
            await closed_for_protocol_error(peer)
            assert isinstance(session.close_reason, FrameTimeoutError)

    run(body())


def test_a_half_closed_stream_whose_peer_never_finishes_is_reset() -> None:
    config = SessionConfig(keepalive_interval=None, stream_close_timeout=0.05)

    async def body() -> None:
        async with raw_pair(config) as (session, peer):
            peer.window_update(1, 0, Flag.SYN)
            stream = await session.accept_stream()
            stream.close()
            fin = await peer.frame_where(is_type(FrameType.WINDOW_UPDATE, Flag.FIN))
            assert fin.header.stream_id == 1
            reset = await peer.frame_where(is_type(FrameType.WINDOW_UPDATE, Flag.RST))
            assert reset.header.stream_id == 1
            with pytest.raises(StreamResetError):
                await stream.read(1)
            assert session.num_streams == 0

    run(body())


def test_a_closed_stream_stuck_on_the_window_is_reset_after_the_close_timeout() -> None:
    config = SessionConfig(keepalive_interval=None, stream_close_timeout=0.05)

    async def body() -> None:
        async with raw_pair(config) as (session, peer):
            stream = await session.open_stream()
            stream.write(bytes(INITIAL_WINDOW + 1))  # one byte more than the peer allows
            stream.close()  # so the FIN can never go out
            reset = await peer.frame_where(is_type(FrameType.WINDOW_UPDATE, Flag.RST))
            assert reset.header.stream_id == stream.id
            await stream.wait_closed()
            assert session.num_streams == 0

    run(body())


def test_the_session_config_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="stream_window"):
        SessionConfig(stream_window=1000)
    with pytest.raises(ValueError, match="positive"):
        SessionConfig(max_streams=0)
    with pytest.raises(ValueError, match="frame_timeout"):
        SessionConfig(frame_timeout=0)
    assert QUIET.keepalive_interval is None
