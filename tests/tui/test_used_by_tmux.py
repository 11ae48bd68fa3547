"""The real ``docker pass ui --demo`` in tmux with no Docker engine: it starts cleanly, and a
secret's detail says in one line why nothing can be said of who uses it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.tui.tmux_driver import SIZES, launch_ui, requires_tmux, size_id

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = requires_tmux


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_the_demo_starts_without_a_docker_engine_and_says_why_in_one_line(
    tmp_path: Path, isolated_home: Path, size: tuple[int, int]
) -> None:
    nowhere = tmp_path / "no-docker.sock"
    env = {"DOCKER_HOST": f"unix://{nowhere}", "DOCKER_PASS_ENGINE_SOCKET": str(tmp_path / "e")}
    with launch_ui(tmp_path, size=size, env=env) as tmux:
        tmux.wait_for(lambda s: "16 secrets" in s, "the listing")
        tmux.wait_until_still()  # keys sent while the app still starts can be lost
        tmux.keys("/")
        tmux.wait_for(lambda s: "Clear pattern" in s, "the pattern field")
        tmux.keys("myapp/prod/postgres/password", literal=True)
        tmux.keys("Enter")
        screen = tmux.wait_for(lambda s: "no Docker engine" in s, "the one line")
        assert "Used by" in screen
        # The pane wraps the reason (a long path folded, whole): the socket's name is there.
        pane = "".join("".join(line.partition("▕")[2].split()) for line in screen.splitlines())
        assert "UsedbynoDockerengine(cannotreachunix://" in pane
        assert "no-docker.sock:Nosuchfileordirectory)" in pane
        assert "Error" not in screen
        assert "Traceback" not in screen
        tmux.keys("q")
        assert "EXITED=0" in tmux.wait_for(lambda s: "EXITED=" in s, "the app to quit")
