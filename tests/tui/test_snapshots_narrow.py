"""Snapshots at 80x24 (issue 24, items 5 and 6): what each line keeps when the terminal is
narrow, and the dialogs at that size.

Fixed data (the demo secrets, a crashed 1password-cli), fixed size, cursor blink off.  Update
after checking the pictures: ``pytest tests/tui/test_snapshots_narrow.py --snapshot-update``.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from docker_pass.tui.widgets.detail_pane import DetailPane
from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.support.tui_fakes import crashing_class, demo_secrets, keychain_class
from tests.tui.conftest import app_of, make_app, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from tests.tui.test_snapshots_session import SnapCompare

NARROW = (80, 24)
NOW = date(2026, 12, 1)
LONG = (
    "Could not save docker/auth/hub/alice in docker-pass: the store changed since you opened "
    "it; reopen the secret to see the newer version, then save again"
)


def classes() -> dict[str, type]:
    return {"docker-pass": keychain_class(demo_secrets()), "1password-cli": crashing_class()}


def test_narrow_header_count_line_and_tree_rows(snap_compare: SnapCompare) -> None:
    """You should see the header "docker pass — embedded engine · 1 plugin down · 15 secrets
    · …" (the store's name given up, the down count kept), the count line "pattern · 3 of 15
    match · routed to docker-pass · not running: 1password-… · …", and docker/mcp/oauth open
    with "github  expired  …" (the plugin given up, the mark kept)."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        pilot.app.screen.query_one(RealmTree).expiry_now = NOW
        pilot.app.screen.query_one(DetailPane).expiry_now = NOW
        await pilot.press("slash")
        await type_text(pilot, "docker/mcp/**")
        await pilot.press("enter")
        tree = pilot.app.screen.query_one(RealmTree)
        assert tree.show_secret("docker/mcp/oauth/github")
        await settle(pilot)

    app = make_app(classes(), subtitle="demo store")
    assert snap_compare(app, terminal_size=NARROW, run_before=run_before)


def test_narrow_status_line_cut_with_its_key(snap_compare: SnapCompare) -> None:
    """You should see the status line in red "Could not save docker/auth/hub/alice in
    docker-pass: the store changed…" ending in a reversed " L: all"."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        app_of(pilot).status.set_status(LONG, "error")
        await settle(pilot)

    app = make_app(classes(), status_seconds=None)
    assert snap_compare(app, terminal_size=NARROW, run_before=run_before)


def test_narrow_last_message_whole(snap_compare: SnapCompare) -> None:
    """You should see, after L, a notification titled "Last message" holding the whole
    message "Could not save docker/auth/hub/alice … then save again", in red."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        app_of(pilot).status.set_status(LONG, "error")
        await pilot.press("L")
        await settle(pilot)

    app = make_app(classes(), status_seconds=None)
    assert snap_compare(app, terminal_size=NARROW, run_before=run_before)
