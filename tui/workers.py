"""The app's thread workers: every engine, plugin and store call runs here, off the event loop.

Each worker calls the gateway and posts its result as a message; none touches a widget.  An
error is left to propagate: the app's one ``on_worker_state_changed`` handler turns it into a
status message.  Each kind of work has its own group, so ``exclusive`` only replaces work of
the same kind (a newer listing supersedes an older one; a reveal never cancels a save).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.worker import get_current_worker

from docker_pass.tui.messages import (
    PluginsLoaded,
    PluginStateChanged,
    PluginToggled,
    PreviewComputed,
    SecretDeleted,
    SecretSaved,
    SecretsLoaded,
    ValueFetched,
)
from docker_pass.tui.preview import compute_preview

if TYPE_CHECKING:
    from docker_pass.core.envelope import SecretInfo
    from docker_pass.core.results import PluginStatus
    from docker_pass.tui.gateway import SecretDraft, SecretsGateway
    from docker_pass.tui.realms import RealmIndex

#: What each worker group does, for "… failed: <reason>" status messages.
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
}


def _superseded() -> bool:
    """Whether newer work of the same kind replaced this worker (its result is stale)."""
    return get_current_worker().is_cancelled


class EngineWorkers(App[None]):
    """The base of the app: its workers, which need only ``gateway``."""

    gateway: SecretsGateway

    @work(thread=True, exclusive=True, group="listing", exit_on_error=False)
    def load_everything(self, reload: bool = False) -> None:
        """Plugin statuses, then every secret's ID and metadata (``reload``: a fresh engine)."""
        if reload:
            self.gateway.reload()
        plugins = self.gateway.plugins()
        if _superseded():
            return
        self.post_message(PluginsLoaded(plugins))
        listing = self.gateway.list_secrets()
        if not _superseded():
            self.post_message(SecretsLoaded(listing))

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

    @work(thread=True, exclusive=True, group="save", exit_on_error=False)
    def save_secret(self, draft: SecretDraft, created: bool) -> None:
        """Save what the editor holds (reported even if superseded: it happened)."""
        info = self.gateway.save(draft)
        self.post_message(SecretSaved(info, created))

    @work(thread=True, exclusive=True, group="delete", exit_on_error=False)
    def delete_secret(self, info: SecretInfo) -> None:
        """Remove a secret."""
        existed = self.gateway.delete(info)
        self.post_message(SecretDeleted(info, existed))

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
