"""The app's live listing: each plugin fills in its part of the tree as it answers, and the
tree follows what other processes change.

After the statuses, every running plugin is listed in its own worker; its answer replaces its
entries in the index (:mod:`.listing`).  A plugin that can be watched
(:mod:`.watch`) is listed again when its watcher sees a change; the others on an interval.
Quitting never waits for a plugin: the workers run in daemon threads (:mod:`.threads`).
"""

from __future__ import annotations

import asyncio
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING

from docker_pass.tui.messages import SecretsChanged
from docker_pass.tui.model.listing import keep_providers, replace_provider
from docker_pass.tui.threads import DaemonThreadExecutor
from docker_pass.tui.watch import PluginWatchers
from docker_pass.tui.workers import LISTING_GROUP, EngineWorkers

if TYPE_CHECKING:
    from collections.abc import Mapping

    from docker_pass.core.plugin import WatchHint
    from docker_pass.tui.messages import ListingStarted, PluginListed
    from docker_pass.tui.model.realms import RealmIndex

#: Seconds between two listings of a plugin nobody can watch (1Password, the daemon's).
REFRESH_SECONDS = 30.0


class LiveListing(EngineWorkers):
    """The listing state and its handlers; the app says what a change means on screen
    (:meth:`listing_changed`)."""

    secrets_index: RealmIndex
    listing_errors: Mapping[str, str]
    listing_loaded: bool

    def __init__(self, *, refresh_seconds: float | None = REFRESH_SECONDS) -> None:
        """``refresh_seconds`` ``None``: no interval refresh (tests call
        :meth:`refresh_unwatched`)."""
        super().__init__()
        self.refresh_seconds = refresh_seconds
        self.watchers = PluginWatchers(self._changed_elsewhere)
        #: The plugins the latest :class:`ListingStarted` asked, and those that have answered
        #: (secrets or failure) since they started running.
        self.listing_asked: frozenset[str] = frozenset()
        self.listing_answered: set[str] = set()

    def awaiting_listing(self, plugin: str) -> bool:
        """Whether ``plugin`` has not answered yet (its tree row says "listing…")."""
        return plugin not in self.listing_answered

    def listing_changed(self, first: bool) -> None:
        """The index, the errors or who is loading changed (``first``: every plugin has now
        answered for the first time).  The app shows it."""

    # -- Textual hooks (the app's own handlers run too: Textual calls each class's) ---------

    def on_mount(self) -> None:
        # Thread workers run in the loop's default executor: daemon threads, so that neither
        # the loop's shutdown nor the interpreter's exit waits for a plugin that hangs.
        asyncio.get_running_loop().set_default_executor(DaemonThreadExecutor())

    def on_ready(self) -> None:
        if self.refresh_seconds:
            self.set_interval(self.refresh_seconds, self.refresh_unwatched)

    def on_unmount(self) -> None:
        self.watchers.stop_all()

    # -- what the workers and watchers report -----------------------------------------------

    def on_listing_started(self, message: ListingStarted) -> None:
        asked = frozenset(message.plugins)
        self.listing_asked = asked
        self.listing_answered &= asked
        for name in self.watchers.plugins() - asked:
            self.watchers.forget(name)  # stopped running
        changed = False
        kept = keep_providers(self.secrets_index, asked)
        if kept is not None:
            self.secrets_index, changed = kept, True
        errors = {n: e for n, e in self.listing_errors.items() if n in asked}
        if errors != dict(self.listing_errors):
            self.listing_errors, changed = MappingProxyType(errors), True
        for name in message.plugins:
            self.list_plugin(name, first=message.fresh_engine or name not in self.watchers)
        first = not asked and not self.listing_loaded
        if first:
            self.listing_loaded = True
        if changed or first:
            self.listing_changed(first)

    def on_plugin_listed(self, message: PluginListed) -> None:
        name = message.plugin
        if name not in self.listing_asked:
            return  # it stopped running since: its answer is stale
        if message.hinted:
            # The watcher's first look (a scan of the store's directory: 0.2 s at 100,000
            # records) is taken in a thread, once the tree with these secrets is painted.
            self.call_after_refresh(self._start_watching, name, message.hint)
        first_answer = name not in self.listing_answered
        self.listing_answered.add(name)
        errors = dict(self.listing_errors)
        if message.error:
            errors[name] = message.error
        else:
            errors.pop(name, None)
        changed = first_answer or errors != dict(self.listing_errors)
        self.listing_errors = MappingProxyType(errors)
        merged = replace_provider(self.secrets_index, name, message.infos)
        if merged is not None:
            self.secrets_index, changed = merged, True
        first = not self.listing_loaded and self.listing_asked <= self.listing_answered
        if first:
            self.listing_loaded = True
        if changed:
            self.listing_changed(first)

    def on_secrets_changed(self, message: SecretsChanged) -> None:
        if message.plugin in self.listing_asked:
            self.list_plugin(message.plugin)

    def refresh_unwatched(self) -> None:
        """List again every running plugin no watcher follows (and none is listing now)."""
        busy = {w.group for w in self.workers if w.is_running}
        for name in sorted(self.listing_asked):
            if self.watchers.watched(name) or f"{LISTING_GROUP}{name}" in busy:
                continue
            if name in self.listing_answered:
                self.list_plugin(name)

    # -- internals --------------------------------------------------------------------------

    def _start_watching(self, name: str, hint: WatchHint | None) -> None:
        self.run_worker(
            partial(self._watch_listed, name, hint),
            name=f"watch {name}",
            group=f"watch:{name}",
            thread=True,
            exit_on_error=False,
        )

    def _watch_listed(self, name: str, hint: WatchHint | None) -> None:
        if name in self.listing_asked:  # unless it stopped running since (watch is thread-safe)
            self.watchers.watch(name, hint)

    def _changed_elsewhere(self, plugin: str) -> None:
        """A watcher's thread saw a change: post it (the one thing a thread may do)."""
        self.post_message(SecretsChanged(plugin))
