"""Raw HTTP/1.x over a Unix socket, for tests that send what no client library would send.

:func:`exchange` writes the bytes as given (a write the server cuts short, because it has
answered and closed, is not an error: the answer is what counts) and reads one answer: its
status line, headers and body (by Content-Length, chunked, or until the connection closes),
skipping ``1xx`` answers, all within a deadline.  :func:`request` builds the bytes of a request
whose target, method and version are taken as they are; :class:`Conversation` carries several
exchanges on one connection.
"""

from __future__ import annotations

import json
import socket
import time
from contextlib import suppress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path


class Answer:
    """One HTTP answer: ``status`` (0 when the connection closed without one), ``version``
    (``b"HTTP/1.1"``), ``headers`` (lower-case names), ``body`` and every byte (``raw``)."""

    def __init__(
        self, version: bytes, status: int, headers: dict[bytes, bytes], body: bytes, raw: bytes
    ) -> None:
        self.version = version
        self.status = status
        self.headers = headers
        self.body = body
        self.raw = raw

    def json(self) -> Any:
        return json.loads(self.body)

    def message(self) -> str:
        """The engine's error message (``{"message": …}``), else the body as text."""
        try:
            doc = self.json()
        except ValueError:
            return self.body.decode(errors="replace")
        return str(doc.get("message", "")) if isinstance(doc, dict) else str(doc)

    def __repr__(self) -> str:
        return f"Answer({self.status}, {self.body[:120]!r})"


def request(
    method: bytes | str,
    target: bytes | str,
    body: bytes = b"",
    *,
    version: bytes = b"HTTP/1.1",
    headers: Iterable[tuple[bytes, bytes]] = (),
    host: bool = True,
    close: bool = True,
    content_type: bytes | None = b"application/json",
) -> bytes:
    """A request's bytes: ``method`` and ``target`` exactly as given."""
    if isinstance(method, str):
        method = method.encode()
    if isinstance(target, str):
        target = target.encode("latin-1")
    lines = [method + b" " + target + b" " + version]
    if host:
        lines.append(b"Host: docker")
    if body:
        if content_type is not None:
            lines.append(b"Content-Type: " + content_type)
        lines.append(b"Content-Length: %d" % len(body))
    lines.extend(name + b": " + value for name, value in headers)
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def exchange(path: Path | str, data: bytes, *, timeout: float = 30.0) -> Answer:
    """Send ``data`` on a new connection to ``path``; the answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        with suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)  # cut short if it answered (and closed) before reading it all
        return read_answer(sock, timeout=timeout, head_only=data.startswith(b"HEAD "))


def read_answer(sock: socket.socket, *, timeout: float = 30.0, head_only: bool = False) -> Answer:
    """The one answer expected on ``sock`` (past any ``1xx``; ``head_only``: it answers a
    HEAD).  For more than one answer on a connection, use :class:`Conversation`, which keeps
    what was read past an answer."""
    return _answer(_Reader(sock, time.monotonic() + timeout), head_only=head_only)


class Conversation:
    """Requests and answers in turn on one connection (kept alive, or pipelined)."""

    def __init__(self, path: Path | str, *, timeout: float = 30.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self._timeout = timeout
        self._reader = _Reader(self.sock, 0.0)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self, *, head_only: bool = False, informational: bool = False) -> Answer:
        """The next answer (``informational``: a ``1xx`` too, instead of skipping it)."""
        self._reader.deadline = time.monotonic() + self._timeout
        return _answer(self._reader, head_only=head_only, informational=informational)

    def __enter__(self) -> Conversation:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.sock.close()


def _answer(reader: _Reader, *, head_only: bool = False, informational: bool = False) -> Answer:
    while True:
        head = reader.until(b"\r\n\r\n")
        if head is None:
            return Answer(b"", 0, {}, b"", reader.raw)
        status_line, *lines = head[:-4].split(b"\r\n")
        version, _, rest = status_line.partition(b" ")
        status = int(rest[:3])
        headers = {}
        for line in lines:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if 100 <= status < 200 and status != 101:
            if informational:
                return Answer(version, status, headers, b"", reader.raw)
            continue
        break
    if head_only or status in (101, 204, 304):
        body = b""
    elif b"content-length" in headers:
        body = reader.exactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = reader.chunked()
    else:
        body = reader.rest()
    return Answer(version, status, headers, body, reader.raw)


class _Reader:
    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.buffer = b""
        self.raw = b""

    def _more(self) -> bool:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no whole answer in time")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        self.buffer += chunk
        self.raw += chunk
        return bool(chunk)

    def until(self, marker: bytes) -> bytes | None:
        while marker not in self.buffer:
            if not self._more():
                return None
        head, _, self.buffer = self.buffer.partition(marker)
        return head + marker

    def exactly(self, count: int) -> bytes:
        while len(self.buffer) < count:
            if not self._more():
                raise ConnectionError("closed mid-body")
        out, self.buffer = self.buffer[:count], self.buffer[count:]
        return out

    def chunked(self) -> bytes:
        body = b""
        while True:
            line = self.until(b"\r\n")
            if line is None:
                raise ConnectionError("closed mid-body")
            size = int(line.split(b";")[0], 16)
            if size == 0:
                self.until(b"\r\n")
                return body
            body += self.exactly(size)
            self.exactly(2)

    def rest(self) -> bytes:
        while self._more():
            pass
        out, self.buffer = self.buffer, b""
        return out
