"""The status line's message: what it says, and when it goes.

A message stays until ``seconds`` pass, another comes, or what it describes is over
(:meth:`StatusBoard.end_status` with its topic).  Every screen's status line shows it: the
app hands each new message to them (``show``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.tui.widgets.status_line import StatusMessage

if TYPE_CHECKING:
    from collections.abc import Callable

    from docker_pass.tui.controllers.ports import Runner, Stoppable


class StatusBoard:
    """The one status message of the app (a :class:`~.ports.StatusSink`)."""

    def __init__(
        self, runner: Runner, show: Callable[[StatusMessage], None], seconds: float | None
    ) -> None:
        """``seconds`` ``None`` keeps a message until the next one."""
        self._runner = runner
        self._show = show
        self.seconds = seconds
        self.message = StatusMessage("Loading…", topic="listing")
        #: The last message that said something (kept after it leaves the line: a person may
        #: ask for it whole, see :meth:`last`).
        self.last = self.message
        self._timer: Stoppable | None = None

    def set_status(self, text: str, level: str = "info", *, topic: str = "") -> None:
        """Show ``text`` in the status line of every screen, until ``seconds`` pass, another
        message comes, or ``end_status(topic)`` says what it describes is over."""
        self.message = StatusMessage(text, level, topic)
        if text:
            self.last = self.message
        self.show()
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if text and self.seconds:
            self._timer = self._runner.set_timer(self.seconds, self._expire)

    def end_status(self, topic: str) -> None:
        """Clear the status line if its message is about ``topic`` (which just ended)."""
        if topic and self.message.topic == topic:
            self.set_status("")

    def show(self) -> None:
        """Hand the message to the status lines (again: a screen was just opened)."""
        self._show(self.message)

    def _expire(self) -> None:
        self._timer = None
        self.set_status("")
