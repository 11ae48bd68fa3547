"""What keeps the engine daemon from wedging: deadlines, limits, and an engine thread it can
walk away from.

A plugin can hang (a 1Password prompt nobody answers), a client can connect and say nothing, a
burst of clients can use up the process's file descriptors.  None of these may stop the daemon
from answering everyone else, from answering ``GetVersion``, or from stopping on SIGTERM:

- **Deadlines.**  Every Connect request has one: its ``Connect-Timeout-Ms`` header when the
  client sends one (Connect's rule), else :attr:`ServerLimits.request_timeout` seconds
  (default :data:`DEFAULT_REQUEST_TIMEOUT`; ``engine run --request-timeout``, config key
  ``engine.request_timeout``).  :func:`with_default_deadline` adds the header when it is
  missing, so connectrpc's own deadline covers reading the request, the handler and writing
  the answer alike, and answers ``deadline_exceeded`` when it passes.
- **Engine threads that can be abandoned** (:mod:`.engine_calls`): the event loop never
  waits for a plugin, and a request whose deadline passes is answered while its call runs on.
- **Plugin deadlines** (:mod:`docker_pass.core.plugin_calls`): every call into a plugin ends
  for the engine at that plugin's deadline (25 s unless configured, below the request's 30 s),
  so a request that asked several plugins is answered with what the others found, and no
  engine thread is held by a plugin past it.
- **Idle connections** with no request in progress are closed :attr:`ServerLimits.idle_timeout`
  seconds after they were opened or last answered (``--idle-timeout``,
  ``engine.idle_timeout``): a client that connects and sends nothing, or half a request,
  holds a descriptor for seconds, not forever.
- **A connection limit** (``--max-connections``, ``engine.max_connections``), held below the
  process's descriptor limit by :data:`DESCRIPTOR_RESERVE` so plugins, logs and new clients
  always have descriptors: a connection past it is answered ``unavailable`` and closed at once.
  A connection an external plugin hijacked (:mod:`.hijack`) leaves this count and the idle
  rule: it is bounded by the number of external plugins instead (:mod:`.external.host`).
- **The Docker proxy** (:mod:`.docker.proxy`) keeps the same rules on its own socket: the idle
  rule (which bounds a request head that never ends), and a connection limit of its own that
  :func:`connection_limits` fits beside the engine socket's within the descriptor limit.
- **Out of descriptors anyway** (EMFILE on accept, say because a plugin leaks them):
  :class:`PacedListener` makes asyncio stop accepting for a second, log one line, and try
  again, instead of retrying (and logging a traceback) for every pending connection.
"""

from __future__ import annotations

import errno
import json
import logging
import math
import resource
import socket
import time
from collections.abc import MutableMapping
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

if TYPE_CHECKING:
    import asyncio

    from docker_pass.daemon.hijack import HijackAcceptor

log = logging.getLogger("docker_pass.engine")

Scope = MutableMapping[str, Any]

#: Seconds a request may take when its client sets no deadline (1Password can be slow).
DEFAULT_REQUEST_TIMEOUT = 30.0
#: Seconds a connection with no request in progress stays open.
DEFAULT_IDLE_TIMEOUT = 5.0
#: Connections served at once: a burst of clients (tests/daemon/test_load.py runs 500 at once)
#: fits; on a system whose descriptor limit is lower, the limit shrinks to fit it.
DEFAULT_MAX_CONNECTIONS = 1024
#: Descriptors the connection limit leaves for everything else (plugins' files, D-Bus and
#: pipes, logs, the listening socket, and the connection being refused).
DESCRIPTOR_RESERVE = 64
#: Descriptors one Docker proxy connection holds: the client's and the engine's.
PROXY_DESCRIPTORS = 2
#: Seconds plugins get to stop on shutdown; a plugin stuck in a call is left behind after it.
ENGINE_CLOSE_TIMEOUT = 3.0

_TIMEOUT_HEADER = b"connect-timeout-ms"
#: Seconds between warnings that connections cannot be accepted.
STARVED_WARNING_INTERVAL = 30.0
#: The errors asyncio answers by pausing its accepts (asyncio.selector_events).
_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """The daemon's deadlines and limits (``engine run`` options; defaults in this module)."""

    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS


def with_default_deadline(scope: Scope, seconds: float) -> Scope:
    """``scope`` with a ``Connect-Timeout-Ms`` header of ``seconds`` unless it has one.

    The header is Connect's deadline: a client's own one always wins, and connectrpc applies
    either to the whole request, so the server default needs no second mechanism.
    """
    headers = list(scope.get("headers", ()))
    if any(name.lower() == _TIMEOUT_HEADER for name, _ in headers):
        return scope
    millis = max(1, round(seconds * 1000))
    return {**scope, "headers": [*headers, (_TIMEOUT_HEADER, str(millis).encode())]}


# -- connections ---------------------------------------------------------------------------------


class ConnectionGuard:
    """The connection limit of one server, and saying once when it is reached.

    ``max_connections``: the limit (else ``limits.max_connections``, held below the descriptor
    limit); ``server``: how log lines name the server (the engine socket's say nothing).
    """

    def __init__(
        self, limits: ServerLimits, *, max_connections: int | None = None, server: str = ""
    ) -> None:
        self.limits = limits
        self.max_connections = (
            max_connections
            if max_connections is not None
            else _within_descriptors(limits.max_connections)
        )
        self._prefix = f"{server}: " if server else ""
        self._refusing = False
        #: Connections counted in by :meth:`take`, not yet released.
        self.open = 0
        #: Connections refused so far.
        self.refused = 0

    def take(self) -> bool:
        """Count a new connection in if the limit allows it (:attr:`open` counts those taken
        and not yet released)."""
        if not self.admit(self.open):
            return False
        self.open += 1
        return True

    def release(self) -> None:
        """A connection counted in by :meth:`take` has closed."""
        self.open -= 1

    def admit(self, open_connections: int) -> bool:
        """Whether a new connection may be served while ``open_connections`` others are."""
        if open_connections < self.max_connections:
            if self._refusing:
                log.info(
                    "%sserving new connections again (%d open)", self._prefix, open_connections
                )
                self._refusing = False
            return True
        self.refused += 1
        if not self._refusing:
            log.warning(
                "%s%d connections open, the limit: refusing new ones until some close",
                self._prefix,
                open_connections,
            )
            self._refusing = True
        return False


def connection_limits(limits: ServerLimits, *, docker_proxy: bool) -> tuple[int, int]:
    """The engine socket's connection limit and the Docker proxy's (0 without a proxy).

    Both servers share the process's descriptors: together they stay
    :data:`DESCRIPTOR_RESERVE` below its limit, each proxied connection counting
    :data:`PROXY_DESCRIPTORS`, so a flood of proxy clients can never leave the engine socket
    (``GetVersion``, the CLI's lookups) without a descriptor to accept with.  Where the
    descriptor limit is too low for ``limits.max_connections`` on each, half of what is free
    goes to the engine socket and half to the proxy.
    """
    wanted = limits.max_connections
    if not docker_proxy:
        return _within_descriptors(wanted), 0
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + PROXY_DESCRIPTORS * wanted + DESCRIPTOR_RESERVE
    if soft == resource.RLIM_INFINITY or needed <= soft:
        return wanted, wanted
    free = max(2, soft - DESCRIPTOR_RESERVE)
    engine = max(1, min(wanted, free // 2))
    proxy = max(1, min(wanted, (free - engine) // PROXY_DESCRIPTORS))
    log.warning(
        "only %d file descriptors (RLIMIT_NOFILE): serving at most %d connections on the "
        "engine socket and %d on the Docker proxy, not %d each",
        soft,
        engine,
        proxy,
        wanted,
    )
    return engine, proxy


def _within_descriptors(wanted: int) -> int:
    """The connection limit that leaves :data:`DESCRIPTOR_RESERVE` descriptors free."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or wanted + DESCRIPTOR_RESERVE <= soft:
        return wanted
    fitting = max(1, soft - DESCRIPTOR_RESERVE)
    log.warning(
        "only %d file descriptors (RLIMIT_NOFILE): serving at most %d connections, not %d",
        soft,
        fitting,
        wanted,
    )
    return fitting


def _refusal(limit: int) -> bytes:
    """Connect's ``unavailable`` error as a whole HTTP/1.1 answer that closes the connection."""
    body = json.dumps(
        {"code": "unavailable", "message": f"too many connections (the limit is {limit})"}
    ).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


class LimitedConfig(uvicorn.Config):
    """uvicorn's config plus the :class:`ConnectionGuard` its connections share, and who takes
    the connections that plugins hijack (``GET /hijack``; none: such a request is an ordinary
    one)."""

    def __init__(
        self,
        app: Any,
        *,
        guard: ConnectionGuard,
        hijack: HijackAcceptor | None = None,
        **kwargs: Any,
    ) -> None:
        # uvicorn's own keep-alive timer (whole seconds) is a looser form of the same rule.
        keep_alive = math.ceil(guard.limits.idle_timeout)
        super().__init__(app, timeout_keep_alive=keep_alive, **kwargs)
        self.guard = guard
        self.hijack = hijack


class CorkedTransport:
    """A transport whose writes in one turn of the event loop go out as one ``send``.

    uvicorn writes a response's head, body and end separately; each write is a system call
    that wakes the client for a part of the answer.  Held back until the loop's next turn
    (or a close), they leave as one, which halves the wake-ups of both ends under load.
    Everything else is the real transport's.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def flush(self) -> None:
        """Send what is held back, in one write."""
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(p) for p in self._pending)

    @property
    def raw(self) -> asyncio.Transport:
        """The real transport (for a connection that leaves HTTP: a hijack)."""
        self.flush()
        return self._transport

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with the connection limit and the idle rule.

    uvicorn closes a kept-alive connection only if nothing at all arrives after an answer;
    one that never sends a whole request is never closed.  Here a timer runs whenever no
    request is in progress, from connecting and from each answer, and a byte of a request
    does not reset it: an unfinished request is as idle as none.  Once a request is complete
    its deadline bounds it instead.
    """

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._guard = config.guard if isinstance(config, LimitedConfig) else None
        self._idle_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        others = len(self.connections)
        super().connection_made(transport)
        if self._guard is None:
            return
        if not self._guard.admit(others):
            transport.write(_refusal(self._guard.max_connections))
            transport.close()  # after the answer is written
            return
        # Requests' cycles write through this (uvicorn hands them ``self.transport``).
        self.transport = CorkedTransport(transport, self.loop)  # type: ignore[assignment]
        self._arm_idle_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_idle_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        super().connection_lost(exc)

    def stop_idle_timer(self) -> None:
        """The connection is no longer an HTTP one (hijacked): no idle rule for it here."""
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _arm_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._guard is not None and not self.transport.is_closing():
            self._idle_timer = self.loop.call_later(
                self._guard.limits.idle_timeout, self._close_if_idle
            )

    def _close_if_idle(self) -> None:
        self._idle_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being served; its answer re-arms the timer
        if not self.transport.is_closing():
            log.debug("closing an idle connection")
            self.transport.close()


# -- running out of descriptors ------------------------------------------------------------------


class DescriptorsExhaustedError(OSError):
    """Raised by :meth:`PacedListener.accept` when the process is out of descriptors."""


class PacedListener(socket.socket):
    """A listening socket that makes asyncio's accept loop pause once when descriptors run out.

    asyncio (3.11 to 3.13) answers EMFILE on accept by removing the socket's reader and
    retrying a second later, but it goes on calling ``accept()`` up to ``backlog`` times in the
    same turn, and every failure is logged with a traceback: about a thousand a second while
    the daemon is saturated.  This socket raises the first failure (which pauses asyncio) and
    answers the next call with "nothing to accept", which ends that turn's loop.  It warns at
    most every :data:`STARVED_WARNING_INTERVAL` seconds: while connections come and go at the
    limit, it runs out again and again.
    """

    __slots__ = ("_guard", "_pausing", "_refusal", "_warned", "_warned_at", "starved")

    def __init__(self, family: int = socket.AF_UNIX, kind: int = socket.SOCK_STREAM) -> None:
        super().__init__(family, kind)
        self._pausing = False
        self._warned = False
        self._warned_at = -STARVED_WARNING_INTERVAL
        self._guard: ConnectionGuard | None = None
        self._refusal = b""
        #: Out of descriptors since the last successful accept.
        self.starved = False

    def refuse_past(self, guard: ConnectionGuard, refusal: bytes) -> None:
        """Admit connections here, by ``guard`` (:meth:`ConnectionGuard.take`; the server
        releases each one it closes): one past the limit is sent ``refusal`` and closed within
        ``accept()``.  asyncio accepts up to ``backlog`` connections in one turn before any is
        served, so a limit checked only when a connection is served lets a burst hold that many
        descriptors at once; here a burst holds none past the limit."""
        self._guard = guard
        self._refusal = refusal

    def accept(self) -> tuple[socket.socket, Any]:
        if self._pausing:
            self._pausing = False
            raise BlockingIOError(errno.EAGAIN, "accepting is paused")
        while True:
            try:
                accepted = super().accept()
            except OSError as exc:
                if exc.errno not in _OUT_OF_RESOURCES:
                    raise
                self._pausing = True
                if not self.starved:
                    self.starved = True
                    self._warn(exc)
                raise DescriptorsExhaustedError(exc.errno, exc.strerror) from None
            if self._guard is None or self._guard.take():
                break
            refused = accepted[0]
            with suppress(OSError):
                refused.setblocking(False)
                refused.send(self._refusal)  # a few hundred bytes: the socket buffer takes them
            refused.close()
        if self.starved:
            self.starved = False
            level = logging.INFO if self._warned else logging.DEBUG
            log.log(level, "accepting connections again")
            self._warned = False
        return accepted

    def _warn(self, exc: OSError) -> None:
        now = time.monotonic()
        if now - self._warned_at < STARVED_WARNING_INTERVAL:
            return
        self._warned, self._warned_at = True, now
        log.warning(
            "cannot accept connections (%s): trying again every second",
            exc.strerror or errno.errorcode.get(exc.errno or 0, "?"),
        )


def quiet_exhaustion(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The event loop's exception handler: :class:`PacedListener` has already said it is out
    of descriptors, in one line; anything else goes to asyncio's default handler."""
    if isinstance(context.get("exception"), DescriptorsExhaustedError):
        return
    loop.default_exception_handler(context)
