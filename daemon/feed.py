"""The change feed: the daemon tells its clients what changed, as it happens.

``dockerpass.v1.FeedService/WatchSecrets`` is a server stream (Connect's streaming protocol:
enveloped messages, then an end-of-stream message; connectrpc frames them).  Each subscriber
gets, in order:

- a ``resync`` first: it was not connected before, so it lists everything once;
- a ``changed`` event per coalesced change (the plugins, and the IDs when a write through the
  daemon names them), fed by writes through the daemon (:mod:`.services`) and by the plugins'
  own watchers running in the daemon (:mod:`.feed_watch`), so that another process's write to
  the file store or the Secret Service reaches the subscribers too;
- a ``keepalive`` every :data:`KEEPALIVE_SECONDS` while nothing changes, so that both ends
  notice a dead connection;
- a ``resync`` whenever its queue overflowed (:data:`QUEUE_SIZE` events): it fell behind, its
  events were dropped, and it lists everything again.

Publishing runs on the event loop and costs one append per subscriber: it never waits for a
subscriber, so a slow (or hostile, never-reading) one slows no writer and no ``GetSecrets``.
A subscriber whose stream has not taken an event for :data:`STALL_SECONDS` (its socket is full:
it does not read) is cancelled, which closes its connection and frees its slot.  At most
:data:`MAX_SUBSCRIBERS` streams run at once.  Events carry plugin names and IDs, never values.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Iterable

log = logging.getLogger("docker_pass.engine")

#: Seconds between two keepalives on a stream with nothing else to say.
KEEPALIVE_SECONDS = 5.0
#: Events one subscriber may have waiting; past that it gets a ``resync`` instead.
QUEUE_SIZE = 64
#: IDs one event names at most (more: the event names its plugins only).
MAX_IDS = 64
#: Streams at once (each holds a connection; the connection limit bounds them too).
MAX_SUBSCRIBERS = 64
#: Seconds a stream may go without taking its next event before it is cut off.
STALL_SECONDS = 4 * KEEPALIVE_SECONDS

CHANGED = "changed"
KEEPALIVE = "keepalive"
RESYNC = "resync"
PLUGINS = "plugins"


class FeedEvent:
    """One event of the feed: its ``kind``, the feed's ``sequence`` then, the plugins and
    the IDs it names (never a value)."""

    __slots__ = ("ids", "kind", "plugins", "sequence")

    def __init__(
        self, kind: str, sequence: int, plugins: tuple[str, ...] = (), ids: tuple[str, ...] = ()
    ) -> None:
        self.kind = kind
        self.sequence = sequence
        self.plugins = plugins
        self.ids = ids

    def __repr__(self) -> str:
        return f"FeedEvent({self.kind}, {self.sequence}, {self.plugins}, {len(self.ids)} IDs)"


class FeedFullError(Exception):
    """Raised by :meth:`ChangeFeed.subscribe` when :data:`MAX_SUBSCRIBERS` streams run."""


class Subscription:
    """One subscriber's queue: bounded, and replaced by one ``resync`` when it overflows."""

    __slots__ = ("_feed", "_queue", "_resync", "_wake", "last_taken", "task")

    def __init__(self, feed: ChangeFeed) -> None:
        self._feed = feed
        self._queue: deque[FeedEvent] = deque()
        self._resync = True  # the first event: list everything
        self._wake = asyncio.Event()
        self._wake.set()
        #: When the stream last took an event (monotonic): a stalled one is cut off.
        self.last_taken = time.monotonic()
        #: The task serving this stream (cancelled if it stalls).
        self.task = asyncio.current_task()

    def offer(self, event: FeedEvent) -> None:
        """Queue ``event`` (on the loop; never waits)."""
        if self._resync:
            pass  # a resync lists everything: nothing before it matters
        elif len(self._queue) >= QUEUE_SIZE:
            self._queue.clear()
            self._resync = True
        else:
            self._queue.append(event)
        self._wake.set()

    async def next(self, keepalive: float) -> FeedEvent:
        """The next event, or a keepalive after ``keepalive`` seconds of nothing."""
        self.last_taken = time.monotonic()
        if not self._resync and not self._queue and not self._feed.closed:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), keepalive)
            except TimeoutError:
                return FeedEvent(KEEPALIVE, self._feed.sequence)
        if self._resync:
            self._resync = False
            self._queue.clear()
            return FeedEvent(RESYNC, self._feed.sequence)
        return self._queue.popleft()


class ChangeFeed:
    """The subscribers and the sequence of changes; everything here runs on the event loop
    except :meth:`publish_threadsafe`."""

    def __init__(
        self,
        *,
        keepalive: float = KEEPALIVE_SECONDS,
        stall: float = STALL_SECONDS,
        max_subscribers: int = MAX_SUBSCRIBERS,
    ) -> None:
        self.keepalive = keepalive
        self.stall = stall
        self.max_subscribers = max_subscribers
        #: Changes published so far.
        self.sequence = 0
        self._subscribers: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reaper: asyncio.Task[None] | None = None
        #: The daemon is stopping: every stream ends (cleanly) at its next event.
        self.closed = False

    @property
    def subscribers(self) -> int:
        """Streams running now."""
        return len(self._subscribers)

    def publish(
        self, plugins: Iterable[str], ids: Iterable[str] = (), *, kind: str = CHANGED
    ) -> None:
        """Tell every subscriber that ``plugins`` changed (``ids``: which IDs, if known)."""
        names = tuple(sorted(set(plugins)))
        if not names:
            return
        named = tuple(dict.fromkeys(ids))
        self.sequence += 1
        event = FeedEvent(kind, self.sequence, names, named if len(named) <= MAX_IDS else ())
        for subscriber in self._subscribers:
            subscriber.offer(event)

    def publish_threadsafe(self, plugins: Iterable[str], *, kind: str = CHANGED) -> None:
        """:meth:`publish` from another thread (a watcher's), once the feed runs on a loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        names = tuple(plugins)
        try:
            loop.call_soon_threadsafe(lambda: self.publish(names, kind=kind))
        except RuntimeError:  # the loop closed in between: nobody listens any more
            return

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop the feed runs on (watchers' threads publish onto it)."""
        self._loop = loop

    async def stream(self) -> AsyncGenerator[FeedEvent]:
        """One subscriber's events, until it goes away (raises :class:`FeedFullError` when
        too many streams run)."""
        if len(self._subscribers) >= self.max_subscribers:
            raise FeedFullError
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        subscription = Subscription(self)
        self._subscribers.add(subscription)
        self._ensure_reaper()
        try:
            while not self.closed:
                event = await subscription.next(self.keepalive)
                if self.closed:
                    break
                yield event
        finally:
            self._subscribers.discard(subscription)

    def close(self) -> None:
        """End every stream (the daemon is stopping: a stream would hold its shutdown)."""
        self.closed = True
        for subscription in self._subscribers:
            subscription.offer(FeedEvent(KEEPALIVE, self.sequence))

    def _ensure_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.ensure_future(self._reap())

    async def _reap(self) -> None:
        """Cut off the streams that took no event for :attr:`stall` seconds: their client
        does not read, and the stream is stuck writing to a full socket."""
        while self._subscribers:
            await asyncio.sleep(min(self.keepalive, self.stall) / 2)
            now = time.monotonic()
            for subscription in list(self._subscribers):
                if now - subscription.last_taken > self.stall and subscription.task is not None:
                    log.info("a feed subscriber stopped reading: its stream is closed")
                    self._subscribers.discard(subscription)
                    subscription.task.cancel()
