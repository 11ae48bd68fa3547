"""Snapshots of issue 24's items 7 and 8: New's selected realm, the doubled-realm notice, and
the demo's first screen (the real demo store, where ``op`` is not installed).

Fixed terminal sizes, cursor blink off; no value is ever shown.  Update after checking the
pictures: ``pytest tests/tui/test_snapshots_state.py --snapshot-update``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from textual.widgets import Input

from docker_pass.tui.app import DockerPassApp
from docker_pass.tui.demo import crash_tip, enter_demo
from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.tui.conftest import make_app, settle, type_text

if TYPE_CHECKING:
    from collections.abc import Iterator

    from textual.pilot import Pilot

    from tests.tui.test_snapshots import SnapCompare


async def new_on(pilot: Pilot[None], realm: str) -> Input:
    await settle(pilot)
    tree = pilot.app.screen.query_one(RealmTree)
    assert tree.show_realm(realm)
    tree.focus()
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    field = pilot.app.focused
    assert isinstance(field, Input)
    return field


def test_new_on_a_realm_at_80x24(snap_compare: SnapCompare) -> None:
    """You should see the "New secret" editor at 80x24 on realm docker: "docker/" selected in
    the ID field, and under it "in docker: type the rest of the ID after →, or a whole ID"."""

    async def steps(pilot: Pilot[None]) -> None:
        field = await new_on(pilot, "docker")
        assert field.selected_text == "docker/"

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=steps)


def test_a_doubled_realm_is_noticed(snap_compare: SnapCompare) -> None:
    """You should see the editor with ID "docker/docker/auth/hub/carol" (the realm kept with →,
    then a whole ID typed after it) and under it "⚠ starts with docker/
    twice — did you mean docker/auth/hub/carol?" marked as a mistake; no "✓ a valid new ID"."""

    async def steps(pilot: Pilot[None]) -> None:
        await new_on(pilot, "docker")
        await pilot.press("right")
        await type_text(pilot, "docker/auth/hub/carol")

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=steps)


@pytest.fixture
def demo_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The real demo store, where op is not installed (its environment restored after)."""
    saved = dict(os.environ)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("DOCKER_PASS_OP_PATH", raising=False)
    try:
        # Under HOME (the isolated one): the storage column shows ~/demo/…, the same each run.
        enter_demo(Path(os.environ["HOME"]) / "demo")
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.usefixtures("demo_store")
@pytest.mark.parametrize("size", [(80, 24), (120, 35)], ids=["80x24", "120x35"])
def test_the_demo_opens_on_its_secrets(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """You should see the demo's first screen: "demo store · embedded engine · 16 secrets ·
    4 plugins" in the header (none down), the realms aws/ docker/ gh/ myapp/ registry:5000/
    and no crashed plugin anywhere."""
    app = DockerPassApp(subtitle="demo store", poll_seconds=None, cursor_blink=False)
    app.animation_level = "none"

    async def steps(pilot: Pilot[None]) -> None:
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=steps)


@pytest.mark.usefixtures("demo_store")
def test_the_demo_offers_the_crash_in_the_plugins_panel(snap_compare: SnapCompare) -> None:
    """You should see the plugins panel of the demo: 1password-cli "○ disabled" (not crashed)
    and the status line "Demo: 1password-cli is off; space on its row shows how a crashed
    plugin looks."."""
    app = DockerPassApp(
        subtitle="demo store", poll_seconds=None, cursor_blink=False, tip=crash_tip()
    )
    app.animation_level = "none"

    async def steps(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(100, 30), run_before=steps)
