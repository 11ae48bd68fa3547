"""`run --mask` on a real terminal (tmux): colours survive, values are concealed.

The child runs on a pseudo-terminal of its own, so ``ls --color=always`` and ``grep
--color=always`` print their escapes as on any terminal, and those reach the screen; a value
written in two halves, with a pause between, is concealed all the same.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import docker_pass
from tests.tui.tmux_driver import SESSION, SIZES, Tmux, launch_ui, requires_tmux, size_id

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = requires_tmux

VALUE = "s3cr3t-value-0123456789"
MARKER = "<concealed by docker-pass>"
ESC = "\x1b["


@pytest.fixture(autouse=True)
def stored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    monkeypatch.delenv("DOCKER_PASS_MASK", raising=False)
    monkeypatch.delenv("LS_COLORS", raising=False)  # ls's own default colours
    assert docker_pass("set", f"app/token={VALUE}").returncode == 0


def coloured(tmux: Tmux) -> str:
    """The pane with its colour escapes (capture-pane -e)."""
    return tmux("capture-pane", "-p", "-e", "-t", SESSION)


def finished(tmux: Tmux) -> str:
    return tmux.wait_for(lambda s: "EXITED=" in s, "the command to finish")


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_ls_keeps_its_colours_and_the_value_is_concealed(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    folder = tmp_path / "listing"
    folder.mkdir()
    (folder / f"dir-{VALUE}").mkdir()
    (folder / "plain-dir").mkdir()
    arguments = ["run", "--mask", "--", "sh", "-c", f'ls --color=always {folder}; echo "T=$T"']
    with launch_ui(tmp_path, size=size, arguments=arguments, env={"T": "se://app/token"}) as tmux:
        screen = finished(tmux)
        assert "EXITED=0" in screen
        assert f"dir-{MARKER}" in screen
        assert f"T={MARKER}" in screen
        assert VALUE not in screen
        pane = coloured(tmux)
        line = next(row for row in pane.split("\n") if "plain-dir" in row)
        assert ESC in line.split("plain-dir")[0]  # the directory's colour reached the screen
        assert VALUE not in pane


def test_grep_keeps_its_colours(tmp_path: Path) -> None:
    script = 'printf "%s\\n" "token=$T in a haystack here" | grep --color=always haystack'
    arguments = ["run", "--mask", "--", "sh", "-c", script]
    with launch_ui(tmp_path, arguments=arguments, env={"T": "se://app/token"}) as tmux:
        screen = finished(tmux)
        assert f"token={MARKER} in a haystack here" in screen
        pane = coloured(tmux)
        line = next(row for row in pane.split("\n") if "haystack" in row)
        before, _, after = line.partition("haystack")
        assert ESC in before  # grep's match colour on ...
        assert ESC in after  # ... and off again
        assert VALUE not in pane


def test_a_value_in_two_halves_is_concealed_on_a_terminal(tmp_path: Path) -> None:
    ready, go = tmp_path / "ready", tmp_path / "go"
    child = (
        "import os, sys, time\n"
        "v = os.environ['T']\n"
        "sys.stdout.write('half: ' + v[:10]); sys.stdout.flush()\n"
        f"open({str(ready)!r}, 'w').close()\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.01)\n"
        "sys.stdout.write(v[10:] + ' tail\\n'); sys.stdout.flush()\n"
        "print('tty:', os.isatty(1))\n"
    )
    arguments = ["run", "--mask", "--", sys.executable, "-c", child]
    with launch_ui(tmp_path, arguments=arguments, env={"T": "se://app/token"}) as tmux:
        tmux.wait_for(lambda s: "half:" in s and ready.exists(), "the first half")
        assert VALUE[:10] not in tmux.screen()
        go.touch()
        screen = finished(tmux)
        assert f"half: {MARKER} tail" in screen
        assert "tty: True" in screen
        assert VALUE[:10] not in screen
        assert VALUE[10:] not in screen
        assert "EXITED=0" in screen


def test_keys_reach_the_child_through_its_terminal(tmp_path: Path) -> None:
    child = "import os\nline = input('type: ')\nprint('got', line, os.environ['T'])\n"
    arguments = ["run", "--mask", "--", sys.executable, "-c", child]
    command_env = {"T": "se://app/token"}
    with launch_ui(tmp_path, arguments=arguments, env=command_env) as tmux:
        tmux.wait_for(lambda s: "type:" in s, "the prompt")
        tmux.keys("hello", literal=True)
        tmux.keys("Enter")
        screen = finished(tmux)
        assert f"got hello {MARKER}" in screen
        assert "EXITED=0" in screen


def test_a_typed_key_that_begins_a_value_is_echoed_without_the_next_key(tmp_path: Path) -> None:
    """``s`` begins the value: its echo is held as a possible start, then shown after a quiet
    moment, so typing never waits for the next key; the rest of the line goes as typed."""
    child = "line = input('type: ')\nprint('got', line)\n"
    arguments = ["run", "--mask", "--", sys.executable, "-c", child]
    with launch_ui(tmp_path, arguments=arguments, env={"T": "se://app/token"}) as tmux:
        tmux.wait_for(lambda s: "type:" in s, "the prompt")
        tmux.keys(VALUE[0], literal=True)
        tmux.wait_for(lambda s: f"type: {VALUE[0]}" in s, "the echo of the one key")
        tmux.keys("ky", literal=True)
        tmux.keys("Enter")
        screen = finished(tmux)
        assert f"got {VALUE[0]}ky" in screen
        assert "EXITED=0" in screen
