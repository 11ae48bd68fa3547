"""Snapshots of this session's states: expiry marks, the detail pane focused after Enter, and
the header naming the engine (daemon or embedded).

Fixed data (the demo secrets plus one that expires soon), "now" fixed at 2026-12-01 for the
expiry texts, fixed terminal size, cursor blink off.  Update after checking the pictures:
``pytest tests/tui/test_snapshots_session.py --snapshot-update``.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Protocol

from docker_pass.core.engine import Engine
from docker_pass.core.remote.front import DAEMON_KIND
from docker_pass.tui.app import DockerPassApp
from docker_pass.tui.widgets.detail_pane import DetailPane
from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.support.tui_fakes import crashing_class, demo_secrets, keychain_class
from tests.tui.conftest import make_app, settle

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from textual.pilot import Pilot

SIZE = (100, 30)
NOW = date(2026, 12, 1)
EXPIRED = "docker/mcp/oauth/github"
SOON = "docker/mcp/oauth/slack"


class SnapCompare(Protocol):
    def __call__(
        self,
        app: DockerPassApp,
        press: tuple[str, ...] = (),
        terminal_size: tuple[int, int] = ...,
        run_before: Callable[[Pilot[None]], Awaitable[None]] | None = None,
    ) -> bool: ...


def classes() -> dict[str, type]:
    secrets = demo_secrets()
    secrets[SOON] = (b"xoxb-demo-not-real", {"provider": "slack", "expires": "2026-12-06"})
    return {"docker-pass": keychain_class(secrets), "1password-cli": crashing_class()}


def fixed_now(pilot: Pilot[None]) -> None:
    pilot.app.screen.query_one(RealmTree).expiry_now = NOW
    pilot.app.screen.query_one(DetailPane).expiry_now = NOW


async def on_secret(pilot: Pilot[None], id_: str) -> None:
    await settle(pilot)
    fixed_now(pilot)
    tree = pilot.app.screen.query_one(RealmTree)
    assert tree.show_secret(id_)
    tree.focus()
    await settle(pilot)


def test_expired_secret_marked_in_tree_and_detail(snap_compare: SnapCompare) -> None:
    """You should see docker/mcp/oauth open with "github  docker-pass  expired" in red and
    "slack  docker-pass  expires in 5 d" in yellow; the cursor on github, whose detail pane
    shows "Expires  2026-01-31 (expired 304 days ago)" in red above its metadata."""

    async def run_before(pilot: Pilot[None]) -> None:
        await on_secret(pilot, EXPIRED)

    assert snap_compare(make_app(classes()), terminal_size=SIZE, run_before=run_before)


def test_expiring_soon_in_the_detail(snap_compare: SnapCompare) -> None:
    """You should see the cursor on docker/mcp/oauth/slack and, in the detail pane,
    "Expires  2026-12-06 (in 5 days)" in yellow."""

    async def run_before(pilot: Pilot[None]) -> None:
        await on_secret(pilot, SOON)

    assert snap_compare(make_app(classes()), terminal_size=SIZE, run_before=run_before)


def test_detail_focused_after_enter(snap_compare: SnapCompare) -> None:
    """You should see the cursor's secret docker/auth/hub/alice with its detail pane focused:
    a lighter background, the title in reverse, and the hint ending "· esc back to the tree";
    the footer's keys (Reveal, Copy, Edit, Delete) still apply."""

    async def run_before(pilot: Pilot[None]) -> None:
        await on_secret(pilot, "docker/auth/hub/alice")
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(classes()), terminal_size=SIZE, run_before=run_before)


class DaemonLikeEngine(Engine):
    """An engine that says it is the daemon's front."""

    kind = DAEMON_KIND


def test_header_with_the_daemon(snap_compare: SnapCompare) -> None:
    """You should see the header "docker pass — daemon · 1 plugin down · 16 secrets ·
    2 plugins" (the state first), with a "≡" icon at its left (not Textual's "⭘")."""
    factories = classes()
    app = DockerPassApp(
        lambda: DaemonLikeEngine(factories=factories), poll_seconds=None, cursor_blink=False
    )
    app.animation_level = "none"

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_header_with_an_embedded_engine(snap_compare: SnapCompare) -> None:
    """You should see the header "docker pass — embedded engine · 1 plugin down · 16 secrets ·
    2 plugins · demo store" (the state first, the store's name last), with a "≡" icon at its
    left."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)

    app = make_app(classes(), subtitle="demo store")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
