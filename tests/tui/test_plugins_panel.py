"""The plugins panel: rows and badges, toggling, re-enabling a crash, changes made elsewhere."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.core.state import RunStatus, load_run_states
from docker_pass.tui.messages import PluginStateChanged, PluginToggled
from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.plugins import PluginsScreen
from docker_pass.tui.widgets.plugin_table import PluginDetail, PluginTable
from tests.support.helpers import docker_pass
from tests.support.tui_fakes import crashing_class, keychain_class, readonly_class
from tests.tui.conftest import Recorder, app_of, make_app, run, settle

if TYPE_CHECKING:
    from textual.pilot import Pilot


def classes() -> dict[str, type]:
    return {
        "docker-pass": keychain_class(),
        "1password-cli": crashing_class(),
        "1password-sdk": readonly_class(),
    }


def panel_of(pilot: Pilot[None]) -> PluginsScreen:
    screen = pilot.app.screen
    assert isinstance(screen, PluginsScreen)
    return screen


def statuses(pilot: Pilot[None]) -> dict[str, str]:
    return {s.name: s.status for s in app_of(pilot).plugins.statuses}


def test_p_lists_every_plugin_with_status_pattern_and_storage() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("p")
        await settle(pilot)
        panel = panel_of(pilot)
        table = panel.query_one(PluginTable)
        assert [s.name for s in table.plugins] == ["docker-pass", "1password-cli", "1password-sdk"]
        assert table.row_count == 3
        row = [str(cell) for cell in table.get_row_at(0)]
        assert row[:5] == ["docker-pass", "0.1.0", "● running", "no", "**"]
        # Longer than the column at 100 columns: it ends in … (the detail below has it whole).
        assert row[5].startswith("file store ~/.local/share/docker-pass/")
        assert row[5].endswith("…")
        assert table.max_scroll_x == 0  # fitted, not running off the edge
        assert [str(c) for c in table.get_row_at(1)][2] == "✖ crashed"
        detail = str(panel.query_one(PluginDetail).render())
        assert "Always on: not configurable." in detail
        assert "Storage: file store ~/.local/share/docker-pass/store" in detail
        await pilot.press("p")  # p again (or escape) goes back
        assert not isinstance(pilot.app.screen, PluginsScreen)

    run(make_app(classes()), scenario)


def test_a_crashed_plugin_shows_its_message_and_fix_and_is_re_enabled_after_asking() -> None:
    crashing = crashing_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("j")
        detail = str(panel_of(pilot).query_one(PluginDetail).render())
        assert "the 1Password CLI (op) was not found on PATH" in detail
        fix = "Fix: do what the message says, then press space / enter here to re-enable it"
        assert fix in detail
        starts = crashing.starts
        await pilot.press("enter")
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("escape")
        assert crashing.starts == starts
        await pilot.press("enter", "y")
        await settle(pilot)
        toggled = seen.of(PluginToggled)
        assert [(m.status.name, m.status.status, m.enabled) for m in toggled] == [
            ("1password-cli", RunStatus.CRASHED, True)
        ]
        assert crashing.starts == starts + 1
        assert app_of(pilot).status.message.level == "error"
        assert "1password-cli is crashed: the 1Password CLI" in app_of(pilot).status.message.text

    run(make_app({"docker-pass": keychain_class(), "1password-cli": crashing}), scenario)


def test_space_disables_and_enables_a_configurable_plugin_and_its_secrets_follow() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        assert app.listing.index.find("op/vault/github/token") is not None
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("j", "j", "space")
        await settle(pilot)
        assert statuses(pilot)["1password-sdk"] == RunStatus.DISABLED
        assert app.listing.index.find("op/vault/github/token") is None
        table = panel_of(pilot).query_one(PluginTable)
        assert table.cursor_row == 2  # the cursor stays on the row
        assert [str(c) for c in table.get_row_at(2)][2] == "○ disabled"
        await pilot.press("space")
        await settle(pilot)
        assert statuses(pilot)["1password-sdk"] == RunStatus.RUNNING
        assert app.listing.index.find("op/vault/github/token") is not None
        assert [m.enabled for m in seen.of(PluginToggled)] == [False, True]

    run(make_app(classes()), scenario)


def test_the_keychain_plugin_is_always_on() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app_of(pilot).status.message.text == (
            "docker-pass is always on: it is not configurable."
        )
        assert not seen.of(PluginToggled)

    run(make_app(classes()), scenario)


def test_the_panel_follows_a_change_made_by_another_process() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("p")
        await settle(pilot)
        app.plugins.check_state()
        await settle(pilot)
        assert not seen.of(PluginStateChanged)  # nothing changed yet
        # The real CLI, in another process, with the same config and state dirs.
        result = docker_pass("plugins", "disable", "1password-sdk")
        assert result.returncode == 0, result.stderr
        app.plugins.check_state()  # what the 1 s timer does
        await settle(pilot)
        assert len(seen.of(PluginStateChanged)) == 1
        assert statuses(pilot)["1password-sdk"] == RunStatus.DISABLED
        table = panel_of(pilot).query_one(PluginTable)
        assert [str(c) for c in table.get_row_at(2)][2] == "○ disabled"
        assert app.listing.index.find("op/vault/github/token") is None
        # Our own changes are not taken for another process's.
        await pilot.press("j", "j", "space")
        await settle(pilot)
        app.plugins.check_state()
        await settle(pilot)
        assert len(seen.of(PluginStateChanged)) == 1
        assert load_run_states()["1password-sdk"].status == RunStatus.RUNNING

    run(make_app(classes()), scenario)


def test_the_state_watch_runs_on_a_timer() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        docker_pass("plugins", "disable", "1password-sdk")
        for _ in range(40):  # up to 2 s for the 0.05 s timer to notice
            await pilot.pause(0.05)
            if seen.of(PluginStateChanged):
                break
        await settle(pilot)
        assert statuses(pilot)["1password-sdk"] == RunStatus.DISABLED

    run(make_app(classes(), poll_seconds=0.05), scenario)
