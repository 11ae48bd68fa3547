"""What a controller needs from the app, and no more: a status line and a runner.

The app gives its :class:`~docker_pass.tui.controllers.status.StatusBoard` as the status line
and an :class:`~docker_pass.tui.workers.AppRunner` as the runner; a test gives fakes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.message import Message

    from docker_pass.tui.workers import WorkerGroup


class StatusSink(Protocol):
    """The status line every screen shows."""

    def set_status(self, text: str, level: str = "info", *, topic: str = "") -> None:
        """Show ``text`` at ``level`` (info, success, warning, error); ``topic`` names what
        it describes, so that :meth:`end_status` can clear it when that is over."""
        ...

    def end_status(self, topic: str) -> None:
        """Clear the status line if its message is about ``topic``."""
        ...


class Stoppable(Protocol):
    """A timer that can be stopped before it fires."""

    def stop(self) -> None:
        """Do not fire."""
        ...


class Runner(Protocol):
    """Work off the event loop, and the way back to it."""

    def run_in_thread(
        self,
        group: WorkerGroup,
        work: Callable[[], object],
        *,
        plugin: str = "",
        exclusive: bool = True,
    ) -> None:
        """Run ``work`` in a thread worker of ``group`` (``plugin``: that plugin's own group;
        ``exclusive``: it replaces running work of the same group)."""
        ...

    def running(self, group: WorkerGroup, plugin: str = "") -> bool:
        """Whether work of ``group`` (``plugin``'s) is running."""
        ...

    def post_message(self, message: Message) -> bool:
        """Hand ``message`` to the app (the one thing a worker's thread may do)."""
        ...

    def call_after_refresh(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` on the event loop once the screen is painted."""
        ...

    def set_timer(self, seconds: float, callback: Callable[[], object]) -> Stoppable:
        """Call ``callback`` on the event loop once, ``seconds`` from now."""
        ...
