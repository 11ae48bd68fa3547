"""A real terminal for a command, in tmux, for the tests of questions asked on one.

:class:`JoinedTerminal` is the prompts tests' :class:`~tests.cli.test_terminal_prompts.Terminal`
with wrapped lines joined (a warning is wider than the pane); the ``terminal`` fixture opens
one per command, which prints ``exit=N`` when it ends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import EXECUTABLE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


class JoinedTerminal:
    """One tmux session (a server of its own) running one command, 100 columns by 20 lines."""

    def __init__(self, name: str, command: str) -> None:
        self.name = name
        subprocess.run(
            ["tmux", "-L", name, "new-session", "-d", "-x", "100", "-y", "20", command],
            check=True,
            env=dict(os.environ),
        )

    def send(self, *keys: str) -> None:
        """Type ``keys`` (tmux key names: ``Enter``)."""
        subprocess.run(["tmux", "-L", self.name, "send-keys", *keys], check=True)

    def screen(self) -> str:
        """What the pane shows, wrapped lines joined."""
        result = subprocess.run(
            ["tmux", "-L", self.name, "capture-pane", "-p", "-J"], capture_output=True, text=True
        )
        return result.stdout

    def wait_for(self, test: Callable[[str], bool], timeout: float = 15) -> str:
        """The screen once ``test`` holds for it (fails after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if test(text):
                return text
            assert time.monotonic() < deadline, f"screen never matched:\n{text}"
            time.sleep(0.1)  # polling another process's screen, with a deadline

    def close(self) -> None:
        """Kill the session's server."""
        subprocess.run(["tmux", "-L", self.name, "kill-server"], check=False, capture_output=True)


@pytest.fixture
def terminal() -> Iterator[Callable[[str], JoinedTerminal]]:
    """Open a terminal running ``docker-pass ARGS``; all are closed after the test."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    opened: list[JoinedTerminal] = []

    def open_terminal(args: str) -> JoinedTerminal:
        command = f"{EXECUTABLE} {args}; echo exit=$?; sleep 30"
        term = JoinedTerminal(f"dp-{uuid.uuid4().hex[:12]}", command)
        opened.append(term)
        return term

    yield open_terminal
    for term in opened:
        term.close()
