"""yamux (hashicorp/yamux, protocol version 0) over asyncio, standard library only.

Docker's plugin SDK multiplexes a plugin's one connection to the engine with yamux; no yamux
package exists for Python, so this is ours, written from the spec and checked against the Go
implementation (``tests/daemon/external``).

- :mod:`.frames`: the 12-byte header, encoded and decoded (the gate for the peer's frames);
- :mod:`.session`: :class:`Session`, client or server, over an asyncio ``(reader, writer)``;
- :mod:`.stream`: :class:`Stream`, with asyncio-like ``read``/``write``/``drain``;
- :mod:`.transport`: a stream as an ``asyncio.Transport`` (uvicorn's HTTP protocol on it, or
  asyncio's ``StreamReader``/``StreamWriter`` via :func:`open_connection`);
- :mod:`.config`: :class:`SessionConfig`, the windows, limits and deadlines;
- :mod:`.errors`: one hierarchy, rooted at :class:`YamuxError`.
"""

from __future__ import annotations

from docker_pass.daemon.external.yamux.config import SessionConfig
from docker_pass.daemon.external.yamux.errors import (
    FrameTimeoutError,
    KeepaliveTimeoutError,
    ProtocolError,
    RemoteGoAwayError,
    RemoteProtocolError,
    SessionClosedError,
    StreamClosedError,
    StreamResetError,
    StreamsExhaustedError,
    YamuxError,
)
from docker_pass.daemon.external.yamux.session import Role, Session
from docker_pass.daemon.external.yamux.stream import Stream
from docker_pass.daemon.external.yamux.transport import (
    StreamTransport,
    attach,
    open_connection,
    serve,
)

__all__ = [
    "FrameTimeoutError",
    "KeepaliveTimeoutError",
    "ProtocolError",
    "RemoteGoAwayError",
    "RemoteProtocolError",
    "Role",
    "Session",
    "SessionClosedError",
    "SessionConfig",
    "Stream",
    "StreamClosedError",
    "StreamResetError",
    "StreamTransport",
    "StreamsExhaustedError",
    "YamuxError",
    "attach",
    "open_connection",
    "serve",
]
