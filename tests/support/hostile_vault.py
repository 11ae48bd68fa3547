"""A misbehaving vault for the vault client's tests: a loopback HTTP server (a thread of the
test process) that answers the token check like a vault, so that ``plugins vault setup``
accepts it, and answers every other request the way a test tells it to: with a flood, a drip,
a redirect, an HTML page, escape sequences, a folder that lists itself.

Every request it gets is recorded (method, path, headers), so a test can tell whether the
token reached it.  A second one bound to ``127.0.0.2`` (another loopback address, so another
host to the client) is where redirects are sent to see whether anything follows them.
The behaviours wait between the bytes of a drip on an event that :meth:`HostileVault.stop`
sets: a stopped server ends its answers at once.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from tests.support.accepting import serve_each

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

MIB = 1 << 20
LOOKUP_SELF_PATH = "/v1/auth/token/lookup-self"
#: The token check's answer: a valid token that never expires.
LOOKUP_SELF = {"data": {"ttl": 0, "renewable": False, "policies": ["root"], "id": "x"}}


class Seen:
    """One request the server got."""

    __slots__ = ("headers", "method", "path")

    def __init__(self, method: str, path: str, headers: dict[str, str]) -> None:
        self.method = method
        self.path = path
        self.headers = headers

    def __repr__(self) -> str:
        return f"Seen({self.method} {self.path})"


class Handler(BaseHTTPRequestHandler):
    """Records the request and hands it to the server's behaviour."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests look at :attr:`HostileVault.seen` instead."""

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        vault = self.server.vault
        vault.record(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        try:
            vault.answer(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client hung up: what it should do, often

    do_GET = do_POST = do_PUT = do_DELETE = do_LIST = do_PATCH = _any

    # -- answers the behaviours use ------------------------------------------------------------

    def send_json(self, status: int, answer: object) -> None:
        body = json.dumps(answer).encode()
        self.send_raw(status, body, "application/json")

    def send_raw(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_flood(self, size: int, *, declared: bool) -> None:
        """``size`` bytes of JSON-looking text, announced by ``Content-Length`` or not (then
        the connection's end ends the answer)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if declared:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        block = b'{"data":{"keys":["' + b"a" * (MIB - 18)
        sent = 0
        while sent < size and not self.server.vault.stopped.is_set():
            chunk = block[: size - sent]
            self.wfile.write(chunk)
            sent += len(chunk)

    def send_drip(self, interval: float, *, in_headers: bool = False) -> None:
        """A 200 whose body (or whose headers) comes one byte every ``interval`` seconds, for
        far longer than any test waits."""
        stopped = self.server.vault.stopped
        if in_headers:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        else:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
        self.wfile.flush()
        for _ in range(100000):
            if stopped.wait(interval):
                return
            self.wfile.write(b"a" if in_headers else b" ")
            self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    vault: HostileVault


class HostileVault:
    """The server; :attr:`behaviour` answers what the token check does not."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.stopped = threading.Event()
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self.behaviour: Callable[[Handler, HostileVault], None] = not_found
        self.lookup_self: Callable[[Handler, HostileVault], None] = token_ok
        self._server = _Server((host, 0), Handler)
        self._server.vault = self
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> HostileVault:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self._server.shutdown()
        self._server.server_close()

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def requests(self, method: str | None = None) -> list[Seen]:
        """The requests got so far (of ``method`` only, when given)."""
        with self._lock:
            return [s for s in self.seen if method is None or s.method == method]

    def calls(self, method: str | None = None) -> list[Seen]:
        """The requests but the token checks (of ``method`` only, when given)."""
        return [s for s in self.requests(method) if not s.path.startswith(LOOKUP_SELF_PATH)]

    def answer(self, handler: Handler) -> None:
        if handler.path.startswith(LOOKUP_SELF_PATH):
            self.lookup_self(handler, self)
        else:
            self.behaviour(handler, self)


def hostile_vault(host: str = "127.0.0.1") -> Iterator[HostileVault]:
    """A started :class:`HostileVault`, stopped after the test (a fixture's body)."""
    vault = HostileVault(host).start()
    try:
        yield vault
    finally:
        vault.stop()


# -- behaviours ---------------------------------------------------------------------------------


def token_ok(handler: Handler, _vault: HostileVault) -> None:
    handler.send_json(200, LOOKUP_SELF)


def not_found(handler: Handler, _vault: HostileVault) -> None:
    handler.send_json(404, {"errors": []})


def answering(status: int, answer: object) -> Callable[[Handler, HostileVault], None]:
    """Always ``answer`` (as JSON) with ``status``."""
    return lambda handler, _vault: handler.send_json(status, answer)


def raw(status: int, body: bytes, content_type: str) -> Callable[[Handler, HostileVault], None]:
    """Always ``body`` with ``status`` and ``content_type``."""
    return lambda handler, _vault: handler.send_raw(status, body, content_type)


def flood(size: int, *, declared: bool) -> Callable[[Handler, HostileVault], None]:
    """A 200 of ``size`` bytes (see :meth:`Handler.send_flood`)."""
    return lambda handler, _vault: handler.send_flood(size, declared=declared)


def drip(interval: float, *, in_headers: bool = False) -> Callable[[Handler, HostileVault], None]:
    """A 200 that comes one byte at a time (see :meth:`Handler.send_drip`)."""
    return lambda handler, _vault: handler.send_drip(interval, in_headers=in_headers)


def redirect(
    location: str, status: int = 307, *, flooded: bool = False
) -> Callable[[Handler, HostileVault], None]:
    """A redirect to ``location``, with the HTML body Go's servers send with one (or, when
    ``flooded``, with 2 GiB of body)."""

    def answer(handler: Handler, vault: HostileVault) -> None:
        body = f'<a href="{location}">Temporary Redirect</a>.\n'.encode()
        size = 2 << 30 if flooded else len(body)
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        sent = 0
        while sent < size and not vault.stopped.is_set():
            chunk = body if not flooded else b"x" * min(MIB, size - sent)
            handler.wfile.write(chunk)
            sent += len(chunk)

    return answer


#: A KV v2 metadata read's answer: a secret with one live version.
LIVE_METADATA = {
    "data": {
        "current_version": 1,
        "updated_time": "2024-01-01T00:00:00Z",
        "custom_metadata": None,
        "versions": {"1": {"created_time": "2024-01-01T00:00:00Z", "deletion_time": ""}},
    }
}


def listing(keys: Callable[[str], list[str]]) -> Callable[[Handler, HostileVault], None]:
    """LIST answers ``keys(path)``; a metadata read finds a live secret, as KV's would for a
    key its LIST shows (a listing reads it to leave deleted secrets out); a read of a value
    finds nothing."""

    def answer(handler: Handler, _vault: HostileVault) -> None:
        if handler.command == "LIST":
            handler.send_json(200, {"data": {"keys": keys(handler.path)}})
        elif handler.command == "GET" and handler.path.startswith("/v1/secret/metadata/"):
            handler.send_json(200, LIVE_METADATA)
        else:
            handler.send_json(404, {"errors": []})

    return answer


def secret(value: str) -> dict[str, object]:
    """A KV v2 read's answer holding ``value``."""
    return {
        "data": {
            "data": {"value": value},
            "metadata": {"version": 1, "created_time": "2024-01-01T00:00:00Z"},
        }
    }


class DripListener:
    """A TCP listener that answers whatever it is sent with ``first`` and then one more byte
    every ``interval`` seconds: for a TLS client, a handshake record that never completes
    (``first`` announces 16 KiB; a byte at a time is one record it keeps waiting for)."""

    TLS_RECORD = b"\x16\x03\x03\x40\x00"

    def __init__(self, first: bytes = TLS_RECORD, interval: float = 0.2) -> None:
        import socket

        self.first = first
        self.interval = interval
        self.stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        serve_each(self._listener, self._drip)

    def _drip(self, conn: Any) -> None:
        with conn:
            try:
                conn.sendall(self.first)
                while not self.stopped.wait(self.interval):
                    conn.sendall(b"\x00")
            except OSError:
                return

    def stop(self) -> None:
        self.stopped.set()
        self._listener.close()
