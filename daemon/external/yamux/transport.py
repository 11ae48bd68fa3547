"""A yamux stream as an asyncio transport, so HTTP code written for sockets runs over it.

Why a transport (and not only a ``(StreamReader, StreamWriter)``-like pair): uvicorn's HTTP
protocol (``H11Protocol``, which the engine daemon already serves Connect with) is an
``asyncio.Protocol`` and needs a transport under it — ``write``, ``close``, ``is_closing``,
``pause_reading``/``resume_reading`` for its flow control, ``get_extra_info`` for the peer —
while asyncio's own ``StreamReader``/``StreamWriter`` pair can be built over any transport
(:func:`open_connection`), which is what an h11 client wants.  One adapter serves both.

Flow control carries through: a protocol that pauses reading stops the stream's reads, so
no WINDOW_UPDATE goes out and the peer stops sending; the transport pauses the protocol's
writing while the stream's write buffer is above its high-water mark.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from docker_pass.daemon.external.yamux.errors import SessionClosedError

if TYPE_CHECKING:
    from collections.abc import Callable

    from docker_pass.daemon.external.yamux.session import Session
    from docker_pass.daemon.external.yamux.stream import Stream

log = logging.getLogger("docker_pass.yamux")

#: The stream itself, under this name in :meth:`StreamTransport.get_extra_info`.
STREAM_INFO = "yamux_stream"
#: Bytes handed to the protocol per ``data_received``, at most.
_DELIVERY_CHUNK = 64 * 1024


class StreamTransport(asyncio.Transport):
    """An ``asyncio.Transport`` over one :class:`Stream`, driving one ``asyncio.Protocol``.

    ``write_eof`` half-closes the stream (FIN); ``close`` also stops reading and, once what
    was written is sent with FIN, calls ``connection_lost(None)``; ``abort`` resets it (RST).
    ``get_extra_info`` answers ``"yamux_stream"`` with the stream, and anything else with the
    session's underlying connection (``socket``, ``peername``…: the socket is every stream's,
    to ask about — its peer's credentials — never to read or write).
    """

    def __init__(self, stream: Stream, protocol: asyncio.Protocol) -> None:
        super().__init__()
        self._loop = asyncio.get_running_loop()
        self._stream = stream
        self._protocol = protocol
        self._reading = True
        self._closing = False
        self._eof_delivered = False
        self._writing_paused = False
        self._lost = False
        self._scheduled = False
        stream._set_listener(self)
        protocol.connection_made(self)
        # Data that came before the protocol did is delivered at the loop's next turn.
        self.stream_changed()

    # -- asyncio.BaseTransport -----------------------------------------------------------

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == STREAM_INFO:
            return self._stream
        return self._stream.session.get_extra_info(name, default)

    def is_closing(self) -> bool:
        return self._closing or self._lost

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._reading = False
        self._stream.discard_input()
        self._stream.close()
        self.stream_changed()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        if not isinstance(protocol, asyncio.Protocol):
            raise TypeError("a yamux stream transport drives an asyncio.Protocol")
        self._protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    # -- asyncio.ReadTransport -----------------------------------------------------------

    def is_reading(self) -> bool:
        return self._reading

    def pause_reading(self) -> None:
        self._reading = False

    def resume_reading(self) -> None:
        if self._closing or self._reading:
            return
        self._reading = True
        self.stream_changed()

    # -- asyncio.WriteTransport ----------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.is_closing() or self._stream._error is not None:
            # asyncio's socket transports drop writes after close or a lost connection,
            # without raising: the protocol learns of the loss from connection_lost.
            return
        self._stream.write(data)

    def write_eof(self) -> None:
        self._stream.close()

    def can_write_eof(self) -> bool:
        return True

    def abort(self) -> None:
        self._closing = True
        self._reading = False
        self._stream.reset()
        self.stream_changed()

    def get_write_buffer_size(self) -> int:
        return self._stream.buffered[1]

    def get_write_buffer_limits(self) -> tuple[int, int]:
        config = self._stream.session.config
        return config.write_low_water, config.write_high_water

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        # The limits are the session's, one pair for all its streams.
        return

    # -- the stream's side ---------------------------------------------------------------

    def stream_changed(self) -> None:
        """The stream changed: look at it soon (never from inside the session's reader)."""
        if not self._scheduled and not self._lost:
            self._scheduled = True
            self._loop.call_soon(self._pump)

    def _pump(self) -> None:
        self._scheduled = False
        if self._lost:
            return
        try:
            self._deliver()
        except Exception as exc:  # noqa: BLE001 - a protocol may raise anything; only its stream ends
            # As asyncio's own transports do when a protocol's callback raises.
            self._loop.call_exception_handler(
                {"message": "yamux: the stream's protocol failed", "exception": exc}
            )
            self._stream.reset()
            self._connection_lost(exc)

    def _deliver(self) -> None:
        stream = self._stream
        protocol = self._protocol
        paused = stream._write_paused
        if paused != self._writing_paused:
            self._writing_paused = paused
            if paused:
                protocol.pause_writing()
            else:
                protocol.resume_writing()
        while self._reading and stream.buffered[0]:
            protocol.data_received(stream._take(_DELIVERY_CHUNK))
        if self._reading and stream.at_eof() and not self._eof_delivered:
            self._eof_delivered = True
            if not protocol.eof_received():
                self.close()
        error = stream._error
        if stream.is_closed():
            if error is None:
                # Closed both ways: done once the protocol had the EOF (or stopped reading).
                if self._closing or self._eof_delivered:
                    self._connection_lost(None)
            elif self._closing or stream._reset or not stream.buffered[0]:
                # Reset, or the session lost once what it left buffered was delivered.
                self._connection_lost(None if self._closing else error)
        elif self._closing and stream._fin_sent:
            self._connection_lost(None)

    def _connection_lost(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._stream._set_listener(None)
        self._protocol.connection_lost(exc)


def attach(stream: Stream, protocol: asyncio.Protocol) -> StreamTransport:
    """Run ``protocol`` over ``stream`` (its ``connection_made`` is called at once)."""
    return StreamTransport(stream, protocol)


async def open_connection(
    session: Session, limit: int = 2**16
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open a stream and return asyncio's own reader and writer over it (as
    ``asyncio.open_connection`` does over a socket)."""
    loop = asyncio.get_running_loop()
    stream = await session.open_stream()
    reader = asyncio.StreamReader(limit=limit, loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport = attach(stream, protocol)
    return reader, asyncio.StreamWriter(transport, protocol, reader, loop)


async def serve(session: Session, protocol_factory: Callable[[], asyncio.Protocol]) -> None:
    """Run a new ``protocol_factory()`` protocol over each stream the peer opens, until the
    session closes."""
    while True:
        try:
            stream = await session.accept_stream()
        except SessionClosedError:
            return
        attach(stream, protocol_factory())
