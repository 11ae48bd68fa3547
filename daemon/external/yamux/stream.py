"""One yamux stream: a reliable, ordered, flow-controlled byte stream inside a session.

Its API reads like asyncio's streams: ``await read(n)`` / ``readexactly(n)`` on one side,
``write(data)`` + ``await drain()`` on the other, ``close()`` to half-close (send FIN) and
``reset()`` to end it at once (send RST).

Flow control is yamux's, per stream and each way:

- *Receiving.*  The peer may send :attr:`SessionConfig.stream_window` bytes before we read
  any; each byte it sends shrinks its allowance (``_recv_window``), and a frame larger than
  what is left is a protocol error (the session reader checks, before reading the payload).
  As the reader consumes, a WINDOW_UPDATE gives the space back once at least half the window
  is free (hashicorp/yamux's rule).  So what we buffer is never more than we advertised.
- *Sending.*  ``write`` only appends to the stream's buffer; the session's sender takes frames
  from it no larger than the peer's window (``_send_window``, grown by its WINDOW_UPDATEs),
  and ``drain`` waits while the buffer is above the high-water mark, as asyncio's does.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

from docker_pass.daemon.external.yamux.errors import (
    ProtocolError,
    StreamClosedError,
    StreamResetError,
)
from docker_pass.daemon.external.yamux.frames import (
    INITIAL_WINDOW,
    MAX_UINT32,
    Flag,
    FrameType,
    encode_header,
)

if TYPE_CHECKING:
    from docker_pass.daemon.external.yamux.session import Session


class Signal:
    """Wakes every task waiting on it; each one then checks again what it waits for."""

    __slots__ = ("_waiters",)

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    async def wait(self) -> None:
        """Wait for the next :meth:`fire`."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await waiter
        finally:
            # A waiter cancelled (a caller's timeout) leaves nothing behind.
            self._waiters.discard(waiter)

    def fire(self) -> None:
        """Wake every waiter."""
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


class StreamListener(Protocol):
    """What a stream tells whoever sits on it (the transport adapter) when its state changes:
    data or EOF came, the writer paused or resumed, FIN went out, the stream ended."""

    def stream_changed(self) -> None: ...


class Stream:
    """A stream of a :class:`~docker_pass.daemon.external.yamux.session.Session`.

    Made by the session (``open_stream``, ``accept_stream``), never directly.
    """

    def __init__(self, session: Session, stream_id: int, *, outbound: bool) -> None:
        self._session = session
        self._id = stream_id
        config = session.config
        self._max_window = config.stream_window
        # Receiving: what the peer may still send, and what it sent that nobody read yet.
        self._recv_window = INITIAL_WINDOW
        self._recv_buf = bytearray()
        self._remote_closed = False  # the peer's FIN came
        self._discarding = False  # nobody will read: drop what comes and give the window back
        self._readable = Signal()
        # Sending: the peer's window, and what was written but not yet framed.
        self._send_window = INITIAL_WINDOW
        self._send_buf = bytearray()
        self._high_water = config.write_high_water
        self._low_water = config.write_low_water
        self._write_paused = False
        self._writable = Signal()
        self._local_closed = False  # close() was called
        self._fin_pending = False  # FIN goes out after the last buffered byte
        self._fin_sent = False
        # An outbound stream waits for the peer's ACK (or RST); an inbound one for accept.
        self._syn_pending = outbound
        # How it ended: reset (by either side: buffers dropped at once) or the session lost
        # (what was buffered can still be read); None while it lives or after a clean close.
        self._error: Exception | None = None
        self._reset = False
        self._finished = False
        self._done = asyncio.Event()
        self._close_timer: asyncio.TimerHandle | None = None
        self._listener: StreamListener | None = None

    # -- what anyone may ask -------------------------------------------------------------

    @property
    def id(self) -> int:
        """The stream's ID (odd when the client opened it, even when the server did)."""
        return self._id

    @property
    def session(self) -> Session:
        """The session the stream belongs to."""
        return self._session

    @property
    def send_window(self) -> int:
        """Bytes the peer lets us send now."""
        return self._send_window

    @property
    def buffered(self) -> tuple[int, int]:
        """Bytes held (received and unread, written and unsent)."""
        return len(self._recv_buf), len(self._send_buf)

    def at_eof(self) -> bool:
        """True once the peer's FIN came and everything before it was read."""
        return self._remote_closed and not self._recv_buf

    def is_closed(self) -> bool:
        """True once the stream is over: closed both ways, reset, or its session closed."""
        return self._finished

    def __repr__(self) -> str:
        if self._finished:
            state = "reset" if self._reset else "closed"
        else:
            local = "closed" if self._local_closed else "open"
            remote = "closed" if self._remote_closed else "open"
            state = f"local {local}, remote {remote}"
        return f"<yamux Stream {self._id} {state}>"

    # -- reading -------------------------------------------------------------------------

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all until EOF when ``n`` is negative); ``b""`` at EOF.

        Raises :class:`StreamResetError` once the stream is reset, and the session's error
        when it closed before the peer's FIN (after what was buffered is read).
        """
        if n < 0:
            chunks = []
            while chunk := await self.read(self._max_window):
                chunks.append(chunk)
            return b"".join(chunks)
        while True:
            if self._reset:
                raise self._failure()
            if self._recv_buf or n == 0:
                data = bytes(self._recv_buf[:n])
                del self._recv_buf[:n]
                self._update_window()
                return data
            if self._remote_closed:
                return b""
            if self._error is not None:
                raise self._failure()
            await self._readable.wait()

    async def readexactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes; ``asyncio.IncompleteReadError`` if EOF comes first."""
        out = bytearray()
        # Read as it comes (each read gives window back), never waiting for n bytes to be
        # buffered at once: n may be larger than the window.
        while len(out) < n:
            chunk = await self.read(n - len(out))
            if not chunk:
                raise asyncio.IncompleteReadError(bytes(out), n)
            out += chunk
        return bytes(out)

    def _update_window(self) -> None:
        """Give the peer back the space the reader freed, once it is half the window or more
        (fewer, larger WINDOW_UPDATEs, as hashicorp/yamux sends them)."""
        if self._finished or self._remote_closed:
            return
        delta = self._max_window - len(self._recv_buf) - self._recv_window
        if delta < self._max_window // 2:
            return
        self._recv_window += delta
        self._session.output.control(FrameType.WINDOW_UPDATE, Flag.NONE, self._id, delta)

    # -- writing -------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue ``data`` to send; call :meth:`drain` to wait while too much is queued.

        Raises :class:`StreamClosedError` after :meth:`close`, :class:`StreamResetError`
        after a reset, the session's error after it closed.
        """
        if self._error is not None:
            raise self._failure()
        if self._local_closed:
            raise StreamClosedError(f"stream {self._id} is closed for writing")
        if not data:
            return
        self._send_buf += data
        self._session.output.schedule(self)
        if not self._write_paused and len(self._send_buf) > self._high_water:
            self._write_paused = True
            self._changed()

    async def drain(self) -> None:
        """Wait until the write buffer is down to the low-water mark (at once when it is not
        above the high-water mark); raise if the stream or its session ended meanwhile."""
        while True:
            if self._error is not None:
                raise self._failure()
            if not self._write_paused:
                return
            await self._writable.wait()

    def close(self) -> None:
        """Half-close: send FIN after what is buffered, and write nothing more.  Reading goes
        on until the peer's FIN.  Does nothing if already closed or ended."""
        if self._local_closed or self._finished:
            return
        self._local_closed = True
        timeout = self._session.config.stream_close_timeout
        if timeout is not None:
            # A peer that never takes our last bytes or never sends its FIN would hold the
            # stream (and a slot of max_streams) for ever: after the timeout it is reset, as
            # hashicorp/yamux does.
            self._close_timer = asyncio.get_running_loop().call_later(timeout, self.reset)
        if self._send_buf:
            self._fin_pending = True  # the sender sends FIN after the last byte
            return
        self._session.output.control(FrameType.WINDOW_UPDATE, Flag.FIN, self._id, 0)
        self._after_fin()

    def write_eof(self) -> None:
        """The same as :meth:`close` (asyncio's name for a half-close)."""
        self.close()

    def can_write_eof(self) -> bool:
        """Always True: a yamux stream can be half-closed."""
        return True

    def reset(self) -> None:
        """End the stream at once, both ways (send RST); buffered data is dropped.  Does
        nothing once the stream is over."""
        if self._finished:
            return
        self._session.output.control(FrameType.WINDOW_UPDATE, Flag.RST, self._id, 0)
        self._end(StreamResetError(f"stream {self._id} was reset locally"), reset=True)

    async def wait_closed(self) -> None:
        """Wait until the stream is over (closed both ways, reset, or its session closed)."""
        await self._done.wait()

    def discard_input(self) -> None:
        """Nobody will read this stream again: drop what is buffered, and from now on drop
        what comes, giving the window back so the peer can finish and send its FIN."""
        self._discarding = True
        self._recv_buf.clear()
        self._update_window()

    # -- the session's side --------------------------------------------------------------

    def _open(self) -> None:
        """Send the SYN that opens this stream (a WINDOW_UPDATE, with our window's growth
        past the initial one if the session's is larger)."""
        self._announce(Flag.SYN)

    def _accept(self) -> None:
        """Send the ACK that accepts this stream the peer opened."""
        self._announce(Flag.ACK)

    def _announce(self, flag: Flag) -> None:
        delta = self._max_window - INITIAL_WINDOW
        self._recv_window += delta
        self._session.output.control(FrameType.WINDOW_UPDATE, flag, self._id, delta)

    def _failure(self) -> Exception:
        # Called only once _error is set; the fallback keeps the type exact without assert.
        return self._error or StreamResetError(f"stream {self._id} is over")

    def _set_listener(self, listener: StreamListener | None) -> None:
        self._listener = listener

    def _changed(self) -> None:
        if self._listener is not None:
            self._listener.stream_changed()

    def _take(self, n: int) -> bytes:
        """Up to ``n`` buffered bytes, consumed (for the transport adapter)."""
        data = bytes(self._recv_buf[:n])
        del self._recv_buf[:n]
        self._update_window()
        return data

    def _on_flags(self, flags: Flag) -> None:
        """Apply a stream frame's ACK and RST (before its data, as hashicorp/yamux does)."""
        if Flag.ACK in flags and self._syn_pending:
            self._syn_pending = False
            self._session._established(self)
        if Flag.RST in flags:
            self._end(StreamResetError(f"stream {self._id} was reset by the peer"), reset=True)

    def _on_fin(self) -> None:
        """The peer's FIN, applied after the data of its frame is all in (a reader must not
        see EOF while the payload before it is still on its way)."""
        if self._finished:
            return
        if self._remote_closed:
            raise ProtocolError(f"a second FIN on stream {self._id}")
        self._remote_closed = True
        self._readable.fire()
        self._changed()
        if self._fin_sent:
            self._end(None)

    def _take_window(self, length: int) -> None:
        """Count ``length`` incoming bytes against what we advertised, or raise."""
        if length > self._recv_window:
            raise ProtocolError(
                f"stream {self._id}: {length} bytes sent into a window of {self._recv_window}"
            )
        self._recv_window -= length

    def _feed(self, chunk: bytes) -> None:
        """Bytes of a DATA frame, already counted by :meth:`_take_window`."""
        if self._reset:
            return
        if self._discarding:
            self._drop(chunk)
            return
        self._recv_buf += chunk
        self._readable.fire()
        self._changed()

    def _drop(self, _chunk: bytes) -> None:
        """Bytes nobody will read (or that came after the peer's own FIN): counted as read,
        so the window goes back to the peer."""
        self._update_window()

    def _on_window_update(self, delta: int) -> None:
        # Clamped: a window past 2**32 - 1 cannot be expressed, and a peer's claim of one
        # (a 10 GB update) must not make us send more per frame than a length field holds.
        self._send_window = min(self._send_window + delta, MAX_UINT32)
        if self._send_buf:
            self._session.output.schedule(self)

    def _wants_to_send(self) -> bool:
        return self._error is None and bool(self._send_buf) and self._send_window > 0

    def _next_frame(self, max_frame: int) -> bytes | None:
        """The next DATA frame to send, taken from the buffer within the peer's window."""
        if not self._wants_to_send():
            return None
        n = min(len(self._send_buf), self._send_window, max_frame)
        chunk = bytes(self._send_buf[:n])
        del self._send_buf[:n]
        self._send_window -= n
        frame = encode_header(FrameType.DATA, Flag.NONE, self._id, n) + chunk
        if self._write_paused and len(self._send_buf) <= self._low_water:
            self._write_paused = False
            self._writable.fire()
            self._changed()
        if self._fin_pending and not self._send_buf:
            # The FIN goes in a WINDOW_UPDATE of its own after the last data, as
            # hashicorp/yamux sends it: a Go reader that gets FIN on a DATA frame can see
            # EOF before that frame's payload (it applies the flags first, then copies).
            frame += encode_header(FrameType.WINDOW_UPDATE, Flag.FIN, self._id, 0)
            self._fin_pending = False
            self._after_fin()
        return frame

    def _after_fin(self) -> None:
        self._fin_sent = True
        self._changed()
        if self._remote_closed:
            self._end(None)

    def _lost(self, exc: Exception) -> None:
        """The session closed: what is buffered can still be read, nothing else happens."""
        self._end(exc)

    def _end(self, exc: Exception | None, *, reset: bool = False) -> None:
        """The stream is over: ``exc`` is None for a clean close both ways."""
        if self._finished:
            return
        self._finished = True
        self._error = exc
        if reset:
            self._reset = True
            self._recv_buf.clear()
        self._send_buf.clear()
        self._fin_pending = False
        self._write_paused = False
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        self._readable.fire()
        self._writable.fire()
        self._session._forget(self)
        self._done.set()
        self._changed()
