"""Plugins' setup forms: finding which plugins describe one, reading a form's current
settings, and applying the answers in a thread worker.

The setup descriptions are read from the plugin classes through the registry, in a worker
(importing a third-party plugin may be slow), once per plugin name.  The answers reach the
worker as :class:`~docker_pass.core.setup.Answers`, whose ``repr`` names the fields only; the
worker is started without a description, so Textual shows none of them either.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Protocol

from docker_pass.core.errors import DockerPassError
from docker_pass.core.setup import SetupError, current_settings, find_setups
from docker_pass.tui.controllers.plugins import status_sentence
from docker_pass.tui.messages import PluginSetUp, SetupFormReady, SetupFormsFound, SetupRefused
from docker_pass.tui.workers import WorkerGroup

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from docker_pass.core.setup import Answers, Setup, SetupResult
    from docker_pass.tui.controllers.ports import Runner, StatusSink
    from docker_pass.tui.model.gateway import SecretsGateway


class SetupView(Protocol):
    """The setup form, and the panel's hints about which plugins have one."""

    def show_setups(self, names: frozenset[str]) -> None:
        """The plugins that have a setup form."""
        ...

    def form_open(self) -> bool:
        """Whether a setup form is the screen in front."""
        ...

    def open_form(
        self, setup: Setup, current: Mapping[str, str], stored: frozenset[str] = frozenset()
    ) -> None:
        """Open ``setup``'s form, filled with ``current``; ``stored``: the secret fields with
        an answer stored already."""
        ...

    def form_error(self, field: str, message: str, plugin: str = "") -> None:
        """Show ``message`` under ``field`` of the open form (``plugin``: if it is its)."""
        ...

    def close_form(self) -> None:
        """Close the open form."""
        ...


class SetupController:
    """Every plugin that describes a setup form (``forms``, by name), and applying one."""

    def __init__(
        self, gateway: SecretsGateway, runner: Runner, status: StatusSink, view: SetupView
    ) -> None:
        self._gateway = gateway
        self._runner = runner
        self._status = status
        self._view = view
        #: Every plugin that describes a setup form, by name (filled as plugins are listed).
        self.forms: dict[str, Setup] = {}
        self._looked_up: set[str] = set()

    def look_up(self, names: Iterable[str]) -> None:
        """Find out which of ``names`` describe a form (each name once per session)."""
        new = [name for name in names if name not in self._looked_up]
        if new:
            self._looked_up.update(new)
            self._runner.run_in_thread(WorkerGroup.SETUP_FORMS, partial(self._find, new))

    def found(self, message: SetupFormsFound) -> None:
        """The forms a look-up found."""
        self.forms.update(message.forms)
        self._view.show_setups(frozenset(self.forms))

    def request(self, name: str) -> None:
        """Open plugin ``name``'s setup form (its current settings are read in a worker)."""
        setup = self.forms.get(name)
        if setup is None:
            self._status.set_status(f"{name} has nothing to set up.", "warning")
            return
        if self._view.form_open():
            return
        self._runner.run_in_thread(WorkerGroup.SETUP_OPEN, partial(self._read_settings, setup))

    def ready(self, message: SetupFormReady) -> None:
        """A form's current settings were read: open it."""
        self._view.open_form(message.setup, message.current, message.stored)

    def apply(self, setup: Setup, answers: Answers) -> None:
        """Validate, store, configure and enable, in a worker."""
        self._status.set_status(f"Setting up {setup.plugin}…")
        self._runner.run_in_thread(WorkerGroup.SETUP, partial(self._apply, setup, answers))

    def refused(self, message: SetupRefused) -> None:
        """An answer was refused (nothing stored): say why, in the form too."""
        plugin = message.setup.plugin
        self._status.set_status(f"{plugin} not set up: {message.message}", "error")
        self._view.form_error(message.field, message.message, plugin)

    def done(self, result: SetupResult) -> None:
        """Say what a setup did; close the form, or, if the plugin did not come up, leave it
        open saying why (to retry)."""
        status = result.status
        state = status_sentence(status)
        text = "; ".join(part for part in (" ".join(result.lines()), state) if part)
        if status.is_down:
            self._status.set_status(text, "error")
            self._view.form_error("", state)
        else:
            self._status.set_status(text, "success")
            self._view.close_form()

    def failed(self, reason: str) -> None:
        """The setup worker failed (the app has said so): the form says it too."""
        self._view.form_error("", f"Not set up: {reason}")

    # -- in the workers' threads ------------------------------------------------------------

    def _find(self, names: list[str]) -> None:
        """Which of ``names`` describe a setup form (imports their classes, starts none)."""
        self._runner.post_message(SetupFormsFound(names, find_setups(names)))

    def _read_settings(self, setup: Setup) -> None:
        try:
            stored = self._gateway.stored_setup_fields(setup)
        except DockerPassError:
            stored = frozenset()  # the keychain is down: the form opens without the hint
        self._runner.post_message(SetupFormReady(setup, current_settings(setup), stored))

    def _apply(self, setup: Setup, answers: Answers) -> None:
        """Reported even if superseded: it happened."""
        try:
            result = self._gateway.apply_setup(setup, answers)
        except SetupError as exc:
            self._runner.post_message(SetupRefused(setup, str(exc), exc.field))
            return
        self._runner.post_message(PluginSetUp(result))
