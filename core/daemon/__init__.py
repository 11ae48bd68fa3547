"""The optional engine daemon: a long-running engine that speaks the secrets engine's socket API.

- :mod:`.endpoint`: where the socket is and reaching it safely (standard library only).
- :mod:`.front`: :func:`open_engine`, the choice between the daemon and an embedded engine.
- :mod:`.server`: the daemon (``docker pass engine run``).
- :mod:`.client`: :class:`~.client.DaemonClient`, the engine's methods over the socket
  (Connect's JSON codec, standard library only).
- :mod:`.wire`: method paths, headers, the version rule and JSON message readers (standard
  library only; the client's and the daemon's common ground).
- :mod:`.protocol`: the daemon's side: core's objects as protobuf messages, Connect errors.
- ``gen/`` is generated from ``proto/`` by :mod:`.codegen`.

Only the daemon (:mod:`.server`, :mod:`.protocol`) imports protobuf and Connect: the fronts,
including the daemon's client, run on the standard library, so ``run`` through the daemon
never pays for those imports.
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
