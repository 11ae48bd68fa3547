"""The plugins' statuses as the app knows them, and the work that changes or refreshes them.

Statuses arrive all at once (:class:`~docker_pass.tui.messages.PluginsLoaded`) or one plugin at
a time (after its listing started it); the tree, the header and the plugins panel show them.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Protocol

from docker_pass.core.state import RunStatus
from docker_pass.tui.messages import PluginsLoaded, PluginStateChanged, PluginToggled
from docker_pass.tui.workers import WorkerGroup, superseded

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from docker_pass.core.results import PluginStatus
    from docker_pass.tui.controllers.ports import Runner, StatusSink
    from docker_pass.tui.model.gateway import SecretsGateway


def status_sentence(status: PluginStatus) -> str:
    """ "<name> is <status>", and its message when it has one."""
    detail = f": {status.message}" if status.message else ""
    return f"{status.name} is {status.status}{detail}"


class PanelView(Protocol):
    """Where statuses are shown (the plugins panel), and the question before a re-enable."""

    def show_statuses(self, statuses: tuple[PluginStatus, ...]) -> None:
        """Show fresh statuses."""
        ...

    def ask_reenable(self, status: PluginStatus, on_yes: Callable[[], None]) -> None:
        """Ask whether to start crashed plugin ``status`` again; ``on_yes`` if so."""
        ...


class PluginsController:
    """Every plugin's status (``statuses``); ``loaded`` once they have arrived."""

    def __init__(
        self, gateway: SecretsGateway, runner: Runner, status: StatusSink, view: PanelView
    ) -> None:
        self._gateway = gateway
        self._runner = runner
        self._status = status
        self._view = view
        self.statuses: tuple[PluginStatus, ...] = ()
        self.loaded = False

    def find(self, name: str) -> PluginStatus | None:
        """Plugin ``name``'s status, if it is known."""
        return next((s for s in self.statuses if s.name == name), None)

    def writable(self, provider: str) -> bool:
        """Whether secrets of ``provider`` can be changed here."""
        status = self.find(provider)
        return status is not None and status.writable

    def save_targets(self, first: str) -> dict[str, PluginStatus]:
        """The running plugins a new secret can be saved to, with their status (``first``
        first)."""
        return {
            s.name: s
            for s in sorted(self.statuses, key=lambda s: s.name != first)
            if s.writable and s.status == RunStatus.RUNNING
        }

    def down(self) -> list[str]:
        """The plugins that are down (crashed, or out of retries)."""
        return [s.name for s in self.statuses if s.is_down]

    # -- what arrives -----------------------------------------------------------------------

    def arrived(self, statuses: Sequence[PluginStatus]) -> None:
        """Every plugin's status, fresh."""
        self.statuses = tuple(statuses)
        self.loaded = True
        self._view.show_statuses(self.statuses)

    def updated(self, status: PluginStatus) -> bool | None:
        """One plugin's status, fresh: ``None`` if nothing changed, else whether the plugin
        is new or came up or went down (its row in the tree changes)."""
        before = self.find(status.name)
        if before == status:
            return None
        self.statuses = tuple(s if s.name != status.name else status for s in self.statuses)
        self._view.show_statuses(self.statuses)
        return before is None or before.is_down != status.is_down

    def toggled(self, status: PluginStatus) -> None:
        """A plugin was enabled or disabled: say how it is now."""
        self._status.set_status(status_sentence(status), "error" if status.is_down else "success")

    # -- asked for --------------------------------------------------------------------------

    def request_toggle(self, status: PluginStatus) -> None:
        """Enable, disable or (after asking) re-enable a plugin."""
        if not self._configurable(status):
            return
        if status.is_down:

            def reenable() -> None:
                self._status.set_status(f"Re-enabling {status.name}…")
                self.toggle(status.name, True)

            self._view.ask_reenable(status, reenable)
            return
        enable = not status.enabled
        self._status.set_status(f"{'Enabling' if enable else 'Disabling'} {status.name}…")
        self.toggle(status.name, enable)

    def request_disable(self, status: PluginStatus) -> None:
        """Disable a plugin: an enabled one, or a crashed one (which then stays off)."""
        if not self._configurable(status):
            return
        if not status.enabled and not status.is_down:
            self._status.set_status(f"{status.name} is already disabled.", "warning")
            return
        self._status.set_status(f"Disabling {status.name}…")
        self.toggle(status.name, False)

    def _configurable(self, status: PluginStatus) -> bool:
        if not status.configurable:
            text = f"{status.name} is always on: it is not configurable."
            self._status.set_status(text, "warning")
        return status.configurable

    # -- work -------------------------------------------------------------------------------

    def load(self) -> None:
        """Plugin statuses only (opening the plugins panel)."""
        self._runner.run_in_thread(WorkerGroup.PLUGINS, self._load)

    def toggle(self, name: str, enable: bool) -> None:
        """Enable (or re-enable) or disable a plugin."""
        self._runner.run_in_thread(WorkerGroup.TOGGLE, partial(self._toggle, name, enable))

    def check_state(self) -> None:
        """Report a change another process made to the plugins' shared state."""
        self._runner.run_in_thread(WorkerGroup.WATCH, self._check_state)

    # -- in the workers' threads ------------------------------------------------------------

    def _load(self) -> None:
        plugins = self._gateway.plugins()
        if not superseded():
            self._runner.post_message(PluginsLoaded(plugins))

    def _toggle(self, name: str, enable: bool) -> None:
        status = self._gateway.set_enabled(name, enable)
        self._runner.post_message(PluginToggled(status, enable))

    def _check_state(self) -> None:
        if self._gateway.state_changed_elsewhere():
            self._runner.post_message(PluginStateChanged())
