"""Copying to the clipboard, taking a secret value back out after a while, and saying honestly
what happened.

The app copies through Textual's ``copy_to_clipboard``: an OSC 52 escape sequence written to
the terminal, which the terminal (also over SSH) may turn into a clipboard write.  Whether it
did, the app cannot know: OSC 52 has no answer.  So the status line says the text was *sent*,
not that it is on the clipboard.  One case can be known: inside tmux with ``set-clipboard off``,
tmux swallows OSC 52 from the apps in its panes, so nothing is sent and the status line says
how to allow it.  Asking tmux runs a subprocess, so it happens in a thread worker, on the first
copy (and again on each copy while the answer is "off", so that fixing it takes effect at once).

OSC 52 cannot read the clipboard either, so "clearing" means writing a blank over the value,
and only if the app's last copy is still the value: a reference copied since (or text copied
from an input) is left alone.  An empty write is not used: several terminals ignore it, which
would leave the value in place.  Quitting clears too, when the timer has not run yet: a value
must not outlive the app on the clipboard by up to 30 s.
"""

from __future__ import annotations

import enum
import hashlib
import os
import shutil
import subprocess
from typing import TYPE_CHECKING

from docker_pass.tui.workers import WorkerGroup

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from textual.app import App
    from textual.timer import Timer

#: Written over a copied value to clear it: a blank, harmless wherever it is pasted.
PLACEHOLDER = " "
#: What a person runs so that tmux passes OSC 52 on.
TMUX_FIX = "tmux set -g set-clipboard on"
#: Asking tmux takes milliseconds; a tmux that does not answer in this time is not asked again.
TMUX_TIMEOUT = 2.0


class Route(enum.Enum):
    """Where an OSC 52 write goes."""

    #: To the terminal (directly, or through a tmux that passes it on); it may or may not obey.
    TERMINAL = "terminal"
    #: Inside tmux with ``set-clipboard off``: tmux drops it, so it is not sent at all.
    TMUX_DROPS = "tmux drops it"


def tmux_set_clipboard(env: Mapping[str, str] | None = None) -> str | None:
    """tmux's ``set-clipboard`` option when running inside tmux (``$TMUX`` set), else ``None``;
    ``None`` too when tmux cannot be asked (not on ``PATH``, no answer)."""
    env = os.environ if env is None else env
    if not env.get("TMUX"):
        return None
    tmux = shutil.which("tmux", path=env.get("PATH"))
    if tmux is None:
        return None
    try:
        done = subprocess.run(  # a fixed command: nothing of the user's in it
            [tmux, "show-options", "-gv", "set-clipboard"],
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=TMUX_TIMEOUT,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def detect_route() -> Route:
    """The route of this process's OSC 52 writes (``off`` in tmux drops them; ``external``
    and ``on`` pass them on)."""
    return Route.TMUX_DROPS if tmux_set_clipboard() == "off" else Route.TERMINAL


def describe_copy(route: Route, what: str, clear_seconds: float | None = None) -> tuple[str, str]:
    """The status line's text and level after copying ``what`` ("the value of X", "se://X");
    ``clear_seconds``: when a blank replaces it (secret values)."""
    if route is Route.TMUX_DROPS:
        # Short enough for an 80-column status line: the fix is the part that must show.
        return f"Not copied: tmux has set-clipboard off. Run: {TMUX_FIX}", "warning"
    text = f"Sent {what} to the terminal's clipboard (OSC 52)"
    if clear_seconds is not None:
        text += f"; a blank replaces it in {clear_seconds:g} s"
    return f"{text}.", "success"


class ClipboardGuard:
    """Copies for ``app``, and writes a blank over a copied value ``seconds`` later."""

    def __init__(
        self,
        app: App[None],
        seconds: float,
        on_cleared: Callable[[], None],
        detector: Callable[[], Route] = detect_route,
    ) -> None:
        """``detector`` finds the route; it blocks (it may run ``tmux``), so it is called
        from a thread worker."""
        self.app = app
        self.seconds = seconds
        self._on_cleared = on_cleared
        self.detector = detector
        self._route: Route | None = None
        self._pending: list[tuple[str, bool, Callable[[Route], None]]] = []
        self._timer: Timer | None = None
        # A digest, not a second copy of the value, to tell later whether it is still there.
        self._digest = ""

    def copy(self, text: str, report: Callable[[Route], None], *, secret: bool = False) -> None:
        """Send ``text`` to the clipboard, unless it would be dropped; then ``report(route)``.

        The first copy waits for the route (asked in a thread worker); a ``secret`` is
        replaced by a blank after ``seconds``.
        """
        if self._route is not None:
            self._send(text, secret, report, self._route)
            return
        self._pending.append((text, secret, report))
        if len(self._pending) == 1:
            self.app.run_worker(
                self._detect, thread=True, group=WorkerGroup.CLIPBOARD, exit_on_error=False
            )

    def clear(self) -> bool:
        """Write a blank over the copied value now (on quitting, say), if the app's last copy
        is still the value; whether that blank was sent."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        still_there = bool(self._digest) and _digest(self.app.clipboard) == self._digest
        if still_there:
            self.app.copy_to_clipboard(PLACEHOLDER)
        self._digest = ""
        return still_there

    # -- internals --------------------------------------------------------------------------

    def _detect(self) -> None:
        """In a thread: find the route, then send what waited for it (on the event loop)."""
        route = Route.TERMINAL  # if the detector fails, say only what is sure: it was sent
        try:
            route = self.detector()
        finally:
            self.app.call_from_thread(self._route_known, route)

    def _route_known(self, route: Route) -> None:
        # "off" is asked again next time: a person may fix it after reading the message.
        self._route = route if route is Route.TERMINAL else None
        pending, self._pending = self._pending, []
        for text, secret, report in pending:
            self._send(text, secret, report, route)

    def _send(self, text: str, secret: bool, report: Callable[[Route], None], route: Route) -> None:
        if route is Route.TERMINAL:
            self.app.copy_to_clipboard(text)
            if secret:
                self._digest = _digest(text)
                if self._timer is not None:
                    self._timer.stop()
                self._timer = self.app.set_timer(self.seconds, self._expire)
        report(route)

    def _expire(self) -> None:
        self._timer = None  # this timer has fired: nothing to stop
        if self.clear():
            self._on_cleared()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
