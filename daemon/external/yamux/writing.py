"""Writing frames to the connection: control frames at once, the streams' data in turns.

Control frames (SYN, ACK, FIN, RST, WINDOW_UPDATE, PING, GO_AWAY) are 12 bytes and go out
when they are made, in order.  DATA frames are taken by one sender task from the streams that
have data and window, a frame of at most :attr:`SessionConfig.max_data_frame` bytes each in
turn (so one large transfer does not hold up the other streams), and the sender waits for the
connection to drain between frames.

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
        self._max_frame = max_data_frame
        # Streams with data and window, in turn order (a dict: removal in O(1)).
        self._ready: dict[Stream, None] = {}
        self._ready_signal = Signal()
        self._closed = False
        _low, high = writer.transport.get_write_buffer_limits()
        #: Past this many buffered bytes, :meth:`backpressure` waits.
        self.limit = high + max_data_frame + HEADER_SIZE + CONTROL_SLACK

    @property
    def buffered(self) -> int:
        """Bytes written that the connection has not taken yet."""
        return self._writer.transport.get_write_buffer_size()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._writer.get_extra_info(name, default)

    def control(self, kind: FrameType, flags: Flag, stream_id: int, length: int) -> None:
        """Write a 12-byte frame now (nothing once closed)."""
        if not self._closed and not self._writer.transport.is_closing():
            self._writer.write(encode_header(kind, flags, stream_id, length))

    def schedule(self, stream: Stream) -> None:
        """``stream`` has data and window: give it a turn."""
        if not self._closed and stream not in self._ready and stream._wants_to_send():
            self._ready[stream] = None
            self._ready_signal.fire()

    def unschedule(self, stream: Stream) -> None:
        self._ready.pop(stream, None)

    async def backpressure(self) -> None:
        """Wait while the output is past :attr:`limit`; ``ConnectionError`` if it is lost."""
        if self.buffered > self.limit:
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
            self._writer.write(frame)
            if stream._wants_to_send():
                self._ready[stream] = None  # to the back of the round
            await self._writer.drain()

    def close(self) -> None:
        """Write nothing more; close the connection (at once when jammed, since it would
        not flush)."""
        self._closed = True
        self._ready.clear()
        if self.buffered > self.limit:
            self._writer.transport.abort()
        else:
            self._writer.close()

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
