"""The header, fitted: at 80 columns it keeps the state (the daemon or the embedded engine,
plugins down), then the counts, and gives up detail (the store's name) with ``…``.

Textual's header centres ``title — sub_title`` and cuts the end, which hid "1 down" behind
"4 p…".  This one shows the app's ``header_parts`` (set with every ``sub_title``) fitted to
the title's width; an app or screen without them gets Textual's line, fitted the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.css.query import NoMatches
from textual.widgets import Header, Static

from docker_pass.tui.fit import COUNT, STATE, Part, fit_parts

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual import events

#: Header's icon and clock space beside the title (its DEFAULT_CSS widths), used until the
#: title has been laid out.
_BESIDE_TITLE = 8 + 10


class FitHeader(Header):
    """A one-line header whose sub-title is fitted by worth (:func:`~.fit.fit_parts`)."""

    def format_title(self) -> Content:
        title, sub_title = self.screen_title, self.screen_sub_title
        parts: Sequence[Part] | None = getattr(self.app, "header_parts", None)
        if self.screen.sub_title is not None or not parts:
            parts = [Part(sub_title, STATE, shrink=True)] if sub_title else []
        # The title is known to the person; what the sub-title says of the state is not.
        line = [Part(title, COUNT, shrink=True, gap=""), *parts]
        if parts:
            line[1] = line[1]._replace(gap=" — ")
        fitted = fit_parts(line, self._room())
        # Textual's look: the title plain, the rest dim.
        plain = fitted.plain
        cut = len(title) if plain.startswith(title) else len(plain)
        return Content.assemble(plain[:cut], (plain[cut:], "dim"))

    def _room(self) -> int:
        try:
            width = self.query_one("HeaderTitle").size.width
        except NoMatches:  # not composed yet: the header's own width will do
            width = 0
        return width if width > 0 else max(self.size.width - _BESIDE_TITLE, 20)

    def on_resize(self, _event: events.Resize) -> None:
        # The title's width is known once this resize is laid out.
        self.call_after_refresh(self.retitle)

    def retitle(self) -> None:
        """Fit the line again (its room or its parts changed)."""
        try:
            title = self.query_one("HeaderTitle", Static)
        except NoMatches:  # closing: no title to update
            return
        title.update(self.format_title())
