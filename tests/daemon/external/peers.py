"""What the yamux tests run against: a pair of our sessions over a socketpair, or one session
and a raw peer that writes whatever frames a test tells it to (hostile ones included).

Tests wait for conditions (:func:`eventually`), never for time; :func:`run` bounds a whole
test so that a hang fails it instead of holding the suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import TYPE_CHECKING, Any, TypeVar

from docker_pass.daemon.external.yamux import Session, SessionClosedError, SessionConfig
from docker_pass.daemon.external.yamux.frames import (
    HEADER_SIZE,
    Flag,
    Frame,
    FrameType,
    encode_header,
    parse_frame,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine

    from docker_pass.daemon.external.yamux import Stream

T = TypeVar("T")

#: A bound on a whole test (a hang fails it), not a speed figure.
TEST_BOUND = 60.0
#: Sessions in tests ping only when a test asks (keepalive tests set their own).
QUIET = SessionConfig(keepalive_interval=None)


def run(test: Coroutine[Any, Any, T], bound: float = TEST_BOUND) -> T:
    """Run an async test body to its end, failing it if it hangs past ``bound`` seconds."""

    async def bounded() -> T:
        async with asyncio.timeout(bound):
            return await test

    return asyncio.run(bounded())


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait until ``condition()`` holds, letting the loop run meanwhile (the test's bound
    fails a condition that never comes)."""
    while not condition():
        # A short poll rather than sleep(0): the loop must also wait on the sockets.
        await asyncio.sleep(0.001)


async def connection_pair() -> tuple[
    tuple[asyncio.StreamReader, asyncio.StreamWriter],
    tuple[asyncio.StreamReader, asyncio.StreamWriter],
]:
    """Both ends of a fresh socketpair as asyncio streams."""
    left, right = socket.socketpair()
    return await asyncio.open_connection(sock=left), await asyncio.open_connection(sock=right)


@contextlib.asynccontextmanager
async def session_pair(
    client_config: SessionConfig = QUIET, server_config: SessionConfig = QUIET
) -> AsyncIterator[tuple[Session, Session]]:
    """A client and a server session talking over a socketpair; both closed at the end."""
    (client_r, client_w), (server_r, server_w) = await connection_pair()
    client = Session.client(client_r, client_w, client_config)
    server = Session.server(server_r, server_w, server_config)
    try:
        yield client, server
    finally:
        await client.close()
        await server.close()


async def echo_once(stream: Stream) -> None:
    """Send back everything until EOF, then half-close."""
    while chunk := await stream.read(1 << 16):
        stream.write(chunk)
        await stream.drain()
    stream.close()


async def send_and_receive(stream: Stream, payload: bytes) -> bytes:
    """Write ``payload`` (in pieces, draining), half-close, and read the answer to EOF."""

    async def send() -> None:
        for start in range(0, len(payload), 100_000):
            stream.write(payload[start : start + 100_000])
            await stream.drain()
        stream.close()

    sending = asyncio.create_task(send())
    answer = await stream.read()
    await sending
    return answer


async def echo_server(session: Session) -> None:
    """Echo every stream the peer opens, until the session closes."""
    tasks: set[asyncio.Task[None]] = set()
    try:
        while True:
            stream = await session.accept_stream()
            task = asyncio.create_task(echo_once(stream))
            tasks.add(task)
            # An echo cut off by the session's end fails; that is no news to the test.
            task.add_done_callback(_retire(tasks))
    except SessionClosedError:
        return


def _retire(tasks: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
    def retire(task: asyncio.Task[None]) -> None:
        tasks.discard(task)
        if not task.cancelled():
            task.exception()

    return retire


class RawPeer:
    """The other end of a session, speaking raw frames: it sends what the test says and
    reads our frames one by one (answering nothing by itself)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._buffer = bytearray()

    def send(
        self, kind: FrameType, flags: Flag, stream_id: int, length: int, payload: bytes = b""
    ) -> None:
        """Write one frame; ``length`` is the header's, whatever the payload holds."""
        self.writer.write(encode_header(kind, flags, stream_id, length) + payload)

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)

    def data(self, stream_id: int, payload: bytes, flags: Flag = Flag.NONE) -> None:
        self.send(FrameType.DATA, flags, stream_id, len(payload), payload)

    def window_update(self, stream_id: int, delta: int, flags: Flag = Flag.NONE) -> None:
        self.send(FrameType.WINDOW_UPDATE, flags, stream_id, delta)

    async def frame(self) -> Frame:
        """Our next frame; ``EOFError`` if the connection ends first."""
        while True:
            parsed = parse_frame(self._buffer)
            if parsed is not None:
                found, used = parsed
                del self._buffer[:used]
                return found
            chunk = await self.reader.read(1 << 16)
            if not chunk:
                raise EOFError("the session closed the connection")
            self._buffer += chunk

    async def frame_where(self, wanted: Callable[[Frame], bool]) -> Frame:
        """Our next frame that ``wanted`` accepts (the others are skipped)."""
        while not wanted(found := await self.frame()):
            pass
        return found

    async def until_eof(self) -> list[Frame]:
        """Every frame until the connection ends."""
        frames = []
        with contextlib.suppress(EOFError):
            while True:
                frames.append(await self.frame())
        return frames

    def close(self) -> None:
        """Drop the connection (a raw peer does not wait for its output to flush)."""
        self.writer.transport.abort()


@contextlib.asynccontextmanager
async def raw_pair(
    config: SessionConfig = QUIET, *, server: bool = True
) -> AsyncIterator[tuple[Session, RawPeer]]:
    """Our session (the server unless ``server`` is false) and a raw peer on its other end."""
    (ours_r, ours_w), (raw_r, raw_w) = await connection_pair()
    factory = Session.server if server else Session.client
    session = factory(ours_r, ours_w, config)
    peer = RawPeer(raw_r, raw_w)
    try:
        yield session, peer
    finally:
        peer.close()
        await session.close()


def is_type(kind: FrameType, flags: Flag | None = None) -> Callable[[Frame], bool]:
    """A frame filter: of type ``kind`` (and carrying ``flags`` when given)."""

    def wanted(found: Frame) -> bool:
        return found.header.type is kind and (flags is None or flags in found.header.flags)

    return wanted


__all__ = [
    "HEADER_SIZE",
    "QUIET",
    "RawPeer",
    "echo_server",
    "eventually",
    "raw_pair",
    "run",
    "send_and_receive",
    "session_pair",
]
