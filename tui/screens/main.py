"""The main screen: pattern bar, realm tree on the left, detail pane on the right."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen

from docker_pass.tui.text import HEADER_ICON
from docker_pass.tui.widgets.detail_pane import DetailPane
from docker_pass.tui.widgets.fit_header import FitHeader
from docker_pass.tui.widgets.pattern_bar import PatternBar
from docker_pass.tui.widgets.realm_tree import RealmTree
from docker_pass.tui.widgets.status_line import StatusLine
from docker_pass.tui.widgets.steady_footer import SteadyFooter

if TYPE_CHECKING:
    from textual.app import ComposeResult


REVEAL_TOOLTIP = "Reveal the value (hidden again later)"


class MainScreen(Screen[None]):
    """Browse secrets; the secret actions run on the app, which holds the data and workers."""

    # "app." actions: the app owns the selection, the workers and the timers.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "focus_pattern",
            "Filter",
            tooltip="Filter the tree by a pattern",
            id="main.pattern",
        ),
        Binding(
            "r",
            "app.secret('reveal')",
            "Reveal",
            tooltip=REVEAL_TOOLTIP,
            id="main.reveal",
        ),
        Binding(
            "c",
            "app.secret('copy_value')",
            "Copy",
            tooltip="Copy the value (cleared later)",
            id="main.copy",
        ),
        Binding(
            "y",
            "app.secret('copy_reference')",
            "Copy ref",
            show=False,
            tooltip="Copy the se:// reference",
            id="main.copy_reference",
        ),
        Binding("n", "app.secret('new_secret')", "New", tooltip="New secret", id="main.new"),
        Binding(
            "e",
            "app.secret('edit_secret')",
            "Edit",
            tooltip="Edit value and metadata",
            id="main.edit",
        ),
        Binding(
            "d",
            "app.secret('delete_secret')",
            "Delete",
            tooltip="Delete (asks first)",
            id="main.delete",
        ),
        Binding(
            "m",
            "app.secret('move')",
            "Move",
            tooltip="Move or rename (a realm: all under it)",
            id="main.move",
        ),
        # Before undelete, on the same key: it steps aside (check_action) on a deleted
        # secret, and when the UI does not look at Docker.  Not in the footer: at 80 columns
        # it would push Plugins off, and the pane's "Used by" lines name the key.
        Binding(
            "U",
            "app.used_by",
            "Used by",
            show=False,
            tooltip="List what uses the secret (containers…)",
            id="main.used_by",
        ),
        Binding(
            "U",
            "app.secret('undelete')",
            "Undelete",
            show=False,
            tooltip="Undelete a deleted secret",
            id="main.undelete",
        ),
        Binding(
            "X",
            "app.secret('purge')",
            "Purge",
            show=False,
            tooltip="Purge all versions (asks first)",
            id="main.purge",
        ),
        Binding(
            "u",
            "app.undo",
            "Undo",
            show=False,
            tooltip="Undo last delete or change",
            id="main.undo",
        ),
        Binding(
            "s",
            "app.sort",
            "Sort",
            show=False,
            tooltip="Order by name, provider, last update",
            id="main.sort",
        ),
        Binding(
            "escape",
            "clear_pattern",
            "Clear",
            show=False,
            tooltip="Clear the pattern",
            id="main.clear_pattern",
        ),
        Binding(
            "ctrl+r",
            "app.reload",
            "Reload",
            show=False,
            tooltip="Ask every plugin again",
            id="main.reload",
        ),
    ]

    def compose(self) -> ComposeResult:
        yield FitHeader(icon=HEADER_ICON)
        yield PatternBar(id="pattern-bar")
        with Horizontal(id="main-body"):
            yield RealmTree(id="realm-tree")
            yield DetailPane(id="detail-pane")
        yield StatusLine(id="status-line")
        # The palette's key is on the help screen; the footer keeps room for the verbs.
        yield SteadyFooter(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(RealmTree).focus()

    def reveal_label(self, shown: bool) -> None:
        """The reveal key's label in the footer: "Hide" while a value is shown (the key
        hides it then), else "Reveal"."""
        label, tooltip = ("Hide", "Hide the value") if shown else ("Reveal", REVEAL_TOOLTIP)
        # Textual has no per-binding label to set: the binding (whatever key the keymap gave
        # it) is replaced by a copy with the other label.
        # A new list per key: the screen's map is a shallow copy, whose lists are shared with
        # the class's (and so with every other instance).
        keys = self._bindings.key_to_bindings
        for key, bindings in list(keys.items()):
            if any(b.id == "main.reveal" and b.description != label for b in bindings):
                keys[key] = [
                    replace(b, description=label, tooltip=tooltip) if b.id == "main.reveal" else b
                    for b in bindings
                ]
        self.refresh_bindings()

    def action_focus_pattern(self) -> None:
        """Put the cursor in the pattern field."""
        self.query_one(PatternBar).focus_field()

    def action_clear_pattern(self) -> None:
        """Clear the pattern (Escape on the tree)."""
        bar = self.query_one(PatternBar)
        if bar.text:
            bar.set_text("")

    def on_realm_tree_secret_opened(self, _event: RealmTree.SecretOpened) -> None:
        # Enter on a secret: its detail takes the keys (e edits, escape comes back).
        self.query_one(DetailPane).focus()

    def on_detail_pane_left(self, _event: DetailPane.Left) -> None:
        self.query_one(RealmTree).focus()

    def on_pattern_bar_stepped(self, event: PatternBar.Stepped) -> None:
        # Down/Up in the field: the tree's cursor moves through the results, the keys stay.
        self.query_one(RealmTree).step_result(event.delta)

    def on_pattern_bar_finished(self, event: PatternBar.Finished) -> None:
        # Enter keeps the filter, Escape cleared it; either way the keys go back to the tree,
        # at once (keys typed meanwhile are for the tree, not the field).
        self.set_focus(self.query_one(RealmTree))
