"""The help screen: every key, grouped by where it works."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from docker_pass.tui.widgets.dialog_footer import DialogFooter

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual.app import ComposeResult

    from docker_pass.tui.keys import KeyHelp


class HelpScreen(ModalScreen[None]):
    """Keys by section, in two columns (first half of the sections on the left).

    ``?``, ``q`` or Escape closes it.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close"),
        # Like a pager: j/k a line, page keys and space a page, g/G the ends.
        Binding("j", "scroll_keys('down')", "Scroll", key_display="j/k", id="help.down"),
        Binding("k", "scroll_keys('up')", "Up", show=False, id="help.up"),
        Binding("space", "scroll_keys('page_down')", "Page", show=False, id="help.page_down"),
        Binding("b", "scroll_keys('page_up')", "Page up", show=False, id="help.page_up"),
        Binding("g", "scroll_keys('home')", "Top", show=False, id="help.top"),
        Binding("G", "scroll_keys('end')", "End", show=False, id="help.end"),
    ]

    def __init__(self, sections: Sequence[tuple[str, Sequence[KeyHelp]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            # Docked like the editor's: only the keys scroll, the way out stays in sight.
            yield Static(Text("docker pass: keys"), id="help-title")
            with Horizontal(id="help-buttons"):
                yield Static(
                    Text("ctrl+p: the command palette, with the same actions."),
                    id="help-footer",
                )
                yield Button("Close (esc)", id="help-close", compact=True)
            with VerticalScroll(id="help-body"):
                half = (len(self.sections) + 1) // 2
                with Horizontal(id="help-keys"):
                    for column in (self.sections[:half], self.sections[half:]):
                        with Vertical(classes="help-column"):
                            for title, keys in column:
                                yield Static(section_table(title, keys), classes="help-section")
        yield DialogFooter()

    def on_mount(self) -> None:
        # The keys scroll with the arrow keys and page keys at once.
        self.query_one("#help-body").focus()

    def action_scroll_keys(self, how: str) -> None:
        """Scroll the keys: ``down``, ``up``, ``page_down``, ``page_up``, ``home`` or ``end``
        (the arrows and page keys are the scroll area's own)."""
        body = self.query_one("#help-body", VerticalScroll)
        moves = {
            "down": body.scroll_down,
            "up": body.scroll_up,
            "page_down": body.scroll_page_down,
            "page_up": body.scroll_page_up,
            "home": body.scroll_home,
            "end": body.scroll_end,
        }
        move = moves.get(how)
        if move is not None:
            move(animate=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        """Close the help screen."""
        self.dismiss(None)


def section_table(title: str, keys: Sequence[KeyHelp]) -> Table:
    """One section: its title, then a key and what it does per line."""
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True, min_width=8)
    table.add_column()
    table.add_row(Text(title, style="bold underline"), "")
    for item in keys:
        table.add_row(Text(item.keys), Text(item.description))
    return table
