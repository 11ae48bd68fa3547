"""A yamux session: many :class:`Stream` s over one asyncio connection.

One task reads frames (:mod:`.reading`) and acts on them, one sends the streams' data
(:mod:`.writing`), one pings when keepalive is on.

Nothing grows with what the peer sends: a stream buffers at most the window we advertised (a
peer that sends more is cut off with GO_AWAY, protocol error); a DATA frame for a stream we do
not know is read and dropped; the peer's new streams past :attr:`SessionConfig.max_streams` or
past the accept backlog are reset, not queued; and when our output piles up (a peer that pings
or opens streams but never reads) the reader stops reading until it drains.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from enum import Enum
from typing import TYPE_CHECKING, Any

from docker_pass.daemon.external.yamux.config import SessionConfig
from docker_pass.daemon.external.yamux.errors import (
    KeepaliveTimeoutError,
    ProtocolError,
    RemoteGoAwayError,
    RemoteProtocolError,
    SessionClosedError,
    StreamsExhaustedError,
)
from docker_pass.daemon.external.yamux.frames import (
    MAX_UINT32,
    SESSION_ID,
    Flag,
    FrameType,
    GoAwayCode,
    Header,
)
from docker_pass.daemon.external.yamux.reading import FrameReader
from docker_pass.daemon.external.yamux.stream import Signal, Stream
from docker_pass.daemon.external.yamux.writing import FrameWriter

if TYPE_CHECKING:
    from types import TracebackType

log = logging.getLogger("docker_pass.yamux")


class Role(Enum):
    """Which end of the connection a session is: the client opens odd stream IDs, the server
    even ones."""

    CLIENT = 1
    SERVER = 2


class Session:
    """A yamux session over an asyncio ``(reader, writer)`` pair.

    Made inside a running event loop; it starts reading at once.  Use it as an async context
    manager, or call :meth:`close`.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        role: Role,
        config: SessionConfig | None = None,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._role = role
        self.config = config = config or SessionConfig()
        self._reader = FrameReader(reader, config.frame_timeout)
        #: The connection's writing side (the streams write through it).
        self.output = FrameWriter(writer, config.max_data_frame)
        self._next_id = 1 if role is Role.CLIENT else 2
        self._streams: dict[int, Stream] = {}
        # Ordered sets (dicts of None): removals in O(1) when a stream ends.
        self._inflight: dict[Stream, None] = {}  # opened by us, not yet ACKed by the peer
        self._backlog: dict[Stream, None] = {}  # opened by the peer, not yet accepted
        self._accept_signal = Signal()
        #: ``open_stream`` calls waiting for room, in turn.
        self._openers: deque[asyncio.Future[None]] = deque()
        self._pings: dict[int, asyncio.Future[None]] = {}
        self._ping_id = 0
        self._local_go_away = False
        self._remote_go_away = False
        self._closing = False
        self._close_reason: Exception | None = None
        self._closed = asyncio.Event()
        self._closer: asyncio.Task[None] | None = None
        self._tasks = [
            asyncio.create_task(self._read_loop(), name="yamux reader"),
            asyncio.create_task(self._send_loop(), name="yamux sender"),
        ]
        if config.keepalive_interval is not None:
            keepalive = self._keepalive(config.keepalive_interval)
            self._tasks.append(asyncio.create_task(keepalive, name="yamux keepalive"))

    @classmethod
    def client(
        cls,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        config: SessionConfig | None = None,
    ) -> Session:
        """A session on the client's end (a plugin's, in Docker's secrets engine)."""
        return cls(reader, writer, role=Role.CLIENT, config=config)

    @classmethod
    def server(
        cls,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        config: SessionConfig | None = None,
    ) -> Session:
        """A session on the server's end (the engine's, in Docker's secrets engine)."""
        return cls(reader, writer, role=Role.SERVER, config=config)

    # -- what anyone may ask -------------------------------------------------------------

    @property
    def role(self) -> Role:
        return self._role

    @property
    def is_closed(self) -> bool:
        """True once the session is closing or closed."""
        return self._closing

    @property
    def close_reason(self) -> Exception | None:
        """Why the session closed (``None`` while it is open)."""
        return self._close_reason

    @property
    def num_streams(self) -> int:
        """Streams open now, both ways (those waiting to be accepted too)."""
        return len(self._streams)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The underlying connection's transport information (``socket``, ``peername``…)."""
        return self.output.get_extra_info(name, default)

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # -- streams -------------------------------------------------------------------------

    async def open_stream(self) -> Stream:
        """Open a stream to the peer (its SYN goes out at once; data may follow before the
        peer's ACK).  Waits while the peer has :attr:`SessionConfig.accept_backlog` of our
        streams unacknowledged, or :attr:`SessionConfig.max_streams` are open.

        Raises :class:`SessionClosedError`, :class:`RemoteGoAwayError` (the peer accepts no
        more streams) or :class:`StreamsExhaustedError`.
        """
        woken = False
        while True:
            self._check_open()
            if self._remote_go_away:
                raise RemoteGoAwayError("the peer accepts no new streams (GO_AWAY)")
            if self._room() > 0 and (woken or not self._openers):  # no one ahead of it
                break
            await self._wait_for_room()
            woken = True
        stream_id = self._next_id
        if stream_id >= MAX_UINT32 - 1:
            raise StreamsExhaustedError("this session has no stream IDs left")
        self._next_id += 2
        stream = Stream(self, stream_id, outbound=True)
        self._streams[stream_id] = stream
        self._inflight[stream] = None
        stream._open()
        await self._backpressure()
        return stream

    async def accept_stream(self) -> Stream:
        """The next stream the peer opened (sending its ACK); waits for one.

        Raises :class:`SessionClosedError` once the session is closed.
        """
        while True:
            if self._backlog:
                stream = next(iter(self._backlog))
                del self._backlog[stream]
                stream._accept()
                await self._backpressure()
                return stream
            self._check_open()
            await self._accept_signal.wait()

    async def ping(self) -> float:
        """Ping the peer and return the round trip in seconds (wrap it in a timeout)."""
        self._check_open()
        ping_id = self._ping_id
        self._ping_id = (ping_id + 1) & MAX_UINT32
        answered = self._loop.create_future()
        self._pings[ping_id] = answered
        start = self._loop.time()
        try:
            self.output.control(FrameType.PING, Flag.SYN, SESSION_ID, ping_id)
            await self._backpressure()
            await answered
        finally:
            self._pings.pop(ping_id, None)
        return self._loop.time() - start

    def go_away(self) -> None:
        """Tell the peer we accept no new streams (its new SYNs are reset from now on); the
        streams already open go on."""
        if self._closing or self._local_go_away:
            return
        self._local_go_away = True
        self.output.control(FrameType.GO_AWAY, Flag.NONE, SESSION_ID, GoAwayCode.NORMAL)

    async def close(self) -> None:
        """Close the session: GO_AWAY (normal) to the peer, every stream ends, the connection
        closes.  Waits until it is closed."""
        self._shutdown(SessionClosedError("the session was closed"), GoAwayCode.NORMAL)
        await self.wait_closed()

    async def wait_closed(self) -> None:
        """Wait until the session is closed (for whatever reason: see :attr:`close_reason`)."""
        await self._closed.wait()

    # -- for the streams -----------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closing:
            raise self._closed_error()

    def _closed_error(self) -> SessionClosedError:
        reason = self._close_reason
        if isinstance(reason, SessionClosedError):
            return reason
        error = SessionClosedError(f"the yamux session closed: {reason}")
        error.__cause__ = reason
        return error

    def _room(self) -> int:
        """Streams we may open now (the open backlog and the stream limit allowing)."""
        config = self.config
        backlog = config.open_backlog or config.accept_backlog
        return min(backlog - len(self._inflight), config.max_streams - self.num_streams)

    async def _wait_for_room(self) -> None:
        """Wait, in turn, until a stream may be opened (or the session closes)."""
        waiter = self._loop.create_future()
        self._openers.append(waiter)
        try:
            await waiter
        except BaseException:
            if not waiter.done():
                self._openers.remove(waiter)
            self._wake_openers()  # an opener that leaves (woken or not) passes its turn on
            raise

    def _wake_openers(self, everyone: bool = False) -> None:
        """Wake the openers there is room for, first come first (all: the session ends, or
        the peer takes no more).  One freed slot wakes one opener, not every one of them."""
        openers = self._openers
        room = len(openers) if everyone else self._room()
        while openers and room > 0:
            waiter = openers.popleft()
            if not waiter.done():
                waiter.set_result(None)
                room -= 1

    def _established(self, stream: Stream) -> None:
        if stream in self._inflight:
            del self._inflight[stream]
            self._wake_openers()

    def _forget(self, stream: Stream) -> None:
        if self._streams.get(stream.id) is stream:
            del self._streams[stream.id]
        self._inflight.pop(stream, None)
        self._backlog.pop(stream, None)
        self.output.unschedule(stream)
        self._wake_openers()

    async def _backpressure(self) -> None:
        """Wait while our output is past its bound (the peer is not reading)."""
        try:
            await self.output.backpressure()
        except ConnectionError as exc:
            self._shutdown(SessionClosedError("the connection was lost"), cause=exc)
        self._check_open()

    # -- the tasks -----------------------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            while (header := await self._reader.header()) is not None:
                await self._handle(header)
                await self._backpressure()
            self._shutdown(SessionClosedError("the peer closed the connection"))
        except ProtocolError as exc:
            log.warning("yamux: closing the session, the peer broke the protocol: %s", exc)
            self._shutdown(exc, GoAwayCode.PROTOCOL_ERROR)
        except (SessionClosedError, RemoteProtocolError) as exc:
            self._shutdown(exc)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            self._shutdown(SessionClosedError("the connection was lost"), cause=exc)
        except Exception as exc:
            log.exception("yamux: the session's reader failed")
            self._shutdown(exc, GoAwayCode.INTERNAL_ERROR)

    async def _handle(self, header: Header) -> None:
        if header.type is FrameType.PING:
            self._on_ping(header)
        elif header.type is FrameType.GO_AWAY:
            self._on_go_away(header)
        else:
            await self._on_stream_frame(header)

    async def _on_stream_frame(self, header: Header) -> None:
        kind, flags, stream_id, length = header
        if kind is FrameType.DATA and length > self.config.stream_window:
            # More than a whole window in one frame: no stream could take it, known or not.
            raise ProtocolError(f"a DATA frame of {length} bytes, larger than any window")
        if Flag.SYN in flags:
            self._incoming(stream_id)
        stream = self._streams.get(stream_id)
        if stream is None:
            # A stream we reset or refused, or that ended: its data is read and dropped.
            if kind is FrameType.DATA and length:
                await self._reader.payload(length, _drop)
            return
        # Data in a frame after the peer's FIN is dropped (hashicorp/yamux would buffer it);
        # data in the frame that carries the FIN is the stream's last.
        late = stream._remote_closed
        stream._on_flags(flags)
        if kind is FrameType.WINDOW_UPDATE:
            stream._on_window_update(length)
        elif length:
            stream._take_window(length)
            await self._reader.payload(length, stream._drop if late else stream._feed)
        if Flag.FIN in flags:
            stream._on_fin()

    def _incoming(self, stream_id: int) -> None:
        """The peer opens ``stream_id``: queue it for accept, or reset it when full."""
        if (stream_id % 2 == 1) is (self._role is Role.CLIENT):
            raise ProtocolError(f"the peer opened stream {stream_id}, an ID of our parity")
        if stream_id in self._streams:
            raise ProtocolError(f"the peer opened stream {stream_id} twice")
        config = self.config
        if (
            self._local_go_away
            or self.num_streams >= config.max_streams
            or len(self._backlog) >= config.accept_backlog
        ):
            self.output.control(FrameType.WINDOW_UPDATE, Flag.RST, stream_id, 0)
            return
        stream = Stream(self, stream_id, outbound=False)
        self._streams[stream_id] = stream
        self._backlog[stream] = None
        self._accept_signal.fire()

    def _on_ping(self, header: Header) -> None:
        if Flag.SYN in header.flags:
            self.output.control(FrameType.PING, Flag.ACK, SESSION_ID, header.length)
            return
        answered = self._pings.pop(header.length, None)
        if answered is not None and not answered.done():
            answered.set_result(None)

    def _on_go_away(self, header: Header) -> None:
        code = header.length
        if code == GoAwayCode.NORMAL:
            self._remote_go_away = True
            self._wake_openers(everyone=True)  # open_stream waiters learn it at once
            return
        if code == GoAwayCode.PROTOCOL_ERROR:
            raise RemoteProtocolError("the peer ended the session: it says we broke the protocol")
        if code == GoAwayCode.INTERNAL_ERROR:
            raise RemoteProtocolError("the peer ended the session: an internal error of its own")
        raise RemoteProtocolError(f"the peer ended the session with unknown GO_AWAY code {code}")

    async def _send_loop(self) -> None:
        try:
            await self.output.run()
        except ConnectionError as exc:
            self._shutdown(SessionClosedError("the connection was lost"), cause=exc)

    async def _keepalive(self, interval: float) -> None:
        while not self._closing:
            await asyncio.sleep(interval)
            try:
                async with asyncio.timeout(self.config.keepalive_timeout):
                    await self.ping()
            except TimeoutError:
                self._shutdown(KeepaliveTimeoutError("a keepalive ping was not answered"))
            except SessionClosedError:
                return

    # -- the end -------------------------------------------------------------------------

    def _shutdown(
        self,
        reason: Exception,
        go_away: GoAwayCode | None = None,
        *,
        cause: BaseException | None = None,
    ) -> None:
        """Close the session for ``reason`` (first reason wins), telling the peer ``go_away``
        if given."""
        if self._closing:
            return
        if cause is not None:
            reason.__cause__ = cause
        if go_away is not None and not (go_away is GoAwayCode.NORMAL and self._local_go_away):
            self.output.control(FrameType.GO_AWAY, Flag.NONE, SESSION_ID, go_away)
        self._closing = True
        self._local_go_away = True
        self._close_reason = reason
        self._reader.stop()
        error = self._closed_error()
        for stream in list(self._streams.values()):
            stream._lost(error)
        for answered in self._pings.values():
            if not answered.done():
                answered.set_exception(error)
        self._pings.clear()
        self._accept_signal.fire()
        self._wake_openers(everyone=True)
        self.output.close()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        self._closer = self._loop.create_task(self._finish_close(), name="yamux close")

    async def _finish_close(self) -> None:
        """Let the connection flush what it holds (GO_AWAY), within the keepalive timeout,
        then drop it, and mark the session closed."""
        await self.output.wait_closed(self.config.keepalive_timeout)
        others = [task for task in self._tasks if task is not asyncio.current_task()]
        await asyncio.gather(*others, return_exceptions=True)
        self._closed.set()


def _drop(_chunk: bytes) -> None:
    """A sink for data nobody will read."""
