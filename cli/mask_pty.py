"""``run --mask`` on a terminal: the child runs on a pseudo-terminal of its own, so it sees a
terminal (colours, line editing, full-screen programs work) while its output passes through
the masker on the way to ours.

Our terminal is put in raw mode while the child runs (every key, ctrl+c included, goes to the
child's terminal, whose own settings are copied from ours) and restored on every way out; the
window size is passed on at the start and on each SIGWINCH.  When our stdin is not a terminal
the child reads it directly.  When our stderr is not a terminal (``2>log``), the child's stderr
is a pipe through its own masker to it.
"""

from __future__ import annotations

import os
import signal
from contextlib import suppress
from typing import TYPE_CHECKING

from docker_pass.cli.mask import StreamMasker, pump_streams

if TYPE_CHECKING:
    import subprocess

__all__ = ["PtyIO", "stdout_is_terminal"]


def stdout_is_terminal() -> bool:
    """Whether our stdout is a terminal (then the child gets a pseudo-terminal)."""
    try:
        return os.isatty(1)
    except OSError:
        return False


class PtyIO:
    """The child on a pseudo-terminal of its own (see the module docstring)."""

    own_session = True  # the child leads a session whose controlling terminal is the pty

    def __init__(self, patterns: list[bytes]) -> None:
        import pty

        self.patterns = patterns
        self.master, self.slave = pty.openpty()
        os.set_inheritable(self.slave, False)
        # Our keys go to the child only when we are in our terminal's foreground: a background
        # job that made the terminal raw would be stopped (SIGTTOU), and would steal keys.
        self.stdin_tty = _isatty(0) and _in_foreground(0)
        self.stderr_tty = _isatty(2)
        self.saved: list[object] | None = None
        self.previous_winch: object = None
        self._copy_terminal()

    def _copy_terminal(self) -> None:
        import termios

        if self.stdin_tty:
            with suppress(termios.error):
                termios.tcsetattr(self.slave, termios.TCSANOW, termios.tcgetattr(0))
        self._pass_window_size()

    def _pass_window_size(self, *_: object) -> None:
        import fcntl
        import termios

        with suppress(OSError):
            size = fcntl.ioctl(1, termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(self.slave, termios.TIOCSWINSZ, size)

    def popen_options(self) -> dict[str, object]:
        """The Popen arguments: the pty as stdout (and stdin, stderr where ours are ttys)."""
        import subprocess

        return {
            "stdin": self.slave if self.stdin_tty else None,
            "stdout": self.slave,
            "stderr": self.slave if self.stderr_tty else subprocess.PIPE,
        }

    def started(self) -> None:
        """Once the child runs: our copy of the pty's slave side is closed (so its end is
        seen), our terminal goes raw and window changes are followed."""
        os.close(self.slave)
        self.slave = -1
        self.previous_winch = signal.signal(signal.SIGWINCH, self._follow_window)
        if self.stdin_tty:
            import termios
            import tty

            with suppress(termios.error):
                self.saved = termios.tcgetattr(0)
                tty.setraw(0, termios.TCSANOW)

    def _follow_window(self, *_: object) -> None:
        import fcntl
        import termios

        with suppress(OSError):
            size = fcntl.ioctl(1, termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(self.master, termios.TIOCSWINSZ, size)

    def pump(self, child: subprocess.Popen[bytes]) -> None:
        """Copy the pty's output (and a stderr pipe), masked, to ours, and our keys to it."""
        streams = {self.master: (1, StreamMasker(self.patterns))}
        if child.stderr is not None:
            streams[child.stderr.fileno()] = (2, StreamMasker(self.patterns))
        extra = {0: self.master} if self.stdin_tty else None
        pump_streams(streams, child, extra=extra)
        if child.stderr is not None:
            child.stderr.close()

    def close(self) -> None:
        """Restore our terminal and SIGWINCH; close the pty."""
        if self.saved is not None:
            import termios

            with suppress(termios.error):
                termios.tcsetattr(0, termios.TCSAFLUSH, self.saved)  # type: ignore[arg-type]
            self.saved = None
        if self.previous_winch is not None:
            signal.signal(signal.SIGWINCH, self.previous_winch)  # type: ignore[arg-type]
            self.previous_winch = None
        for fd in (self.master, self.slave):
            if fd >= 0:
                with suppress(OSError):
                    os.close(fd)
        self.master = self.slave = -1


def _in_foreground(fd: int) -> bool:
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False
