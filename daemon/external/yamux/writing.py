"""Writing frames to the connection: control frames at once, the streams' data in turns.

Control frames (SYN, ACK, FIN, RST, WINDOW_UPDATE, PING, GO_AWAY) are 12 bytes and go out
when they are made, in order.  DATA frames are taken by one sender task from the streams that
have data and window, a frame of at most :attr:`SessionConfig.max_data_frame` bytes each in
turn (so one large transfer does not hold up the other streams), and the sender waits for the
connection to drain once it is past its high-water mark; a stream that has data while no
other waits for a turn has its frame made at once.  Frames made in one turn of the event
loop leave in one write at its end (each write wakes the peer: a call's SYN and request,
or many calls' frames under load, are one).

So our output holds at most the connection's high-water mark, one data frame, and the
control frames made since: :meth:`FrameWriter.backpressure` is where the session's reader (and
``open_stream``, ``accept_stream``, ``ping``) wait when those pile up past :attr:`limit` —
a peer that sends but never reads is then slowed by its own buffers, not ours.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from docker_pass.daemon.external.yamux.frames import HEADER_SIZE, Flag, FrameType, encode_header
from docker_pass.daemon.external.yamux.stream import Signal

if TYPE_CHECKING:
    from docker_pass.daemon.external.yamux.stream import Stream

#: Control frames that may wait in our output beyond a full data frame before the session's
#: reader stops reading to let them drain.
CONTROL_SLACK = 64 * 1024


class FrameWriter:
    """Our end of the connection's writing side, for one session."""

    def __init__(self, writer: asyncio.StreamWriter, max_data_frame: int) -> None:
        self._writer = writer
        self._loop = asyncio.get_running_loop()
        self._max_frame = max_data_frame
        # Streams with data and window, in turn order (a dict: removal in O(1)).
        self._ready: dict[Stream, None] = {}
        self._ready_signal = Signal()
        self._closed = False
        #: Frames made in this turn of the event loop, sent together at its end (a call's
        #: SYN and request are one ``send``, not two: each wakes the peer).
        self._pending: list[bytes] = []
        self._pending_size = 0
        _low, self._high = writer.transport.get_write_buffer_limits()
        #: Past this many buffered bytes, :meth:`backpressure` waits.
        self.limit = self._high + max_data_frame + HEADER_SIZE + CONTROL_SLACK

    @property
    def buffered(self) -> int:
        """Bytes written that the connection has not taken yet."""
        return self._writer.transport.get_write_buffer_size() + self._pending_size

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._writer.get_extra_info(name, default)

    def control(self, kind: FrameType, flags: Flag, stream_id: int, length: int) -> None:
        """Write a 12-byte frame now, in order with every other (nothing once closed)."""
        if not self._closed and not self._writer.transport.is_closing():
            self._put(encode_header(kind, flags, stream_id, length))

    def schedule(self, stream: Stream) -> None:
        """``stream`` has data and window: give it a turn (now, if no other stream waits for
        one and the connection keeps up: the sender task need not wake for it)."""
        if self._closed or stream in self._ready or not stream._wants_to_send():
            return
        if not self._ready and self.buffered <= self._high:
            frame = stream._next_frame(self._max_frame)
            if frame is not None:
                self._put(frame)
            if not stream._wants_to_send():
                return
        self._ready[stream] = None
        self._ready_signal.fire()

    def unschedule(self, stream: Stream) -> None:
        self._ready.pop(stream, None)

    async def backpressure(self) -> None:
        """Wait while the output is past :attr:`limit`; ``ConnectionError`` if it is lost."""
        if self.buffered > self.limit:
            self._flush()
            await self._writer.drain()

    async def run(self) -> None:
        """Send the streams' data, a frame per turn, until cancelled; ``ConnectionError``
        when the connection is lost."""
        while True:
            while not self._ready:
                await self._ready_signal.wait()
            stream = next(iter(self._ready))
            del self._ready[stream]
            frame = stream._next_frame(self._max_frame)
            if frame is None:
                continue
            self._put(frame)
            if stream._wants_to_send():
                self._ready[stream] = None  # to the back of the round
            if self.buffered > self._high:
                self._flush()
                await self._writer.drain()

    def close(self) -> None:
        """Write nothing more; close the connection (at once when jammed, since it would
        not flush)."""
        self._closed = True
        self._ready.clear()
        if self.buffered > self.limit:
            self._pending.clear()
            self._pending_size = 0
            self._writer.transport.abort()
        else:
            self._flush()
            self._writer.close()

    def _put(self, frame: bytes) -> None:
        """Queue ``frame`` for the end of this turn of the loop."""
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(frame)
        self._pending_size += len(frame)

    def _flush(self) -> None:
        """Send the frames queued in this turn, in one write."""
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        if not self._writer.transport.is_closing():
            self._writer.write(data)

    async def wait_closed(self, timeout: float) -> None:
        """Wait for the connection to flush and close, dropping it after ``timeout``."""
        try:
            async with asyncio.timeout(timeout):
                await self._writer.wait_closed()
        except TimeoutError:
            # The peer does not read: what is left unsent goes with the connection.
            self._writer.transport.abort()
        except ConnectionError:
            pass
