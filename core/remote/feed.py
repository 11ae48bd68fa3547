"""Following the engine daemon's change feed (``WatchSecrets``), in the standard library alone.

The daemon streams what changed (:mod:`docker_pass.daemon.feed`) with Connect's streaming
protocol: a POST whose body is one enveloped request, answered by enveloped messages (a flags
byte, a 4-byte big-endian length, the message) in an HTTP/1.1 chunked body, the last with flag
``0x02``: the end of the stream, ``{}`` or ``{"error": {...}}``.  The JSON codec
(``application/connect+json``) keeps protobuf out of this process, as for the unary calls
(:mod:`.client`).  Each event is read as it arrives; the daemon sends a keepalive every few
seconds, so a read that waits :data:`READ_TIMEOUT` seconds means the connection is dead.

:class:`FeedFollower` runs the stream in a daemon thread, reconnects with a growing pause, and
tells its owner each event, and when the feed goes down (and why) and comes back (its first
event is a ``resync``: list everything, changes may have been missed meanwhile).  Events name
plugins and IDs, never values.
"""

from __future__ import annotations

import json
import struct
import threading
from typing import TYPE_CHECKING

from docker_pass.core import __version__
from docker_pass.core.errors import DockerPassError
from docker_pass.core.remote.endpoint import connect_unix
from docker_pass.core.remote.transport import MAX_LINE, DaemonUnavailableError
from docker_pass.core.remote.wire import WATCH_SECRETS

if TYPE_CHECKING:
    import io
    from collections.abc import Callable, Generator, Iterator
    from pathlib import Path

#: Seconds a read may wait: the daemon's keepalive comes every 5 s, so three are missing.
READ_TIMEOUT = 15.0
#: Seconds the connection gets to be made.
CONNECT_TIMEOUT = 2.0
#: The deadline asked of the daemon for one stream (it ends then; the follower reconnects).
STREAM_DEADLINE_MS = 3_600_000
#: Pauses between attempts to reconnect, growing to the last.
BACKOFF = (0.2, 0.5, 1.0, 2.0, 5.0)
#: The largest event this client reads (a healthy daemon's are a few hundred bytes).
MAX_EVENT = 1024 * 1024

_PREFIX = struct.Struct(">BI")
_END_STREAM = 0x02

CHANGED = "changed"
KEEPALIVE = "keepalive"
RESYNC = "resync"
PLUGINS = "plugins"


class FeedEvent:
    """One event of the feed (see :mod:`docker_pass.daemon.feed`): its kind, the daemon's
    sequence number, the plugins and IDs it names."""

    __slots__ = ("ids", "kind", "plugins", "sequence")

    def __init__(
        self, kind: str, sequence: int, plugins: tuple[str, ...], ids: tuple[str, ...]
    ) -> None:
        self.kind = kind
        self.sequence = sequence
        self.plugins = plugins
        self.ids = ids

    def __repr__(self) -> str:
        return f"FeedEvent({self.kind}, {self.sequence}, {self.plugins}, {len(self.ids)} IDs)"


class FeedUnsupportedError(DaemonUnavailableError):
    """Raised when the daemon offers no change feed (an older one answers ``404``)."""


class FeedEndedError(DockerPassError):
    """Raised when the daemon ends a stream with an error (its Connect code and message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"the change feed ended: {code}: {message}")
        self.code = code


def watch_events(
    path: Path | str, *, read_timeout: float = READ_TIMEOUT
) -> Generator[FeedEvent, None, None]:
    """The daemon's events as they come, until the stream ends.

    Raises :class:`DaemonUnavailableError` when the daemon cannot be reached, goes silent
    for ``read_timeout`` seconds, or answers something that is not the stream (an older
    daemon: ``404``), and :class:`FeedEndedError` when it ends the stream with an error.
    A clean end (the deadline asked for passed) just ends the iteration.
    """
    try:
        sock = connect_unix(path, CONNECT_TIMEOUT)
    except OSError as exc:
        raise DaemonUnavailableError(f"cannot reach the engine daemon at {path}: {exc}") from None
    reader = sock.makefile("rb")
    try:
        sock.settimeout(read_timeout)
        sock.sendall(_request())
        yield from _events(reader, path)
    except DaemonUnavailableError:
        raise
    except TimeoutError:
        raise DaemonUnavailableError(
            f"the engine daemon at {path} sent nothing for {read_timeout:g} s"
        ) from None
    except (OSError, ValueError) as exc:
        raise DaemonUnavailableError(
            f"the change feed from {path} broke ({type(exc).__name__})"
        ) from None
    finally:
        reader.close()
        sock.close()


def _request() -> bytes:
    body = _PREFIX.pack(0, 2) + b"{}"
    head = "\r\n".join(
        [
            f"POST {WATCH_SECRETS} HTTP/1.1",
            "Host: localhost",
            "Content-Type: application/connect+json",
            "Connect-Protocol-Version: 1",
            f"Connect-Timeout-Ms: {STREAM_DEADLINE_MS}",
            "Accept-Encoding: identity",
            "Connect-Accept-Encoding: identity",
            f"User-Agent: docker-pass/{__version__}",
            f"Content-Length: {len(body)}",
        ]
    )
    return (head + "\r\n\r\n").encode("latin-1") + body


def _events(reader: io.BufferedReader, path: Path | str) -> Iterator[FeedEvent]:
    """Read the status, the headers, then envelopes out of the chunked body."""
    status = reader.readline(MAX_LINE)
    parts = status.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise DaemonUnavailableError(f"the engine daemon at {path} sent no HTTP answer")
    headers: dict[str, str] = {}
    while (line := reader.readline(MAX_LINE)) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    content_type = headers.get("content-type", "").split(";")[0].strip()
    if parts[1] != b"200" or content_type != "application/connect+json":
        raise FeedUnsupportedError(
            f"the engine daemon at {path} offers no change feed (HTTP {parts[1].decode()})"
        )
    if headers.get("transfer-encoding", "").lower() != "chunked":
        raise DaemonUnavailableError(f"the change feed from {path} is not streamed")
    buffer = bytearray()
    while True:
        while len(buffer) >= _PREFIX.size:
            flags, size = _PREFIX.unpack_from(buffer)
            if size > MAX_EVENT:
                raise DaemonUnavailableError(f"the change feed from {path} sent a huge event")
            if len(buffer) < _PREFIX.size + size:
                break
            data = bytes(buffer[_PREFIX.size : _PREFIX.size + size])
            del buffer[: _PREFIX.size + size]
            if flags & _END_STREAM:
                _end(data)
                return
            yield _event(data, path)
        chunk = _read_chunk(reader)
        if chunk is None:
            raise DaemonUnavailableError(f"the change feed from {path} ended mid-stream")
        buffer += chunk


def _read_chunk(reader: io.BufferedReader) -> bytes | None:
    """The next chunk of a chunked body; ``None`` at its end (or the connection's)."""
    line = reader.readline(MAX_LINE)
    if not line:
        return None
    size = int(line.split(b";")[0].strip() or b"0", 16)
    if size == 0:
        return None
    if size > MAX_EVENT:
        raise ValueError("chunk too large")
    data = reader.read(size)
    if len(data) != size or reader.read(2) != b"\r\n":
        raise ValueError("short chunk")
    return data


def _event(data: bytes, path: Path | str) -> FeedEvent:
    bad = DaemonUnavailableError(f"the change feed from {path} sent a bad event")
    try:
        doc = json.loads(data)
    except ValueError:
        raise bad from None
    if not isinstance(doc, dict):
        raise bad
    try:
        plugins = tuple(str(p) for p in doc.get("plugins", ()))
        ids = tuple(str(i) for i in doc.get("ids", ()))
        return FeedEvent(str(doc.get("kind", "")), int(doc.get("sequence", 0)), plugins, ids)
    except (ValueError, TypeError):
        raise bad from None


def _end(data: bytes) -> None:
    """The end-of-stream message: nothing, or the error the stream ended with."""
    try:
        doc = json.loads(data or b"{}")
    except ValueError:
        doc = {}
    error = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(error, dict):
        raise FeedEndedError(str(error.get("code", "unknown")), str(error.get("message", "")))


class FeedFollower:
    """Follows the daemon's change feed in a daemon thread, reconnecting as long as it runs.

    ``on_event(event)`` hears every event but keepalives (a ``resync`` first, after every
    reconnection too); ``on_down(reason)`` hears that the feed went down (once per outage);
    ``on_unsupported(reason)`` that the daemon offers none (an older one): the follower then
    ends.  All are called from the follower's thread.
    """

    def __init__(
        self,
        path: Path | str,
        on_event: Callable[[FeedEvent], None],
        on_down: Callable[[str], None],
        *,
        on_unsupported: Callable[[str], None] | None = None,
        read_timeout: float = READ_TIMEOUT,
        backoff: tuple[float, ...] = BACKOFF,
    ) -> None:
        self.path = path
        self._on_event = on_event
        self._on_down = on_down
        self._on_unsupported = on_unsupported
        self._read_timeout = read_timeout
        self._backoff = backoff
        self._stopped = threading.Event()
        #: Set while a stream is up (its first event came).
        self.live = threading.Event()
        self._thread = threading.Thread(target=self._run, name="change feed", daemon=True)

    def start(self) -> None:
        """Connect in the follower's thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop following (the thread ends at its next event or reconnection)."""
        self._stopped.set()

    def _run(self) -> None:
        failures = 0
        while not self._stopped.is_set():
            reason, supported = self._follow()
            if self._stopped.is_set():
                return
            if not supported:
                if self._on_unsupported is not None:
                    self._on_unsupported(reason)
                return
            if self.live.is_set():
                failures = 0
            if self.live.is_set() or failures == 0:
                self._on_down(reason)  # once per outage
            self.live.clear()
            pause = self._backoff[min(failures, len(self._backoff) - 1)]
            failures += 1
            if self._stopped.wait(pause):
                return

    def _follow(self) -> tuple[str, bool]:
        """One stream, until it ends: why it ended, and whether the daemon has a feed."""
        try:
            for event in watch_events(self.path, read_timeout=self._read_timeout):
                if self._stopped.is_set():
                    return "stopped", True
                self.live.set()
                if event.kind != KEEPALIVE:
                    self._on_event(event)
        except FeedUnsupportedError as exc:
            return str(exc), False
        except DaemonUnavailableError as exc:
            return str(exc), True
        except FeedEndedError as exc:
            return str(exc), exc.code != "unimplemented"
        return "the change feed's stream ended", True
