"""The realm tree's line labels: realm names with counts, secrets with their marks (expiry,
ambiguity) and plugin, the deleted secrets' lines, and notices.

Plain functions of the tree's content, styled by the tree's component classes: the tree
(:mod:`.realm_tree`) asks for a label as it adds a line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from docker_pass.core.expiry import ExpiryState, expiry_of
from docker_pass.tui.fit import COUNT, DETAIL, STATE, Part, fit_parts
from docker_pass.tui.model.ambiguity import AMBIGUOUS_MARK

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    from rich.style import Style

    from docker_pass.core.envelope import SecretInfo
    from docker_pass.tui.model.realms import Notice
    from docker_pass.tui.widgets.tree_content import TreeContent


class TreeLabels:
    """Labels for the lines of a tree showing ``content``; ``style(name)`` is the style of
    component class ``realm-tree--<name>``, ``now`` the day expiry marks count from."""

    def __init__(
        self, style: Callable[[str], Style], content: TreeContent | None, now: date | None
    ) -> None:
        self._style = style
        self.content = content
        self._now = now

    def name(self, name: str) -> Text:
        """A name, with what the filter matched in it marked."""
        content = self.content
        if content is None:
            return Text(name)
        if name in content.literals:
            return Text(name, style=self._style("match"))
        text = Text(name)
        spans = content.highlight.spans(name)
        if spans:
            style = self._style("match")
            for start, end in spans:
                text.stylize(style, start, end)
        return text

    def realm(self, path: str, count: int, width: int | None = None) -> Text:
        """A realm: its name, "/" and its count; in ``width`` cells, the name is shortened
        (the count stays)."""
        name = path.rpartition("/")[2]
        count_text = Text.assemble(
            ("/", self._style("count")), (f" {count:,}", self._style("count"))
        )
        if width is None:
            return Text.assemble(self.name(name), count_text)
        parts = [Part(self.name(name), COUNT, shrink=True, gap=""), Part(count_text, STATE, gap="")]
        return fit_parts(parts, width)

    def leaf(self, info: SecretInfo, width: int | None = None) -> Text:
        """A secret: its name, its marks (expiry, ambiguity) and its plugin; in ``width``
        cells, the plugin goes first, then the name is shortened: the marks stay."""
        parts = self.leaf_parts(info)
        if width is not None:
            return fit_parts(parts, width)
        return Text.assemble(*(Text(part.gap) + part.text for part in parts))

    def leaf_parts(self, info: SecretInfo) -> list[Part]:
        """A secret's label by worth: the marks (state), the name, the plugin (detail)."""
        name = info.id.value.rpartition("/")[2]
        parts = [Part(self.name(name), COUNT, shrink=True, gap="")]
        # Right after the name: a narrow tree gives up the provider first, not the mark.
        expiry = expiry_of(info.metadata, self._now)
        if expiry is not None and expiry.needs_attention:
            late = expiry.state == ExpiryState.EXPIRED
            mark = Text(expiry.mark(), self._style("expired" if late else "expiring"))
            parts.append(Part(mark, STATE, gap="  "))
        content = self.content
        if content is not None and content.ambiguous(info.id.value):
            # Two plugins list this ID: se://ID fails (the detail pane says what to do).
            parts.append(Part(Text(AMBIGUOUS_MARK, self._style("ambiguous")), STATE, gap="  "))
        provider = Text(info.provider, self._style("provider"))
        parts.append(Part(provider, DETAIL, gap="  "))
        return parts

    def deleted_group(self, count: int) -> Text:
        """The line above the deleted secrets."""
        return Text.assemble(
            ("deleted", self._style("deleted")),
            (f" {count:,} · not live", self._style("count")),
        )

    def deleted_leaf(self, info: SecretInfo) -> Text:
        """A deleted secret: greyed, the whole ID (the line above is flat), its plugin."""
        return Text.assemble(
            (info.id.value, self._style("deleted")),
            (f"  {info.provider}", self._style("provider")),
        )

    def notice(self, notice: Notice) -> Text:
        """A notice: short (the detail pane shows the whole message)."""
        if notice.kind == "loading":
            return Text(f"… {notice.plugin}: {notice.message}", style=self._style("notice"))
        if notice.kind == "error":
            return Text(f"✖ {notice.plugin}: {notice.title}", style=self._style("error"))
        return Text(notice.message, style=self._style("notice"))
