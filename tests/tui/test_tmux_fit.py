"""End to end at 80x24 and 120x35: the real ``docker-pass ui --demo`` in tmux keeps the state
on every line (issue 24, item 5) and its dialogs fit (item 6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.tui.tmux_driver import SIZES, launch_ui, requires_tmux, size_id

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = requires_tmux


def _rows(screen: str) -> list[str]:
    """The pane's rows, the last one (the footer) last."""
    return screen.rstrip("\n").split("\n")


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_every_line_keeps_its_state_at_this_size(
    tmp_path: Path, isolated_home: Path, size: tuple[int, int]
) -> None:
    columns, _ = size
    with launch_ui(tmp_path, size=size) as tmux:
        screen = tmux.wait_for(lambda s: "docker/ 7" in s, "the realm tree")
        screen = tmux.wait_until_still()
        header = _rows(screen)[0]
        assert "embedded engine" in header
        if "✖" in screen:  # a plugin is down (the demo's 1password-cli without op)
            assert "plugin down" in header or "plugins down" in header
        assert "16 secrets" in header
        assert all(len(row) <= columns for row in _rows(screen))

        # The count line: the mode and count first; a cut ends in "…", never "not running:".
        tmux.keys("/")
        tmux.wait_for(lambda s: "Clear pattern" in s, "the pattern field")
        tmux.keys("docker/mcp/**", literal=True)
        screen = tmux.wait_for(lambda s: "4 of 16 match" in s, "the pattern preview")
        count_line = _rows(screen)[2].rstrip()
        assert count_line.startswith(" pattern · 4 of 16 match · routed to docker-pass")
        assert not count_line.endswith(":")
        assert count_line.endswith(("…", "by name"))

        # A tree row keeps the name and the expiry mark; the plugin goes before them.
        tmux.keys("Enter")
        screen = tmux.wait_for(lambda s: "github  expired" in s, "the expired secret's row")
        row = next(r for r in _rows(screen) if "github  expired" in r).partition("▕")[0]
        assert row.rstrip().endswith(("…", "docker-pass"))

        # The status line's message, whole, on demand.
        tmux.keys("s")
        tmux.wait_for(lambda s: "Sorted by provider" in s, "the sort's message")
        tmux.keys("L")
        screen = tmux.wait_for(lambda s: "Last message" in s, "the last message whole")
        assert "Sorted by provider" in screen

        tmux.keys("q")
        assert "EXITED=0" in tmux.wait_for(lambda s: "EXITED=" in s, "the app to quit")


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_dialogs_fit_and_list_their_own_keys_at_this_size(
    tmp_path: Path, isolated_home: Path, size: tuple[int, int]
) -> None:
    with launch_ui(tmp_path, size=size) as tmux:
        tmux.wait_for(lambda s: "docker/ 7" in s, "the realm tree")
        tmux.wait_until_still()

        # The vault setup form: an empty token's error in view, next to the buttons.
        tmux.keys("p")
        tmux.wait_for(lambda s: "Storage / message" in s, "the plugins panel")
        for _ in range(3):
            tmux.keys("j")
        screen = tmux.wait_for(lambda s: "vault 0.1.0" in s, "vault under the cursor")
        tmux.keys("s")
        screen = tmux.wait_for(lambda s: "Set up vault" in s, "the vault form")
        assert "Token (optional)" in screen
        tmux.keys("https://127.0.0.1:1", literal=True)
        # The field has the keys before Save (a priority key) is pressed.
        tmux.wait_for(lambda s: "https://127.0.0.1:1" in s, "the address typed")
        tmux.keys("C-s")
        screen = tmux.wait_for(
            lambda s: "Token: no token given" in s and "Save" in _rows(s)[-1], "the form's error"
        )
        rows = _rows(screen)
        error_row = next(i for i, r in enumerate(rows) if "Token: no token given" in r)
        buttons_row = next(i for i, r in enumerate(rows) if "Save (ctrl+s)" in r)
        assert 0 < buttons_row - error_row <= 3  # right above the buttons
        footer = rows[-1]
        assert "Save" in footer
        assert "Cancel" in footer
        assert "Quit" not in footer
        tmux.keys("Escape")
        tmux.wait_for(lambda s: "Set up vault" not in s, "the form closed")
        tmux.keys("Escape")
        tmux.wait_for(lambda s: "press / to filter" in s, "the main screen")

        # Help scrolls with j, and its footer is its own.
        tmux.keys("?")
        screen = tmux.wait_for(
            lambda s: "docker pass: keys" in s and "j/k Scroll" in _rows(s)[-1],
            "the help dialog and its footer",
        )
        first = next(r for r in _rows(screen) if "Filter the tree" in r)
        for _ in range(4):
            tmux.keys("j")
        tmux.wait_for(lambda s: first not in s, "the keys scrolled")
        tmux.keys("Escape")
        tmux.wait_for(lambda s: "docker pass: keys" not in s, "help closed")

        # r says Hide while a value is shown.
        tmux.keys("/")
        tmux.wait_for(lambda s: "Clear pattern" in s, "the pattern field")
        tmux.keys("gh/ci/token", literal=True)
        tmux.wait_for(lambda s: "1 of 16" in s, "one match")
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "└─ token" in s or "token  docker-pass" in s, "the match")
        tmux.keys("G")  # the last line: the one secret
        tmux.wait_for(lambda s: "se://gh/ci/token" in s, "the secret's detail")
        tmux.keys("r")
        screen = tmux.wait_for(lambda s: "r Hide" in s, "the Hide label")
        tmux.keys("r")
        tmux.wait_for(lambda s: "r Reveal" in s, "the Reveal label again")

        tmux.keys("q")
        assert "EXITED=0" in tmux.wait_for(lambda s: "EXITED=" in s, "the app to quit")
