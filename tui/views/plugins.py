"""The app's hands on the plugins panel, its re-enable question and the setup forms.

The panel's and the dialogs' modules are imported where they are first opened, not at start
(:mod:`docker_pass.tui.screens` says what that saves); until then none of them can be open.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from rich.text import Text

from docker_pass.tui.keys import key_for

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from textual.app import App

    from docker_pass.core.results import PluginStatus
    from docker_pass.core.setup import Setup
    from docker_pass.tui.screens.plugins import PluginsScreen
    from docker_pass.tui.screens.setup import SetupScreen


class PluginsView:
    """The plugins panel and the setup form of ``app`` (a ``PanelView`` and a ``SetupView``)."""

    def __init__(self, app: App[None]) -> None:
        self._app = app

    # -- the panel --------------------------------------------------------------------------

    def open_panel(self, statuses: tuple[PluginStatus, ...], setups: frozenset[str]) -> bool:
        """Open the plugins panel; ``False`` if it is open already."""
        from docker_pass.tui.screens.plugins import PluginsScreen

        if isinstance(self._app.screen, PluginsScreen):
            return False
        self._app.push_screen(PluginsScreen(statuses, setups))
        return True

    def show_statuses(self, statuses: tuple[PluginStatus, ...]) -> None:
        """Every open panel shows ``statuses``."""
        for screen in self._panels():
            screen.plugins = statuses

    def show_setups(self, names: frozenset[str]) -> None:
        """Every open panel knows which plugins have a setup form."""
        for screen in self._panels():
            screen.setups = names

    def ask_reenable(self, status: PluginStatus, on_yes: Callable[[], None]) -> None:
        """Ask whether to start a crashed plugin again."""

        def answered(yes: bool | None) -> None:
            if yes:
                on_yes()

        disable = key_for(self._app, "plugins.disable", "x")
        body = Text.assemble(
            (status.message, "red"),
            "\n\nRe-enable it now? It starts again; if the cause is still there, it "
            f"crashes again and says so. (To disable it instead: {disable} in the panel.)",
        )
        title = f"{status.name} is {status.status}"
        from docker_pass.tui.screens.confirm import ConfirmScreen

        self._app.push_screen(ConfirmScreen(title, body, "Re-enable"), answered)

    # -- the setup form ---------------------------------------------------------------------

    def form_open(self) -> bool:
        """Whether a setup form is the screen in front."""
        return self._form() is not None

    def open_form(
        self, setup: Setup, current: Mapping[str, str], stored: frozenset[str] = frozenset()
    ) -> None:
        """Open ``setup``'s form, filled with ``current`` (unless a form is open already);
        ``stored``: its secret fields with an answer stored."""
        if self.form_open():
            return
        app = self._app
        keys = (key_for(app, "setup.save", "ctrl+s"), key_for(app, "setup.cancel", "escape"))
        from docker_pass.tui.screens.setup import SetupScreen

        app.push_screen(SetupScreen(setup, current, stored=stored, keys=keys))

    def form_error(self, field: str, message: str, plugin: str = "") -> None:
        """Show ``message`` under ``field`` ("": the whole form) of the open form (``plugin``:
        only if it is that plugin's)."""
        screen = self._form()
        if screen is not None and plugin in ("", screen.setup.plugin):
            screen.show_error(field, message)

    def close_form(self) -> None:
        """Close the open setup form."""
        screen = self._form()
        if screen is not None:
            screen.dismiss(None)

    # -- internals --------------------------------------------------------------------------

    def _panels(self) -> list[PluginsScreen]:
        """The open plugins panels (none while their module was never imported)."""
        kind = _screen_class("plugins", "PluginsScreen")
        return [s for s in self._app.screen_stack if kind is not None and isinstance(s, kind)]

    def _form(self) -> SetupScreen | None:
        """The setup form in front, if one is (none while its module was never imported)."""
        kind = _screen_class("setup", "SetupScreen")
        screen = self._app.screen
        return screen if kind is not None and isinstance(screen, kind) else None


def _screen_class(module: str, name: str) -> Any:
    """Screen class ``name`` of ``docker_pass.tui.screens.MODULE`` if that module has been
    imported, else ``None``: asking whether one is open imports nothing."""
    loaded = sys.modules.get(f"docker_pass.tui.screens.{module}")
    return None if loaded is None else getattr(loaded, name)
