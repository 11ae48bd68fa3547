"""Copying a secret value to the clipboard and taking it back out after a while.

The app copies through Textual's ``copy_to_clipboard``: an OSC 52 escape sequence, which the
terminal (also over SSH and inside tmux) turns into a clipboard write.  OSC 52 cannot read the
clipboard, so "clearing" means writing an empty string, and only if the app's last copy is
still the value: a reference copied since is left alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from textual.app import App
from textual.timer import Timer


class ClipboardGuard:
    """Copies values for ``app`` and clears them ``seconds`` later."""

    def __init__(self, app: App[None], seconds: float, on_cleared: Callable[[], None]) -> None:
        self.app = app
        self.seconds = seconds
        self._on_cleared = on_cleared
        self._timer: Timer | None = None
        # A digest, not a second copy of the value, to tell later whether it is still there.
        self._digest = ""

    def copy_value(self, text: str) -> None:
        """Copy a secret value; it is cleared after ``seconds``."""
        self.app.copy_to_clipboard(text)
        self._digest = _digest(text)
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.app.set_timer(self.seconds, self.clear)

    def clear(self) -> None:
        """Replace the copied value with nothing, if the clipboard still holds it."""
        self._timer = None
        if self._digest and _digest(self.app.clipboard) == self._digest:
            self.app.copy_to_clipboard("")
            self._on_cleared()
        self._digest = ""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
