"""The UI's place between runs: kept on quit, brought back once the listing is there.

:mod:`docker_pass.tui.model.ui_state` reads and writes the file; this controller decides what
to take from the screen on quit and how to put it back on start:

* the file is read in a thread worker as the app starts; nothing waits for it;
* it is applied once every plugin has answered for the first time (the first tree is never
  slowed by it, and the cursor can land on a secret a slow plugin lists);
* what no longer exists is dropped: a realm that is gone is not reopened, a cursor whose secret
  was deleted lands on its nearest realm that still exists;
* what the person did before it arrived wins: a filter typed meanwhile, an order chosen, is
  kept (the remembered one is not forced over it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.core.envelope import SecretInfo
from docker_pass.tui.messages import PlaceRead
from docker_pass.tui.model.realms import SortOrder
from docker_pass.tui.model.ui_state import Cursor, UiState, load_ui_state, save_ui_state
from docker_pass.tui.widgets.tree_content import RealmNode
from docker_pass.tui.workers import WorkerGroup

if TYPE_CHECKING:
    from docker_pass.tui.controllers.listing import ListingController
    from docker_pass.tui.controllers.pattern import PatternController
    from docker_pass.tui.controllers.ports import Runner, StatusSink
    from docker_pass.tui.views.main import MainView, MainWidgets


class PlaceController:
    """Remembers the main screen's place (``remember``), and restores it unless ``fresh``."""

    def __init__(
        self,
        runner: Runner,
        status: StatusSink,
        listing: ListingController,
        pattern: PatternController,
        view: MainView,
        *,
        remember: bool = True,
        fresh: bool = False,
    ) -> None:
        self._runner = runner
        self._status = status
        self._listing = listing
        self._pattern = pattern
        self._view = view
        self.remember = remember
        self.fresh = fresh
        #: The place read from the file (``None``: nothing remembered, or not read yet).
        self.remembered: UiState | None = None
        self._read = False
        self._listed = False
        #: Whether the remembered place was applied (or there was none to apply).
        self.applied = False

    # -- start ------------------------------------------------------------------------------

    def read(self) -> None:
        """Read the remembered place in a worker (nothing to read when fresh or forgetful)."""
        if not self.remember or self.fresh:
            self._read = True
            return
        self._runner.run_in_thread(WorkerGroup.UI_STATE, self._read_file)

    def arrived(self, message: PlaceRead) -> None:
        """The file was read: apply it now if the listing is there, else once it is."""
        self._read = True
        self.remembered = message.state
        if message.note:
            self._status.set_status(message.note)  # quiet: the UI works without it
        self._apply_when_ready()

    def listing_ready(self) -> None:
        """Every plugin has answered for the first time."""
        self._listed = True
        self._apply_when_ready()

    # -- quit -------------------------------------------------------------------------------

    def snapshot(self) -> UiState | None:
        """The main screen's place now (``None`` when there is no main screen)."""
        main = self._view.widgets()
        if main is None:
            return None
        if not self.applied and not self._read:
            return None  # quit before the file was even read: leave it as it is
        if not self.applied and self.remembered is not None:
            return self.remembered  # quit before it was restored: keep it as it was
        focus = "filter" if main.bar.has_focus_within else "tree"
        return UiState(
            filter=main.bar.text,
            mode=str(self._pattern.preview.mode) if main.bar.text else "",
            open_realms=tuple(sorted(main.tree.opened_realms())),
            sort=str(self._view.sort_order),
            cursor=_cursor_of(main),
            focus=focus,
        )

    def save(self) -> None:
        """Keep the place (on quit); a file that cannot be written is said, not fatal."""
        if not self.remember:
            return
        state = self.snapshot()
        if state is None:
            return
        note = save_ui_state(state)
        if note:
            self._status.set_status(note, "warning")

    # -- internals --------------------------------------------------------------------------

    def _read_file(self) -> None:
        """In a worker: read the file; its place (or why it was ignored) goes to the app."""
        state, note = load_ui_state()
        self._runner.post_message(PlaceRead(state, note))

    def _apply_when_ready(self) -> None:
        if self.applied or not (self._read and self._listed):
            return
        self.applied = True
        state = self.remembered
        main = self._view.widgets()
        if state is None or main is None:
            return
        index = self._listing.index
        realms = {p for p in state.open_realms if index.count(p)}
        main.tree.remember_opened(realms)
        order = _order(state.sort)
        reorder = order not in (None, SortOrder.NAME) and self._view.sort_order is SortOrder.NAME
        if reorder and order is not None:
            self._view.sort_order = order
            main.bar.order = order
        if state.filter and not main.bar.text:
            # The tree is rebuilt with the filter's matches: the cursor goes there after.
            self._view.after_preview(lambda: self._place_cursor(state))
            main.bar.set_text(state.filter)
            return
        if reorder:
            self._view.show_tree(self._pattern.preview)  # the realms reopened stay open
        self._place_cursor(state)

    def _place_cursor(self, state: UiState) -> None:
        """The cursor where it was, else on its nearest realm that still exists; unless the
        person went to the filter field meanwhile (``/`` before the listing arrived): the keys
        stay where they put them."""
        main = self._view.widgets()
        if main is None or main.bar.has_focus_within:
            return
        tree = main.tree
        cursor = state.cursor
        if cursor is not None:
            found = (
                # Its plugin's copy, else the same ID from another plugin (moved meanwhile).
                tree.show_secret(cursor.id, cursor.provider) or tree.show_secret(cursor.id)
                if cursor.kind == "secret"
                else tree.show_realm(cursor.id)
            )
            if not found:
                next((p for p in cursor.ancestors() if tree.show_realm(p)), None)
        if state.focus == "filter":
            main.bar.focus_field()
        else:
            tree.focus()


def _cursor_of(main: MainWidgets) -> Cursor | None:
    data = main.tree.highlighted
    if isinstance(data, SecretInfo) and not data.deleted:
        return Cursor("secret", data.id.value, data.provider)
    if isinstance(data, RealmNode):
        return Cursor("realm", data.path)
    return None


def _order(value: str) -> SortOrder | None:
    try:
        return SortOrder(value)
    except ValueError:
        return None
