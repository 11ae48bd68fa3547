"""A secret value edited over several lines (a PEM key pasted whole), masked until shown.

A ``TextArea`` has no password mode, so this one draws every character of a line as ``•``
while ``masked``: the text itself is untouched, the cursor and the line breaks stay where they
are, and nothing of the value reaches the screen (nor a snapshot, which records the screen).

What is kept is what was typed or pasted, with one rule a terminal imposes: a pasted line
break arrives as CR (terminals and tmux send pasted line feeds as carriage returns), so every
line break is stored as ``\\n``.  A trailing line break is kept if it was pasted and never
added if not.  (Textual's document splits lines as ``str.splitlines`` does, so the rarer
separators \\v, \\f, \\x1c-\\x1e, \\x85, U+2028 and U+2029 become ``\\n`` too: such values
go through ``docker pass set NAME < file``, which stores stdin byte for byte.)
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widgets import TextArea

MASK = "•"


class ValueArea(TextArea):
    """A multi-line, soft-wrapped value field whose characters are drawn as ``•`` while masked.

    Copy and cut are off: a value leaves the app only through the main screen's copy key,
    which clears the clipboard again after a while.
    """

    DEFAULT_CSS = """
    ValueArea {
        height: auto;
        min-height: 1;
        max-height: 8;
        /* In line with the ID field; the right cell is where the cursor sits at a line end. */
        padding: 0 1 0 0;
        background: $boost;
        scrollbar-size-vertical: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        # Shadow TextArea's copy/cut keys (see the class docstring); nothing is shown for them.
        Binding("ctrl+c,super+c", "refuse_copy", show=False),
        Binding("ctrl+x,super+x", "refuse_copy", show=False),
    ]

    #: Whether characters are drawn as ``•`` (ctrl+t in the editor shows them).
    masked: reactive[bool] = reactive(True, init=False)

    def __init__(
        self, *, placeholder: str = "", id: str | None = None, masked: bool = True
    ) -> None:
        super().__init__(
            "",
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            compact=True,
            highlight_cursor_line=False,
            placeholder=placeholder,
            id=id,
        )
        self.set_reactive(ValueArea.masked, masked)

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        if not self.masked:
            return line
        # One mask character per character: wrapping and the cursor count characters.
        return Text(MASK * len(line.plain), end="", no_wrap=True)

    def watch_masked(self) -> None:
        # Rendered lines are cached by position, not by what they show: drop them.
        self.notify_style_update()
        self.refresh()

    def action_refuse_copy(self) -> None:
        """Keep the value out of the clipboard (it would never be cleared from there)."""
        self.app.bell()


def describe_value(text: str) -> str:
    """What the masked area holds, in words: size, lines, and whether it ends with a break."""
    if not text:
        return ""
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    size = f"{len(text):,} character" + ("" if len(text) == 1 else "s")
    where = f" on {lines:,} lines" if lines > 1 else ""
    ending = ", ending with a line break" if text.endswith("\n") else ""
    return f"{size}{where}{ending}"
