"""The status line: the last thing that happened, coloured by how much it matters.

A message does not stay for ever: the app clears it after a while (``status_seconds``), or
as soon as what it describes is over (its ``topic`` ends: a shown value hidden again).

A message wider than the line ends in ``…`` and says which key shows it whole (the app's
"last message" key puts it in a notification), rather than being cut mid-sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from docker_pass.core.outside import clean_outside
from docker_pass.tui.fit import fit

#: The app's binding id and default key for "show the last message whole".
MESSAGE_BINDING = ("app.message", "L")

LEVELS = ("info", "success", "warning", "error")
#: The most a status shows (one line: the rest would be cut by the width anyway).
STATUS_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class StatusMessage:
    """One status: its text, level (info, success, warning or error) and topic: what it
    describes while that lasts ("reveal": a value is shown), so it can end with it."""

    text: str
    level: str = "info"
    topic: str = ""


class StatusLine(Static):
    """One line above the footer; the app sets ``message`` on every screen's status line."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
        &.-success { color: $text-success; }
        &.-warning { color: $text-warning; }
        &.-error { color: $text-error; text-style: bold; }
    }
    """

    message: reactive[StatusMessage] = reactive(StatusMessage(""), init=False)

    def watch_message(self, message: StatusMessage) -> None:
        for level in LEVELS:
            self.set_class(level == message.level, f"-{level}")
        self._show()

    def on_resize(self) -> None:
        self._show()

    def _show(self) -> None:
        # Text, not markup: messages hold IDs and plugin output, which may contain "[".  Errors
        # quote servers and other programs: no escape sequence or control reaches the screen.
        text = Text(clean_outside(self.message.text, STATUS_LIMIT), no_wrap=True)
        room = self.content_size.width
        if room <= 0 or text.cell_len <= room:
            self.update(text)
            return
        from docker_pass.tui.keys import key_for  # keys imports the screens that use this

        hint = Text(f" {key_for(self.app, *MESSAGE_BINDING)}: all", style="reverse")
        if room - hint.cell_len < 12:
            self.update(fit(text, room))
            return
        self.update(Text.assemble(fit(text, room - hint.cell_len), hint))
