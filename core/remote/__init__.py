"""Reaching a running engine daemon from the fronts, in the standard library alone.

- :mod:`.endpoint`: where the socket is and reaching it safely.
- :mod:`.front`: :func:`open_engine`, the choice between the daemon and an embedded engine.
- :mod:`.client`: :class:`~.client.DaemonClient`, the engine's methods over the socket
  (Connect's JSON codec); :mod:`.transport`, HTTP/1.1 on the socket; :mod:`.answers`, the
  errors and headers of an answer.
- :mod:`.wire`: method paths, headers, the version rule and JSON message readers (the client's
  and the daemon's common ground).

The daemon itself (server, protobuf mapping, generated code) is :mod:`docker_pass.daemon`; only it
imports protobuf and Connect, so ``run`` through the daemon never pays for those imports.
"""

from __future__ import annotations

from docker_pass.core.remote.endpoint import SOCKET_ENV, SocketLocation, socket_location
from docker_pass.core.remote.front import PROBE_TIMEOUT, EngineFront, find_daemon, open_engine

__all__ = [
    "PROBE_TIMEOUT",
    "SOCKET_ENV",
    "EngineFront",
    "SocketLocation",
    "find_daemon",
    "open_engine",
    "socket_location",
]
