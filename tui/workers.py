"""The app's thread workers: every engine, plugin and store call runs here, off the event loop.

Each worker calls the gateway and posts its result as a message; none touches a widget.  An
error is left to propagate: the app's one ``on_worker_state_changed`` handler turns it into a
status message.  Each kind of work has its own group, so ``exclusive`` only replaces work of
the same kind (a newer listing supersedes an older one; a reveal never cancels a save).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.worker import Worker, get_current_worker

from docker_pass.core.errors import DockerPassError
from docker_pass.tui.messages import (
    ListingStarted,
    PluginListed,
    PluginsLoaded,
    PluginStateChanged,
    PluginStatusUpdated,
    PluginToggled,
    PreviewComputed,
    ValueFetched,
)
from docker_pass.tui.model.preview import compute_preview

if TYPE_CHECKING:
    from docker_pass.core.envelope import SecretInfo
    from docker_pass.core.plugin import WatchHint
    from docker_pass.core.results import PluginStatus
    from docker_pass.tui.model.gateway import SecretsGateway
    from docker_pass.tui.model.realms import RealmIndex

#: The group of one plugin's listing worker is this prefix and the plugin's name.
LISTING_GROUP = "listing:"

#: What each worker group does, for "… failed: <reason>" status messages (a plugin's listing
#: group is labelled as "listing").
WORK_LABELS = {
    "listing": "Listing secrets",
    "plugins": "Reading plugin status",
    "reveal": "Reading the value",
    "copy": "Reading the value to copy",
    "edit-value": "Reading the current value",
    "save": "Saving",
    "delete": "Deleting",
    "toggle": "Changing the plugin",
    "preview": "Matching the pattern",
    "watch": "Watching plugin state",
    "setup": "Setting up the plugin",
    "setup-forms": "Reading the plugins' setup forms",
    "setup-open": "Opening the setup form",
    "undo": "Undoing",
}


def _superseded() -> bool:
    """Whether newer work of the same kind replaced this worker (its result is stale)."""
    return get_current_worker().is_cancelled


class EngineWorkers(App[None]):
    """The base of the app: its workers, which need only ``gateway``."""

    gateway: SecretsGateway

    @work(thread=True, exclusive=True, group="listing", exit_on_error=False)
    def load_everything(self, reload: bool = False) -> None:
        """Plugin statuses as last recorded (``reload``: from a fresh engine), then every
        enabled plugin that is not down is started and listed, each in its own worker
        (:meth:`list_plugin`, started by the app), so a plugin slow to start (1Password reads
        its item list) delays no other."""
        if reload:
            self.gateway.reload()
        plugins = self.gateway.plugins(start=False)
        if _superseded():
            return
        self.post_message(PluginsLoaded(plugins))
        wanted = tuple(p.name for p in plugins if p.enabled and not p.is_down)
        self.post_message(ListingStarted(wanted, fresh_engine=reload))

    def list_plugin(self, name: str, *, first: bool = False) -> Worker[None]:
        """List plugin ``name`` in its own worker (``first``: its first listing on this
        engine, which starts it: then ask how to watch it, and its status).

        Its group is its own, so a slow plugin delays no other, and a newer listing of the
        same plugin supersedes this one.
        """
        return self.run_worker(
            partial(self._list_plugin_now, name, first),
            name=f"list {name}",
            group=f"{LISTING_GROUP}{name}",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    def _list_plugin_now(self, name: str, first: bool) -> None:
        try:
            infos = self.gateway.list_plugin(name)  # starts it first if it is not running
        except DockerPassError as exc:
            # One plugin's failure is part of the listing: the tree shows it in that plugin's row.
            if not _superseded():
                self.post_message(PluginListed(name, [], str(exc)))
                self._report_status(name)
            return
        hint: WatchHint | None = None
        if first:
            try:
                hint = self.gateway.watch_hint(name)
            except DockerPassError:
                hint = None  # it cannot say: refreshed on the interval instead
        if first:  # it has just started: its status first, so it shows running with its secrets
            self._report_status(name)
        if not _superseded():
            self.post_message(PluginListed(name, infos, hinted=first, hint=hint))

    def _report_status(self, name: str) -> None:
        status = self.gateway.plugin_status(name)
        if status is not None and not _superseded():
            self.post_message(PluginStatusUpdated(status))

    @work(thread=True, exclusive=True, group="plugins", exit_on_error=False)
    def load_plugins(self) -> None:
        """Plugin statuses only (opening the plugins panel)."""
        plugins = self.gateway.plugins()
        if not _superseded():
            self.post_message(PluginsLoaded(plugins))

    @work(thread=True, exclusive=True, group="reveal", exit_on_error=False)
    def fetch_value_to_reveal(self, info: SecretInfo) -> None:
        """Read a value to show it (only when someone pressed ``r``)."""
        value = self.gateway.read_value(info)
        if not _superseded():
            self.post_message(ValueFetched(info, value, "reveal"))

    @work(thread=True, exclusive=True, group="copy", exit_on_error=False)
    def fetch_value_to_copy(self, info: SecretInfo) -> None:
        """Read a value to copy it (only when someone pressed ``c``)."""
        value = self.gateway.read_value(info)
        if not _superseded():
            self.post_message(ValueFetched(info, value, "copy"))

    @work(thread=True, exclusive=True, group="edit-value", exit_on_error=False)
    def fetch_value_to_edit(self, info: SecretInfo) -> None:
        """Read a value into the editor (only when someone pressed ctrl+r there)."""
        value = self.gateway.read_value(info)
        if not _superseded():
            self.post_message(ValueFetched(info, value, "edit"))

    @work(thread=True, exclusive=True, group="toggle", exit_on_error=False)
    def toggle_plugin(self, name: str, enable: bool) -> None:
        """Enable (or re-enable) or disable a plugin."""
        status = self.gateway.set_enabled(name, enable)
        self.post_message(PluginToggled(status, enable))

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def compute_preview_in_thread(
        self, text: str, index: RealmIndex, plugins: tuple[PluginStatus, ...]
    ) -> None:
        """Match a pattern against a large listing without stalling the keyboard."""
        preview = compute_preview(text, index, plugins)
        self.post_message(PreviewComputed(preview, index))

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def check_plugin_state(self) -> None:
        """Report a change another process made to the plugins' shared state."""
        if self.gateway.state_changed_elsewhere():
            self.post_message(PluginStateChanged())
