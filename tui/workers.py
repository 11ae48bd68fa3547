"""The app's thread workers: their groups, and the runner the controllers start them with.

Every engine, plugin and store call runs in a thread worker, off the event loop.  A worker
calls the gateway and posts its result as a message; none touches a widget.  An error is
left to propagate: the app's one ``on_worker_state_changed`` handler turns it into a status
message.  Each kind of work has its own :class:`WorkerGroup`, so ``exclusive`` only replaces
work of the same kind (a newer listing supersedes an older one; a reveal never cancels a save).

Textual runs workers on a node (the app); controllers are plain classes, so they start
theirs through :class:`AppRunner`, which holds the app and offers only what they need.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from textual.worker import NoActiveWorker, get_current_worker

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App
    from textual.message import Message
    from textual.timer import Timer

#: Said of a worker whose group is none of ours ("… failed: <reason>").
UNKNOWN_WORK = "A background task"


class WorkerGroup(StrEnum):
    """What a worker does; its group name.  A worker that concerns one plugin (its listing,
    its watcher) runs in that plugin's own group of the kind (:meth:`of`)."""

    LISTING = "listing"
    PLUGINS = "plugins"
    REVEAL = "reveal"
    COPY = "copy"
    EDIT_VALUE = "edit-value"
    EDIT_VERSION = "edit-version"
    SAVE = "save"
    DELETE = "delete"
    TOGGLE = "toggle"
    PREVIEW = "preview"
    WATCH = "watch"
    SETUP = "setup"
    SETUP_FORMS = "setup-forms"
    SETUP_OPEN = "setup-open"
    UNDO = "undo"
    MOVE = "move"
    UNDELETE = "undelete"
    PURGE = "purge"
    WARM_INDEX = "warm-index"
    CLIPBOARD = "clipboard"
    UI_STATE = "ui-state"
    USAGE = "usage"
    ROLLOUT = "rollout"

    def of(self, plugin: str) -> str:
        """The group of this kind of work for one plugin (``listing:docker-pass``)."""
        return f"{self.value}:{plugin}" if plugin else self.value

    @property
    def label(self) -> str:
        """What this work is, for "… failed: <reason>" status messages."""
        return _LABELS.get(self, UNKNOWN_WORK)

    @classmethod
    def parse(cls, group: str) -> tuple[WorkerGroup | None, str]:
        """The kind and the plugin of a worker's group (``None``: not one of ours)."""
        kind, _, plugin = group.partition(":")
        try:
            return cls(kind), plugin
        except ValueError:
            return None, ""


_LABELS = {
    WorkerGroup.LISTING: "Listing secrets",
    WorkerGroup.PLUGINS: "Reading plugin status",
    WorkerGroup.REVEAL: "Reading the value",
    WorkerGroup.COPY: "Reading the value to copy",
    WorkerGroup.EDIT_VALUE: "Reading the current value",
    WorkerGroup.EDIT_VERSION: "Reading the version",
    WorkerGroup.SAVE: "Saving",
    WorkerGroup.DELETE: "Deleting",
    WorkerGroup.TOGGLE: "Changing the plugin",
    WorkerGroup.PREVIEW: "Matching the pattern",
    WorkerGroup.WATCH: "Watching plugin state",
    WorkerGroup.SETUP: "Setting up the plugin",
    WorkerGroup.SETUP_FORMS: "Reading the plugins' setup forms",
    WorkerGroup.SETUP_OPEN: "Opening the setup form",
    WorkerGroup.UNDO: "Undoing",
    WorkerGroup.MOVE: "Moving",
    WorkerGroup.UNDELETE: "Undeleting",
    WorkerGroup.PURGE: "Purging",
    WorkerGroup.UI_STATE: "Reading where the UI was",
    WorkerGroup.USAGE: "Looking for what uses the secrets",
    WorkerGroup.ROLLOUT: "Rolling out",
}


def superseded() -> bool:
    """In a worker: whether newer work of the same kind replaced it (its result is stale).

    Outside a worker (a test running a controller's work directly) nothing replaced it.
    """
    try:
        return get_current_worker().is_cancelled
    except NoActiveWorker:
        return False


class AppRunner:
    """Runs the controllers' workers, messages and timers on ``app`` (the node Textual needs):
    the :class:`~docker_pass.tui.controllers.ports.Runner` the controllers are given."""

    def __init__(self, app: App[None]) -> None:
        self._app = app

    def run_in_thread(
        self,
        group: WorkerGroup,
        work: Callable[[], object],
        *,
        plugin: str = "",
        exclusive: bool = True,
    ) -> None:
        """Run ``work`` in a thread worker of ``group`` (``plugin``: that plugin's group).

        No description: Textual would show the arguments' ``repr``, and none is needed.
        """
        name = f"{group.value} {plugin}".strip()
        self._app.run_worker(
            work,
            name=name,
            group=group.of(plugin),
            exclusive=exclusive,
            thread=True,
            exit_on_error=False,
        )

    def running(self, group: WorkerGroup, plugin: str = "") -> bool:
        """Whether a worker of ``group`` (``plugin``'s) is running now."""
        wanted = group.of(plugin)
        return any(w.group == wanted and w.is_running for w in self._app.workers)

    def post_message(self, message: Message) -> bool:
        """Post ``message`` to the app (safe from a worker's thread)."""
        return self._app.post_message(message)

    def call_after_refresh(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once the screen has been painted."""
        self._app.call_after_refresh(callback)

    def set_timer(self, seconds: float, callback: Callable[[], object]) -> Timer:
        """Call ``callback`` once, ``seconds`` from now."""
        return self._app.set_timer(seconds, callback)
