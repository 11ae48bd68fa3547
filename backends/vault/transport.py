"""The HTTP under ``hvac``, bounded: what a vault server (or whatever answers at its address)
can cost one request, whatever it sends.

- **A total deadline** per request, the plugin's ``timeout``: ``requests``' own timeout is per
  socket operation, which a server that sends one byte every second resets forever.  A
  watchdog thread shuts the request's socket down when its deadline passes.  (Connecting and
  a TLS handshake are bounded by the time left: Python's handshake keeps one deadline.)
- **A cap on the answer**: the body is streamed and read up to :data:`ANSWER_LIMIT`; a larger
  one (by ``Content-Length`` or by counting) is refused, and never held whole.  Answers are
  asked for, and read, uncompressed: no decompression bomb.
- **Redirects** are followed only to the same scheme, host and port (at most
  :data:`MAX_REDIRECTS`); one to anywhere else is an error, so the token (``X-Vault-Token``,
  which ``requests`` keeps across hosts) never reaches another server.
- **Vault's JSON**: an answer with a body that is no JSON object (a proxy's HTML page, a
  200 from the wrong server) is an error naming the address, never an empty listing.

Imported only when the plugin makes its first client (``requests`` is loaded by then).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError

from docker_pass.backends.vault.errors import (
    AnswerTooLargeError,
    DeadlineError,
    NotVaultAnswerError,
    RedirectRefusedError,
)
from docker_pass.core.outside import clean_outside

if TYPE_CHECKING:
    from urllib3.poolmanager import PoolManager

#: The largest answer read (a LIST of 100,000 keys is ~3 MiB; a KV secret holds less).
ANSWER_LIMIT = 8 * 1024 * 1024
#: Same-origin redirects followed for one request, at most.
MAX_REDIRECTS = 5
#: Bytes read from the socket at a time.
CHUNK = 64 * 1024
#: How much of a body that is not Vault's JSON a message shows.
EXCERPT = 80
_DEFAULT_PORTS = {"http": 80, "https": 443}


def size_text(limit: int) -> str:
    """``8 MiB``: a byte count as messages say it."""
    return f"{limit / (1024 * 1024):g} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"


def origin(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of ``url``, the default port filled in: what must not change."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is no number: no origin we would go to
        port = -1
    return scheme, (parts.hostname or "").lower(), port


# -- the deadline ------------------------------------------------------------------------------


class _Watch:
    """One request's deadline and the socket it is using."""

    __slots__ = ("_lock", "_sock", "deadline", "done", "expired")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self.done = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def attach(self, sock: socket.socket) -> None:
        with self._lock:
            if self.done:
                return
            self._sock = sock
            if self.expired:
                _shut(sock)

    def expire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            if self._sock is not None:
                _shut(self._sock)

    def end(self) -> None:
        with self._lock:
            self.done = True
            self._sock = None


def _shut(sock: socket.socket) -> None:
    """Shut ``sock`` down: a recv or send blocked on it returns at once.  ``socket.socket``'s
    own method, so that a TLS socket's state is left to the thread using it."""
    with contextlib.suppress(OSError):  # already closed: nothing is blocked on it
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One thread that expires the watches whose deadline has passed (a timer thread per
    request would cost a thread start for each of a walk's calls)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, watch: _Watch) -> None:
        with self._cond:
            heapq.heappush(self._heap, (watch.deadline, next(self._order), watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="vault-deadlines", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][2].done or self._heap[0][0] <= now):
                    heapq.heappop(self._heap)[2].expire()
                wait = self._heap[0][0] - now if self._heap else None
                self._cond.wait(wait)


_WATCHDOG = _Watchdog()
_current = threading.local()


def _attach(sock: socket.socket | None) -> None:
    watch: _Watch | None = getattr(_current, "watch", None)
    if watch is not None and sock is not None:
        watch.attach(sock)


class _WatchedConnection(HTTPConnection):
    """A connection whose socket the current request's watch can shut down."""

    def connect(self) -> None:
        super().connect()
        _attach(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self.sock)  # a kept-alive connection: the same socket, a new request
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """``requests``' adapter with the watched connections (direct, or through an HTTP proxy)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> PoolManager:
        manager: PoolManager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools have connections of their own
            manager.pool_classes_by_scheme = _POOLS
        return manager


# -- the session -------------------------------------------------------------------------------


class BoundedSession(requests.Session):
    """A ``requests`` session whose every request is bounded (see the module's rules);
    ``hvac`` makes its calls through it."""

    def __init__(self, timeout: float, verify: bool | str, limit: int = ANSWER_LIMIT) -> None:
        super().__init__()
        self.total_timeout = timeout
        self.limit = limit
        self.verify = verify
        self.max_redirects = MAX_REDIRECTS
        self.headers["Accept-Encoding"] = "identity"
        adapter = _WatchedAdapter()
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def __repr__(self) -> str:
        return f"BoundedSession(timeout={self.total_timeout}, limit={self.limit})"

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        """One request and its same-origin redirects, within one deadline; the answer read
        whole (up to the cap) and checked to be Vault's JSON."""
        deadline = time.monotonic() + self.total_timeout
        start = origin(url)
        kwargs["allow_redirects"] = False
        kwargs["stream"] = True
        for _hop in range(MAX_REDIRECTS + 1):
            response, body, target = self._one(method, url, deadline, *args, **kwargs)
            if target is None:
                _check_json(response, body)
                return response
            if origin(target) != start:
                raise RedirectRefusedError(
                    f"the server redirected to {_shown_origin(target)}, another scheme, host "
                    "or port: not followed (the token goes to the configured address only); "
                    "set up the vault's own address"
                )
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method.upper() == "POST"
            ):
                method = "GET" if method.upper() != "HEAD" else method
                for key in ("data", "json", "files"):
                    kwargs.pop(key, None)
            kwargs.pop("params", None)  # the target carries its own query
            url = target
        raise RedirectRefusedError(f"more than {MAX_REDIRECTS} redirects: not followed further")

    def _one(
        self, method: str, url: str, deadline: float, *args: Any, **kwargs: Any
    ) -> tuple[requests.Response, bytes, str | None]:
        """One HTTP exchange: the answer, its body (none for a redirect: it is not read) and
        where it redirects to."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._late()
        kwargs["timeout"] = remaining  # per socket operation; the watch bounds the sum
        watch = _Watch(deadline)
        _current.watch = watch
        _WATCHDOG.arm(watch)
        try:
            response = super().request(method, url, *args, **kwargs)
            try:
                target = _redirect_target(response, url)
                body = b"" if target is not None else _read_capped(response, self.limit)
            except BaseException:
                response.close()
                raise
        except (requests.RequestException, Urllib3Error, OSError) as exc:
            if watch.expired or isinstance(exc, requests.ReadTimeout | ReadTimeoutError):
                raise self._late() from None
            raise
        finally:
            watch.end()
            _current.watch = None
        if watch.expired:  # the socket was shut down: what was read may be cut short
            response.close()
            raise self._late()
        if target is not None:
            response.close()  # its body unread: the connection is closed, not reused
            return response, b"", target
        response._content = body  # what requests itself sets once it has read the body
        response._content_consumed = True
        response.close()  # read to its end: the connection goes back to the pool
        return response, body, None

    def get_redirect_target(self, resp: requests.Response) -> None:
        """None: :meth:`request` follows redirects itself.  (``requests`` asks this even when
        told not to follow, and would read the redirect's whole body to find the next one.)"""
        return

    def _late(self) -> DeadlineError:
        return DeadlineError(
            f"no complete answer within {self.total_timeout:g} s (plugins.vault.timeout)"
        )


def _read_capped(response: requests.Response, limit: int) -> bytes:
    """The body, read in chunks, undecoded; :class:`AnswerTooLargeError` past ``limit``."""
    length = response.headers.get("Content-Length", "").strip()
    if length.isdigit() and int(length) > limit:
        raise AnswerTooLargeError(f"the answer is larger than {size_text(limit)}: not read")
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = response.raw.read(CHUNK, decode_content=False)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise AnswerTooLargeError(f"the answer is larger than {size_text(limit)}: not read")
        chunks.append(chunk)


def _redirect_target(response: requests.Response, url: str) -> str | None:
    if response.status_code not in (301, 302, 303, 307, 308):
        return None
    location = response.headers.get("Location", "")
    if not location:
        return None
    try:
        target = urljoin(response.url or url, location)
        origin(target)
    except ValueError:  # urllib's parser refuses it (a bracket that is no IPv6 address…)
        raise RedirectRefusedError(
            "the server redirected to a location that is no URL: not followed"
        ) from None
    return target


def _shown_origin(url: str) -> str:
    scheme, host, port = origin(url)
    return clean_outside(f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}", 120)


def _check_json(response: requests.Response, body: bytes) -> None:
    """Vault answers every request with a JSON object, or with no body (204); else whatever
    answered is not the vault's API."""
    if not body.strip():
        if response.status_code != 200:
            return
    else:
        import json

        try:
            if isinstance(json.loads(body), dict):
                return
        except (ValueError, RecursionError):  # RecursionError: nested deeper than it parses
            pass
    kind = response.headers.get("Content-Type", "") or "no content type"
    excerpt = clean_outside(body[: EXCERPT * 4], EXCERPT) if body.strip() else "an empty body"
    raise NotVaultAnswerError(
        f"the answer ({response.status_code}, {clean_outside(kind, 60)}) is not Vault's JSON: "
        f"{excerpt!r}; is this the vault's API address?"
    )
