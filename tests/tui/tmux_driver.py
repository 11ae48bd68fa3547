"""Drive the real ``docker-pass ui`` in a private tmux server: keys in, capture-pane out.

Shared by every end-to-end UI test.  Typical use::

    from tests.tui.tmux_driver import SIZES, Tmux, launch_ui, requires_tmux

    pytestmark = requires_tmux

    @pytest.mark.parametrize("size", SIZES, ids=size_id)
    def test_something(tmp_path: Path, isolated_home: Path, size: tuple[int, int]) -> None:
        with launch_ui(tmp_path, size=size) as tmux:
            tmux.wait_for(lambda s: "16 secrets" in s, "the listing")

The server has its own socket and no user configuration, so a developer's tmux setup never
changes what a test sees; killing it on exit takes the app down with it.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import time
from typing import TYPE_CHECKING, TypeVar

import pytest

from tests.support.helpers import EXECUTABLE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from pathlib import Path

T = TypeVar("T")

#: The tmux session (and target) every command addresses.
SESSION = "ui"
#: How long a wait polls before it fails (a loaded machine is slow, never this slow).
DEADLINE = 20.0
#: The sizes the issue asks every item to be shown at: columns by rows.
SIZES: tuple[tuple[int, int], ...] = ((80, 24), (120, 35))
#: The size the older tests were written for.
DEFAULT_SIZE = (100, 30)

#: Put on a module (``pytestmark = requires_tmux``) or a test: skipped where tmux is missing.
requires_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def size_id(size: tuple[int, int]) -> str:
    """A readable test id for a size: ``80x24``."""
    return f"{size[0]}x{size[1]}"


class Tmux:
    """A private tmux server (its own socket, no user config) running one command."""

    def __init__(self, socket: Path, env: dict[str, str]) -> None:
        self.base = ["tmux", "-S", str(socket), "-f", "/dev/null"]
        self.env = env

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            [*self.base, *args], env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def screen(self) -> str:
        """The visible pane as text, one line per row."""
        return self("capture-pane", "-p", "-t", SESSION)

    def lines(self) -> list[str]:
        """The visible pane's rows (trailing blanks kept out by tmux)."""
        return self.screen().split("\n")

    def keys(self, *keys: str, literal: bool = False) -> None:
        """Send keys by tmux name (``Escape``, ``C-s``) or, with ``literal``, as typed text."""
        self("send-keys", "-t", SESSION, *(["-l"] if literal else []), *keys)

    def wait_until_still(self, quiet: float = 0.3) -> str:
        """Wait until the screen stops changing (start-up done: terminal set up, data drawn)."""
        deadline = time.monotonic() + DEADLINE
        last, since = self.screen(), time.monotonic()
        while time.monotonic() - since < quiet:
            if time.monotonic() > deadline:
                raise AssertionError(f"the screen never settled:\n{last}")
            time.sleep(0.05)
            now = self.screen()
            if now != last:
                last, since = now, time.monotonic()
        return last

    def wait_for(self, check: Callable[[str], bool], what: str) -> str:
        """Poll the screen until ``check`` holds (the app repaints asynchronously)."""
        return wait_until(self.screen, check, what)

    def paste(self, path: Path) -> None:
        """Paste the file's bytes as a terminal does: bracketed (the app asked for it), each
        line feed sent as CR (tmux's default, like most terminals)."""
        self("load-buffer", "-b", "pasted", str(path))
        self("paste-buffer", "-p", "-d", "-b", "pasted", "-t", SESSION)

    def kill(self) -> None:
        """End the server (and the app in it); harmless when it is already gone."""
        subprocess.run([*self.base, "kill-server"], env=self.env, capture_output=True, check=False)


def wait_until(read: Callable[[], T], check: Callable[[T], bool], what: str) -> T:
    """Poll ``read()`` until ``check`` holds, within the deadline."""
    deadline = time.monotonic() + DEADLINE
    while True:
        text = read()
        if check(text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last seen:\n{text}")
        time.sleep(0.1)


def tmux_environment(tmp_path: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the app runs in: the test's, outside any tmux, a known terminal, and the
    demo's 1password-cli pointed at a missing ``op`` (so it crashes the same way everywhere)."""
    env = dict(os.environ)
    env.pop("TMUX", None)
    env["TERM"] = "xterm-256color"
    env["DOCKER_PASS_OP_PATH"] = str(tmp_path / "no-op-here")
    env.update(extra or {})
    return env


def demo_arguments(tmp_path: Path) -> list[str]:
    """``ui --demo`` with its store under the test's directory."""
    return ["ui", "--demo", "--demo-dir", str(tmp_path / "demo")]


@contextlib.contextmanager
def launch_ui(
    tmp_path: Path,
    *,
    size: tuple[int, int] = DEFAULT_SIZE,
    arguments: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    socket_name: str = "tmux.sock",
) -> Iterator[Tmux]:
    """Start ``docker-pass ARGUMENTS`` (default: the demo UI) in a private tmux at ``size``.

    When the app exits the pane prints ``EXITED=<status>`` and stays, so a test can read it.
    ``env`` adds to (or overrides) :func:`tmux_environment`.
    """
    full_env = tmux_environment(tmp_path, env)
    server = Tmux(tmp_path / socket_name, full_env)
    words = list(arguments) if arguments is not None else demo_arguments(tmp_path)
    command = " ".join(_quoted(str(word)) for word in [EXECUTABLE, *words])
    command += "; echo EXITED=$?; sleep 60"
    columns, rows = size
    server("new-session", "-d", "-s", SESSION, "-x", str(columns), "-y", str(rows), command)
    server("set-option", "-s", "escape-time", "0")  # Escape reaches the app at once
    try:
        yield server
    finally:
        server.kill()


def _quoted(word: str) -> str:
    """One shell word (tmux runs the command through ``sh -c``)."""
    return shlex.quote(word)


__all__ = [
    "DEADLINE",
    "DEFAULT_SIZE",
    "SESSION",
    "SIZES",
    "Tmux",
    "demo_arguments",
    "launch_ui",
    "requires_tmux",
    "size_id",
    "tmux_environment",
    "wait_until",
]
