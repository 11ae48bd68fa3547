"""A dialog's own footer: the keys of the dialog, not the screen behind it.

A dialog (a modal screen) lets the main screen show through around it, footer included, whose
keys do not work in the dialog.  This footer, docked over it, lists the bindings of the dialog
and its focused widgets only: the app's (quit, help) are left out, as the dialog's buttons and
its own keys are what a person needs there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import App
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from docker_pass.tui.widgets.steady_footer import COMPACT_BELOW

if TYPE_CHECKING:
    from textual import events
    from textual.app import ComposeResult


class DialogFooter(Footer):
    """The dialog's keys (each once, in the order bound), compact when narrow."""

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_BELOW

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        seen: set[str] = set()
        keys = []
        for node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if not binding.show or isinstance(node, App) or binding.action in seen:
                continue
            seen.add(binding.action)
            keys.append((binding, enabled, tooltip))
        self.styles.grid_size_columns = max(len(keys), 1)
        for binding, enabled, tooltip in keys:
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
