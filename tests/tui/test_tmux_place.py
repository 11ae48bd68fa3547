"""End to end, at 80x24 and 120x35: the real ``docker-pass ui --demo`` comes back where it was
(item 4), New on a realm replaces the selected realm and notices a doubled one (item 7), and
the demo opens on its secrets, with the crash of a plugin one choice away (item 8)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.tui.tmux_driver import SIZES, Tmux, launch_ui, requires_tmux, size_id

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = requires_tmux
TREE = "docker/ 7"


def quit_app(tmux: Tmux) -> None:
    tmux.keys("q")
    assert "EXITED=0" in tmux.wait_for(lambda s: "EXITED=" in s, "the app to quit")


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_quit_and_start_again_in_the_same_place(
    tmp_path: Path, isolated_home: Path, size: tuple[int, int]
) -> None:
    with launch_ui(tmp_path, size=size) as tmux:
        tmux.wait_for(lambda s: TREE in s, "the realm tree")
        tmux.keys("/")
        tmux.wait_for(lambda s: "Clear pattern" in s, "the filter field")
        tmux.keys("myapp/prod", literal=True)
        tmux.wait_for(lambda s: "3 of 16" in s, "the filter's matches")
        tmux.keys("Enter")  # to the tree (the footer says when the keys are there)
        tmux.wait_for(lambda s: "Clear pattern" not in s, "the tree's keys")
        tmux.keys("j", "j", "j", "s")  # down to a secret; the order: by provider
        before = tmux.wait_for(lambda s: "by provider" in s, "the order")
        # On a secret, not the first line a start with nothing remembered puts the cursor on.
        assert cursor_subject(before).startswith("myapp/prod/postgres/")
        quit_app(tmux)
    state = json.loads((tmp_path / "demo" / "state" / "docker-pass" / "ui-state.json").read_text())
    (place,) = state["places"].values()
    assert place["filter"] == "myapp/prod"
    assert "not-a-real" not in json.dumps(state)  # no value in the file
    # The demo keeps its place in its own directory, never in the person's state file.
    assert not (isolated_home / ".local" / "state" / "docker-pass" / "ui-state.json").exists()

    with launch_ui(tmp_path, size=size, socket_name="again.sock") as tmux:
        tmux.wait_for(
            lambda s: "3 of 16" in s and "by provider" in s, "the remembered filter and order"
        )
        after = tmux.wait_until_still()
        assert "myapp/prod" in after.splitlines()[1]  # the filter field
        assert cursor_subject(after) == cursor_subject(before)
        quit_app(tmux)


def cursor_subject(screen: str) -> str:
    """The detail pane's first words (the secret or realm the cursor is on)."""
    for line in screen.splitlines()[3:]:
        _, bar, right = line.partition("▕")
        if bar and right.strip():
            return right.strip()
    raise AssertionError(f"no detail pane:\n{screen}")


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@pytest.mark.usefixtures("isolated_home")
def test_new_on_a_realm_replaces_it_or_notices_it_doubled(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    with launch_ui(tmp_path, size=size) as tmux:
        tmux.wait_for(lambda s: TREE in s, "the realm tree")
        tmux.wait_until_still()  # started: the tree has the keys
        tmux.keys("j")  # docker/
        tmux.wait_for(lambda s: cursor_subject(s) == "docker/", "the cursor on docker/")
        tmux.keys("n")
        tmux.wait_for(lambda s: "in docker: type the rest of the ID after →" in s, "the realm")
        tmux.keys("docker/auth/hub/carol", literal=True)  # replaces the selected realm
        # Every prefix typed is valid too: wait for the whole ID and its hint together.
        screen = tmux.wait_for(
            lambda s: "docker/auth/hub/carol" in s and "✓ a valid new ID" in s, "a valid new ID"
        )
        assert "docker/docker" not in screen
        # The realm kept (→), then a whole ID typed after it: the doubled realm.
        tmux.keys("C-u")
        tmux.wait_for(lambda s: "components of" in s, "an empty ID")
        tmux.keys("docker/", literal=True)
        tmux.wait_for(lambda s: "in docker: type the rest of the ID" in s, "the realm kept")
        tmux.keys("docker/auth/hub/alice", literal=True)
        notice = "starts with docker/ twice — did you mean docker/auth/hub/alice?"
        screen = tmux.wait_for(lambda s: notice in s, "the notice")
        assert "docker/docker/auth/hub/alice" in screen
        assert "✓ a valid new ID" not in screen


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@pytest.mark.usefixtures("isolated_home")
def test_the_demo_opens_on_its_secrets_and_offers_the_crash(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    with launch_ui(tmp_path, size=size) as tmux:
        tmux.wait_for(lambda s: TREE in s, "the realm tree")
        first = tmux.wait_until_still()
        assert "crashed" not in first
        assert "✖" not in first
        assert "16 secrets" in first
        tmux.keys("p")
        panel = tmux.wait_for(lambda s: "Demo: 1password-cli is off" in s, "the offer")
        assert "✖ crashed" not in panel
        tmux.keys("j", "Space")
        tmux.wait_for(lambda s: "✖ crashed" in s, "the crash, on request")
        quit_app(tmux)
