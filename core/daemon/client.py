"""A client of the engine daemon with the engine's own methods, for the CLI and the TUI.

:class:`DaemonClient` offers what the fronts call on an :class:`~docker_pass.core.engine.Engine`
(``resolve``, ``resolve_all``, ``list_secrets``, ``plugins``, ``enable``, ``disable``) and
returns the same result objects, so a command does not care which one it holds.  It is a plain
client of the secrets engine API (Connect's generated stubs, binary protobuf codec); the
``docker-pass-*-bin`` headers, when the daemon is docker-pass's, add what ``run --explain`` and
``plugins ls`` show beyond the public messages.

Transport: ``connectrpc``'s clients send through a ``pyqwest`` transport; :class:`UnixTransport`
is one that speaks HTTP/1.1 on the engine's Unix socket with ``http.client`` (keeping
connections alive between calls), checking the server's peer credentials on every connection.

Errors: a daemon that cannot be reached (gone, stale socket, timed out) raises
:class:`DaemonUnavailableError`, so a caller can fall back to the embedded engine; an answer
that is an error raises the docker-pass error it stands for, with the daemon's message.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from connectrpc.client import ResponseMetadata
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from pyqwest import Headers, SyncClient, SyncRequest, SyncResponse
from pyqwest._pyqwest import get_sync_timeout

from docker_pass.core.daemon.endpoint import connect_unix
from docker_pass.core.daemon.gen.dockerpass.v1 import api_connect as dockerpass_connect
from docker_pass.core.daemon.gen.dockerpass.v1 import api_pb as dockerpass_pb
from docker_pass.core.daemon.gen.health.v1 import api_connect as health_connect
from docker_pass.core.daemon.gen.health.v1 import api_pb as health_pb
from docker_pass.core.daemon.gen.plugins.v1 import api_connect as plugins_connect
from docker_pass.core.daemon.gen.plugins.v1 import api_pb as plugins_pb
from docker_pass.core.daemon.gen.resolver.v1 import api_connect as resolver_connect
from docker_pass.core.daemon.gen.resolver.v1 import api_pb as resolver_pb
from docker_pass.core.daemon.protocol import (
    ENGINE_HEADER,
    PLUGINS_HEADER,
    RESOLUTION_HEADER,
    decode_header,
    envelope_from_message,
    error_hints,
    info_from_message,
    is_engine_version,
    status_from_message,
)
from docker_pass.core.engine import Listing, PluginStatus, Resolution, down_hints
from docker_pass.core.envelope import Envelope
from docker_pass.core.errors import (
    DockerPassError,
    NoPluginMatchesError,
    PluginError,
    SecretNotFoundError,
)
from docker_pass.core.ids import Pattern
from docker_pass.core.value import FrozenValue

R = TypeVar("R")

#: The URL's host is only the HTTP ``Host`` header: the socket decides where requests go.
BASE_URL = "http://localhost"
#: Seconds a call may take: resolving through 1Password can be slow, a hung daemon is not.
CALL_TIMEOUT = 60.0


class DaemonUnavailableError(DockerPassError):
    """Raised when the engine daemon cannot be reached or did not answer in time (the caller
    may use the embedded engine instead)."""


class DaemonError(DockerPassError):
    """Raised when the engine daemon answers a request with an error; ``code`` is Connect's
    code (``not_found``, ``invalid_argument``, …) and the message is the daemon's."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class EngineInfo(FrozenValue):
    """What a running engine says about itself (``engine status``)."""

    __slots__ = ("pid", "requests", "started_at", "version")
    version: str
    pid: int
    started_at: datetime | None
    #: Requests served since start, by method path.
    requests: dict[str, int]

    def __init__(
        self, version: str, pid: int, started_at: datetime | None, requests: dict[str, int]
    ) -> None:
        self._set("version", version)
        self._set("pid", pid)
        self._set("started_at", started_at)
        self._set("requests", requests)

    def __repr__(self) -> str:
        return f"EngineInfo({self.version!r}, pid={self.pid})"


class _UnixHTTPConnection(http.client.HTTPConnection):
    """``http.client`` over the engine's Unix socket, refusing a server of another user."""

    def __init__(self, path: Path, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = connect_unix(self._path, self.timeout)


class UnixTransport:
    """A ``pyqwest`` sync transport: HTTP/1.1 on a Unix socket, connections kept alive.

    Thread-safe: each call takes an idle connection or opens one, so TUI workers may share
    one client.
    """

    def __init__(self, path: Path, *, connect_timeout: float = 1.0) -> None:
        self._path = path
        self._connect_timeout = connect_timeout
        self._idle: list[_UnixHTTPConnection] = []
        self._lock = threading.Lock()

    def execute_sync(self, request: SyncRequest) -> SyncResponse:
        """Send one request and read the whole response."""
        limit = get_sync_timeout()
        timeout = limit.total_seconds() if limit is not None else None
        body = request.content
        content = body if isinstance(body, bytes) else b"".join(body)
        target = urlsplit(request.url)
        path = target.path + (f"?{target.query}" if target.query else "")
        headers = dict(request.headers.items())
        for attempt in (1, 2):
            conn, reused = self._checkout()
            conn.timeout = timeout
            try:
                if conn.sock is None:
                    # Connect with the short bound; the call's own timeout applies after.
                    conn.timeout = min(timeout or self._connect_timeout, self._connect_timeout)
                    conn.connect()
                    conn.timeout = timeout
                conn.sock.settimeout(timeout)
                conn.request(request.method, path, body=content, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                conn.close()
                if reused and attempt == 1:
                    continue  # the server closed an idle keep-alive connection: try a new one
                raise DaemonUnavailableError(
                    f"the engine daemon closed the connection ({type(exc).__name__})"
                ) from exc
            except TimeoutError:
                conn.close()
                raise
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise DaemonUnavailableError(_reason(self._path, exc)) from exc
            if response.will_close:
                conn.close()
            else:
                self._checkin(conn)
            return SyncResponse(
                status=response.status, headers=Headers(response.getheaders()), content=data
            )
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def close(self) -> None:
        """Close the idle connections."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _checkout(self) -> tuple[_UnixHTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return _UnixHTTPConnection(self._path, self._connect_timeout), False

    def _checkin(self, conn: _UnixHTTPConnection) -> None:
        with self._lock:
            self._idle.append(conn)


def _reason(path: Path, exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"no engine socket at {path}"
    if isinstance(exc, ConnectionRefusedError):
        return f"no engine answers on {path} (stale socket)"
    if isinstance(exc, DockerPassError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot reach the engine at {path}: {exc.strerror}"
    return f"cannot reach the engine at {path}: {type(exc).__name__}"


class DaemonClient:
    """The engine daemon at ``path``, with the engine's methods and result objects."""

    def __init__(self, path: Path, *, timeout: float = CALL_TIMEOUT) -> None:
        self.path = path
        self._transport = UnixTransport(path)
        self._http = SyncClient(self._transport)
        options: dict[str, Any] = {
            "http_client": self._http,
            # Compression buys nothing on a local socket, and the transport does not inflate.
            "accept_compression": (),
            "send_compression": None,
            "timeout_ms": int(timeout * 1000),
        }
        self._resolver = resolver_connect.ResolverServiceClientSync(BASE_URL, **options)
        self._plugins = plugins_connect.PluginManagementServiceClientSync(BASE_URL, **options)
        self._health = health_connect.VersionServiceClientSync(BASE_URL, **options)
        self._listing = dockerpass_connect.ListingServiceClientSync(BASE_URL, **options)

    # -- health ---------------------------------------------------------------------------------

    def version(self, *, timeout: float | None = None) -> str:
        """The engine's version; raise :class:`DaemonUnavailableError` unless it is a
        ``v``-prefixed semantic version (clients reject others)."""
        return self.info(timeout=timeout).version

    def info(self, *, timeout: float | None = None) -> EngineInfo:
        """Version, pid, start time and request counts of the running engine."""
        with ResponseMetadata() as meta:
            reply = _call(
                lambda: self._health.get_version(
                    health_pb.GetVersionRequest(), timeout_ms=_ms(timeout)
                )
            )
        if not is_engine_version(reply.version):
            raise DaemonUnavailableError(
                f"the engine at {self.path} answered version {reply.version!r}, "
                "not a v-prefixed semantic version"
            )
        detail = decode_header(meta.headers.get(ENGINE_HEADER), dockerpass_pb.EngineInfo)
        if detail is None:
            return EngineInfo(reply.version, 0, None, {})
        started = detail.started_at.to_datetime() if detail.started_at is not None else None
        return EngineInfo(reply.version, detail.pid, started, dict(detail.requests))

    # -- resolution -----------------------------------------------------------------------------

    def resolve(self, pattern: Pattern) -> Resolution:
        """Like :meth:`Engine.resolve`: envelopes plus who was asked and who failed."""
        request = resolver_pb.GetSecretsRequest(pattern=pattern.value)
        with ResponseMetadata() as meta:
            try:
                reply = _call(lambda: self._resolver.get_secrets(request))
            except DaemonError as exc:
                report = decode_header(
                    meta.headers.get(RESOLUTION_HEADER), dockerpass_pb.Resolution
                )
                if exc.code == Code.NOT_FOUND.value and report is not None and not report.asked:
                    raise NoPluginMatchesError(pattern.value).with_hints(*exc.hints) from None
                if exc.code in (Code.NOT_FOUND.value, Code.UNAVAILABLE.value):
                    # Nothing found (and maybe plugins failed): a result, as the engine gives.
                    return _resolution(pattern, [], report, exc)
                raise
        envelopes = [envelope_from_message(env) for env in reply.envelopes]
        report = decode_header(meta.headers.get(RESOLUTION_HEADER), dockerpass_pb.Resolution)
        return _resolution(pattern, envelopes, report, None)

    def resolve_all(self, pattern: Pattern) -> list[Envelope]:
        """Like :meth:`Engine.resolve_all`: the envelopes, or ``secret not found``."""
        result = self.resolve(pattern)
        if not result.envelopes:
            if result.errors:
                name, message = next(iter(result.errors.items()))
                raise PluginError(f"{name}: {message}")
            raise SecretNotFoundError().with_hints(*down_hints(result.down))
        return result.envelopes

    def list_secrets(self, pattern: Pattern) -> Listing:
        """Like :meth:`Engine.list_secrets`: IDs and metadata, never values."""
        request = dockerpass_pb.ListSecretsRequest(pattern=pattern.value)
        reply = _call(lambda: self._listing.list_secrets(request))
        return Listing([info_from_message(info) for info in reply.secrets], dict(reply.errors))

    # -- plugins --------------------------------------------------------------------------------

    def plugins(self, *, start: bool = True) -> list[PluginStatus]:
        """Every plugin's status (the daemon's plugins are started already; ``start`` is moot)."""
        with ResponseMetadata() as meta:
            reply = _call(lambda: self._plugins.list_plugins(plugins_pb.ListPluginsRequest()))
        details = decode_header(meta.headers.get(PLUGINS_HEADER), dockerpass_pb.PluginDetails)
        known = details.plugins if details is not None else {}
        return [status_from_message(p, known.get(p.name)) for p in reply.plugins]

    def enable(self, name: str) -> PluginStatus:
        """Enable a configurable plugin, clear a crash and start it; its status afterwards."""
        _call(lambda: self._plugins.enable_plugin(plugins_pb.EnablePluginRequest(name=name)))
        return self._status_of(name)

    def disable(self, name: str) -> PluginStatus:
        """Disable a configurable plugin; its status afterwards."""
        _call(lambda: self._plugins.disable_plugin(plugins_pb.DisablePluginRequest(name=name)))
        return self._status_of(name)

    def _status_of(self, name: str) -> PluginStatus:
        for status in self.plugins():
            if status.name == name:
                return status
        raise DaemonError(Code.NOT_FOUND.value, f"plugin {name} is gone from the engine")

    # -- lifetime -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections (the daemon and its plugins keep running)."""
        self._transport.close()

    def __enter__(self) -> DaemonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ms(seconds: float | None) -> int | None:
    return int(seconds * 1000) if seconds is not None else None


def _call(send: Callable[[], R]) -> R:
    """Run one RPC; turn Connect errors into docker-pass errors."""
    try:
        result: R = send()
    except ConnectError as exc:
        cause = exc.__cause__
        if isinstance(cause, DaemonUnavailableError):
            raise DaemonUnavailableError(str(cause)) from None
        if exc.code in (Code.DEADLINE_EXCEEDED, Code.CANCELED) or isinstance(
            cause, TimeoutError | OSError
        ):
            raise DaemonUnavailableError(
                f"the engine daemon did not answer ({exc.code.value}: {exc.message})"
            ) from None
        error = DaemonError(exc.code.value, exc.message)
        error.with_hints(*error_hints(exc))
        raise error from None
    return result


def _resolution(
    pattern: Pattern,
    envelopes: list[Envelope],
    report: dockerpass_pb.Resolution | None,
    error: DaemonError | None,
) -> Resolution:
    if report is None:
        # A daemon other than docker-pass's: the envelopes say who answered.
        providers = list(dict.fromkeys(env.provider for env in envelopes))
        errors = {"engine": str(error)} if error and error.code != Code.NOT_FOUND.value else {}
        return Resolution(pattern, envelopes, providers, providers, errors)
    return Resolution(
        pattern,
        envelopes,
        list(report.asked),
        list(report.answered),
        dict(report.errors),
        dict(report.down),
    )


__all__ = [
    "BASE_URL",
    "DaemonClient",
    "DaemonError",
    "DaemonUnavailableError",
    "EngineInfo",
    "UnixTransport",
]
