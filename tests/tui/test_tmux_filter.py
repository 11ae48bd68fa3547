"""End to end at 80x24 and 120x35, the real ``docker-pass ui --demo`` in tmux: the filter reads
the last term as a prefix while typing (issue 24, item 2) and its results are a key away
(item 3)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.ids import ID, Pattern
from docker_pass.core.pattern_prefix import PatternPrefix
from docker_pass.tui.demo import MARKER, demo_environment, seeded_secrets
from tests.tui.tmux_driver import SIZES, launch_ui, requires_tmux, size_id

if TYPE_CHECKING:
    from pathlib import Path

    from tests.tui.tmux_driver import Tmux

pytestmark = requires_tmux


def count_line(screen: str) -> str:
    return screen.split("\n")[2]


def tree_rows(screen: str) -> list[str]:
    """The tree's side of the body rows (between the count line and the status line)."""
    return [row.partition("▕")[0] for row in screen.split("\n")[3:-3]]


def type_key_by_key(tmux: Tmux, text: str, total: int) -> list[str]:
    """Type ``text`` one key at a time, waiting for each key's count line; those lines."""
    lines = []
    for end in range(1, len(text) + 1):
        tmux.keys(text[end - 1], literal=True)
        typed = text[:end]
        screen = tmux.wait_for(
            lambda s, t=typed: f"Filter / {t}" in s and f" of {total} " in count_line(s),  # type: ignore[misc]
            f"the count line for {typed!r}",
        )
        lines.append(count_line(screen))
    return lines


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_typing_a_pattern_never_empties_the_tree_and_enter_reads_it_exactly(
    tmp_path: Path, isolated_home: Path, size: tuple[int, int]
) -> None:
    demo = [id_ for id_, _, _ in seeded_secrets()]
    total = len(demo)
    text = "docker/*/hub/**"
    while_typed = len(PatternPrefix.parse("docker/*/h").filter(sorted(demo)))
    assert while_typed
    with launch_ui(tmp_path, size=size) as tmux:
        tmux.wait_for(lambda s: "docker/" in s, "the realm tree")
        tmux.wait_until_still()
        tmux.keys("/")
        tmux.wait_for(lambda s: "Clear pattern" in s, "the pattern field")
        lines = type_key_by_key(tmux, text, total)
        assert not [line for line in lines if f" 0 of {total} " in line], lines
        # Back to "docker/*/h": the last component reads as a prefix, and the line says so.
        tmux.keys(*["BSpace"] * 5)
        screen = tmux.wait_for(
            lambda s: (
                s.split("\n")[1].rstrip().endswith("/ docker/*/h")
                and "as you type" in count_line(s)
            ),
            "h as a prefix",
        )
        assert f" {while_typed} of {total} " in count_line(screen)
        assert "as you type: h… as a prefix" in count_line(screen)
        assert any("alice" in row for row in tree_rows(screen))
        # Enter: read exactly (a component named h: none), and the count line says so.
        tmux.keys("Enter")
        screen = tmux.wait_for(lambda s: f" 0 of {total} " in count_line(s), "the exact read")
        assert "exact (Enter)" in count_line(screen)
        # The metadata value reads as a prefix too.
        tmux.keys("/")
        tmux.wait_for(lambda s: "Clear pattern" in s, "the pattern field again")
        tmux.keys("C-u")
        tmux.wait_for(lambda s: "press / to filter" in count_line(s), "the field emptied")
        tmux.keys("owner=pla", literal=True)
        owned = sum(1 for _, _, m in seeded_secrets() if m.get("owner", "").startswith("pla"))
        screen = tmux.wait_for(lambda s: "pla… as a prefix" in s, "the value as a prefix")
        assert f" {owned} of {total} " in count_line(screen)
        quit_app(tmux)
        assert "EXITED=0" in tmux.wait_for(lambda s: "EXITED=" in s, "the app to quit")


def quit_app(tmux: Tmux) -> None:
    """Escape (leave the field, or the detail), then q once the tree has the keys: sent
    together, a terminal reads them as one alt+q."""
    tmux.keys("Escape")
    tmux.wait_for(
        lambda s: "q Quit" in (footer := s.rstrip().split("\n")[-1]) and "esc" not in footer,
        "the tree's keys",
    )
    tmux.keys("q")


def seed_store(root: Path, count: int) -> list[str]:
    """A demo directory whose file store holds ``count`` made-up secrets (the demo's own seed
    is skipped: the store is not empty), written through the store's API."""
    from docker_pass.core.names import KEYCHAIN_PLUGIN
    from docker_pass.core.plugin import WritablePlugin
    from docker_pass.core.registry import create_plugin

    root.mkdir(parents=True)
    (root / MARKER).write_text("test store\n", encoding="utf-8")
    saved = dict(os.environ)
    os.environ.update(demo_environment(root))
    teams = ["payments", "search", "platform", "identity"]
    ids = [
        f"{teams[i % 4]}/{('prod', 'dev')[i // 4 % 2]}/svc{i // 8:03d}/key" for i in range(count)
    ]
    try:
        plugin = create_plugin(KEYCHAIN_PLUGIN)
        assert isinstance(plugin, WritablePlugin)
        for id_ in ids:
            plugin.save(ID.parse(id_), b"v", {})
        plugin.stop()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return sorted(ids)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_results_fill_the_screen_and_are_a_key_away(
    tmp_path: Path, isolated_home: Path, size: tuple[int, int]
) -> None:
    ids = seed_store(tmp_path / "demo", 1_200)
    found = [i for i in ids if Pattern.parse("**/prod/**").matches(i)]
    with launch_ui(tmp_path, size=size) as tmux:
        tmux.wait_for(lambda s: "payments/" in s, "the realm tree")
        tmux.wait_until_still()
        tmux.keys("/")
        tmux.wait_for(lambda s: "Clear pattern" in s, "the pattern field")
        tmux.keys("prod", literal=True)
        screen = tmux.wait_for(lambda s: f"{len(found):,} of 1,200" in s, "the search's count")
        screen = tmux.wait_until_still()
        rows = tree_rows(screen)
        # Not one closed row above empty lines: every tree row holds something, down to the
        # first result's secret.
        assert all(row.strip() for row in rows), screen
        assert any(row.rstrip().endswith("key  docker-pass") for row in rows), screen
        # Down in the field: the tree's cursor goes from secret to secret; the detail follows.
        tmux.keys("Down")
        tmux.wait_for(lambda s: found[0] in s, "the first result's detail")
        tmux.keys("Down", "C-n")
        screen = tmux.wait_for(lambda s: found[2] in s, "the third result's detail")
        assert "Filter / prod" in screen  # still typing there
        tmux.keys("C-p")
        tmux.wait_for(lambda s: found[1] in s and found[2] not in s, "back to the second")
        # Enter opens the result chosen: its detail takes the keys (esc goes back).
        tmux.keys("Enter")
        screen = tmux.wait_for(lambda s: "esc Back" in s, "the detail with the keys")
        assert f"se://{found[1]}" in screen
        quit_app(tmux)
        assert "EXITED=0" in tmux.wait_for(lambda s: "EXITED=" in s, "the app to quit")
