"""The app's hands on the plugins panel, its re-enable question and the setup forms."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from docker_pass.tui.keys import key_for
from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.plugins import PluginsScreen
from docker_pass.tui.screens.setup import SetupScreen

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from textual.app import App

    from docker_pass.core.results import PluginStatus
    from docker_pass.core.setup import Setup


class PluginsView:
    """The plugins panel and the setup form of ``app`` (a ``PanelView`` and a ``SetupView``)."""

    def __init__(self, app: App[None]) -> None:
        self._app = app

    # -- the panel --------------------------------------------------------------------------

    def open_panel(self, statuses: tuple[PluginStatus, ...], setups: frozenset[str]) -> bool:
        """Open the plugins panel; ``False`` if it is open already."""
        if isinstance(self._app.screen, PluginsScreen):
            return False
        self._app.push_screen(PluginsScreen(statuses, setups))
        return True

    def show_statuses(self, statuses: tuple[PluginStatus, ...]) -> None:
        """Every open panel shows ``statuses``."""
        for screen in self._app.screen_stack:
            if isinstance(screen, PluginsScreen):
                screen.plugins = statuses

    def show_setups(self, names: frozenset[str]) -> None:
        """Every open panel knows which plugins have a setup form."""
        for screen in self._app.screen_stack:
            if isinstance(screen, PluginsScreen):
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
        self._app.push_screen(ConfirmScreen(title, body, "Re-enable"), answered)

    # -- the setup form ---------------------------------------------------------------------

    def form_open(self) -> bool:
        """Whether a setup form is the screen in front."""
        return isinstance(self._app.screen, SetupScreen)

    def open_form(
        self, setup: Setup, current: Mapping[str, str], stored: frozenset[str] = frozenset()
    ) -> None:
        """Open ``setup``'s form, filled with ``current`` (unless a form is open already);
        ``stored``: its secret fields with an answer stored."""
        if self.form_open():
            return
        app = self._app
        keys = (key_for(app, "setup.save", "ctrl+s"), key_for(app, "setup.cancel", "escape"))
        app.push_screen(SetupScreen(setup, current, stored=stored, keys=keys))

    def form_error(self, field: str, message: str, plugin: str = "") -> None:
        """Show ``message`` under ``field`` ("": the whole form) of the open form (``plugin``:
        only if it is that plugin's)."""
        screen = self._app.screen
        if isinstance(screen, SetupScreen) and plugin in ("", screen.setup.plugin):
            screen.show_error(field, message)

    def close_form(self) -> None:
        """Close the open setup form."""
        screen = self._app.screen
        if isinstance(screen, SetupScreen):
            screen.dismiss(None)
