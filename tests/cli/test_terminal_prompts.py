"""What a person sees at a terminal: the no-echo value prompt and the rm --all confirmation.

Driven in tmux, which gives the command a real terminal, as a person's shell would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import EXECUTABLE, docker_pass

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    """One tmux session running one command."""

    def __init__(self, name: str, command: str) -> None:
        self.name = name
        subprocess.run(
            ["tmux", "-L", name, "new-session", "-d", "-x", "100", "-y", "20", command],
            check=True,
            env=dict(os.environ),
        )

    def send(self, *keys: str) -> None:
        subprocess.run(["tmux", "-L", self.name, "send-keys", *keys], check=True)

    def screen(self) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.name, "capture-pane", "-p"], capture_output=True, text=True
        )
        return result.stdout

    def wait_for(self, test: Callable[[str], bool], timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if test(text):
                return text
            assert time.monotonic() < deadline, f"screen never matched:\n{text}"
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.name, "kill-server"], check=False, capture_output=True)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Terminal]]:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    opened: list[Terminal] = []

    def open_terminal(args: str) -> Terminal:
        command = f"{EXECUTABLE} {args}; sleep 30"  # the pane stays for capture-pane
        # A fresh server name each time: one being killed may still hold the last name.
        term = Terminal(f"dp-{os.getpid()}-{uuid.uuid4().hex[:8]}", command)
        opened.append(term)
        return term

    yield open_terminal
    for term in opened:
        term.close()


def test_set_prompts_twice_without_echo(terminal: Callable[[str], Terminal]) -> None:
    term = terminal("set prompted/value --metadata owner=alice")
    term.wait_for(lambda s: "Secret value:" in s)
    term.send("typed-secret-42", "Enter")
    term.wait_for(lambda s: "Repeat the value:" in s)
    term.send("typed-secret-42", "Enter")
    screen = term.screen()
    deadline = time.monotonic() + 15
    while docker_pass("get", "--reveal", "prompted/value").stdout != b"typed-secret-42":
        assert time.monotonic() < deadline, "the prompted value was not stored"
        time.sleep(0.1)
    assert "typed-secret-42" not in term.screen()
    assert "typed-secret-42" not in screen


def test_set_prompt_refuses_mismatch(terminal: Callable[[str], Terminal]) -> None:
    term = terminal("set prompted/mismatch")
    term.wait_for(lambda s: "Secret value:" in s)
    term.send("one", "Enter")
    term.wait_for(lambda s: "Repeat the value:" in s)
    term.send("two", "Enter")
    screen = term.wait_for(lambda s: "Error:" in s)
    assert "Error: the two values differ; nothing was stored" in screen
    assert docker_pass("get", "prompted/mismatch").returncode == 1


def test_rm_all_asks_on_a_terminal(terminal: Callable[[str], Terminal]) -> None:
    docker_pass("set", "a=1")
    docker_pass("set", "b=2")
    term = terminal("rm --all")
    term.wait_for(lambda s: "Remove all 2 secrets? [y/N]" in s)
    term.send("n", "Enter")
    term.wait_for(lambda s: "Nothing removed." in s)
    assert docker_pass("ls").stdout == b"a\nb\n"
    term2 = terminal("rm --all")
    term2.wait_for(lambda s: "Remove all 2 secrets? [y/N]" in s)
    term2.send("y", "Enter")
    screen = term2.wait_for(lambda s: "RM: b" in s)
    assert "RM: a" in screen
    assert docker_pass("ls").stdout == b""
