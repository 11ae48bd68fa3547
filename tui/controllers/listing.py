"""The live listing: each plugin fills in its part of the tree as it answers, and the tree
follows what other processes change.

After the statuses, every running plugin is listed in its own worker; its answer replaces its
entries in the index (:mod:`docker_pass.tui.model.listing`).  A plugin that can be watched
(:mod:`docker_pass.tui.watch`) is listed again when its watcher sees a change; the others on
an interval (:meth:`ListingController.refresh_unwatched`).  Quitting never waits for a
plugin: the workers run in daemon threads (:mod:`docker_pass.tui.threads`).
"""

from __future__ import annotations

from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING

from docker_pass.core.collecting import collection_held
from docker_pass.core.errors import DockerPassError
from docker_pass.tui.controllers.feed import FeedFollowing
from docker_pass.tui.messages import (
    ListingStarted,
    PluginListed,
    PluginsLoaded,
    PluginStatusUpdated,
    SecretsChanged,
)
from docker_pass.tui.model.listing import keep_providers, replace_provider, split_deleted
from docker_pass.tui.model.realms import RealmIndex
from docker_pass.tui.watch import PluginWatchers
from docker_pass.tui.workers import WorkerGroup, superseded

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from docker_pass.core.envelope import SecretInfo
    from docker_pass.core.plugin import WatchHint
    from docker_pass.tui.controllers.ports import Runner
    from docker_pass.tui.model.gateway import SecretsGateway

#: Seconds between two listings of a plugin nobody can watch (1Password, the daemon's).
REFRESH_SECONDS = 30.0


class ListingController:
    """Every listed secret (``index``), the plugins that failed to list (``errors``), and who
    is still listing; ``on_change(first)`` is called when any of it changed (``first``:
    every plugin has now answered for the first time)."""

    def __init__(
        self,
        gateway: SecretsGateway,
        runner: Runner,
        on_change: Callable[[bool], None],
        *,
        refresh_seconds: float | None = REFRESH_SECONDS,
    ) -> None:
        """``refresh_seconds`` ``None``: no interval refresh (tests call
        :meth:`refresh_unwatched`)."""
        self._gateway = gateway
        self._runner = runner
        self._on_change = on_change
        self.refresh_seconds = refresh_seconds
        self.index = RealmIndex([])
        self.errors: Mapping[str, str] = MappingProxyType({})
        #: Per plugin, its secrets whose latest version is deleted (vault): no live secrets,
        #: never in ``index`` nor its counts; the tree shows them apart.
        self.deleted: Mapping[str, tuple[SecretInfo, ...]] = MappingProxyType({})
        #: Every plugin asked has answered once (or the listing as a whole failed).
        self.loaded = False
        #: The plugins the latest :class:`ListingStarted` asked, and those that have answered
        #: (secrets or failure) since they started running.
        self.asked: frozenset[str] = frozenset()
        self.answered: set[str] = set()
        self.watchers = PluginWatchers(self._changed_elsewhere)
        #: The daemon's change feed, when the front is a daemon that offers one.
        self.feed = FeedFollowing(gateway, runner, self.watchers, lambda: self.asked)

    def awaiting(self, plugin: str) -> bool:
        """Whether ``plugin`` has not answered yet (its tree row says "listing…")."""
        return plugin not in self.answered

    def lists(self, id_text: str, provider: str) -> bool:
        """Whether ID ``id_text`` is listed from ``provider``."""
        return self.index.find(id_text, provider) is not None

    def index_find(self, id_text: str, provider: str) -> SecretInfo | None:
        """The secret listed as ID ``id_text`` from ``provider``, if any."""
        return self.index.find(id_text, provider)

    def holders(self, id_text: str) -> list[str]:
        """The plugins that list ID ``id_text`` (two or more: its reference is ambiguous)."""
        return self.index.holders(id_text)

    # -- starting work ----------------------------------------------------------------------

    def load_everything(self, reload: bool = False) -> None:
        """Plugin statuses as last recorded (``reload``: from a fresh engine), then every
        enabled plugin that is not down is started and listed, each in its own worker
        (:meth:`list_plugin`), so a plugin slow to start (1Password reads its item list)
        delays no other."""
        self._runner.run_in_thread(WorkerGroup.LISTING, partial(self._load_everything, reload))

    def list_plugin(self, name: str, *, first: bool = False) -> None:
        """List plugin ``name`` in its own worker (``first``: its first listing on this
        engine, which starts it: then ask how to watch it, and its status).

        Its group is its own, so a slow plugin delays no other, and a newer listing of the
        same plugin supersedes this one.
        """
        work = partial(self._list_plugin, name, first)
        self._runner.run_in_thread(WorkerGroup.LISTING, work, plugin=name)

    def refresh_unwatched(self) -> None:
        """List again every running plugin no watcher follows (and none is listing now)."""
        for name in sorted(self.asked):
            if self.watchers.watched(name) or self._runner.running(WorkerGroup.LISTING, name):
                continue
            if name in self.answered:
                self.list_plugin(name)

    def stop(self) -> None:
        """Stop every watcher and the feed (the app is ending)."""
        self.feed.stop()
        self.watchers.stop_all()

    @property
    def stale(self) -> frozenset[str]:
        """The running plugins whose changes nobody reports now (the daemon's feed is down
        and no watcher here covers them): the tree may be stale."""
        return self.feed.stale(self.asked)

    # -- what the workers and watchers report -----------------------------------------------

    def started(self, message: ListingStarted) -> None:
        """The running plugins are being listed: forget the others, list each of these."""
        asked = frozenset(message.plugins)
        self.asked = asked
        self.answered &= asked
        for name in self.watchers.plugins() - asked:
            self.watchers.forget(name)  # stopped running
        changed = False
        kept = keep_providers(self.index, asked)
        if kept is not None:
            self.index, changed = kept, True
        errors = {n: e for n, e in self.errors.items() if n in asked}
        if errors != dict(self.errors):
            self.errors, changed = MappingProxyType(errors), True
        if any(n not in asked for n in self.deleted):
            deleted = {n: d for n, d in self.deleted.items() if n in asked}
            self.deleted, changed = MappingProxyType(deleted), True
        for name in message.plugins:
            self.list_plugin(name, first=message.fresh_engine or name not in self.watchers)
        first = not asked and not self.loaded
        if first:
            self.loaded = True
        if changed or first:
            self._on_change(first)

    def listed(self, message: PluginListed) -> None:
        """One plugin's answer: its secrets replace its entries, or its error is noted."""
        name = message.plugin
        if name not in self.asked:
            return  # it stopped running since: its answer is stale
        if message.hinted:
            # The watcher's first look (a scan of the store's directory: 0.2 s at 100,000
            # records) is taken in a thread, once the tree with these secrets is painted.
            self._runner.call_after_refresh(partial(self._start_watching, name, message.hint))
        first_answer = name not in self.answered
        self.answered.add(name)
        errors = dict(self.errors)
        if message.error:
            errors[name] = message.error
        else:
            errors.pop(name, None)
        changed = first_answer or errors != dict(self.errors)
        self.errors = MappingProxyType(errors)
        live, gone = split_deleted(message.infos)
        if not message.error and gone != self.deleted.get(name, ()):
            changed = True
            self._set_deleted(name, gone)
        with collection_held():
            merged = replace_provider(self.index, name, live)
        if merged is not None:
            self.index, changed = merged, True
        first = not self.loaded and self.asked <= self.answered
        if first:
            self.loaded = True
        if changed:
            self._on_change(first)

    def secrets_changed(self, plugin: str) -> None:
        """A watcher (or the interval) says ``plugin``'s secrets may have changed."""
        if plugin in self.asked:
            self.list_plugin(plugin)

    def failed(self, reason: str) -> None:
        """The listing as a whole failed (no engine): that is its answer."""
        self.loaded = True
        self.errors = MappingProxyType({"engine": reason})

    # -- our own changes --------------------------------------------------------------------

    def add(self, info: SecretInfo) -> None:
        """A secret this app saved (replacing the same ID from the same provider; a deleted
        one of that ID is live again)."""
        self.index = self.index.with_entry(info)
        self.forget_deleted(info)

    def remove(self, info: SecretInfo) -> None:
        """A secret this app deleted."""
        self.index = self.index.without(info)

    def forget_deleted(self, info: SecretInfo) -> None:
        """``info``'s ID is no deleted secret of its plugin any more (undeleted, purged)."""
        held = self.deleted.get(info.provider, ())
        kept = tuple(d for d in held if d.id != info.id)
        if kept != held:
            self._set_deleted(info.provider, kept)

    @property
    def deleted_entries(self) -> tuple[SecretInfo, ...]:
        """Every plugin's deleted secrets, by ID then plugin."""
        entries = [d for held in self.deleted.values() for d in held]
        return tuple(sorted(entries, key=lambda d: (d.id.value, d.provider)))

    def _set_deleted(self, plugin: str, entries: tuple[SecretInfo, ...]) -> None:
        deleted = dict(self.deleted)
        if entries:
            deleted[plugin] = entries
        else:
            deleted.pop(plugin, None)
        self.deleted = MappingProxyType(deleted)

    # -- in the workers' threads ------------------------------------------------------------

    def _load_everything(self, reload: bool) -> None:
        if reload:
            self._gateway.reload()
        plugins = self._gateway.plugins(start=False)
        # Subscribed before the listing: a change made meanwhile is an event, not lost.
        self.feed.follow()
        if superseded():
            return
        self._runner.post_message(PluginsLoaded(plugins))
        wanted = tuple(p.name for p in plugins if p.enabled and not p.is_down)
        self._runner.post_message(ListingStarted(wanted, fresh_engine=reload))

    def _list_plugin(self, name: str, first: bool) -> None:
        try:
            # Its secrets' objects are made with collection held off; a first listing's are
            # frozen too (:mod:`docker_pass.core.collecting`): long-lived, cycle-free, and
            # never walked again by a full collection (nor by the young one right after).
            with collection_held(freeze=first):
                infos = self._gateway.list_plugin(name)  # starts it first if not running
        except DockerPassError as exc:
            # One plugin's failure is part of the listing: the tree shows it in that plugin's row.
            if not superseded():
                self._runner.post_message(PluginListed(name, [], str(exc)))
                self._report_status(name)
            return
        hint: WatchHint | None = None
        versioned: bool | None = None
        if first:
            try:
                hint = self._gateway.watch_hint(name)
            except DockerPassError:
                hint = None  # it cannot say: refreshed on the interval instead
            try:
                versioned = self._gateway.versioned(name)
            except DockerPassError:
                versioned = None  # its secrets' versions will tell
        if first:  # it has just started: its status first, so it shows running with its secrets
            self._report_status(name)
        if not superseded():
            listed = PluginListed(name, infos, hinted=first, hint=hint, versioned=versioned)
            self._runner.post_message(listed)

    def _report_status(self, name: str) -> None:
        status = self._gateway.plugin_status(name)
        if status is not None and not superseded():
            self._runner.post_message(PluginStatusUpdated(status))

    def _start_watching(self, name: str, hint: WatchHint | None) -> None:
        # Not exclusive: each plugin's first look is its own.
        work = partial(self._watch_listed, name, hint)
        self._runner.run_in_thread(WorkerGroup.WATCH, work, plugin=name, exclusive=False)

    def _watch_listed(self, name: str, hint: WatchHint | None) -> None:
        if name not in self.asked:  # it stopped running since (watch is thread-safe)
            return
        if hint is None and self.watchers.watched(name):
            return  # watched from here while the daemon's feed cannot tell us: it stays
        self.watchers.watch(name, hint, partial(self._gateway.watcher, name))

    def _changed_elsewhere(self, plugin: str) -> None:
        """A watcher's thread saw a change: post it (the one thing a thread may do)."""
        self._runner.post_message(SecretsChanged(plugin))
