"""Following the engine daemon's change feed, and falling back to our own watchers.

With the daemon as the front, the plugins run in the daemon, not here: the UI cannot watch
them itself.  When the daemon offers the feed (``watch`` in GetVersion's features), a
:class:`~docker_pass.core.remote.feed.FeedFollower` reads it in its thread and every change
becomes a :class:`~docker_pass.tui.messages.SecretsChanged` (a re-listing of that plugin); a
``resync`` (after a reconnection) re-lists every plugin.  When the daemon cannot stream (an
older one) or the feed is down, the keychain is watched here as the embedded engine watches it
(:mod:`docker_pass.tui.watch`, from a hint a local engine gives), and every plugin no watcher
covers then may be stale: the header says so.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError
from docker_pass.core.names import KEYCHAIN_PLUGIN
from docker_pass.core.remote.feed import RESYNC, FeedEvent, FeedFollower
from docker_pass.tui.messages import FeedStateChanged, SecretsChanged
from docker_pass.tui.workers import WorkerGroup

if TYPE_CHECKING:
    from collections.abc import Callable

    from docker_pass.tui.controllers.ports import Runner
    from docker_pass.tui.model.gateway import SecretsGateway
    from docker_pass.tui.watch import PluginWatchers

#: Seconds the first listing waits for the feed to be up, so that no change made between the
#: listing and the subscription is missed (the feed's first event comes within milliseconds).
FIRST_EVENT_WAIT = 1.0

#: What :attr:`FeedFollowing.state` says.
NO_FEED = "none"  # not following a daemon (an embedded engine watches for itself)
LIVE = "live"
DOWN = "down"
UNSUPPORTED = "unsupported"


class FeedFollowing:
    """The feed's follower and its state; ``asked()`` says which plugins are listed."""

    def __init__(
        self,
        gateway: SecretsGateway,
        runner: Runner,
        watchers: PluginWatchers,
        asked: Callable[[], frozenset[str]],
    ) -> None:
        self._gateway = gateway
        self._runner = runner
        self._watchers = watchers
        self._asked = asked
        self._follower: FeedFollower | None = None
        self._lock = threading.Lock()
        #: :data:`NO_FEED`, :data:`LIVE`, :data:`DOWN` or :data:`UNSUPPORTED` (UI thread).
        self.state = NO_FEED
        #: Why the feed is down or unsupported (for the help line); never a value.
        self.reason = ""
        #: The plugins watched here because the feed could not be followed.
        self.fallback: frozenset[str] = frozenset()
        self._fallback_started = False

    def stale(self, running: frozenset[str]) -> frozenset[str]:
        """The plugins of ``running`` whose changes nobody reports now: the feed is down (or
        unsupported) and no watcher of ours covers them."""
        if self.state not in (DOWN, UNSUPPORTED):
            return frozenset()
        return frozenset(n for n in running if not self._watchers.watched(n))

    # -- in a worker's thread ---------------------------------------------------------------

    def follow(self) -> None:
        """Start following the daemon's feed if the front is a daemon that offers one (and
        wait briefly for its first event); else nothing.  Idempotent; thread-safe."""
        with self._lock:
            if self._follower is not None:
                return
            # A gateway without these (a test's stand-in for the engine) knows no daemon.
            feed_path = getattr(self._gateway, "feed_path", None)
            through_daemon = getattr(self._gateway, "through_daemon", None)
            if not callable(feed_path) or not callable(through_daemon):
                return
            try:
                path = feed_path()
                older = path is None and through_daemon()
            except DockerPassError:
                path, older = None, False  # no engine yet: its listing says why
            if path is None:
                if older:
                    self._runner.post_message(
                        FeedStateChanged(UNSUPPORTED, "the engine daemon offers no change feed")
                    )
                return
            follower = FeedFollower(path, self._event, self._down, on_unsupported=self._unsupported)
            self._follower = follower
        follower.start()
        follower.live.wait(FIRST_EVENT_WAIT)

    def stop(self) -> None:
        """Stop following (the app is ending)."""
        with self._lock:
            follower, self._follower = self._follower, None
        if follower is not None:
            follower.stop()

    def _event(self, event: FeedEvent) -> None:
        """From the follower's thread: a change (or a resync) becomes re-listings."""
        if self.state != LIVE:
            self._runner.post_message(FeedStateChanged(LIVE, ""))
        # A resync: anything may have changed.  Otherwise only the plugins named (a status
        # change too: a plugin that started or stopped is listed again or dropped, and the
        # statuses themselves are the state file's, which the app follows).
        names = self._asked() if event.kind == RESYNC else frozenset(event.plugins)
        for name in sorted(names):
            self._runner.post_message(SecretsChanged(name))

    def _down(self, reason: str) -> None:
        self._runner.post_message(FeedStateChanged(DOWN, reason))

    def _unsupported(self, reason: str) -> None:
        self._runner.post_message(FeedStateChanged(UNSUPPORTED, reason))

    # -- on the UI thread -------------------------------------------------------------------

    def changed(self, state: str, reason: str) -> None:
        """The follower says the feed is ``state``: fall back to our own watchers while it
        is not live, and drop them once it is again."""
        self.state, self.reason = state, reason
        if state == LIVE:
            for name in self.fallback:
                self._watchers.forget(name)
            self.fallback = frozenset()
            self._fallback_started = False
        elif state in (DOWN, UNSUPPORTED) and not self._fallback_started:
            self._fallback_started = True
            self._runner.run_in_thread(
                WorkerGroup.WATCH, self._watch_here, plugin=KEYCHAIN_PLUGIN, exclusive=False
            )

    def _watch_here(self) -> None:
        """In a worker: watch the keychain from here, as an embedded engine would."""
        name = KEYCHAIN_PLUGIN
        try:
            hint, own = self._gateway.fallback_watch(name)
        except DockerPassError:
            return
        if self._watchers.watch(name, hint, own):
            self.fallback = frozenset({name})
            # What changed while nobody watched: list it again.
            self._runner.post_message(SecretsChanged(name))
        self._runner.post_message(FeedStateChanged(self.state, self.reason))
