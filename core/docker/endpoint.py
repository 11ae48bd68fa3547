"""Which Docker engine the container proxy forwards to, and the docker context that points at it.

Standard library only.  Docker's CLI keeps contexts under ``$DOCKER_CONFIG/contexts`` (default
``~/.docker/contexts``): ``meta/<sha256 of the name>/meta.json`` holds a context's endpoints, and
``config.json``'s ``currentContext`` names the one in use unless ``$DOCKER_CONTEXT`` or
``$DOCKER_HOST`` says otherwise.  We read and write those files the way the CLI does, so
``docker context ls`` shows ours and ``docker context use docker-pass`` works.

The upstream engine, first to last: ``engine run --docker-host``, the config file's
``engine.docker_host``, ``$DOCKER_HOST``, the current docker context's endpoint (unless that is
our own context), else ``unix:///var/run/docker.sock``.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from docker_pass.core.errors import DockerPassError, UsageError
from docker_pass.core.names import PROGRAM
from docker_pass.core.regular_files import FileReadError, read_regular_file
from docker_pass.core.value import FrozenValue

#: The docker context ``install --context`` creates.
CONTEXT_NAME = PROGRAM
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
#: The proxy socket's path, overriding config ``engine.docker_socket`` and the default.
DOCKER_SOCKET_ENV = "DOCKER_PASS_DOCKER_SOCKET"
DOCKER_SOCKET_NAME = "docker.sock"


class DockerHost(FrozenValue):
    """A Docker engine endpoint: ``unix`` with a ``path``, or ``tcp`` with ``host``/``port``
    (and ``tls_dir``, a folder holding ``ca.pem``, ``cert.pem`` and ``key.pem``, for TLS).

    ``source`` says which setting chose it (``option``, ``config``, ``DOCKER_HOST``,
    ``context <name>`` or ``default``).
    """

    __slots__ = ("host", "path", "port", "scheme", "source", "tls_dir", "url")
    url: str
    scheme: str
    path: str
    host: str
    port: int
    tls_dir: str
    source: str

    def __init__(self, url: str, source: str, tls_dir: str = "") -> None:
        parts = urlsplit(url)
        scheme = parts.scheme
        if scheme == "unix":
            path = (parts.netloc + parts.path) or ""
            if not path.startswith("/"):
                raise UsageError(f"docker host {url}: a unix:// address needs an absolute path")
            host, port = "", 0
        elif scheme in ("tcp", "http", "https"):
            path = ""
            host = parts.hostname or ""
            try:
                port = parts.port or (2376 if tls_dir or scheme == "https" else 2375)
            except ValueError:
                raise UsageError(f"docker host {url}: the port is not a number") from None
            if not host:
                raise UsageError(f"docker host {url}: no host name")
            scheme = "tcp"
        else:
            raise UsageError(
                f"docker host {url}: only unix:// and tcp:// engines can be proxied "
                "(for ssh:// run the proxy on that machine)"
            )
        self._set("url", url)
        self._set("scheme", scheme)
        self._set("path", path)
        self._set("host", host)
        self._set("port", port)
        self._set("tls_dir", tls_dir)
        self._set("source", source)

    def __repr__(self) -> str:
        return f"DockerHost({self.url!r}, {self.source!r})"


def docker_config_dir() -> Path:
    """``$DOCKER_CONFIG``, else ``~/.docker``."""
    configured = os.environ.get("DOCKER_CONFIG")
    return Path(configured).expanduser() if configured else Path.home() / ".docker"


def _context_dir(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def context_meta_path(name: str) -> Path:
    """Where the docker CLI keeps context ``name``'s metadata."""
    return docker_config_dir() / "contexts" / "meta" / _context_dir(name) / "meta.json"


def current_context() -> str:
    """``$DOCKER_CONTEXT``, else config.json's ``currentContext``, else ``default``."""
    named = os.environ.get("DOCKER_CONTEXT", "")
    if named:
        return named
    try:
        doc = json.loads(read_regular_file(docker_config_dir() / "config.json", "docker config"))
    except (FileReadError, ValueError, RecursionError):
        return "default"
    current = doc.get("currentContext") if isinstance(doc, dict) else None
    return current if isinstance(current, str) and current else "default"


def read_context(name: str) -> dict[str, Any] | None:
    """Context ``name``'s metadata, or ``None`` when there is no such context."""
    try:
        doc = json.loads(read_regular_file(context_meta_path(name), "docker context metadata"))
    except FileReadError as exc:
        if exc.missing:
            return None
        raise DockerPassError(f"docker context {name}: cannot read its metadata: {exc}") from None
    except (ValueError, RecursionError):
        raise DockerPassError(
            f"docker context {name}: cannot read its metadata: {context_meta_path(name)} is "
            "not JSON"
        ) from None
    return doc if isinstance(doc, dict) else None


def context_host(name: str) -> DockerHost | None:
    """The Docker endpoint of context ``name`` (``None`` when it has none)."""
    doc = read_context(name)
    if doc is None:
        if name == "default":
            return None
        raise DockerPassError(f"docker context {name} does not exist (docker context ls)")
    endpoint = (doc.get("Endpoints") or {}).get("docker") or {}
    url = endpoint.get("Host") if isinstance(endpoint, dict) else None
    if not isinstance(url, str) or not url:
        return None
    tls = docker_config_dir() / "contexts" / "tls" / _context_dir(name) / "docker"
    return DockerHost(url, f"context {name}", str(tls) if (tls / "ca.pem").is_file() else "")


def upstream_host(given: str | None, own_socket: Path | None = None) -> DockerHost:
    """The engine the proxy forwards to, by precedence (see the module's text).

    ``own_socket``: the proxy's own socket; an upstream that is the proxy itself (the
    ``docker-pass`` context in use, say) is skipped, since forwarding to it would loop.
    """
    from docker_pass.core.config import load_config

    def ours(host: DockerHost) -> bool:
        return own_socket is not None and host.scheme == "unix" and Path(host.path) == own_socket

    if given:
        host = DockerHost(given, "option")
        if ours(host):
            raise UsageError(f"--docker-host {given} is the proxy's own socket")
        return host
    section = load_config().get("engine", {})
    configured = section.get("docker_host") if isinstance(section, dict) else None
    if configured:
        host = DockerHost(str(configured), "config")
        if ours(host):
            raise UsageError(f"config engine.docker_host {configured} is the proxy's own socket")
        return host
    env = os.environ.get("DOCKER_HOST", "")
    if env:
        tls = os.environ.get("DOCKER_CERT_PATH", "") if os.environ.get("DOCKER_TLS_VERIFY") else ""
        host = DockerHost(env, "DOCKER_HOST", tls)
        if not ours(host):
            return host
    name = current_context()
    if name not in ("default", CONTEXT_NAME):
        host_of_context = context_host(name)
        if host_of_context is not None and not ours(host_of_context):
            return host_of_context
    return DockerHost(DEFAULT_DOCKER_HOST, "default")


def proxy_socket_path(engine_socket: Path) -> Path:
    """The proxy's socket: ``$DOCKER_PASS_DOCKER_SOCKET``, config ``engine.docker_socket``,
    else ``docker.sock`` beside the engine socket (in the same 0700 directory)."""
    from docker_pass.core.config import load_config

    from_env = os.environ.get(DOCKER_SOCKET_ENV, "")
    if from_env:
        return Path(from_env).expanduser()
    section = load_config().get("engine", {})
    configured = section.get("docker_socket") if isinstance(section, dict) else None
    if configured:
        return Path(str(configured)).expanduser()
    return engine_socket.parent / DOCKER_SOCKET_NAME


def write_context(name: str, host_url: str, description: str) -> bool:
    """Create or update docker context ``name`` pointing at ``host_url``; whether it existed.

    The metadata is written the way ``docker context create`` writes it (atomically, 0644 like
    the CLI's own, since it holds no secret).
    """
    path = context_meta_path(name)
    existed = path.exists()
    doc = {
        "Name": name,
        "Metadata": {"Description": description},
        "Endpoints": {"docker": {"Host": host_url, "SkipTLSVerify": False}},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    os.replace(tmp, path)
    return existed


def remove_context(name: str) -> bool:
    """Remove docker context ``name``'s metadata; whether there was one."""
    path = context_meta_path(name)
    if not path.exists():
        return False
    path.unlink()
    with suppress(OSError):
        path.parent.rmdir()
    return True
