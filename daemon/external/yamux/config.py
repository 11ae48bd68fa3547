"""A session's settings: its windows, its limits, its deadlines.

The defaults follow hashicorp/yamux's ``DefaultConfig`` where it has the setting (backlog 256,
keepalive every 30 s, 10 s for a ping's answer, 256 KiB windows, 5 minutes for a half-closed
stream); the limits it lacks (open streams, the frame deadline, the write buffers) are ours.
"""

from __future__ import annotations

from dataclasses import dataclass

from docker_pass.daemon.external.yamux.frames import INITIAL_WINDOW, MAX_UINT32


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """How a :class:`~docker_pass.daemon.external.yamux.session.Session` behaves.

    Every bound here is what keeps a hostile or broken peer from costing more than it: no
    queue, buffer or wait in a session grows with what the peer sends.
    """

    #: Streams the peer opened that wait for :meth:`accept_stream`: past it, the peer's new
    #: streams are reset.
    accept_backlog: int = 256
    #: Streams we opened that the peer has not yet acknowledged: past it, our
    #: ``open_stream`` waits (``None``: :attr:`accept_backlog`, hashicorp/yamux's one
    #: setting for both; a peer with its default resets none of ours below 256).
    open_backlog: int | None = None
    #: Streams open at once, both ways: past it, the peer's new streams are reset and our
    #: ``open_stream`` waits for one to close.
    max_streams: int = 1024
    #: The receive window of each stream, in bytes: what the peer may send before we read.
    #: Each stream buffers at most this much of the peer's data.
    stream_window: int = INITIAL_WINDOW
    #: Largest DATA frame we send (smaller frames share the connection fairly among streams).
    max_data_frame: int = 64 * 1024
    #: A stream's write buffer pauses its writer (``drain`` waits) above this many bytes, and
    #: resumes it at :attr:`write_low_water` or below.
    write_high_water: int = 64 * 1024
    write_low_water: int = 16 * 1024
    #: Seconds between keepalive pings; ``None`` sends none.
    keepalive_interval: float | None = 30.0
    #: Seconds a keepalive ping may wait for its answer before the session is closed.
    keepalive_timeout: float = 10.0
    #: Seconds a frame may take to arrive whole once its first byte has come; ``None`` waits
    #: for ever.  (An idle connection is not a late frame: keepalive watches that.)
    frame_timeout: float | None = 30.0
    #: Seconds a stream we half-closed waits for the peer's FIN before it is reset and
    #: forgotten; ``None`` waits for ever.
    stream_close_timeout: float | None = 300.0

    def __post_init__(self) -> None:
        if self.accept_backlog < 1 or self.max_streams < 1 or (self.open_backlog or 1) < 1:
            raise ValueError("accept_backlog, open_backlog and max_streams must be positive")
        if not INITIAL_WINDOW <= self.stream_window <= MAX_UINT32:
            raise ValueError(f"stream_window must be between {INITIAL_WINDOW} and {MAX_UINT32}")
        if self.max_data_frame < 1:
            raise ValueError("max_data_frame must be positive")
        if not 0 <= self.write_low_water <= self.write_high_water:
            raise ValueError("write_low_water must be between 0 and write_high_water")
        for name in ("keepalive_interval", "frame_timeout", "stream_close_timeout"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive or None")
        if self.keepalive_timeout <= 0:
            raise ValueError("keepalive_timeout must be positive")
