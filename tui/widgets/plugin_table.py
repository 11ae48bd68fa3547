"""The plugins table (one row per plugin, with a status badge) and the selected plugin's detail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Static

from docker_pass.core.state import RunStatus
from docker_pass.tui.fit import fit
from docker_pass.tui.text import tilde

if TYPE_CHECKING:
    from docker_pass.core.results import PluginStatus

BADGES: dict[str, tuple[str, str]] = {
    RunStatus.RUNNING: ("● running", "bold green"),
    RunStatus.DISABLED: ("○ disabled", "dim"),
    RunStatus.STOPPED: ("■ stopped", "yellow"),
    RunStatus.CRASHED: ("✖ crashed", "bold red"),
    RunStatus.RETRIES_EXCEEDED: ("✖ retries exceeded", "bold red"),
}


@dataclass(frozen=True, slots=True)
class PanelKeys:
    """The panel's keys in effect (after the keymap), as its hints name them."""

    toggle: str = "space / enter"
    disable: str = "x"
    setup: str = "s"


def badge(status: str) -> Text:
    """The coloured status badge of a plugin."""
    label, style = BADGES.get(status, (status, ""))
    return Text(label, style=style)


class PluginTable(DataTable[Text]):
    """Plugins as rows; space or enter asks to toggle the one under the cursor, ``x`` to
    disable it (crashed or not), ``s`` to open its setup form."""

    DEFAULT_CSS = """
    PluginTable {
        /* A narrow terminal clips the last column; the detail below shows it in full. */
        scrollbar-size-horizontal: 0;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "space,enter",
            "toggle_plugin",
            "Enable/disable",
            tooltip="Enable, disable, re-enable",
            id="plugins.toggle",
        ),
        Binding(
            "x",
            "disable_plugin",
            "Disable",
            tooltip="Disable (also a crashed one)",
            id="plugins.disable",
        ),
        Binding(
            "s", "setup_plugin", "Set up", tooltip="Set up (token, settings)", id="plugins.setup"
        ),
        Binding("j", "cursor_down", "Down", show=False, tooltip="Next plugin", id="plugins.down"),
        Binding("k", "cursor_up", "Up", show=False, tooltip="Previous plugin", id="plugins.up"),
    ]

    #: Every plugin's status; the app sets it.
    plugins: reactive[tuple[PluginStatus, ...]] = reactive((), always_update=True, init=False)

    class ToggleRequested(Message):
        """Space or enter on a plugin: enable, disable or re-enable it."""

        def __init__(self, table: PluginTable, status: PluginStatus) -> None:
            super().__init__()
            self.table = table
            self.status = status

        @property
        def control(self) -> PluginTable:
            """The table."""
            return self.table

    class DisableRequested(Message):
        """``x`` on a plugin: disable it (a crashed one too)."""

        def __init__(self, table: PluginTable, status: PluginStatus) -> None:
            super().__init__()
            self.table = table
            self.status = status

        @property
        def control(self) -> PluginTable:
            """The table."""
            return self.table

    class SetupRequested(Message):
        """``s`` on a plugin that describes a setup form: open it."""

        def __init__(self, table: PluginTable, status: PluginStatus) -> None:
            super().__init__()
            self.table = table
            self.status = status

        @property
        def control(self) -> PluginTable:
            """The table."""
            return self.table

    class Highlighted(Message):
        """The cursor moved to a plugin."""

        def __init__(self, table: PluginTable, status: PluginStatus) -> None:
            super().__init__()
            self.table = table
            self.status = status

        @property
        def control(self) -> PluginTable:
            """The table."""
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        *_, self._detail_column = self.add_columns(
            "Name", "Version", "Status", "Config.", "Pattern", "Storage / message"
        )

    def on_resize(self) -> None:
        self._fit_details()

    @property
    def current(self) -> PluginStatus | None:
        """The plugin under the cursor."""
        if not self.plugins or self.cursor_row < 0 or self.cursor_row >= len(self.plugins):
            return None
        return self.plugins[self.cursor_row]

    def watch_plugins(self, plugins: tuple[PluginStatus, ...]) -> None:
        row = self.cursor_row
        self.clear()
        for status in plugins:
            detail = status.message or status.storage  # fitted to the width below
            self.add_row(
                Text(status.name, style="bold"),
                Text(status.version),
                badge(status.status),
                Text("yes" if status.configurable else "no"),
                Text(status.pattern),
                Text(tilde(detail), style="red" if status.is_down else ""),
                key=status.name,
            )
        self._fit_details()
        if plugins:
            self.move_cursor(row=min(max(row, 0), len(plugins) - 1))
            current = self.current
            if current is not None:
                self.post_message(self.Highlighted(self, current))

    def _fit_details(self) -> None:
        """End the last column in … where the table's width runs out (not cut at its edge)."""
        if not self.plugins or not self.size.width:
            return
        others = sum(c.get_render_width(self) for c in list(self.columns.values())[:-1])
        room = self.scrollable_content_region.width - others - 2 * self.cell_padding
        for status in self.plugins:
            detail = tilde(status.message or status.storage)
            cell = Text(detail, style="red" if status.is_down else "")
            self.update_cell(status.name, self._detail_column, fit(cell, room), update_width=True)

    def action_toggle_plugin(self) -> None:
        """Ask the app to toggle the plugin under the cursor."""
        current = self.current
        if current is not None:
            self.post_message(self.ToggleRequested(self, current))

    def action_disable_plugin(self) -> None:
        """Ask the app to disable the plugin under the cursor."""
        current = self.current
        if current is not None:
            self.post_message(self.DisableRequested(self, current))

    def action_setup_plugin(self) -> None:
        """Ask the app to open the setup form of the plugin under the cursor."""
        current = self.current
        if current is not None:
            self.post_message(self.SetupRequested(self, current))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        current = self.current
        if current is not None:
            self.post_message(self.Highlighted(self, current))


class PluginDetail(Static):
    """The selected plugin in full: status, message and how to fix it, storage."""

    DEFAULT_CSS = """
    PluginDetail {
        height: auto;
        padding: 1 1 0 1;
    }
    """

    plugin: reactive[PluginStatus | None] = reactive(None, init=False, always_update=True)
    #: The panel's keys in effect, and the plugins that describe a setup form (set before
    #: ``plugin``).
    keys = PanelKeys()
    setups: frozenset[str] = frozenset()

    def watch_plugin(self, status: PluginStatus | None) -> None:
        if status is None:
            self.update(Text(""))
            return
        self.update(describe_plugin(status, self.keys, has_setup=status.name in self.setups))


def describe_plugin(
    status: PluginStatus, keys: PanelKeys = PanelKeys(), *, has_setup: bool = False
) -> Text:
    """A plugin's status for people, with the fix when it is down."""
    text = Text.assemble((status.name, "bold"), f" {status.version}  ", badge(status.status))
    if status.message:
        text.append("\n")
        text.append(tilde(status.message), style="red" if status.is_down else "")
    if status.is_down:
        text.append("\nFix: ", style="bold")
        text.append(
            f"do what the message says, then press {keys.toggle} here to re-enable it "
            f"(or run {status.remedy}); {keys.disable} disables it."
        )
    elif status.configurable:
        action = "enable" if status.status == RunStatus.DISABLED else "disable"
        text.append(f"\n{keys.toggle}: {action} it", style="dim")
    else:
        text.append("\nAlways on: not configurable.", style="dim")
    if has_setup:
        text.append(f"\n{keys.setup}: set it up (asks for what it needs, stores it)", style="dim")
    text.append(
        f"\nPattern: {status.pattern or '-'}   Writable: {'yes' if status.writable else 'no'}"
    )
    if status.storage:
        text.append(f"\nStorage: {tilde(status.storage)}")
    return text
