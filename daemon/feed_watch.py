"""The daemon's watchers of its running plugins, feeding the change feed (:mod:`.feed`).

Another process writes the stores too (``docker-pass set`` without the daemon, ``secret-tool``,
Docker's own ``docker pass``); the feed must tell its subscribers of those writes as well as of
its own.  Every :data:`SYNC_SECONDS` the watchers follow the running plugins:

- a plugin whose hint is a directory (the file store) is watched by inotify
  (:class:`~.changes.ChangeWatch`, one per directory), its descriptor read by the event loop
  the moment the kernel queues an event: no polling, no thread;
- a plugin that makes its own watcher (the keychain on the Secret Service: the collection's
  signals) runs it in its thread, which publishes onto the loop;
- a plugin that stopped running is no longer watched, and its status change (and a new
  plugin's) is published as a ``plugins`` event.

Hints are asked on an engine thread; arming inotify resolves paths, so it runs on a thread
too, never on the loop.  Nothing here reads a secret.
"""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import suppress
from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError
from docker_pass.daemon.changes import ChangeWatch
from docker_pass.daemon.feed import PLUGINS

if TYPE_CHECKING:
    from docker_pass.core.engine import Engine
    from docker_pass.core.plugin import RunningWatcher, WatchHint
    from docker_pass.daemon.engine_host import EngineHost
    from docker_pass.daemon.feed import ChangeFeed

log = logging.getLogger("docker_pass.engine")

#: Seconds between two looks at which plugins run (and how each can be watched).
SYNC_SECONDS = 2.0


class _DirectoryFollower:
    """inotify on one plugin's directory, read by the loop as events arrive."""

    def __init__(self, plugin: str, path: str, feed: ChangeFeed) -> None:
        self.plugin = plugin
        self.path = os.path.abspath(path)  # as the watch names what it armed
        self._feed = feed
        self._watch = ChangeWatch()
        self._seen = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> bool:
        """Arm (on a thread) and read on the loop; whether the directory is watched."""
        armed = await asyncio.to_thread(self._watch.arm, directories=[self.path])
        fd = self._watch.fileno()
        if not armed or fd < 0:
            self._watch.close()
            return False
        self._loop = asyncio.get_running_loop()
        self._seen = self._watch.poll()
        self._loop.add_reader(fd, self._readable)
        return True

    async def rearm(self) -> None:
        """Arm again if an event disarmed it (the directory or a parent was replaced)."""
        if self._watch.fileno() >= 0 and self.path not in self._watch.armed():
            await asyncio.to_thread(self._watch.arm, directories=[self.path])
            self._feed.publish([self.plugin])  # what it missed meanwhile, if anything

    def _readable(self) -> None:
        changes = self._watch.poll()
        if changes != self._seen:
            self._seen = changes
            self._feed.publish([self.plugin])

    def stop(self) -> None:
        fd = self._watch.fileno()
        if self._loop is not None and fd >= 0:
            with suppress(ValueError, OSError, RuntimeError):
                self._loop.remove_reader(fd)
        self._watch.close()


class FeedWatchers:
    """The watchers of the daemon's running plugins (see the module's docstring)."""

    def __init__(self, host: EngineHost, feed: ChangeFeed, *, interval: float = SYNC_SECONDS):
        self._host = host
        self._feed = feed
        self._interval = interval
        #: Plugin -> (its hint, its watcher) for every running plugin seen.
        self._following: dict[str, tuple[WatchHint | None, object | None]] = {}

    @property
    def watched(self) -> frozenset[str]:
        """The plugins a watcher follows now."""
        return frozenset(n for n, (_, w) in self._following.items() if w is not None)

    async def run_forever(self) -> None:
        """Follow the running plugins until cancelled (then stop every watcher)."""
        self._feed.bind(asyncio.get_running_loop())
        try:
            while True:
                try:
                    await self.sync()
                except Exception as exc:  # noqa: BLE001 - the next look tries again
                    log.warning("following the plugins for the change feed failed: %s", exc)
                await asyncio.sleep(self._interval)
        finally:
            self.close()

    async def sync(self) -> None:
        """Watch the plugins running now as they say; forget the others."""
        running: dict[str, WatchHint | None] = await self._host.call(_hints)
        changed = set(running) ^ set(self._following)
        for name in set(self._following) - set(running):
            self._stop(name)
        for name, hint in running.items():
            known = self._following.get(name)
            if known is not None and known[0] == hint:
                if isinstance(known[1], _DirectoryFollower):
                    await known[1].rearm()
                continue
            if known is not None:
                self._stop(name)
            self._following[name] = (hint, await self._start(name, hint))
        if changed:
            self._feed.publish(changed, kind=PLUGINS)

    async def _start(self, name: str, hint: WatchHint | None) -> object | None:
        if hint is None:
            return None
        if hint[0] == "directory":
            follower = _DirectoryFollower(name, hint[1], self._feed)
            if await follower.start():
                return follower
            log.info("the change feed cannot watch %s's directory: writes elsewhere unseen", name)
            return None
        feed = self._feed

        def lost(reason: str) -> None:
            log.info("the change feed stopped watching %s: %s", name, reason)

        def make(engine: Engine) -> RunningWatcher | None:
            return engine.watcher(name, lambda: feed.publish_threadsafe([name]), lost)

        try:
            watcher = await self._host.call(make)
        except DockerPassError:
            return None
        if watcher is not None:
            watcher.start()
        return watcher

    def _stop(self, name: str) -> None:
        _, watcher = self._following.pop(name, (None, None))
        stop = getattr(watcher, "stop", None)
        if callable(stop):
            stop()

    def close(self) -> None:
        """Stop every watcher."""
        for name in list(self._following):
            self._stop(name)


def _hints(engine: Engine) -> dict[str, WatchHint | None]:
    """On an engine thread: each running plugin's watch hint (``None``: it cannot say)."""
    hints: dict[str, WatchHint | None] = {}
    for slot in engine.running_slots():
        try:
            hints[slot.name] = engine.watch_hint(slot.name)
        except DockerPassError:
            hints[slot.name] = None
    return hints
