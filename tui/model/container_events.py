"""Following a Docker engine's container events in a daemon thread, for the "Used by" pane.

The engine's event stream (``GET /events``) sends nothing while nothing happens, and a thread
blocked reading it cannot be woken from outside.  So each stream is opened with a short read
deadline (:data:`IDLE_SECONDS`): a read that waits that long ends the stream quietly, the
follower looks whether it was told to stop, and opens the next stream ``since`` the last event
it saw, so nothing is missed between two streams (and what comes again is skipped by its
time).  Quitting thus ends the thread within :data:`IDLE_SECONDS`, and it is a daemon thread:
the process never waits for it.

A stream that fails quickly (the engine went away, or never answered) is an outage: the owner
hears it once (``on_down``), the follower tries again after a growing pause (:data:`BACKOFF`),
and when a stream is up again the owner hears ``on_change`` (containers may have changed
meanwhile) and ``on_up``.  Events are only a signal: what changed is read again whole.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from docker_pass.core.docker.engine_api import DockerTimeoutError
from docker_pass.core.errors import DockerPassError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: Seconds a read of the stream waits before the stream is opened again (the stop check).
IDLE_SECONDS = 1.0
#: Pauses between attempts while the engine cannot be reached, growing to the last.
BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class ContainerEvents:
    """Follows container events while running; see the module.

    ``open_stream(since)`` opens one stream (its reads time out after ``idle`` seconds, which
    raises :class:`~docker_pass.core.errors.DockerPassError` like any failure);
    ``on_change()`` hears that containers changed; ``on_down(reason)`` that the engine cannot
    be followed (once per outage); ``on_up()`` that it can again.  All are called from the
    follower's thread.
    """

    def __init__(
        self,
        open_stream: Callable[[str], Iterator[dict[str, Any]]],
        on_change: Callable[[], None],
        on_down: Callable[[str], None],
        on_up: Callable[[], None],
        *,
        idle: float = IDLE_SECONDS,
        backoff: tuple[float, ...] = BACKOFF,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open = open_stream
        self._on_change = on_change
        self._on_down = on_down
        self._on_up = on_up
        self._idle = idle
        self._backoff = backoff
        self._clock = clock
        self._stopped = threading.Event()
        #: The engine's time of the last event seen (``timeNano``), and what ``since`` says.
        self._last_nano = 0
        self._since = ""
        self._thread = threading.Thread(target=self._run, name="container events", daemon=True)

    @property
    def thread(self) -> threading.Thread:
        """The follower's thread (tests wait for it to end)."""
        return self._thread

    def start(self) -> None:
        """Start following, in the follower's thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop following: the thread ends within the read deadline (or its pause)."""
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopped.is_set()

    def _run(self) -> None:
        failures = 0
        down = False
        while not self._stopped.is_set():
            opened = self._clock()
            reason, quiet = self._follow()
            if self._stopped.is_set():
                return
            # A stream that lived past its read deadline ended because nothing happened.
            if quiet and self._clock() - opened >= self._idle * 0.5:
                if down:
                    down = False
                    self._came_back()
                failures = 0
                continue
            if reason == "":  # it delivered events, then ended: the engine closed it
                failures = 0
            if not down:
                down = True
                self._on_down(reason or "the Docker engine closed its event stream")
            pause = self._backoff[min(failures, len(self._backoff) - 1)]
            failures += 1
            if self._stopped.wait(pause):
                return

    def _came_back(self) -> None:
        self._on_up()
        self._on_change()  # whatever changed while the engine was out of reach

    def _follow(self) -> tuple[str, bool]:
        """One stream until it ends: why it ended (``""``: nothing went wrong), and whether it
        ended by waiting (a read deadline) rather than failing."""
        if not self._since:
            # The first stream: events from now on; later ones go on from the last one seen.
            self._since = f"{time.time():.9f}"
        try:
            for event in self._open(self._since):
                if self._stopped.is_set():
                    return "", True
                nano = _nano(event)
                if nano and nano <= self._last_nano:
                    continue  # seen in the previous stream
                if nano:
                    self._last_nano = nano
                    self._since = f"{nano // 1_000_000_000}.{nano % 1_000_000_000:09d}"
                self._on_change()
        except DockerTimeoutError:
            return "", True  # the read deadline: quiet, not down
        except DockerPassError as exc:
            return str(exc), False
        return "", False


def _nano(event: dict[str, Any]) -> int:
    """The engine's time of ``event`` in nanoseconds (0 when it gives none)."""
    nano = event.get("timeNano")
    if isinstance(nano, int) and nano > 0:
        return nano
    seconds = event.get("time")
    if isinstance(seconds, int) and seconds > 0:
        return seconds * 1_000_000_000
    return 0
