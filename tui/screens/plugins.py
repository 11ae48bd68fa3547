"""The plugins panel: every plugin's health, live, with enable/disable and re-enable."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from docker_pass.tui.text import HEADER_ICON
from docker_pass.tui.widgets.plugin_table import PluginDetail, PluginTable
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

    def __init__(self, plugins: tuple[PluginStatus, ...] = ()) -> None:
        super().__init__()
        self.set_reactive(PluginsScreen.plugins, plugins)

    def compose(self) -> ComposeResult:
        yield Header(icon=HEADER_ICON)
        yield Static(
            "Plugins: space or enter enables or disables a configurable plugin, "
            "or re-enables a crashed one.",
            id="plugins-intro",
        )
        yield PluginTable(id="plugin-table")
        yield PluginDetail(id="plugin-detail")
        yield StatusLine(id="status-line")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one(PluginTable)
        table.plugins = self.plugins
        table.focus()

    def watch_plugins(self, plugins: tuple[PluginStatus, ...]) -> None:
        if not self.is_mounted:
            return  # on_mount hands the statuses to the table
        self.query_one(PluginTable).plugins = plugins
        if not plugins:
            self.query_one(PluginDetail).plugin = None

    def on_plugin_table_highlighted(self, event: PluginTable.Highlighted) -> None:
        self.query_one(PluginDetail).plugin = event.status
