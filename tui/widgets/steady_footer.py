"""The main screen's footer: Textual's, rebuilt only when the keys it shows change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer

if TYPE_CHECKING:
    from textual import events

#: Narrower than this, the keys are drawn compact (one space apart): at 80 columns the main
#: screen's keys, Move among them, then still fit on the line.
COMPACT_BELOW = 90


class SteadyFooter(Footer):
    """Textual's :class:`Footer`, minus the rebuilds that would show the same keys.

    Textual recomposes the footer (a widget per key, each styled anew) whenever the screen's
    bindings are refreshed: on every focus change and every ``refresh_bindings``.  At start-up
    that is three times over for the same keys, ~15 ms each, before the first tree is painted.
    """

    #: What the footer last composed (``None``: nothing yet).
    _shown: tuple[object, ...] | None = None

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_BELOW

    def _showing(self) -> tuple[object, ...]:
        """Everything :meth:`Footer.compose` reads, as it would read it now."""
        keys = tuple(
            (
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                binding.group,
                enabled,
                tooltip,
                binding.tooltip,
            )
            for (_node, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show or binding.action == self.app.COMMAND_PALETTE_BINDING
        )
        return (keys, self.show_command_palette, self.compact, self.combine_groups)

    async def recompose(self) -> None:
        # A refresh of the bindings schedules a rebuild after the next frame, and start-up
        # refreshes them three times in a row: the first rebuild shows what all three would.
        showing = self._showing() if self._bindings_ready and self.is_attached else None
        if showing is not None and showing == self._shown:
            return
        self._shown = showing
        await super().recompose()
