"""The secrets' desk: the controllers and views that work on secrets (reading values, saving
and undoing, moving, the editor and the other dialogs, and what their results show), built
together from what the app holds, so that the app only routes messages to them."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from docker_pass.tui.clipboard import ClipboardGuard
from docker_pass.tui.controllers.moves import MovesController
from docker_pass.tui.controllers.secrets import SecretsController
from docker_pass.tui.controllers.undo import UndoController
from docker_pass.tui.controllers.values import ValueController
from docker_pass.tui.model.versions import VersionsSeen
from docker_pass.tui.views.changes import ChangeResults
from docker_pass.tui.views.dialogs import EditorSources, SecretDialogs

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App

    from docker_pass.tui.controllers.listing import ListingController
    from docker_pass.tui.controllers.plugins import PluginsController
    from docker_pass.tui.controllers.ports import Runner, StatusSink
    from docker_pass.tui.model.gateway import SecretsGateway
    from docker_pass.tui.views.main import MainView


class SecretDesk:
    """Everything that works on secrets, wired to each other (see the module)."""

    def __init__(
        self,
        app: App[None],
        gateway: SecretsGateway,
        runner: Runner,
        status: StatusSink,
        *,
        listing: ListingController,
        plugins: PluginsController,
        view: MainView,
        reveal_seconds: float,
        clipboard_seconds: float,
        changed: Callable[[], None],
    ) -> None:
        """``changed()`` is called when this desk changed the listing (a save, a move…)."""
        #: Which plugins keep versions, as seen so far (what a new secret's save expects).
        self.versions = VersionsSeen()
        sources = EditorSources(listing.index_find, listing.holders, self.versions.versioned)
        self.dialogs = SecretDialogs(app, status, sources)
        self.values = ValueController(
            gateway,
            runner,
            status,
            clipboard=partial(ClipboardGuard, app, clipboard_seconds),
            display=view.show_revealed,
            reveal_seconds=reveal_seconds,
        )

        def running() -> frozenset[str]:  # the plugins listed now, where duplicates are looked for
            return listing.asked

        self.undo = UndoController(gateway, runner, status, running)
        self.moves = MovesController(gateway, runner, status, running)
        self.secrets = SecretsController(
            status,
            listing,
            plugins,
            self.values,
            self.undo,
            self.dialogs,
            self.versions,
            self.moves,
        )
        self.changes = ChangeResults(
            listing,
            view,
            self.dialogs,
            status,
            moves=self.moves,
            undo=self.undo,
            values=self.values,
            versions=self.versions,
            changed=changed,
        )
