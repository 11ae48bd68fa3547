"""Noticing other processes' changes to a plugin's secrets, so the tree can follow them live.

A plugin says how it can be watched (:class:`~docker_pass.core.plugin.Watchable`): the
keychain on the Secret Service by its collection's signals on the session bus (a watcher the
plugin makes itself, :class:`~docker_pass.core.plugin.OwnWatcher`, since the signals are its
SDK's business), the file store by its directory.  Each watcher runs in its own daemon
thread and calls ``on_change(plugin)`` when it sees a change (bursts coalesced); the app
turns that into a re-listing of the plugin.
Plugins that cannot be watched are refreshed on an interval by the app instead.

No Textual here: the watchers talk to the file system, and are tested without an app.  With
the engine daemon, the daemon watches and the tree follows its change feed
(:mod:`docker_pass.core.remote.feed`); these watchers are the fallback when it cannot stream.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Protocol, TypeAlias

if TYPE_CHECKING:
    from collections.abc import Callable

    from docker_pass.core.plugin import WatchHint

#: Seconds between two looks at a watched directory.
POLL_SECONDS = 1.0

#: Makes a plugin's own watcher (``on_change``, ``on_failure``), where the plugin has one
#: (:class:`~docker_pass.core.plugin.OwnWatcher`: the keychain on the Secret Service).
OwnWatcherFactory: TypeAlias = (
    "Callable[[Callable[[], None], Callable[[str], None]], Watcher | None]"
)


class Watcher(Protocol):
    """One plugin's watcher: a daemon thread between ``start`` and ``stop``."""

    def start(self) -> None:
        """Begin watching (returns at once)."""
        ...

    def stop(self) -> None:
        """Stop watching (returns at once; the thread ends within a poll)."""
        ...


class DirectoryWatcher:
    """Polls a directory's modification time, inode and entry count every ``poll`` seconds.

    The standard library has no inotify; a ``stat`` and a ``scandir`` a second cost nothing
    next to a listing.  A store that writes by rename (the file store) changes the directory
    with every save and delete, replacing a secret included.
    """

    def __init__(
        self, path: str, on_change: Callable[[], None], *, poll: float = POLL_SECONDS
    ) -> None:
        self.path = path
        self._on_change = on_change
        self._poll = poll
        self._stopped = threading.Event()
        self._seen: tuple[int, int, int] | None = None
        self._thread = threading.Thread(target=self._run, name=f"watch {path}", daemon=True)

    def start(self) -> None:
        """Begin polling (from the directory as it is now)."""
        self._seen = self.signature()  # here, not in the thread: a change right after counts
        self._thread.start()

    def stop(self) -> None:
        """Stop polling."""
        self._stopped.set()

    def signature(self) -> tuple[int, int, int] | None:
        """What changes when an entry is added, removed or renamed over (``None``: missing)."""
        try:
            info = os.stat(self.path)
            count = len(os.listdir(self.path))  # a third faster than counting a scandir
        except OSError:
            return None
        return info.st_mtime_ns, info.st_ino, count

    def _run(self) -> None:
        while not self._stopped.wait(self._poll):
            now = self.signature()
            if now != self._seen:
                self._seen = now
                self._on_change()


def watcher_for(
    hint: WatchHint | None,
    on_change: Callable[[], None],
    on_failure: Callable[[str], None] | None = None,
    *,
    poll: float = POLL_SECONDS,
    own: OwnWatcherFactory | None = None,
) -> Watcher | None:
    """The watcher a plugin's hint asks for (``own``: the plugin's own watcher, for the
    kinds it makes itself); ``None`` when there is none (refresh instead)."""
    if hint is None:
        return None
    kind, where = hint
    if kind == "directory":
        return DirectoryWatcher(where, on_change, poll=poll)
    if own is not None:
        return own(on_change, on_failure or (lambda _reason: None))
    return None


class PluginWatchers:
    """The watchers of the running plugins, by plugin name; ``on_change(plugin)`` is called
    from their threads (post a message from it, touch nothing else)."""

    def __init__(
        self,
        on_change: Callable[[str], None],
        *,
        poll: float = POLL_SECONDS,
    ) -> None:
        self._on_change = on_change
        self._poll = poll
        self._watchers: dict[str, Watcher] = {}
        self._hints: dict[str, WatchHint | None] = {}
        self._lock = threading.Lock()
        self._closed = False

    def __contains__(self, plugin: object) -> bool:
        """Whether ``plugin`` was given a hint (watched, or known to need the interval)."""
        with self._lock:
            return plugin in self._hints

    def plugins(self) -> set[str]:
        """The plugins given a hint."""
        with self._lock:
            return set(self._hints)

    def watched(self, plugin: str) -> bool:
        """Whether a watcher follows ``plugin`` (else the app refreshes it on an interval)."""
        with self._lock:
            return plugin in self._watchers

    def watcher(self, plugin: str) -> Watcher | None:
        """The watcher of ``plugin``, if any."""
        with self._lock:
            return self._watchers.get(plugin)

    def watch(
        self, plugin: str, hint: WatchHint | None, own: OwnWatcherFactory | None = None
    ) -> bool:
        """Follow ``plugin`` as ``hint`` says (a different hint replaces its watcher;
        ``own`` makes the plugin's own watcher, for the kinds it makes itself); whether a
        watcher now follows it."""
        with self._lock:
            if self._closed:
                return False
            if plugin in self._hints and self._hints[plugin] == hint:
                return plugin in self._watchers
            old = self._watchers.pop(plugin, None)
            self._hints[plugin] = hint
            watcher = watcher_for(
                hint,
                lambda: self._on_change(plugin),
                lambda _reason: self._lost(plugin),
                poll=self._poll,
                own=own,
            )
            if watcher is not None:
                self._watchers[plugin] = watcher
        if old is not None:
            old.stop()
        if watcher is not None:
            watcher.start()
        return watcher is not None

    def forget(self, plugin: str) -> None:
        """Stop following ``plugin`` (it stopped running)."""
        with self._lock:
            self._hints.pop(plugin, None)
            watcher = self._watchers.pop(plugin, None)
        if watcher is not None:
            watcher.stop()

    def stop_all(self) -> None:
        """Stop every watcher; later ``watch`` calls do nothing."""
        with self._lock:
            self._closed = True
            watchers = list(self._watchers.values())
            self._watchers.clear()
        for watcher in watchers:
            watcher.stop()

    def _lost(self, plugin: str) -> None:
        """A watcher failed: the plugin is refreshed on the interval from now on."""
        with self._lock:
            self._watchers.pop(plugin, None)
