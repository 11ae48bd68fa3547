"""A client that speaks to the engine the way Docker's own Go client does, byte for byte.

``github.com/docker/secrets-engine/client`` dials ``@docker-secrets-engine/<uid>/daemon.sock``
(``x/api/defaults_linux.go``), sends Connect unary requests (HTTP/1.1 ``POST /<service>/<method>``
with ``Content-Type: application/proto``, ``Connect-Protocol-Version: 1`` and
``Accept-Encoding: gzip`` as connect-go does) whose bodies are binary protobuf, and reads
binary protobuf back (gzip'ed when the server chose to).  ``ListPlugins`` keeps only plugins
whose name and version parse (``api.NewVersion``: Go's ``semver.IsValid`` with a ``v`` first),
and whose pattern parses.

The messages are encoded with the generated protobuf classes (the field numbers are
upstream's); the HTTP, the socket and the version rule are written out here, independently of
docker-pass's own client.
"""

from __future__ import annotations

import gzip
import http.client
import os
import socket
from typing import TYPE_CHECKING, Any, TypeVar

from docker_pass.daemon.gen.health.v1 import api_pb as health_pb
from docker_pass.daemon.gen.plugins.v1 import api_pb as plugins_pb
from docker_pass.daemon.gen.resolver.v1 import api_pb as resolver_pb

if TYPE_CHECKING:
    from protobuf import Message

M = TypeVar("M", bound="Message[Any]")

#: connect-go's User-Agent shape; the server must not care, but this is what arrives.
USER_AGENT = "connect-go/1.18.1 (go1.24.5)"


def default_address() -> str:
    """``api.DaemonSocketPath()`` on Linux."""
    return f"@docker-secrets-engine/{os.getuid()}/daemon.sock"


# Go's golang.org/x/mod/semver.IsValid, written out from its parser (not docker-pass's regex).
def _number(v: str) -> tuple[str, str] | None:
    digits = len(v) - len(v.lstrip("0123456789"))
    if digits == 0 or (digits > 1 and v[0] == "0"):
        return None
    return v[:digits], v[digits:]


def _identifiers(v: str, *, numeric_rule: bool) -> bool:
    for ident in v.split("."):
        if not ident or any(not (c.isascii() and (c.isalnum() or c == "-")) for c in ident):
            return False
        if numeric_rule and ident.isdigit() and len(ident) > 1 and ident[0] == "0":
            return False
    return True


def go_semver_is_valid(v: str) -> bool:
    """Whether ``v`` is valid for ``semver.IsValid``."""
    if not v.startswith("v"):
        return False
    rest = v[1:]
    for part in range(3):
        parsed = _number(rest)
        if parsed is None:
            return False
        rest = parsed[1]
        if part < 2:
            if rest == "":
                return True  # v1 and v1.2: shorthands, with nothing after them
            if not rest.startswith("."):
                return False
            rest = rest[1:]
    if rest.startswith("-"):
        pre, plus, rest = rest[1:].partition("+")
        if not _identifiers(pre, numeric_rule=True):
            return False
        rest = plus + rest
    if rest.startswith("+"):
        return _identifiers(rest[1:], numeric_rule=False)
    return rest == ""


class _AbstractConnection(http.client.HTTPConnection):
    def __init__(self, address: str, timeout: float) -> None:
        # The Go client's base URL is http://unix: the Host header says "unix".
        super().__init__("unix", timeout=timeout)
        self._address = address

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        name = self._address.removeprefix("@")
        sock.connect("\0" + name if self._address.startswith("@") else name)
        self.sock = sock


class ConnectError(Exception):
    """A Connect error answer: its code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class UpstreamWireClient:
    """One keep-alive HTTP/1.1 connection, as Go's transport keeps one per host."""

    def __init__(self, address: str | None = None, timeout: float = 20.0) -> None:
        self.address = address or default_address()
        self._conn = _AbstractConnection(self.address, timeout)
        #: (method path, request headers) of every call, for transcripts.
        self.sent: list[tuple[str, dict[str, str]]] = []

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> UpstreamWireClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, path: str, request: Message[Any], response_type: type[M]) -> M:
        """One Connect unary call with the binary protobuf codec."""
        body = request.to_binary()
        headers = {
            "User-Agent": USER_AGENT,
            "Content-Type": "application/proto",
            "Connect-Protocol-Version": "1",
            "Accept-Encoding": "gzip",
            "Content-Length": str(len(body)),
        }
        self.sent.append((path, headers))
        self._conn.request("POST", path, body=body, headers=headers)
        response = self._conn.getresponse()
        data = response.read()
        if response.getheader("Content-Encoding", "") == "gzip":
            data = gzip.decompress(data)
        if response.status != 200:
            import json

            doc = json.loads(data or b"{}")
            raise ConnectError(response.status, doc.get("code", ""), doc.get("message", ""))
        content_type = response.getheader("Content-Type", "")
        if content_type != "application/proto":
            raise AssertionError(f"answered with {content_type!r}, not application/proto")
        return response_type.from_binary(data)

    # -- the client's interface ------------------------------------------------------------

    def version(self) -> str:
        """``Client.Version``: the daemon's version, which must parse."""
        answer = self.call(
            "/health.v1.VersionService/GetVersion",
            health_pb.GetVersionRequest(),
            health_pb.GetVersionResponse,
        )
        if not go_semver_is_valid(answer.version):
            raise AssertionError(f"parsing daemon version {answer.version!r}")
        return answer.version

    def list_plugins(self) -> list[dict[str, Any]]:
        """``Client.ListPlugins``: plugins whose name, version and pattern parse."""
        answer = self.call(
            "/plugins.v1.PluginManagementService/ListPlugins",
            plugins_pb.ListPluginsRequest(),
            plugins_pb.ListPluginsResponse,
        )
        kept = []
        for item in answer.plugins:
            if not item.name or not go_semver_is_valid(item.version):
                continue  # upstream: `continue` on api.NewName / api.NewVersion errors
            which = item.metadata
            provider = None
            if which is not None and which.field == "secrets_provider":
                provider = which.value
            kept.append(
                {
                    "name": item.name,
                    "version": item.version,
                    "disabled": item.disabled,
                    "external": item.external,
                    "configurable": item.configurable,
                    "run_status": item.run_status,
                    "pattern": provider.pattern if provider is not None else None,
                }
            )
        return kept

    def authorize(self, *patterns: str) -> resolver_pb.AuthorizeResponse:
        """``Client.Authorize``."""
        return self.call(
            "/resolver.v1.AuthorizerService/Authorize",
            resolver_pb.AuthorizeRequest(patterns=list(patterns)),
            resolver_pb.AuthorizeResponse,
        )

    def get_secrets(self, pattern: str) -> resolver_pb.GetSecretsResponse:
        """``Client.GetSecrets``."""
        return self.call(
            "/resolver.v1.ResolverService/GetSecrets",
            resolver_pb.GetSecretsRequest(pattern=pattern),
            resolver_pb.GetSecretsResponse,
        )
