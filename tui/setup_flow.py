"""Plugins' setup forms in the app: finding which plugins describe one, opening the form, and
applying the answers in a thread worker (a mixin of the app, next to its engine workers).

The setup descriptions are read from the plugin classes through the registry, in a worker
(importing a third-party plugin may be slow), once per plugin name.  The answers reach the
worker as :class:`~docker_pass.core.setup.Answers`, whose ``repr`` (which Textual puts in the
worker's description) names the fields only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App
from textual.message import Message
from textual.worker import Worker, WorkerState

from docker_pass.core.errors import DockerPassError
from docker_pass.core.setup import SetupError, current_settings, find_setups
from docker_pass.tui.keys import key_for
from docker_pass.tui.screens.plugins import PluginsScreen
from docker_pass.tui.screens.setup import SetupScreen

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from docker_pass.core.setup import Answers, Setup, SetupResult
    from docker_pass.tui.messages import PluginsLoaded
    from docker_pass.tui.model.gateway import SecretsGateway
    from docker_pass.tui.widgets.plugin_table import PluginTable


class SetupFormsFound(Message):
    """The plugins (by name) that describe a setup form."""

    def __init__(self, looked_up: Sequence[str], forms: Mapping[str, Setup]) -> None:
        super().__init__()
        self.looked_up = tuple(looked_up)
        self.forms = dict(forms)


class SetupFormReady(Message):
    """A form to open, with the settings the config file holds now."""

    def __init__(self, setup: Setup, current: Mapping[str, str]) -> None:
        super().__init__()
        self.setup = setup
        self.current = dict(current)


class PluginSetUp(Message):
    """A setup form was applied: secrets stored, settings written, plugin enabled."""

    def __init__(self, result: SetupResult) -> None:
        super().__init__()
        self.result = result


class SetupRefused(Message):
    """An answer was refused before anything was stored (``field`` names it, or is empty)."""

    def __init__(self, setup: Setup, message: str, field: str) -> None:
        super().__init__()
        self.setup = setup
        self.message = message
        self.field = field


class SetupFlow(App[None]):
    """The setup forms of plugins: ``setup_forms`` (name -> form), :meth:`request_setup`."""

    gateway: SecretsGateway

    if TYPE_CHECKING:

        def set_status(self, text: str, level: str = "info") -> None: ...

        def load_everything(self, reload: bool = False) -> Worker[None]: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Every plugin that describes a setup form, by name (filled as plugins are listed).
        self.setup_forms: dict[str, Setup] = {}
        self._setups_looked_up: set[str] = set()

    # -- opening ----------------------------------------------------------------------------

    def request_setup(self, name: str) -> None:
        """Open plugin ``name``'s setup form (its current settings are read in a worker)."""
        setup = self.setup_forms.get(name)
        if setup is None:
            self.set_status(f"{name} has nothing to set up.", "warning")
            return
        if isinstance(self.screen, SetupScreen):
            return
        self.read_setup_settings(setup)

    def on_plugin_table_setup_requested(self, message: PluginTable.SetupRequested) -> None:
        self.request_setup(message.status.name)

    def on_plugins_loaded(self, message: PluginsLoaded) -> None:
        names = [s.name for s in message.plugins if s.name not in self._setups_looked_up]
        if names:
            self._setups_looked_up.update(names)
            self.find_setup_forms(names)

    def on_setup_forms_found(self, message: SetupFormsFound) -> None:
        self.setup_forms.update(message.forms)
        for screen in self.screen_stack:
            if isinstance(screen, PluginsScreen):
                screen.setups = frozenset(self.setup_forms)

    def on_setup_form_ready(self, message: SetupFormReady) -> None:
        if isinstance(self.screen, SetupScreen):
            return
        keys = (key_for(self, "setup.save", "ctrl+s"), key_for(self, "setup.cancel", "escape"))
        self.push_screen(SetupScreen(message.setup, message.current, keys=keys))

    # -- saving -----------------------------------------------------------------------------

    def on_setup_screen_save_requested(self, message: SetupScreen.SaveRequested) -> None:
        self.set_status(f"Setting up {message.setup.plugin}…")
        self.apply_setup_in_thread(message.setup, message.answers)

    def on_setup_refused(self, message: SetupRefused) -> None:
        self.set_status(f"{message.setup.plugin} not set up: {message.message}", "error")
        screen = self.screen
        if isinstance(screen, SetupScreen) and screen.setup.plugin == message.setup.plugin:
            screen.show_error(message.field, message.message)

    def on_plugin_set_up(self, message: PluginSetUp) -> None:
        result = message.result
        status = result.status
        detail = f": {status.message}" if status.message else ""
        done = " ".join(result.lines())
        text = "; ".join(
            part for part in (done, f"{status.name} is {status.status}{detail}") if part
        )
        screen = self.screen
        if status.is_down:
            # Stored, but the plugin did not come up: say why, and leave the form open to retry.
            self.set_status(text, "error")
            if isinstance(screen, SetupScreen):
                screen.show_error("", f"{status.name} is {status.status}{detail}")
        else:
            self.set_status(text, "success")
            if isinstance(screen, SetupScreen):
                screen.dismiss(None)
        self.load_everything()  # its secrets appear, and the panel shows its new status

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The app's own handler puts the failure in the status line; the form shows it too.
        if event.state != WorkerState.ERROR or event.worker.group != "setup":
            return
        error = event.worker.error
        reason = str(error) if isinstance(error, DockerPassError) else "internal error"
        screen = self.screen
        if isinstance(screen, SetupScreen):
            screen.show_error("", f"Not set up: {reason}")

    # -- workers ----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="setup-forms", exit_on_error=False)
    def find_setup_forms(self, names: list[str]) -> None:
        """Which of ``names`` describe a setup form (imports their classes, starts none)."""
        self.post_message(SetupFormsFound(names, find_setups(names)))

    @work(thread=True, exclusive=True, group="setup-open", exit_on_error=False)
    def read_setup_settings(self, setup: Setup) -> None:
        """The form's current settings from the config file, then open it."""
        self.post_message(SetupFormReady(setup, current_settings(setup)))

    @work(thread=True, exclusive=True, group="setup", exit_on_error=False)
    def apply_setup_in_thread(self, setup: Setup, answers: Answers) -> None:
        """Validate, store, configure and enable (reported even if superseded: it happened)."""
        try:
            result = self.gateway.apply_setup(setup, answers)
        except SetupError as exc:
            self.post_message(SetupRefused(setup, str(exc), exc.field))
            return
        self.post_message(PluginSetUp(result))
