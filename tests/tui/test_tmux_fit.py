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
    return screen.split("\n")


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
