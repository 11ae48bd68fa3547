"""A loopback proxy in front of a real OpenBao that holds every removal until told to drop it.

Everything else (the token check, reads, writes, LIST walks) is forwarded to the server as
it came and answered as the server answered, so the vault plugin works through it normally.
A removal (``DELETE`` of a secret's latest version, or KV v2's ``delete``/``destroy`` of named
versions) is recorded and then held: the client waits
for an answer that does not come, as it would from a vault that stalls, which puts a
``docker pass mv`` out of vault between its copy and its removal for real.  :meth:`drop`
releases the held requests without forwarding them (the connection is closed), so a request
whose client was killed meanwhile never reaches the server later.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Seconds a held request waits at most (a test that forgets to drop it still ends).
HOLD_LIMIT = 120.0
#: Headers not passed on (hop-by-hop, or set again for the forwarded request).
_SKIPPED = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class _Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests look at :attr:`StallingVault.held` instead."""

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        vault = self.server.vault
        if _removes(self.command, self.path):
            vault.hold(self.path)
            self.close_connection = True
            return  # dropped: never forwarded, never answered
        upstream = http.client.HTTPConnection(vault.host, vault.port, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _SKIPPED}
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in _SKIPPED:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_LIST = do_DELETE = _forward


def _removes(method: str, path: str) -> bool:
    """Whether a request removes a version: ``DELETE`` on a secret, or KV v2's
    ``delete``/``destroy`` endpoints (which name the versions to remove)."""
    if method == "DELETE":
        return True
    parts = path.split("?", maxsplit=1)[0].split("/")
    return method in ("POST", "PUT") and len(parts) > 3 and parts[3] in ("delete", "destroy")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    vault: StallingVault


class StallingVault:
    """The proxy: ``address`` is what the vault plugin is set up with."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 8200
        self._server = _Server(("127.0.0.1", 0), _Proxy)
        self._server.vault = self
        self.address = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._released = threading.Event()
        self._changed = threading.Condition()
        #: The paths of the DELETE requests held so far.
        self.held: list[str] = []
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def hold(self, path: str) -> None:
        """Called for a DELETE: note it, then wait until :meth:`drop` (or the limit)."""
        with self._changed:
            self.held.append(path)
            self._changed.notify_all()
        self._released.wait(HOLD_LIMIT)

    def wait_held(self, count: int = 1, timeout: float = 60) -> list[str]:
        """Wait until ``count`` DELETE requests are held; their paths."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.held) >= count, timeout):
                raise AssertionError(f"no DELETE reached the vault within {timeout} s")
            return list(self.held)

    def drop(self) -> None:
        """Let the held requests go, unanswered and never forwarded."""
        self._released.set()

    def stop(self) -> None:
        self.drop()
        self._server.shutdown()
        self._server.server_close()


def stalling_vault(upstream: str) -> Iterator[StallingVault]:
    """A :class:`StallingVault` for ``upstream``, stopped afterwards (for a fixture)."""
    proxy = StallingVault(upstream)
    try:
        yield proxy
    finally:
        proxy.stop()
