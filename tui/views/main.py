"""The app's hands on the main screen: it puts the listing, the preview and the selection
into the realm tree, the detail pane and the pattern bar.

Widgets get data as attributes (``tree.content``, ``detail.subject``, ``bar.preview``); this
is where the app sets them.  Results may still arrive while the app closes, when there is no
main screen any more: then nothing is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.css.query import NoMatches

from docker_pass.core.envelope import SecretInfo
from docker_pass.core.remote.front import front_kind
from docker_pass.tui.fit import COUNT, DETAIL, STATE, Part
from docker_pass.tui.model.ambiguity import Ambiguity
from docker_pass.tui.model.realms import Notice, SortOrder
from docker_pass.tui.screens.main import MainScreen
from docker_pass.tui.text import plural
from docker_pass.tui.widgets.detail_pane import DetailPane
from docker_pass.tui.widgets.pattern_bar import PatternBar
from docker_pass.tui.widgets.realm_tree import RealmTree
from docker_pass.tui.widgets.tree_content import TreeContent

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import App

    from docker_pass.core.remote.front import EngineFront
    from docker_pass.tui.controllers.listing import ListingController
    from docker_pass.tui.controllers.plugins import PluginsController
    from docker_pass.tui.controllers.ports import StatusSink
    from docker_pass.tui.model.preview import Preview
    from docker_pass.tui.model.usage import UsageSummary
    from docker_pass.tui.widgets.detail_pane import Subject


@dataclass(frozen=True, slots=True)
class MainWidgets:
    """The main screen's widgets the app sets data on."""

    tree: RealmTree
    detail: DetailPane
    bar: PatternBar


class MainView:
    """The main screen of ``app``: the tree's order (``sort_order``, ``s`` cycles it), and
    showing the controllers' data."""

    def __init__(
        self,
        app: App[None],
        listing: ListingController,
        plugins: PluginsController,
        status: StatusSink,
    ) -> None:
        self._app = app
        self._listing = listing
        self._plugins = plugins
        self._status = status
        self.sort_order = SortOrder.NAME
        self._after_preview: list[Callable[[], None]] = []

    def widgets(self) -> MainWidgets | None:
        """The main screen's widgets; ``None`` once the app is closing (results still arrive)."""
        for screen in self._app.screen_stack:
            if isinstance(screen, MainScreen):
                try:
                    return MainWidgets(
                        screen.query_one(RealmTree),
                        screen.query_one(DetailPane),
                        screen.query_one(PatternBar),
                    )
                except NoMatches:
                    return None
        return None

    def to_front(self) -> None:
        """Close the screens above the main screen."""
        app = self._app
        while not isinstance(app.screen, MainScreen) and len(app.screen_stack) > 1:
            app.pop_screen()

    def run_on_main(self, action: Callable[[], None]) -> None:
        """Run a secret action from anywhere (the palette): on the main screen."""
        self.to_front()
        action()

    def focus_pattern(self) -> None:
        """Bring the main screen to the front with the cursor in the pattern field."""
        self.to_front()
        main = self.widgets()
        if main is not None:
            main.bar.focus_field()

    def jump_to_realm(self, path: str) -> None:
        """Bring the main screen to the front with the cursor on realm ``path`` (clearing the
        pattern if it hides it)."""
        self.to_front()
        main = self.widgets()
        if main is None:
            return
        if main.tree.show_realm(path):
            main.tree.focus()
            return
        self.after_preview(lambda: self.show_realm(path))
        main.bar.set_text("")

    def jump_to_secret(self, id_: str, provider: str = "") -> None:
        """Bring the main screen to the front with the cursor on a secret (clearing the
        pattern if it hides it)."""
        self.to_front()
        main = self.widgets()
        if main is None:
            return
        if main.tree.show_secret(id_, provider):
            main.tree.focus()
            return
        if not main.bar.text:
            self._status.set_status(f"{id_} is no longer listed.", "warning")
            return
        self.after_preview(lambda: self.show_secret(id_, provider))
        main.bar.set_text("")

    # -- showing data -----------------------------------------------------------------------

    def show_tree(self, preview: Preview) -> None:
        """Rebuild the tree: the listing (or ``preview``'s match of it) and the notices."""
        main = self.widgets()
        if main is None:
            return
        index = preview.index if preview.index is not None else self._listing.index
        main.tree.content = TreeContent(
            index,
            literals=preview.literals,
            notices=self.notices(),
            filtered=preview.filtered,
            highlight=preview.highlight,
            order=self.sort_order,
            listing=self._listing.index,
            # Deleted secrets are no live ones: apart, and not while a filter narrows.
            deleted=() if preview.filtered else self._listing.deleted_entries,
        )
        if not self._listing.loaded:
            main.bar.preview = None

    def show_preview(self, preview: Preview) -> None:
        """Show ``preview`` in the bar and the tree, then do what waited for it."""
        main = self.widgets()
        if main is None:
            return
        main.bar.preview = preview
        self.show_tree(preview)
        callbacks, self._after_preview = self._after_preview, []
        for callback in callbacks:
            callback()

    def open_result(self, *, chosen: bool = False) -> None:
        """Enter in the filter field: open the secret chosen with Down/Up (``chosen``), or the
        one secret left, as Enter on its row does (its detail takes the keys); otherwise the
        tree has the keys (the screen did that)."""
        main = self.widgets()
        if main is None:
            return
        if chosen and isinstance(main.tree.highlighted, SecretInfo):
            main.tree.action_open()
            return
        content = main.tree.content
        if content is None or not content.filtered or len(content.index) != 1:
            return
        only = content.index.entries[0]
        if main.tree.show_secret(only.id.value, only.provider):
            main.tree.action_open()

    def after_preview(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the next preview is shown (the tree is rebuilt then)."""
        self._after_preview.append(callback)

    def show_revealed(self, text: str | None) -> bool:
        """Show a value in the detail pane (``None``: mask it again)."""
        main = self.widgets()
        if main is None:
            return False
        main.detail.revealed = text
        for screen in self._app.screen_stack:
            if isinstance(screen, MainScreen):
                screen.reveal_label(text is not None)
        return True

    def notices(self) -> tuple[Notice, ...]:
        """The tree's first rows: plugins starting, listing, down, or failing to list."""
        notices: list[Notice] = []
        if not self._plugins.loaded:
            notices.append(Notice("loading", "plugins", "starting…"))
        for status in self._plugins.statuses:
            if status.is_down:
                message = f"{status.status}: {status.message}"
                notices.append(Notice("error", status.name, message, status.status))
            elif status.enabled and self._listing.awaiting(status.name):
                notices.append(Notice("loading", status.name, "listing…"))
        down = set(self._plugins.down())
        for name, error in self._listing.errors.items():
            if name in down:
                continue  # its crash row says why already
            notices.append(Notice("error", name, error, "listing failed"))
        return tuple(notices)

    def header_parts(self, base: str, front: EngineFront | None) -> list[Part]:
        """The header's line as the header shows it: the state first (the engine's kind, the
        plugins down), then the counts, then ``base`` (the store's name), fitted by worth."""
        parts: list[Part] = []
        if front is not None:
            parts.append(Part(front_kind(front), STATE))
        down = self._plugins.down() if self._plugins.statuses else []
        if down:
            # Something is wrong: what stays longest, the header's title included.
            parts.append(Part(plural(len(down), "plugin") + " down", STATE + 1))
        listing = self._listing
        if listing.loaded or listing.answered:
            so_far = "" if listing.loaded else " so far"
            parts.append(Part(plural(len(listing.index), "secret") + so_far, COUNT))
        if self._plugins.statuses:
            parts.append(Part(plural(len(self._plugins.statuses), "plugin"), COUNT))
        if base:
            parts.append(Part(base, DETAIL, shrink=True))
        return parts

    def subtitle(self, base: str, front: EngineFront | None) -> str:
        """The header's line: ``base``, the engine's kind, and the counts."""
        parts = [base] if base else []
        if front is not None:
            stale = " (may be stale)" if self._listing.stale else ""
            parts.append(front_kind(front) + stale)
        listing = self._listing
        if listing.loaded or listing.answered:
            # While a slow plugin is still listing, the count is of what has arrived.
            so_far = "" if listing.loaded else " so far"
            parts.append(plural(len(listing.index), "secret") + so_far)
        statuses = self._plugins.statuses
        if statuses:
            down = self._plugins.down()
            parts.append(plural(len(statuses), "plugin") + (f", {len(down)} down" if down else ""))
        return " · ".join(parts)

    # -- the cursor -------------------------------------------------------------------------

    def select(self, subject: Subject) -> None:
        """The cursor is on ``subject``: the detail pane shows it."""
        main = self.widgets()
        if main is None:
            return
        detail = main.detail
        if isinstance(subject, SecretInfo):
            status = self._plugins.find(subject.provider)
            detail.read_only = status is not None and not status.writable
            detail.ambiguity = self.ambiguity(subject.id.value)
        detail.subject = subject

    def show_usage(self, summary: UsageSummary | None) -> None:
        """Who uses the secret under the cursor (``None``: no "Used by" section)."""
        main = self.widgets()
        if main is not None:
            main.detail.show_usage(summary)

    def ambiguity(self, id_: str) -> Ambiguity | None:
        """How ``id_`` is ambiguous (more than one plugin lists it), if it is."""
        patterns = {s.name: s.pattern for s in self._plugins.statuses if s.configurable}
        return Ambiguity.of(id_, self._listing.holders(id_), patterns)

    def next_order(self, preview: Preview) -> None:
        """Order the tree by the next key: name, provider, last update."""
        self.sort_order = self.sort_order.next()
        main = self.widgets()
        if main is not None:
            main.bar.order = self.sort_order
        self.show_tree(preview)
        self._status.set_status(f"Sorted {self.sort_order.label} (s: next order).")

    def show_changed(self, info: SecretInfo) -> None:
        """Once the next preview is shown, put the cursor on a secret just saved (or say the
        pattern hides it)."""

        def show() -> None:
            main = self.widgets()
            if main is not None and not main.tree.show_secret(info.id.value, info.provider):
                text = f"Saved {info.id.value}; the current pattern hides it."
                self._status.set_status(text, "success")

        self.after_preview(show)

    def show_secret(self, id_: str, provider: str) -> None:
        """Put the cursor on a secret, and the keys on the tree (or say it is gone)."""
        main = self.widgets()
        if main is None:
            return
        if main.tree.show_secret(id_, provider):
            main.tree.focus()
        else:
            self._status.set_status(f"{id_} is no longer listed.", "warning")

    def show_realm(self, path: str) -> None:
        """Put the cursor on a realm, and the keys on the tree (or say there is none)."""
        main = self.widgets()
        if main is None:
            return
        if main.tree.show_realm(path):
            main.tree.focus()
        else:
            self._status.set_status(f"No realm {path}.", "warning")
