"""Copying a secret value to the clipboard and taking it back out after a while.

The app copies through Textual's ``copy_to_clipboard``: an OSC 52 escape sequence, which the
terminal (also over SSH and inside tmux) turns into a clipboard write.  OSC 52 cannot read the
clipboard, so "clearing" means writing an empty string, and only if the app's last copy is
still the value: a reference copied since is left alone.  Quitting clears too, when the timer
has not run yet: a value must not outlive the app on the clipboard by up to 30 s.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
        self._timer = self.app.set_timer(self.seconds, self._expire)

    def clear(self) -> bool:
        """Replace the copied value with nothing now (on quitting, say), if the clipboard
        still holds it; whether it did."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        still_there = bool(self._digest) and _digest(self.app.clipboard) == self._digest
        if still_there:
            self.app.copy_to_clipboard("")
        self._digest = ""
        return still_there

    def _expire(self) -> None:
        self._timer = None  # this timer has fired: nothing to stop
        if self.clear():
            self._on_cleared()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
