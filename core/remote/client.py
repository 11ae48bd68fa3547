"""A client of the engine daemon with the engine's own methods, in the standard library alone.

:class:`DaemonClient` offers what the fronts call on an :class:`~docker_pass.core.engine.Engine`
(``resolve``, ``resolve_all``, ``list_secrets``, ``plugins``, ``enable``, ``disable``) and
returns the same result objects, so a command does not care which one it holds.

It speaks Connect's unary protocol with the JSON codec (``POST /<package>.<Service>/<Method>``,
``Content-Type: application/json``, ``Connect-Protocol-Version: 1``; errors as Connect's JSON
error) and reads messages with :mod:`.wire`; the ``docker-pass-*`` response headers, when the
daemon is docker-pass's, add what ``run --explain`` and ``plugins ls`` show beyond the public
messages.  A daemon that is not docker-pass's still works: the envelopes say who answered.

Why no Connect library: this client exists to make ``docker pass run`` fast, and connectrpc,
pyqwest (asyncio, OpenTelemetry) and protobuf cost ~0.25 s of imports, twice what the whole
embedded ``run`` takes.  Why not ``http.client`` either: on ``run``'s path its ``email`` and
``ssl`` imports add ~25 ms, a quarter of a ``run -- true`` through the daemon (this client's own
import costs ~3.5 ms; ``python -m benchmarks daemon-run``).  So HTTP/1.1 goes over the Unix
socket directly, and reads exactly what the daemon's server (uvicorn's h11) sends: a status
line, headers, and a body sized by ``Content-Length`` or chunked.  Anything else (a body that
ends when the connection does, a compressed body, trailers) is not guessed at: it raises
:class:`DaemonUnavailableError`, and the front finishes on the embedded engine.  Connections are
kept alive between calls, and every connection's peer is checked to be the same user or root
(:func:`~.endpoint.connect_unix`).

Errors: a daemon that cannot be reached, does not answer in time or answers garbage raises
:class:`DaemonUnavailableError`, so a caller can fall back to the embedded engine; an answer
that is a Connect error raises :class:`DaemonError` (or the docker-pass error it stands for)
with the daemon's message.  No error text ever holds an answer's content: an envelope carries a
secret value.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from docker_pass.core import __version__
from docker_pass.core.errors import (
    DockerPassError,
    NoPluginMatchesError,
)
from docker_pass.core.names import KEYCHAIN_PLUGIN
from docker_pass.core.remote.endpoint import connect_unix
from docker_pass.core.remote.wire import (
    CANCELED,
    DEADLINE_EXCEEDED,
    DISABLE_PLUGIN,
    ENABLE_PLUGIN,
    ENGINE_HEADER,
    GET_SECRETS,
    GET_VERSION,
    HINTS_HEADER,
    HTTP_STATUS_CODES,
    LIST_PLUGINS,
    LIST_SECRETS,
    NOT_FOUND,
    PLUGINS_HEADER,
    REMOVE_SECRETS,
    RESOLUTION_HEADER,
    SAVE_SECRET,
    UNAVAILABLE,
    MalformedMessageError,
    envelope_from_json,
    is_engine_version,
    plugin_status_from_json,
    read_bool,
    read_id,
    read_int,
    read_int_map,
    read_objects,
    read_string,
    read_string_list,
    read_string_map,
    read_timestamp,
    secret_info_from_json,
)
from docker_pass.core.results import Listing, PluginStatus, Removal, Resolution, Saved
from docker_pass.core.value import FrozenValue

if TYPE_CHECKING:
    import io
    import socket
    from collections.abc import Iterator, Mapping, Sequence
    from datetime import datetime
    from pathlib import Path

    from docker_pass.core.envelope import Envelope
    from docker_pass.core.ids import ID, Pattern

#: The keychain plugin's name (from the zero-cost names module: this one is on ``run``'s path).
KEYCHAIN = KEYCHAIN_PLUGIN

#: Seconds a call may take: resolving through 1Password can be slow, a hung daemon is not.
CALL_TIMEOUT = 60.0
#: Seconds a new connection gets to be accepted (the call's own timeout, if shorter, wins).
CONNECT_TIMEOUT = 1.0
#: Limits on an answer, against a daemon gone wrong (never met by a healthy one).
MAX_LINE = 64 * 1024
MAX_HEADERS = 100
MAX_BODY = 64 * 1024 * 1024

Headers = dict[str, str]


class DaemonUnavailableError(DockerPassError):
    """Raised when the engine daemon cannot be reached, did not answer in time, or answered
    something that is not Connect (the caller may use the embedded engine instead)."""


class DaemonError(DockerPassError):
    """Raised when the engine daemon answers a request with a Connect error; ``code`` is
    Connect's code (``not_found``, ``invalid_argument``, …), the message is the daemon's and
    ``headers`` are the answer's (docker-pass's report rides in them)."""

    def __init__(self, code: str, message: str, headers: Headers | None = None) -> None:
        self.code = code
        self.headers: Headers = headers or {}
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


# -- HTTP/1.1 on the Unix socket ------------------------------------------------------------------


class _UnreadableError(Exception):
    """The answer is not one this client reads; the text says why, never the content."""


class HttpAnswer:
    """One HTTP response: status, headers (names in lower case), and the whole body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Headers, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"HttpAnswer({self.status}, {len(self.body)} bytes)"  # never the body


class _Connection:
    """One HTTP/1.1 connection to the daemon, and the buffered reader of its answers."""

    __slots__ = ("reader", "sock", "used")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader: io.BufferedReader = sock.makefile("rb")
        #: Answered a request before: the daemon may have closed it since (keep-alive timeout).
        self.used = False

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


def _read_answer(reader: io.BufferedReader) -> tuple[HttpAnswer, bool]:
    """What uvicorn's h11 sends for a Connect unary call: a status line, headers, and a body of
    ``Content-Length`` bytes or in chunks; any other framing is refused, not guessed at."""
    line = reader.readline(MAX_LINE)
    if not line:
        raise ConnectionResetError  # closed before answering: an idle keep-alive one, usually
    version, _, rest = line.partition(b" ")
    if not version.startswith(b"HTTP/1.") or not rest[:3].isdigit():
        raise _UnreadableError("no HTTP/1.x status line")
    headers: Headers = {}
    while (line := _read_line(reader)) != b"\r\n":
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon or len(headers) == MAX_HEADERS:
            raise _UnreadableError("a header line without a colon, or too many")
        headers[name.strip().lower()] = value.strip()
    if headers.get("content-encoding", "identity") != "identity":
        raise _UnreadableError("a compressed body")  # never asked for: Accept-Encoding: identity
    framing = headers.get("transfer-encoding", "").lower()
    if framing == "chunked":
        body = _read_chunked(reader)
    elif not framing and headers.get("content-length", "").isdigit():
        body = _read_exactly(reader, int(headers["content-length"]))
    else:
        raise _UnreadableError("a body neither sized by Content-Length nor chunked")
    close = version != b"HTTP/1.1" or headers.get("connection", "").lower() == "close"
    return HttpAnswer(int(rest[:3]), headers, body), not close


def _read_line(reader: io.BufferedReader) -> bytes:
    line = reader.readline(MAX_LINE)
    if not line.endswith(b"\n"):
        raise _UnreadableError("the answer ended in a line, or a line is too long")
    return line


def _read_exactly(reader: io.BufferedReader, size: int) -> bytes:
    if not 0 <= size <= MAX_BODY:
        raise _UnreadableError("a bad body size")
    data = reader.read(size)
    if len(data) != size:
        raise _UnreadableError("the answer ended in its body")
    return data


def _read_chunked(reader: io.BufferedReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        try:
            size = int(_read_line(reader), 16)  # h11 sends no chunk extensions nor trailers
        except ValueError:
            raise _UnreadableError("a bad chunk size") from None
        if size == 0:
            break
        total += size
        if total > MAX_BODY:
            raise _UnreadableError("the body is too large")
        chunks.append(_read_exactly(reader, size))
        if _read_exactly(reader, 2) != b"\r\n":
            raise _UnreadableError("a chunk longer than its size")
    if _read_line(reader) != b"\r\n":
        raise _UnreadableError("trailers after the last chunk")
    return b"".join(chunks)


class UnixHttpTransport:
    """HTTP/1.1 POSTs to the daemon's Unix socket, connections kept alive between calls.

    Thread-safe: each call takes an idle connection or opens one, so the TUI's workers may
    share one client.
    """

    def __init__(self, path: Path | str, *, sock: socket.socket | None = None) -> None:
        self._path = path
        self._idle: list[_Connection] = [_Connection(sock)] if sock is not None else []
        self._lock = threading.Lock()

    def post(self, target: str, headers: Headers, body: bytes, timeout: float) -> HttpAnswer:
        """Send one POST and read the whole answer, waiting at most ``timeout`` seconds for
        each step (connect, send, every read)."""
        lines = [f"POST {target} HTTP/1.1", "Host: localhost"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        conn = self._checkout(timeout)
        while True:
            try:
                conn.sock.settimeout(timeout)
                conn.sock.sendall(request)
                answer, keep_alive = _read_answer(conn.reader)
            except (BrokenPipeError, ConnectionResetError) as exc:
                conn.close()
                if conn.used:
                    # The daemon closed an idle keep-alive connection (and likely the other
                    # idle ones): the request never reached it, so send it on a new one.
                    self.close()
                    conn = self._checkout(timeout)
                    continue
                raise DaemonUnavailableError(
                    f"the engine daemon at {self._path} closed the connection"
                ) from exc
            except TimeoutError:
                conn.close()
                raise DaemonUnavailableError(
                    f"the engine daemon at {self._path} did not answer within {timeout:g} s"
                ) from None
            except _UnreadableError as exc:
                conn.close()
                raise DaemonUnavailableError(
                    f"the engine daemon at {self._path} sent a malformed HTTP answer ({exc})"
                ) from None
            except OSError as exc:
                conn.close()
                raise self._unreachable(exc) from None
            conn.used = True
            if keep_alive:
                with self._lock:
                    self._idle.append(conn)
            else:
                conn.close()
            return answer

    def close(self) -> None:
        """Close the idle connections."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _checkout(self, timeout: float) -> _Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        try:
            return _Connection(connect_unix(self._path, min(timeout, CONNECT_TIMEOUT)))
        except OSError as exc:  # PeerRefusedError too: its message says whose socket it is
            raise self._unreachable(exc) from None

    def _unreachable(self, exc: OSError) -> DaemonUnavailableError:
        return DaemonUnavailableError(
            f"cannot reach the engine daemon at {self._path}: {exc.strerror or exc}"
        )


# -- the engine's methods -------------------------------------------------------------------------


class DaemonClient:
    """The engine daemon at ``path``, with the engine's methods and result objects.

    ``sock``: a connection to the daemon already made (and peer-checked), used first; the
    daemon check in :func:`~.front.find_daemon` hands over the one it probed with.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        timeout: float = CALL_TIMEOUT,
        sock: socket.socket | None = None,
    ) -> None:
        self.path = path
        self._timeout = timeout
        self._transport = UnixHttpTransport(path, sock=sock)

    def call(
        self, method: str, request: dict[str, Any], *, timeout: float | None = None
    ) -> tuple[dict[str, Any], Headers]:
        """One unary call with the JSON codec: the answer's message and headers.

        Raises :class:`DaemonError` for a Connect error answer (with its hints), and
        :class:`DaemonUnavailableError` when no usable answer came.
        """
        limit = timeout or self._timeout
        answer = self._transport.post(
            method,
            {
                "Content-Type": "application/json",
                "Connect-Protocol-Version": "1",
                # The daemon gives up when the client would: no work for nobody.
                "Connect-Timeout-Ms": str(int(limit * 1000)),
                "Accept-Encoding": "identity",
                "User-Agent": f"docker-pass/{__version__}",
            },
            json.dumps(request, separators=(",", ":")).encode(),
            limit,
        )
        if answer.status != 200:
            raise _connect_error(self.path, answer)
        if answer.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise DaemonUnavailableError(
                f"the engine daemon at {self.path} did not answer {method} with JSON"
            )
        doc = _json_object(answer.body)
        if doc is None:
            raise DaemonUnavailableError(
                f"the engine daemon at {self.path} sent a malformed answer to {method}"
            )
        return doc, answer.headers

    # -- health -----------------------------------------------------------------------------------

    def version(self, *, timeout: float | None = None) -> str:
        """The engine's version; raise :class:`DaemonUnavailableError` unless it is a
        ``v``-prefixed semantic version (clients reject others)."""
        return self.info(timeout=timeout).version

    def info(self, *, timeout: float | None = None) -> EngineInfo:
        """Version, pid, start time and request counts of the running engine."""
        doc, headers = self.call(GET_VERSION, {}, timeout=timeout)
        with _reading(self.path, GET_VERSION):
            version = read_string(doc, "version")
        if not is_engine_version(version):
            raise DaemonUnavailableError(
                f"the engine at {self.path} answered version {version!r}, "
                "not a v-prefixed semantic version"
            )
        detail = _header_object(headers, ENGINE_HEADER)
        if detail is None:
            return EngineInfo(version, 0, None, {})
        try:
            return EngineInfo(
                version,
                read_int(detail, "pid"),
                read_timestamp(detail, "startedAt"),
                read_int_map(detail, "requests"),
            )
        except MalformedMessageError:
            return EngineInfo(version, 0, None, {})  # an extra, not the answer: do without

    # -- resolution -------------------------------------------------------------------------------

    def resolve(self, pattern: Pattern) -> Resolution:
        """Like :meth:`Engine.resolve`: envelopes plus who was asked and who failed."""
        try:
            doc, headers = self.call(GET_SECRETS, {"pattern": pattern.value})
        except DaemonError as exc:
            reported = _reported(pattern, [], exc.headers)
            if exc.code == NOT_FOUND and reported is not None and not reported.asked:
                raise NoPluginMatchesError(pattern.value).with_hints(*exc.hints) from None
            if exc.code in (NOT_FOUND, UNAVAILABLE):
                # Nothing found (and maybe plugins failed): a result, as the engine gives.
                return reported if reported is not None else _unreported(pattern, [], exc)
            raise
        with _reading(self.path, GET_SECRETS):
            envelopes = [envelope_from_json(env) for env in read_objects(doc, "envelopes")]
        reported = _reported(pattern, envelopes, headers)
        return reported if reported is not None else _unreported(pattern, envelopes, None)

    def resolve_all(self, pattern: Pattern) -> list[Envelope]:
        """Like :meth:`Engine.resolve_all`: the envelopes, or ``secret not found``."""
        return self.resolve(pattern).envelopes_or_raise()

    def list_secrets(
        self, pattern: Pattern, *, plugin: str | None = None, reserved: bool = False
    ) -> Listing:
        """Like :meth:`Engine.list_secrets`: IDs and metadata, never values."""
        request: dict[str, Any] = {"pattern": pattern.value}
        if plugin is not None:
            request["plugin"] = plugin
        if reserved:
            request["reserved"] = True
        doc, _ = self.call(LIST_SECRETS, request)
        with _reading(self.path, LIST_SECRETS):
            infos = [secret_info_from_json(info) for info in read_objects(doc, "secrets")]
            return Listing(infos, read_string_map(doc, "errors"), read_string_map(doc, "down"))

    # -- writes -----------------------------------------------------------------------------------

    def save(
        self, id_: ID, value: bytes, metadata: Mapping[str, str], *, plugin: str = KEYCHAIN
    ) -> Saved:
        """Like :meth:`Engine.save`: create or replace a secret in a writable plugin."""
        import base64

        request = {
            "id": id_.value,
            "value": base64.b64encode(value).decode("ascii"),
            "metadata": dict(metadata),
            "plugin": plugin,
        }
        doc, _ = self.call(SAVE_SECRET, request)
        with _reading(self.path, SAVE_SECRET):
            return Saved(
                read_id(doc, "id"),
                read_string(doc, "provider"),
                read_bool(doc, "replaced"),
            )

    def remove(self, ids: Sequence[ID], *, plugin: str = KEYCHAIN) -> Removal:
        """Like :meth:`Engine.remove`: one outcome per ID, in order."""
        doc, _ = self.call(REMOVE_SECRETS, {"ids": [i.value for i in ids], "plugin": plugin})
        with _reading(self.path, REMOVE_SECRETS):
            outcomes = tuple(
                (read_id(o, "id"), read_string(o, "outcome")) for o in read_objects(doc, "outcomes")
            )
            return Removal(read_string(doc, "provider"), outcomes)

    # -- plugins ----------------------------------------------------------------------------------

    def plugins(self, *, start: bool = True) -> list[PluginStatus]:
        """Every plugin's status (the daemon's plugins are started already; ``start`` is moot)."""
        doc, headers = self.call(LIST_PLUGINS, {})
        details = _header_object(headers, PLUGINS_HEADER)
        known = details.get("plugins") if details is not None else None
        if not isinstance(known, dict):
            known = {}
        with _reading(self.path, LIST_PLUGINS):
            statuses = []
            for plugin in read_objects(doc, "plugins"):
                detail = known.get(read_string(plugin, "name"))
                statuses.append(
                    plugin_status_from_json(plugin, detail if isinstance(detail, dict) else None)
                )
            return statuses

    def enable(self, name: str) -> PluginStatus:
        """Enable a configurable plugin, clear a crash and start it; its status afterwards."""
        self.call(ENABLE_PLUGIN, {"name": name})
        return self._status_of(name)

    def disable(self, name: str) -> PluginStatus:
        """Disable a configurable plugin; its status afterwards."""
        self.call(DISABLE_PLUGIN, {"name": name})
        return self._status_of(name)

    def _status_of(self, name: str) -> PluginStatus:
        for status in self.plugins():
            if status.name == name:
                return status
        raise DaemonError(NOT_FOUND, f"plugin {name} is gone from the engine")

    # -- lifetime ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections (the daemon and its plugins keep running)."""
        self._transport.close()

    def __enter__(self) -> DaemonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def _reading(path: Path | str, method: str) -> Iterator[None]:
    """Turn a message that does not read (:class:`MalformedMessageError`) into
    :class:`DaemonUnavailableError`, naming the method and the field, never the content."""
    try:
        yield
    except MalformedMessageError as exc:
        raise DaemonUnavailableError(
            f"the engine daemon at {path} sent a malformed answer to {method}: {exc}"
        ) from None


def _json_object(raw: bytes) -> dict[str, Any] | None:
    """The JSON object in ``raw``, or ``None`` when it is not one."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def _header_object(headers: Headers, name: str) -> dict[str, Any] | None:
    """The JSON object in a ``docker-pass-*`` header, or ``None`` if absent or garbled."""
    value = headers.get(name)
    return _json_object(value.encode("latin-1")) if value else None


def _reported(pattern: Pattern, envelopes: list[Envelope], headers: Headers) -> Resolution | None:
    """The resolution as docker-pass's daemon reports it (``dockerpass.v1.Resolution`` in a
    header): who was asked, who answered, who failed, who was down; ``None`` without one."""
    doc = _header_object(headers, RESOLUTION_HEADER)
    if doc is None:
        return None
    try:
        return Resolution(
            pattern,
            envelopes,
            read_string_list(doc, "asked"),
            read_string_list(doc, "answered"),
            read_string_map(doc, "errors"),
            read_string_map(doc, "down"),
        )
    except MalformedMessageError:
        return None


def _connect_error(path: Path | str, answer: HttpAnswer) -> DockerPassError:
    """The error a non-200 answer stands for (Connect's JSON error, or just an HTTP status)."""
    doc = _json_object(answer.body) or {}
    code = doc.get("code")
    message = doc.get("message")
    if not isinstance(code, str) or not code:
        code = HTTP_STATUS_CODES.get(answer.status, "unknown")
    if not isinstance(message, str):
        message = f"HTTP status {answer.status}"
    if code in (DEADLINE_EXCEEDED, CANCELED):
        return DaemonUnavailableError(f"the engine daemon at {path} did not answer ({code})")
    error = DaemonError(code, message, answer.headers)
    hints = _header_object(answer.headers, HINTS_HEADER)
    if hints is not None:
        with suppress(MalformedMessageError):  # hints are a courtesy: the message stands alone
            error.with_hints(*read_string_list(hints, "hints"))
    return error


def _unreported(
    pattern: Pattern, envelopes: list[Envelope], error: DaemonError | None
) -> Resolution:
    """A daemon other than docker-pass's: the envelopes say who answered."""
    providers = list(dict.fromkeys(env.provider for env in envelopes))
    errors = {"engine": str(error)} if error and error.code != NOT_FOUND else {}
    return Resolution(pattern, envelopes, providers, providers, errors)


__all__ = [
    "CALL_TIMEOUT",
    "DaemonClient",
    "DaemonError",
    "DaemonUnavailableError",
    "EngineInfo",
    "HttpAnswer",
    "UnixHttpTransport",
]
