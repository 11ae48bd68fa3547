"""At 80 columns every line keeps what matters: the header its state (the engine, plugins
down), the count line its mode and count, the status line says it was cut and shows the whole
message on demand, and a tree row keeps a secret's name and marks before its plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from docker_pass.tui.widgets.realm_tree import RealmTree
from docker_pass.tui.widgets.status_line import StatusLine
from tests.support.tui_fakes import crashing_class, demo_secrets, keychain_class
from tests.tui.conftest import app_of, make_app, run, settle, type_text
from tests.tui.screen_text import screen_lines

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from tests.tui.conftest import Recorder

NARROW = (80, 24)
LONG = (
    "Could not save docker/auth/hub/alice in docker-pass: the store changed since you opened "
    "it; reopen the secret to see the newer version, then save again"
)


def classes() -> dict[str, type]:
    return {
        "docker-pass": keychain_class(demo_secrets()),
        "1password-cli": crashing_class(),
        "1password-sdk": crashing_class("1password-sdk"),
    }


@pytest.mark.parametrize("size", [NARROW, (60, 20), (120, 35)], ids=["80", "60", "120"])
def test_the_header_keeps_the_plugins_down(size: tuple[int, int]) -> None:
    async def scenario(pilot: Pilot[None], _: Recorder) -> None:
        header = screen_lines(pilot.app)[0]
        assert "2 plugins down" in header
        assert "embedded engine" in header
        full = "embedded engine · 2 plugins down · 15 secrets · 3 plugins · demo store"
        assert full in header or "…" in header
        # What it says in full stays the app's sub-title (other fronts read it).
        assert app_of(pilot).sub_title.endswith("3 plugins, 2 down")

    run(make_app(classes(), subtitle="demo store"), scenario, size=size)


def test_the_count_line_keeps_mode_and_count_and_ends_cut_detail_with_an_ellipsis() -> None:
    async def scenario(pilot: Pilot[None], _: Recorder) -> None:
        await pilot.press("slash")
        await type_text(pilot, "myapp/*/postgres/**")
        line = screen_lines(pilot.app)[2]
        assert line.startswith(" pattern · 3 of 15 match · routed to docker-pass")
        assert line.rstrip().endswith("…")
        assert "not running:" not in line or "not running: 1" in line  # never a bare label
        assert len(line) <= NARROW[0]

    run(make_app(classes()), scenario, size=NARROW)


def test_a_long_status_says_it_is_cut_and_l_shows_it_whole() -> None:
    async def scenario(pilot: Pilot[None], _: Recorder) -> None:
        app = app_of(pilot)
        app.status.set_status(LONG, "error")
        await settle(pilot)
        line = screen_lines(app)[-2]
        assert line.startswith(" Could not save docker/auth/hub/alice")
        assert "… L: all" in line
        assert len(line) <= NARROW[0]
        await pilot.press("L")
        await settle(pilot)
        toasts = list(app._notifications)
        assert [t.message for t in toasts][-1] == LONG
        assert toasts[-1].severity == "error"
        # A short message is shown as it is, with no hint.
        app.status.set_status("Saved.", "success")
        await settle(pilot)
        assert app.screen.query_one(StatusLine).render().plain == "Saved."  # type: ignore[union-attr]

    run(make_app(classes(), status_seconds=None), scenario, size=NARROW)


def test_the_last_message_outlives_the_status_line() -> None:
    async def scenario(pilot: Pilot[None], _: Recorder) -> None:
        app = app_of(pilot)
        app.status.set_status("Sorted by provider (s: next order).")
        app.status.set_status("")
        await pilot.press("L")
        await settle(pilot)
        assert list(app._notifications)[-1].message == "Sorted by provider (s: next order)."

    run(make_app(classes(), status_seconds=None), scenario, size=NARROW)


def test_a_narrow_tree_keeps_the_name_and_mark_and_gives_up_the_plugin() -> None:
    secrets = demo_secrets()
    long_name = "docker/mcp/oauth/a-very-long-secret-name-that-does-not-fit-at-all"
    secrets[long_name] = (b"x", {"expires": "2020-01-01"})

    async def scenario(pilot: Pilot[None], _: Recorder) -> None:
        tree = pilot.app.screen.query_one(RealmTree)
        assert tree.show_secret("docker/mcp/oauth/github")
        await settle(pilot)
        lines = screen_lines(pilot.app)
        rows = [line.partition("▕")[0] for line in lines if "▕" in line]
        github = next(row for row in rows if "github" in row)
        assert "github  expired  …" in github
        long_row = next(row for row in rows if "a-very-" in row)
        assert "…  expired" in long_row  # the name shortened, the mark kept
        assert "docker-pass" not in long_row

    run(make_app({"docker-pass": keychain_class(secrets)}), scenario, size=NARROW)
