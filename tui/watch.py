"""Noticing other processes' changes to a plugin's secrets, so the tree can follow them live.

A plugin says how it can be watched (:class:`~docker_pass.core.plugin.Watchable`): the
keychain on the Secret Service by its collection's signals on the session bus, the file store
by its directory.  Each watcher runs in its own daemon thread and calls ``on_change(plugin)``
when it sees a change (bursts coalesced); the app turns that into a re-listing of the plugin.
Plugins that cannot be watched are refreshed on an interval by the app instead.

No Textual here: the watchers talk D-Bus and the file system, and are tested without an app.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from docker_pass.core.plugin import WatchHint

#: Seconds a burst of signals is collected before one re-listing (a ``set`` of an existing
#: item emits several; ``rm --all`` one per item).
DEBOUNCE_SECONDS = 0.3
#: Seconds between two looks at a watched directory.
POLL_SECONDS = 1.0

_COLLECTION_IFACE = "org.freedesktop.Secret.Collection"
_ITEM_SIGNALS = frozenset({"ItemCreated", "ItemDeleted", "ItemChanged"})


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


class SecretServiceWatcher:
    """Listens for a Secret Service collection's item signals on its own session-bus
    connection (a second connection: the store's carries requests and their replies).

    ``on_failure(reason)`` is called if the bus cannot be reached or drops the connection;
    the watcher then ends (the app falls back to refreshing on an interval).
    """

    def __init__(
        self,
        collection: str,
        on_change: Callable[[], None],
        *,
        on_failure: Callable[[str], None] | None = None,
        debounce: float = DEBOUNCE_SECONDS,
        bus_address: str | None = None,
    ) -> None:
        self.collection = collection
        self._on_change = on_change
        self._on_failure = on_failure
        self._debounce = debounce
        self._bus_address = bus_address
        self._stopped = threading.Event()
        #: Set once the match rule is in place (tests wait for it before changing items).
        self.subscribed = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"watch {collection}", daemon=True)

    def start(self) -> None:
        """Connect and subscribe in the watcher's thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (the thread notices within half a second)."""
        self._stopped.set()

    def _run(self) -> None:
        # Imported here: only a keychain on the Secret Service pays for jeepney's I/O module.
        from jeepney import MatchRule, MessageType, message_bus
        from jeepney.io.blocking import open_dbus_connection

        try:
            address = self._bus_address or os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
            connection = open_dbus_connection(address or "SESSION")
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            self._fail(f"cannot reach the session bus to watch {self.collection}: {exc}")
            return
        try:
            rule = MatchRule(type="signal", interface=_COLLECTION_IFACE, path=self.collection)
            reply = connection.send_and_get_reply(message_bus.AddMatch(rule), timeout=10)
            if reply.header.message_type is MessageType.error:
                self._fail(f"the session bus refused to watch {self.collection}")
                return
            self.subscribed.set()
            self._listen(connection, MessageType.signal)
        except (OSError, TimeoutError, ValueError) as exc:
            if not self._stopped.is_set():
                self._fail(f"lost the session bus while watching {self.collection}: {exc}")
        finally:
            connection.close()

    def _listen(self, connection: object, signal: object) -> None:
        """Receive until stopped; fire once per burst, ``debounce`` after its first signal."""
        due: float | None = None
        while not self._stopped.is_set():
            wait = 0.5 if due is None else max(0.0, due - time.monotonic())
            try:
                message = connection.receive(timeout=wait)  # type: ignore[attr-defined]
            except TimeoutError:
                message = None
            if message is not None and _is_item_signal(message, signal, self.collection):
                due = due if due is not None else time.monotonic() + self._debounce
            if due is not None and time.monotonic() >= due:
                due = None
                self._on_change()

    def _fail(self, reason: str) -> None:
        if self._on_failure is not None:
            self._on_failure(reason)


def _is_item_signal(message: object, signal: object, collection: str) -> bool:
    header = getattr(message, "header", None)
    if header is None or header.message_type is not signal:
        return False
    from jeepney import HeaderFields

    fields = header.fields
    return bool(
        fields.get(HeaderFields.path) == collection
        and fields.get(HeaderFields.interface) == _COLLECTION_IFACE
        and fields.get(HeaderFields.member) in _ITEM_SIGNALS
    )


def watcher_for(
    hint: WatchHint | None,
    on_change: Callable[[], None],
    on_failure: Callable[[str], None] | None = None,
    *,
    poll: float = POLL_SECONDS,
    debounce: float = DEBOUNCE_SECONDS,
) -> Watcher | None:
    """The watcher a plugin's hint asks for; ``None`` when there is none (refresh instead)."""
    if hint is None:
        return None
    kind, where = hint
    if kind == "directory":
        return DirectoryWatcher(where, on_change, poll=poll)
    if kind == "secret-service":
        return SecretServiceWatcher(where, on_change, on_failure=on_failure, debounce=debounce)
    return None


class PluginWatchers:
    """The watchers of the running plugins, by plugin name; ``on_change(plugin)`` is called
    from their threads (post a message from it, touch nothing else)."""

    def __init__(
        self,
        on_change: Callable[[str], None],
        *,
        poll: float = POLL_SECONDS,
        debounce: float = DEBOUNCE_SECONDS,
    ) -> None:
        self._on_change = on_change
        self._poll = poll
        self._debounce = debounce
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

    def watch(self, plugin: str, hint: WatchHint | None) -> bool:
        """Follow ``plugin`` as ``hint`` says (a different hint replaces its watcher);
        whether a watcher now follows it."""
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
                debounce=self._debounce,
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
