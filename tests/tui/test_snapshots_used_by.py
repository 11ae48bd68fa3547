"""Snapshots of the "Used by" section, its whole list and the rollout question, over the
stand-in Docker door (:mod:`tests.tui.usage_fakes`); fixed data, sizes and no cursor blink.
Update after looking at the pictures: ``pytest tests/tui/test_snapshots_used_by.py
--snapshot-update``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.used_by import UsedByScreen
from tests.tui.conftest import app_of, make_app, select, settle, type_text, until
from tests.tui.usage_fakes import DB, FakeDocker

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from tests.tui.test_snapshots import SnapCompare

NO_ENGINE = (
    "cannot reach the Docker engine at unix:///var/run/docker.sock: No such file or directory"
)


async def on_db(pilot: Pilot[None]) -> None:
    await settle(pilot)
    app = app_of(pilot)
    await until(pilot, lambda: app.listing.index.find(DB) is not None, "the listing")
    await until(pilot, lambda: app_of(pilot).usage.gathered is not None, "the first gathering")
    await select(pilot, DB)


async def whole_list(pilot: Pilot[None]) -> None:
    await on_db(pilot)
    await pilot.press("U")
    await until(pilot, lambda: isinstance(pilot.app.screen, UsedByScreen), "the list")
    await settle(pilot)


async def rollout_question(pilot: Pilot[None]) -> None:
    await on_db(pilot)
    await pilot.press("e")
    await settle(pilot)
    await type_text(pilot, "new-not-a-real-password", "#editor-value")
    await pilot.press("ctrl+s")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
    await settle(pilot)


def test_used_by_at_80x24(snap_compare: SnapCompare) -> None:
    """You should see myapp/prod/postgres/password's detail with "Used by 5 places", three
    places (batch-7, billing-worker, shop-web-1) each ending in … where too wide, and
    "+2 more · U lists all" (the footer leaves U to the pane, keeping Plugins in view)."""
    app = make_app(docker=FakeDocker())
    assert snap_compare(app, terminal_size=(80, 24), run_before=on_db)


def test_used_by_at_120x35(snap_compare: SnapCompare) -> None:
    """You should see the same section with the whole lines: names, states, variables."""
    app = make_app(docker=FakeDocker())
    assert snap_compare(app, terminal_size=(120, 35), run_before=on_db)


def test_used_by_whole_list(snap_compare: SnapCompare) -> None:
    """You should see "Used by: myapp/prod/postgres/password · 5 places" and three groups:
    Containers (3), Compose services (1: shop/migrate, no container), Files (1: .env), each
    row with its variable and reference (batch-7's by pattern)."""
    app = make_app(docker=FakeDocker())
    assert snap_compare(app, terminal_size=(120, 35), run_before=whole_list)


def test_rollout_question(snap_compare: SnapCompare) -> None:
    """You should see "3 containers use it: roll out?" over the main screen, with the plan's
    lines (Compose project shop: web; containers batch-7 and billing-worker) and the buttons
    "Roll out (y)" and "Cancel (n)"; no value anywhere."""
    app = make_app(docker=FakeDocker())
    assert snap_compare(app, terminal_size=(100, 30), run_before=rollout_question)


def test_no_engine_line(snap_compare: SnapCompare) -> None:
    """You should see, under the masked value, the one line "Used by  no Docker engine
    (cannot reach unix:///var/run/docker.sock: No such file or directory)", wrapped in the
    pane, and no error anywhere."""
    app = make_app(docker=FakeDocker(docker=NO_ENGINE))
    assert snap_compare(app, terminal_size=(80, 24), run_before=on_db)
