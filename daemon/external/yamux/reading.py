"""Reading frames off the connection, each within the frame deadline.

The deadline runs from a frame's first byte to its last (header and payload): an idle
connection is not a late frame (keepalive watches that), but a peer that starts a frame and
stalls holds the session's reader for no longer than :attr:`SessionConfig.frame_timeout`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from docker_pass.daemon.external.yamux.errors import FrameTimeoutError, SessionClosedError
from docker_pass.daemon.external.yamux.frames import HEADER_SIZE, Header, decode_header

if TYPE_CHECKING:
    from collections.abc import Callable

#: Bytes of a DATA payload read from the connection at a time.
READ_CHUNK = 64 * 1024


class FrameReader:
    """The peer's frames, one header at a time, payloads in chunks as they come."""

    def __init__(self, reader: asyncio.StreamReader, frame_timeout: float | None) -> None:
        self._reader = reader
        self._timeout = frame_timeout
        self._deadline: float | None = None

    async def header(self) -> Header | None:
        """The next frame's header (see :func:`decode_header` for what it refuses);
        ``None`` when the connection ends between frames."""
        try:
            first = await self._reader.readexactly(1)
        except asyncio.IncompleteReadError:
            return None
        if self._timeout is not None:
            self._deadline = asyncio.get_running_loop().time() + self._timeout
        try:
            async with asyncio.timeout_at(self._deadline):
                rest = await self._reader.readexactly(HEADER_SIZE - 1)
        except TimeoutError:
            raise FrameTimeoutError("a frame header did not arrive in time") from None
        except asyncio.IncompleteReadError:
            raise SessionClosedError("the connection ended in the middle of a frame") from None
        return decode_header(first + rest)

    async def payload(self, length: int, sink: Callable[[bytes], None]) -> None:
        """Read the current frame's ``length`` payload bytes, handing each chunk to ``sink``
        as it comes (nothing holds the whole payload)."""
        try:
            async with asyncio.timeout_at(self._deadline):
                while length:
                    chunk = await self._reader.read(min(length, READ_CHUNK))
                    if not chunk:
                        raise SessionClosedError("the connection ended in the middle of a frame")
                    length -= len(chunk)
                    sink(chunk)
        except TimeoutError:
            raise FrameTimeoutError("a DATA frame's payload did not arrive in time") from None
