"""HTTP/1.1 over the engine daemon's Unix socket, in the standard library alone.

Why not ``http.client``: on ``run``'s path its ``email`` and ``ssl`` imports add ~25 ms, a
quarter of a ``run -- true`` through the daemon.  So HTTP/1.1 goes over the Unix socket
directly, and reads exactly what the daemon's server (uvicorn's h11) sends: a status line,
headers, and a body sized by ``Content-Length`` or chunked.  Anything else (a body that ends
when the connection does, a compressed body, trailers) is not guessed at: it raises
:class:`DaemonUnavailableError`, and the front finishes on the embedded engine.  Connections are
kept alive between calls, and every connection's peer is checked to be the same user or root
(:func:`~.endpoint.connect_unix`).  No error text ever holds an answer's content.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError
from docker_pass.core.remote.endpoint import connect_unix

if TYPE_CHECKING:
    import io
    import socket
    from pathlib import Path

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


# -- HTTP/1.1 on the Unix socket ------------------------------------------------------------------


class UnreadableAnswerError(Exception):
    """The answer is not one this reader reads; the text says why, never the content."""


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


def read_answer(reader: io.BufferedIOBase) -> tuple[HttpAnswer, bool]:
    """One whole HTTP/1.x answer and whether the connection may be kept: a status line,
    headers, and a body of ``Content-Length`` bytes or in chunks (none for 204 and 304); any
    other framing (an interim 1xx too) is refused, not guessed at.  What uvicorn's h11 sends
    for a Connect unary call, and what Go's net/http (Docker's engine) sends for an API call."""
    line = reader.readline(MAX_LINE)
    if not line:
        raise ConnectionResetError  # closed before answering: an idle keep-alive one, usually
    version, _, rest = line.partition(b" ")
    if not version.startswith(b"HTTP/1.") or not rest[:3].isdigit():
        raise UnreadableAnswerError("no HTTP/1.x status line")
    headers: Headers = {}
    while (line := _read_line(reader)) != b"\r\n":
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon or len(headers) == MAX_HEADERS:
            raise UnreadableAnswerError("a header line without a colon, or too many")
        headers[name.strip().lower()] = value.strip()
    if headers.get("content-encoding", "identity") != "identity":
        raise UnreadableAnswerError(
            "a compressed body"
        )  # never asked for: Accept-Encoding: identity
    framing = headers.get("transfer-encoding", "").lower()
    status = int(rest[:3])
    if status in (204, 304):
        body = b""
    elif framing == "chunked":
        body = _read_chunked(reader)
    elif not framing and headers.get("content-length", "").isdigit():
        body = _read_exactly(reader, int(headers["content-length"]))
    else:
        raise UnreadableAnswerError("a body neither sized by Content-Length nor chunked")
    close = version != b"HTTP/1.1" or headers.get("connection", "").lower() == "close"
    return HttpAnswer(status, headers, body), not close


def _read_line(reader: io.BufferedIOBase) -> bytes:
    line = reader.readline(MAX_LINE)
    if not line.endswith(b"\n"):
        raise UnreadableAnswerError("the answer ended in a line, or a line is too long")
    return line


def _read_exactly(reader: io.BufferedIOBase, size: int) -> bytes:
    if not 0 <= size <= MAX_BODY:
        raise UnreadableAnswerError("a bad body size")
    data = reader.read(size)
    if len(data) != size:
        raise UnreadableAnswerError("the answer ended in its body")
    return data


def _read_chunked(reader: io.BufferedIOBase) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        try:
            size = int(_read_line(reader), 16)  # neither h11 nor Go's net/http sends extensions
        except ValueError:
            raise UnreadableAnswerError("a bad chunk size") from None
        if size == 0:
            break
        total += size
        if total > MAX_BODY:
            raise UnreadableAnswerError("the body is too large")
        chunks.append(_read_exactly(reader, size))
        if _read_exactly(reader, 2) != b"\r\n":
            raise UnreadableAnswerError("a chunk longer than its size")
    if _read_line(reader) != b"\r\n":
        raise UnreadableAnswerError("trailers after the last chunk")
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
                answer, keep_alive = read_answer(conn.reader)
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
            except UnreadableAnswerError as exc:
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
