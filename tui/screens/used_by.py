"""The whole "Used by" list of one secret (``U``): containers, Compose services and files,
each with the variables and the references that name the secret.

Every name, path and variable comes from outside (Docker's labels, Compose files): each is
cleaned (:mod:`docker_pass.tui.model.usage`).  Never a value.  Escape closes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from docker_pass.tui.model.usage import GROUPS, place_name, place_state, reference, shown
from docker_pass.tui.text import plural
from docker_pass.tui.widgets.dialog_footer import DialogFooter

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from docker_pass.tui.model.usage import UsageSummary


class UsedByScreen(ModalScreen[None]):
    """Every place that uses one secret, grouped by kind (see the module)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,U", "close", "Close", id="used_by.close"),
    ]

    def __init__(self, summary: UsageSummary) -> None:
        super().__init__()
        self.summary = summary

    def compose(self) -> ComposeResult:
        summary = self.summary
        with Vertical(id="used-by-dialog"):
            title = Text.assemble("Used by: ", (summary.id, "bold"), " · ", summary.headline())
            yield Static(title, id="used-by-title")
            with Horizontal(id="used-by-buttons"):
                yield Static(
                    Text("Found in the containers' labels and their Compose files."),
                    id="used-by-footer",
                )
                yield Button("Close (esc)", id="used-by-close", compact=True)
            with VerticalScroll(id="used-by-body"):
                for table in group_tables(summary):
                    yield Static(table, classes="used-by-group")
        yield DialogFooter()

    def on_mount(self) -> None:
        self.query_one("#used-by-body").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        """Close the list."""
        self.dismiss(None)


def group_tables(summary: UsageSummary) -> list[Table | Text]:
    """One table per kind of place that has uses, then the gathering's notes."""
    out: list[Table | Text] = []
    places = summary.places()
    for kind, heading in GROUPS:
        of_kind = [p for p in places if p.kind == kind]
        if not of_kind:
            continue
        table = Table(
            title=Text(f"{heading} ({len(of_kind)})", style="bold underline"),
            title_justify="left",
            box=None,
            padding=(0, 1),
            expand=True,
            show_edge=False,
        )
        table.add_column("Place", ratio=3, overflow="ellipsis", no_wrap=True)
        table.add_column("State", ratio=1, overflow="ellipsis", no_wrap=True)
        table.add_column("Variable", ratio=2, overflow="ellipsis", no_wrap=True)
        table.add_column("Reference", ratio=2, overflow="ellipsis", no_wrap=True)
        for place in of_kind:
            for use in summary.uses_at(place):
                table.add_row(
                    Text(place_name(place)),
                    Text(place_state(place), style="dim"),
                    Text(shown(use.referrer.via)),
                    Text(reference(use) + (" (pattern)" if use.by_pattern else "")),
                )
        out.append(table)
    if not places:
        out.append(Text(summary.note or "Nothing found using it.", style="dim"))
    if summary.problems:
        notes = Text("Not read:", style="bold")
        for problem in summary.problems[:20]:
            notes.append(f"\n  {shown(problem)}", style="yellow")
        if len(summary.problems) > 20:
            notes.append(f"\n  +{plural(len(summary.problems) - 20, 'more note')}", style="dim")
        out.append(notes)
    return out
