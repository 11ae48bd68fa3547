"""The detail pane's "Used by" section: how many places use the secret and the first few.

A place is a line: a container's name and state, a Compose service (``project/service``), or
a file, then the variables that refer to the secret; a line too wide for the pane ends in
``…``, and more places than :data:`FIRST_PLACES` end in "+N more" with the key that lists
them all.  While nothing can be listed the section is one line saying why ("no Docker engine
(…)").  Hidden when the subject is not a live secret or the UI does not look at Docker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from docker_pass.core.docker.usage import CONTAINER
from docker_pass.tui.fit import fit
from docker_pass.tui.keys import key_for
from docker_pass.tui.model.usage import place_name, place_state, variables

if TYPE_CHECKING:
    from docker_pass.tui.model.usage import UsageSummary

#: How many places the pane shows before "+N more".
FIRST_PLACES = 3
#: The label's column: "Used by" and its gap (as wide as the fields' labels above).
LABEL = "Used by    "
#: Default key and binding id of the whole list.
LIST_BINDING = ("main.used_by", "U")


class UsedBy(Static):
    """The section (see the module); the app sets ``summary``."""

    DEFAULT_CSS = """
    UsedBy { height: auto; margin-top: 1; }
    UsedBy.-hidden { display: none; }
    """

    #: What to show (``None``: the section is hidden).
    summary: reactive[UsageSummary | None] = reactive(None, init=False, always_update=True)

    def on_mount(self) -> None:
        self._draw()

    def watch_summary(self) -> None:
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        summary = self.summary
        self.set_class(summary is None, "-hidden")
        if summary is None:
            self.update("")
            return
        self.update(self.lines(summary, self.content_region.width or 40))

    def lines(self, summary: UsageSummary, width: int) -> Table:
        """The section in ``width`` cells: the label, then the headline and a line per place
        (each ending in "…" when too wide), or the note (wrapped: the reason is worth reading
        whole)."""
        room = max(width - len(LABEL), 8)
        grid = Table.grid()
        grid.add_column(width=len(LABEL), no_wrap=True)
        grid.add_column(width=room, overflow="fold")  # a long path in the note: folded, whole
        label = Text("Used by", style="bold")
        if summary.note:
            grid.add_row(label, Text(summary.note))
            return grid
        places = summary.places()
        out = fit(Text(summary.headline(), style="" if places else "dim"), room)
        for place in places[:FIRST_PLACES]:
            line = Text()
            line.append(place_name(place), style="bold" if place.kind == CONTAINER else "")
            state = place_state(place)
            running = place.kind == CONTAINER and state == "running"
            line.append(f" ({state})", style="green" if running else "dim")
            via = variables(summary.uses_at(place))
            if via:
                line.append(f" {via}", style="italic")
            out.append("\n")
            out.append_text(fit(line, room))
        more = len(places) - FIRST_PLACES
        key = key_for(self.app, *LIST_BINDING)
        tail = ""
        if more > 0:
            tail = f"+{more} more · {key} lists all"
        elif places:
            tail = f"{key} lists them with their references"
        if tail:
            out.append("\n")
            out.append_text(fit(Text(tail, style="dim"), room))
        grid.add_row(label, out)
        return grid
