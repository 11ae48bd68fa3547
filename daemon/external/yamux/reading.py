"""Reading frames off the connection, each within the frame deadline.

The deadline runs from a frame's first byte to its last (header and payload): an idle
connection is not a late frame (keepalive watches that), but a peer that starts a frame and
stalls holds the session's reader for no longer than :attr:`SessionConfig.frame_timeout`.

One timer per session keeps it, not one per frame: a frame's start is noted (one assignment),
and the timer, set for the deadline of the frame being read when it was armed, looks again
when it fires: the frame late by then is the end of the session; a later frame, or none, sets
it again or lets it rest.  (A timer per frame, set and cancelled, was most of what reading a
small frame cost.)
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from docker_pass.daemon.external.yamux.errors import FrameTimeoutError, SessionClosedError
from docker_pass.daemon.external.yamux.frames import HEADER_SIZE, FrameType, Header, decode_header

if TYPE_CHECKING:
    from collections.abc import Callable

#: Bytes of a DATA payload read from the connection at a time.
READ_CHUNK = 64 * 1024


class FrameReader:
    """The peer's frames, one header at a time, payloads in chunks as they come.

    Read from one task only (the session's reader): a frame past its deadline cancels that
    task's wait, which then raises :class:`FrameTimeoutError`.
    """

    def __init__(self, reader: asyncio.StreamReader, frame_timeout: float | None) -> None:
        self._reader = reader
        self._timeout = frame_timeout
        #: When the frame being read began (loop time); ``None`` between frames.
        self._started: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[object] | None = None
        #: Set when the timer found a frame late (its cancellation is a timeout).
        self._late = False

    async def header(self) -> Header | None:
        """The next frame's header (see :func:`decode_header` for what it refuses);
        ``None`` when the connection ends between frames."""
        try:
            first = await self._reader.readexactly(1)
        except asyncio.IncompleteReadError:
            self.stop()
            return None
        self._begin()
        try:
            rest = await self._reader.readexactly(HEADER_SIZE - 1)
        except asyncio.IncompleteReadError:
            raise SessionClosedError("the connection ended in the middle of a frame") from None
        except asyncio.CancelledError:
            self._raise_if_late("a frame header did not arrive in time")
            raise
        header = decode_header(first + rest)
        if header.type is not FrameType.DATA or not header.length:
            self._started = None  # whole: no payload follows
        return header

    async def payload(self, length: int, sink: Callable[[bytes], None]) -> None:
        """Read the current frame's ``length`` payload bytes, handing each chunk to ``sink``
        as it comes (nothing holds the whole payload)."""
        try:
            while length:
                chunk = await self._reader.read(min(length, READ_CHUNK))
                if not chunk:
                    raise SessionClosedError("the connection ended in the middle of a frame")
                length -= len(chunk)
                sink(chunk)
        except asyncio.CancelledError:
            self._raise_if_late("a DATA frame's payload did not arrive in time")
            raise
        self._started = None

    def stop(self) -> None:
        """No more frames will be read: the timer goes."""
        self._started = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _begin(self) -> None:
        """A frame's first byte came: its deadline runs from now."""
        if self._timeout is None:
            return
        loop = asyncio.get_running_loop()
        self._started = started = loop.time()
        if self._timer is None:
            self._task = asyncio.current_task()
            self._timer = loop.call_at(started + self._timeout, self._look)

    def _look(self) -> None:
        """The timer fired: end the read of a frame past its deadline, else wait for the
        deadline of the one being read (none: rest until the next frame sets it)."""
        self._timer = None
        started, task = self._started, self._task
        if started is None or task is None or task.done() or self._timeout is None:
            return
        loop = asyncio.get_running_loop()
        deadline = started + self._timeout
        if loop.time() >= deadline:
            self._late = True
            task.cancel()
        else:
            self._timer = loop.call_at(deadline, self._look)

    def _raise_if_late(self, what: str) -> None:
        """In a cancelled read: if the timer cancelled it, raise the timeout instead (and
        take back the cancellation, as ``asyncio.timeout`` does)."""
        if not self._late:
            return
        self._late = False
        self.stop()
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        raise FrameTimeoutError(what) from None
