"""The optional engine daemon: a long-running engine that speaks the secrets engine's socket API.

- :mod:`.endpoint`: where the socket is and reaching it safely (standard library only).
- :mod:`.front`: :func:`open_engine`, the choice between the daemon and an embedded engine.
- :mod:`.server`: the daemon (``docker pass engine run``).
- :mod:`.client`: :class:`~.client.DaemonClient`, the engine's methods over the socket.
- :mod:`.protocol`: versions, headers, errors and message mapping shared by both.
- ``gen/`` is generated from ``proto/`` by :mod:`.codegen`.

Importing this package imports neither protobuf nor Connect: commands that never meet a daemon
never pay for them.
"""

from __future__ import annotations

from docker_pass.core.daemon.endpoint import SOCKET_ENV, SocketLocation, socket_location
from docker_pass.core.daemon.front import PROBE_TIMEOUT, EngineFront, find_daemon, open_engine

__all__ = [
    "PROBE_TIMEOUT",
    "SOCKET_ENV",
    "EngineFront",
    "SocketLocation",
    "find_daemon",
    "open_engine",
    "socket_location",
]
