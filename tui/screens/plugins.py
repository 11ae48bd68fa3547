"""The plugins panel: every plugin's health, live, with enable/disable, re-enable and set-up."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Static

from docker_pass.tui.keys import key_for
from docker_pass.tui.text import HEADER_ICON
from docker_pass.tui.widgets.fit_header import FitHeader
from docker_pass.tui.widgets.plugin_table import PanelKeys, PluginDetail, PluginTable
from docker_pass.tui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from docker_pass.core.results import PluginStatus


class PluginsScreen(Screen[None]):
    """A table of plugins and the selected one's detail; the app keeps ``plugins`` current."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,p", "app.pop_screen", "Back", id="plugins.close"),
        Binding("ctrl+r", "app.reload", "Reload", show=False, id="plugins.reload"),
    ]

    #: Every plugin's status; the app sets it whenever it learns something new.
    plugins: reactive[tuple[PluginStatus, ...]] = reactive((), always_update=True, init=False)

    #: The plugins that describe a setup form; the app sets it as it learns them.
    setups: reactive[frozenset[str]] = reactive(frozenset(), init=False)

    def __init__(
        self, plugins: tuple[PluginStatus, ...] = (), setups: frozenset[str] = frozenset()
    ) -> None:
        super().__init__()
        self.set_reactive(PluginsScreen.plugins, plugins)
        self.set_reactive(PluginsScreen.setups, setups)

    def compose(self) -> ComposeResult:
        keys = self.keys()
        yield FitHeader(icon=HEADER_ICON)
        yield Static(
            f"Plugins: {keys.toggle} enables or disables a configurable plugin, or re-enables "
            f"a crashed one; {keys.disable} disables it; {keys.setup} sets up one that asks "
            "for a token or settings.",
            id="plugins-intro",
        )
        yield PluginTable(id="plugin-table")
        detail = PluginDetail(id="plugin-detail")
        detail.keys = keys
        detail.setups = self.setups
        yield detail
        yield StatusLine(id="status-line")
        yield Footer(show_command_palette=False)

    def keys(self) -> PanelKeys:
        """The panel's keys in effect (the keymap applied)."""
        app = self.app
        return PanelKeys(
            toggle=key_for(app, "plugins.toggle", "space,enter"),
            disable=key_for(app, "plugins.disable", "x"),
            setup=key_for(app, "plugins.setup", "s"),
        )

    def on_mount(self) -> None:
        table = self.query_one(PluginTable)
        table.plugins = self.plugins
        table.focus()

    def watch_setups(self, setups: frozenset[str]) -> None:
        if not self.is_mounted:
            return
        detail = self.query_one(PluginDetail)
        detail.setups = setups
        detail.plugin = detail.plugin  # redrawn with the set-up hint

    def watch_plugins(self, plugins: tuple[PluginStatus, ...]) -> None:
        if not self.is_mounted:
            return  # on_mount hands the statuses to the table
        self.query_one(PluginTable).plugins = plugins
        if not plugins:
            self.query_one(PluginDetail).plugin = None

    def on_plugin_table_highlighted(self, event: PluginTable.Highlighted) -> None:
        self.query_one(PluginDetail).plugin = event.status
