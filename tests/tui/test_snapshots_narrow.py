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
from tests.tui.conftest import app_of, make_app, select, settle, type_text
from tests.tui.test_dialogs_fit import open_vault_form, vault_app

if TYPE_CHECKING:
    from pathlib import Path

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
    match · routed to docker-pass · not running: 1password-cli…", and docker/mcp/oauth open
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


def test_narrow_vault_setup_with_its_error(snap_compare: SnapCompare, isolated_home: Path) -> None:
    """You should see the vault setup form at 80x24 with one-line (compact) fields, the
    address typed, and above "Save (ctrl+s)  Cancel (esc)" the error in red saying what the
    token or AppRole needs; the footer below lists "ctrl+s Save  esc Cancel" only."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await open_vault_form(pilot)
        await type_text(pilot, "https://127.0.0.1:1", "#setup-field-0")
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(vault_app(), terminal_size=NARROW, run_before=run_before)


def test_narrow_help_scrolled(snap_compare: SnapCompare) -> None:
    """You should see the help dialog scrolled down five lines by j (its first lines "Secrets"
    and "/ Filter…" gone above), and its own footer "esc Close  j/k Scroll"."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        await pilot.press(*"jjjjj")
        await settle(pilot)

    assert snap_compare(make_app(classes()), terminal_size=NARROW, run_before=run_before)


def test_narrow_confirm_footer(snap_compare: SnapCompare) -> None:
    """You should see the delete confirmation for gh/ci/token, and a footer that lists only
    "y Yes  n No" (not the main screen's Reveal, Copy…)."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await select(pilot, "gh/ci/token")
        await pilot.press("d")
        await settle(pilot)

    assert snap_compare(make_app(classes()), terminal_size=NARROW, run_before=run_before)


def test_narrow_reveal_label_says_hide(snap_compare: SnapCompare) -> None:
    """You should see gh/ci/token's (demo, not real) value shown in the detail pane, and the
    footer's r key labelled "Hide" (r hides it again)."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await select(pilot, "gh/ci/token")
        await pilot.press("r")
        await settle(pilot)

    app = make_app(classes(), status_seconds=None)
    assert snap_compare(app, terminal_size=NARROW, run_before=run_before)


def test_narrow_sorted_by_provider(snap_compare: SnapCompare) -> None:
    """You should see the count line end in a bold "by provider" after s, at 80 columns."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)

    app = make_app(classes(), status_seconds=None)
    assert snap_compare(app, terminal_size=NARROW, run_before=run_before)
