"""The errors of the yamux sessions and streams, one hierarchy.

Each class says when it is raised.  Those that mean "this connection is gone" also subclass
the standard ``ConnectionError`` family, so HTTP code written for sockets (h11, uvicorn) treats
a lost stream the way it treats a lost socket.
"""

from __future__ import annotations


class YamuxError(Exception):
    """Base of every error this package raises."""


class ProtocolError(YamuxError):
    """The peer broke the yamux protocol: a frame that cannot be decoded (bad version, unknown
    type, bad flags or stream ID), data beyond the window we advertised, a duplicate or
    wrong-parity stream, an unexpected FIN.  The session is closed with GO_AWAY (protocol
    error) when its reader meets one."""


class FrameTimeoutError(ProtocolError, TimeoutError):
    """A frame the peer began did not arrive whole within the session's frame deadline."""


class SessionClosedError(YamuxError, ConnectionError):
    """The session is closed (by us, by the peer, or after an error), so the operation cannot
    go on.  Raised by session and stream calls made during or after the close; the session's
    :attr:`~docker_pass.daemon.external.yamux.session.Session.close_reason` says why it
    closed."""


class RemoteGoAwayError(YamuxError, ConnectionRefusedError):
    """The peer sent GO_AWAY: it accepts no new streams, so :meth:`open_stream` refuses."""


class RemoteProtocolError(YamuxError):
    """The peer closed the session with GO_AWAY carrying an error code (it says we broke the
    protocol, or that it failed inside): the session's close reason."""


class KeepaliveTimeoutError(YamuxError, TimeoutError):
    """A keepalive ping was not answered in time: the session's close reason."""


class StreamResetError(YamuxError, ConnectionResetError):
    """The stream was reset (RST), by the peer or by us; reads and writes on it raise this."""


class StreamClosedError(YamuxError):
    """A write on a stream whose sending side we already closed (FIN)."""


class StreamsExhaustedError(YamuxError):
    """This session has used every stream ID it may (2**32 - 2 of them): open another."""
