"""A Connect library's client of the daemon: connectrpc's generated stubs on the Unix socket.

docker-pass's own client speaks Connect's JSON codec with the standard library; this one is
what a third party would write (Docker's clients are Connect clients too), so the tests use it
to prove both codecs work for a Connect library.  connectrpc's sync clients send through a
``pyqwest`` transport; :class:`UnixTransport` is one that speaks HTTP/1.1 on the engine's
socket with ``http.client``, checking the server's peer credentials like every client of ours.
"""

from __future__ import annotations

import http.client
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pyqwest import Headers, SyncClient, SyncRequest, SyncResponse
from pyqwest._pyqwest import get_sync_timeout

from docker_pass.core.remote.endpoint import connect_unix
from docker_pass.daemon.gen.dockerpass.v1 import api_connect as dockerpass_connect
from docker_pass.daemon.gen.health.v1 import api_connect as health_connect
from docker_pass.daemon.gen.plugins.v1 import api_connect as plugins_connect
from docker_pass.daemon.gen.resolver.v1 import api_connect as resolver_connect

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from connectrpc.codec import Codec

#: The URL's host is only the HTTP ``Host`` header: the socket decides where requests go.
BASE_URL = "http://localhost"


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = connect_unix(self._path, self.timeout)


class UnixTransport:
    """A ``pyqwest`` sync transport: one HTTP/1.1 connection per request on a Unix socket.

    ``content_types`` records the request content type of every call, so a test can show
    which codec was on the wire.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self.content_types: list[str] = []

    def execute_sync(self, request: SyncRequest) -> SyncResponse:
        """Send one request and read the whole response."""
        limit = get_sync_timeout()
        body = request.content
        content = body if isinstance(body, bytes) else b"".join(body)
        headers = dict(request.headers.items())
        self.content_types.append(headers.get("content-type", ""))
        conn = _UnixHTTPConnection(self._path, limit.total_seconds() if limit else 30.0)
        try:
            path = request.url.removeprefix(BASE_URL)
            conn.request(request.method, path, body=content, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        return SyncResponse(
            status=response.status, headers=Headers(response.getheaders()), content=data
        )


class ConnectClients:
    """connectrpc's sync clients of every service of the daemon, sharing one transport."""

    def __init__(self, path: Path, codec: Codec) -> None:
        self.transport = UnixTransport(path)
        self._http = SyncClient(self.transport)
        options: dict[str, Any] = {
            "http_client": self._http,
            "codec": codec,
            "accept_compression": (),
            "send_compression": None,
            "timeout_ms": 30_000,
        }
        self.resolver = resolver_connect.ResolverServiceClientSync(BASE_URL, **options)
        self.plugins = plugins_connect.PluginManagementServiceClientSync(BASE_URL, **options)
        self.health = health_connect.VersionServiceClientSync(BASE_URL, **options)
        self.listing = dockerpass_connect.ListingServiceClientSync(BASE_URL, **options)

    def close(self) -> None:
        for client in (self.resolver, self.plugins, self.health, self.listing):
            client.close()


@contextmanager
def connect_clients(path: Path, codec: Codec) -> Iterator[ConnectClients]:
    """:class:`ConnectClients` for the daemon at ``path``, closed afterwards."""
    clients = ConnectClients(path, codec)
    try:
        yield clients
    finally:
        clients.close()
