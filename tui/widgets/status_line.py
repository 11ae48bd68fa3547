"""The status line: the last thing that happened, coloured by how much it matters.

A message does not stay for ever: the app clears it after a while (``status_seconds``), or
as soon as what it describes is over (its ``topic`` ends: a shown value hidden again).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from docker_pass.core.outside import clean_outside

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
        # Text, not markup: messages hold IDs and plugin output, which may contain "[".  Errors
        # quote servers and other programs: no escape sequence or control reaches the screen.
        text = clean_outside(message.text, STATUS_LIMIT)
        self.update(Text(text, no_wrap=True, overflow="ellipsis"))
