"""Snapshots of issue 24's filter: the count line while typing and after Enter (item 2), and
many results opened until the tree is full, the cursor moved from the field (item 3).

Fixed data (the demo secrets, or generated ones, in an in-memory keychain), fixed terminal
sizes, cursor blink off.  Update after checking the pictures:
``pytest tests/tui/test_snapshots_filter_typing.py --snapshot-update``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.support.tui_fakes import keychain_class, many_secrets
from tests.tui.conftest import filled, make_app, settle, type_text
from tests.tui.test_snapshots import SIZE, SnapCompare

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from textual.pilot import Pilot

NARROW = (80, 24)


def typing(text: str, *keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def typed(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, text)
        await filled(pilot)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)

    return typed


def test_a_pattern_being_typed_reads_its_last_component_as_a_prefix(
    snap_compare: SnapCompare,
) -> None:
    """You should see docker/*/h in the field, "pattern · 2 of 15 match · as you type: h… as a
    prefix · routed to …" under it, and docker/auth/hub opened down to alice and bob, with
    "docker" and the "h" of "hub" highlighted."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=typing("docker/*/h"))


def test_a_metadata_value_being_typed_at_80_columns(snap_compare: SnapCompare) -> None:
    """You should see owner=pla in the field at 80x24, "metadata · 4 of 15 with owner=pla · as
    you type: pla… as a prefix" (cut with … if it must be), and the four platform-team
    secrets under myapp."""
    assert snap_compare(make_app(), terminal_size=NARROW, run_before=typing("owner=pla"))


def test_after_enter_the_pattern_is_exact(snap_compare: SnapCompare) -> None:
    """You should see docker/*/h in the field, "pattern · 0 of 15 match · exact (Enter) · …",
    "No secret matches this filter" in the tree, and the tree with the keys (its footer)."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=typing("docker/*/h", "enter"))


def test_many_results_fill_the_tree_and_down_moves_through_them(
    snap_compare: SnapCompare,
) -> None:
    """You should see payments/prod/svc1 in the field ("prefix · 111 of 6,000 under
    payments/prod/svc1…"), the tree opened down to svc1's tls/key, then svc10, svc11, … each
    opened to its secret until the tree is full, and the cursor (moved with Down twice from
    the field, which keeps the keys) on svc10's postgres password, shown in the detail pane."""
    app = make_app({"docker-pass": keychain_class(many_secrets(6_000))})
    run_before = typing("payments/prod/svc1", "down", "down")
    assert snap_compare(app, terminal_size=NARROW, run_before=run_before)
