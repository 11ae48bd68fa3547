"""A small synchronous client of the Docker Engine API, for the commands that ask the engine
straight (``uses``, ``rollout``, ``scan``) and the UI's "Used by" pane.

Standard library only.  The engine is reached over a Unix socket or TCP (TLS with a
``ca.pem``/``cert.pem``/``key.pem`` folder).  A call on a Unix socket (the usual engine) is one
HTTP/1.1 request written by hand and read by the daemon client's reader
(:func:`~docker_pass.core.remote.transport.read_answer`): ``http.client`` with its ``email``
and ``ssl`` imports costs ~25 ms, a fifth of ``uses``.  TCP, TLS and the event stream use
``http.client``, imported then.
Requests carry no API version prefix: the engine answers in its own current version, so an
inspect document and the create body made from it speak the same version.

Everything the engine sends is outside input: an answer is read up to a size limit, JSON is
parsed in one place, and an error's text is the engine's ``message`` cleaned by the one
sanitizer and shortened.  No request or answer body ever reaches an exception's text.

Which engine: :func:`upstream_engine` is the one the Docker proxy forwards to (the running
engine daemon's, else what it would pick), never the proxy itself; :func:`proxy_engine` is the
running daemon's proxy, through which a create resolves ``se://`` references again.
"""

from __future__ import annotations

import io
import json
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from docker_pass.core.docker.endpoint import DockerHost, proxy_socket_path, upstream_host
from docker_pass.core.errors import DockerPassError, shorten

if TYPE_CHECKING:
    import http.client
    from collections.abc import Iterator, Mapping

#: Seconds a call waits for the engine unless told otherwise.
DEFAULT_TIMEOUT = 30.0
#: The most an answer may hold (a container list of thousands is a few MB); the reader of
#: Unix-socket answers holds the same limit.
MAX_ANSWER = 64 * 1024 * 1024
#: The most one line of an event stream may hold.
MAX_EVENT_LINE = 1024 * 1024


class DockerUnreachableError(DockerPassError):
    """Raised when the Docker engine cannot be reached or answers something that is not its
    API (the text says which engine and why, never an answer's content)."""


class DockerTimeoutError(DockerUnreachableError):
    """Raised when the engine did not answer within the call's timeout (for
    :meth:`DockerApi.events`: no event came within it, which on a quiet engine is no fault)."""


class DockerApiError(DockerPassError):
    """Raised for an error answer of the engine: ``status`` and its cleaned ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class DockerApi:
    """One engine's API: :meth:`call` for JSON, :meth:`events` for the event stream.

    A connection is opened per call (the engine keeps none of our state between calls, and a
    per-call connection cannot be left half-read by a caller that stopped early).
    """

    def __init__(self, host: DockerHost, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.host = host
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"DockerApi({self.host.url!r})"

    # -- calls -----------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: object = None,
        timeout: float | None = None,
        ok: tuple[int, ...] = (200, 201, 204, 304),
    ) -> Any:
        """``method path`` with ``body`` as JSON; the answer's JSON (``None`` when empty).

        An answer whose status is not in ``ok`` raises :class:`DockerApiError`.
        """
        status, data = self.raw(method, path, query=query, body=body, timeout=timeout)
        if status not in ok:
            raise DockerApiError(status, self._message(status, data))
        if not data.strip():
            return None
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            raise DockerUnreachableError(
                f"the Docker engine at {self.host.url} answered {method} {path} with "
                "something that is not JSON"
            ) from None

    def raw(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: object = None,
        timeout: float | None = None,
    ) -> tuple[int, bytes]:
        """``method path``: the status and the whole body (up to :data:`MAX_ANSWER`), all of it
        within ``timeout`` seconds (the client's unless given): an engine that answers byte by
        byte cannot hold a call longer, it is :class:`DockerTimeoutError`."""
        if self.host.scheme == "unix":
            return self._unix_call(method, path, query, body, timeout)
        import http.client

        conn = self._connect(timeout)
        try:
            conn.connect()
            wait = self.timeout if timeout is None else timeout
            conn.sock = _DeadlineSocket(conn.sock, time.monotonic() + wait)
            response = self._send(conn, method, path, query, body)
            data = response.read(MAX_ANSWER + 1)
            if len(data) > MAX_ANSWER:
                raise DockerUnreachableError(
                    f"the Docker engine at {self.host.url} answered {method} {path} with more "
                    f"than {MAX_ANSWER // (1024 * 1024)} MB"
                )
            return response.status, data
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(exc) from None
        finally:
            conn.close()

    def events(
        self, filters: Mapping[str, list[str]] | None = None, *, since: str = ""
    ) -> Iterator[dict[str, Any]]:
        """The engine's events as they come (``GET /events``), one JSON object each, until the
        caller stops iterating or the engine closes the stream.  Each wait for the next event
        lasts at most the client's timeout: then :class:`DockerTimeoutError` (a quiet engine;
        reopen with ``since`` the last event's time to miss nothing)."""
        import http.client

        query = {"filters": json.dumps(dict(filters or {}))}
        if since:
            query["since"] = since
        conn = self._connect(None)
        try:
            response = self._send(conn, "GET", "/events", query, None)
            if response.status != 200:
                raise DockerApiError(
                    response.status, self._message(response.status, response.read(65536))
                )
            while True:
                line = response.readline(MAX_EVENT_LINE + 1)
                if not line:
                    return
                if len(line) > MAX_EVENT_LINE:
                    raise DockerUnreachableError(
                        f"the Docker engine at {self.host.url} sent an event over 1 MB"
                    )
                try:
                    event = json.loads(line)
                except (ValueError, RecursionError):
                    continue
                if isinstance(event, dict):
                    yield event
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(exc) from None
        finally:
            conn.close()

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Iterator[http.client.HTTPResponse]:
        """``method path``'s answer as a file-like body, read as it comes and with no size
        limit (``docker save``'s tar, a container's logs); ``timeout`` bounds each wait for
        data, not the whole answer.  An error status raises :class:`DockerApiError`; failing to
        reach or read the engine inside the block raises :class:`DockerUnreachableError`."""
        import http.client

        conn = self._connect(timeout)
        try:
            try:
                response = self._send(conn, method, path, query, None)
            except (OSError, http.client.HTTPException) as exc:
                raise self._unreachable(exc) from None
            if response.status != 200:
                raise DockerApiError(
                    response.status, self._message(response.status, response.read(65536))
                )
            try:
                yield response
            except (OSError, http.client.HTTPException) as exc:
                raise self._unreachable(exc) from None
        finally:
            conn.close()

    # -- the calls every user of this module makes -----------------------------------------------

    def containers(self) -> list[dict[str, Any]]:
        """Every container, running or not (``docker ps -a``): the list entries, labels
        included."""
        found = self.call("GET", "/containers/json", query={"all": "1"})
        if not isinstance(found, list):
            raise DockerUnreachableError(
                f"the Docker engine at {self.host.url} answered the container list with "
                "something that is not a list"
            )
        return [entry for entry in found if isinstance(entry, dict)]

    def inspect_container(self, name_or_id: str) -> dict[str, Any]:
        """A container's inspect document."""
        found = self.call("GET", f"/containers/{quote(name_or_id, safe='')}/json")
        if not isinstance(found, dict):
            raise DockerUnreachableError(
                f"the Docker engine at {self.host.url} answered an inspect with something "
                "that is not an object"
            )
        return found

    # -- plumbing --------------------------------------------------------------------------------

    def _unix_call(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: object,
        timeout: float | None,
    ) -> tuple[int, bytes]:
        from docker_pass.core.remote.transport import UnreadableAnswerError, read_answer

        payload = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {_target(path, query)} HTTP/1.1", "Host: docker"]
        lines += ["Connection: close", "Accept-Encoding: identity"]
        if body is not None:
            lines.append("Content-Type: application/json")
        if body is not None or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(payload)}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
        wait = self.timeout if timeout is None else timeout
        try:
            with _unix_socket(self.host.path, wait) as sock:
                sock.sendall(request)
                with io.BufferedReader(_Deadline(sock, time.monotonic() + wait)) as reader:
                    answer, _ = read_answer(reader)
        except UnreadableAnswerError as exc:
            raise DockerUnreachableError(
                f"the Docker engine at {self.host.url} answered {method} {path} with something "
                f"that is not HTTP this client reads ({exc})"
            ) from None
        except OSError as exc:
            raise self._unreachable(exc) from None
        return answer.status, answer.body

    def _connect(self, timeout: float | None) -> http.client.HTTPConnection:
        import http.client

        wait = self.timeout if timeout is None else timeout
        if self.host.scheme == "unix":
            return _unix_connection(self.host.path, wait)
        if self.host.tls_dir:
            import ssl

            context = ssl.create_default_context(cafile=f"{self.host.tls_dir}/ca.pem")
            context.load_cert_chain(f"{self.host.tls_dir}/cert.pem", f"{self.host.tls_dir}/key.pem")
            return http.client.HTTPSConnection(
                self.host.host, self.host.port, timeout=wait, context=context
            )
        return http.client.HTTPConnection(self.host.host, self.host.port, timeout=wait)

    def _send(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: object,
    ) -> http.client.HTTPResponse:
        target = _target(path, query)
        headers = {"Host": "docker"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, target, body=payload, headers=headers)
        return conn.getresponse()

    def _message(self, status: int, data: bytes) -> str:
        from docker_pass.core.outside import clean_outside

        try:
            doc = json.loads(data)
        except (ValueError, RecursionError):
            doc = None
        message = doc.get("message") if isinstance(doc, dict) else None
        if isinstance(message, str) and message.strip():
            return shorten(clean_outside(message), 300)
        return f"the Docker engine answered {status}"

    def _unreachable(self, exc: BaseException) -> DockerUnreachableError:
        if isinstance(exc, TimeoutError):
            return DockerTimeoutError(
                f"cannot reach the Docker engine at {self.host.url}: it did not answer in time"
            )
        else:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
        return DockerUnreachableError(
            f"cannot reach the Docker engine at {self.host.url}: {reason}"
        )


def _target(path: str, query: Mapping[str, str] | None) -> str:
    return path + ("?" + urlencode(dict(query)) if query else "")


class _Deadline(io.RawIOBase):
    """A socket's reads, each waiting only for what is left of one deadline for the whole
    answer (:class:`TimeoutError` once it has passed)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the answer did not arrive in time")
        self._sock.settimeout(left)
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """A connected socket whose reader (``makefile("rb")``, what ``http.client`` reads an
    answer through) keeps one deadline for the whole answer; the rest is the socket's."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str = "r", *_args: Any, **_kwargs: Any) -> io.BufferedReader:
        if mode != "rb":
            raise ValueError(f"only binary reading, not {mode!r}")
        return io.BufferedReader(_Deadline(self._sock, self._deadline))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _unix_socket(path: str, timeout: float) -> socket.socket:
    """A connected stream socket to ``path`` (closed again if the connect fails)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    return sock


def _unix_connection(path: str, timeout: float) -> http.client.HTTPConnection:
    """An ``http.client`` connection over the Unix socket at ``path`` (for the event stream)."""
    import http.client

    class UnixConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = _unix_socket(path, timeout)

    return UnixConnection("localhost", timeout=timeout)


# -- which engine ----------------------------------------------------------------------------------


def upstream_engine(*, timeout: float = DEFAULT_TIMEOUT) -> DockerApi:
    """The engine the Docker proxy forwards to: the running engine daemon's upstream, else the
    one it would pick (``engine.docker_host``, ``$DOCKER_HOST``, the docker context…), never
    the proxy itself."""
    from docker_pass.core.remote.endpoint import default_socket_path, lock_holder

    holder = lock_holder() or {}
    own = holder.get("docker_socket")
    own_socket = Path(own) if isinstance(own, str) and own else None
    if own_socket is None:
        own_socket = proxy_socket_path(default_socket_path())
    chosen = upstream_host(None, own_socket=own_socket)
    running = holder.get("docker_upstream")
    if isinstance(running, str) and running and running != chosen.url:
        chosen = DockerHost(running, "the running engine's upstream")
    return DockerApi(chosen, timeout=timeout)


def proxy_engine(*, timeout: float = DEFAULT_TIMEOUT) -> DockerApi | None:
    """The running engine daemon's Docker proxy, or ``None`` when no daemon serves one."""
    from docker_pass.core.remote.endpoint import lock_holder

    holder = lock_holder() or {}
    path = holder.get("docker_socket")
    if not isinstance(path, str) or not path:
        return None
    return DockerApi(DockerHost(f"unix://{path}", "the running engine's proxy"), timeout=timeout)
