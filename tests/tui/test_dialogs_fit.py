"""Dialogs at 80x24 (issue 24, item 6): the vault setup form's error in view next to its
buttons, compact fields, a stored token said so; each dialog's footer lists its own keys; the
reveal key says "Hide" while a value is shown; help scrolls with j/k; a sort is seen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Input, Label, Static

from docker_pass.core.engine import Engine
from docker_pass.core.registry import BUILTIN_PLUGINS
from docker_pass.core.setup import secret_id
from docker_pass.tui.app import DockerPassApp
from docker_pass.tui.screens.help import HelpScreen
from docker_pass.tui.screens.main import MainScreen
from docker_pass.tui.screens.setup import SetupScreen
from docker_pass.tui.widgets.plugin_table import PluginTable
from tests.support.helpers import docker_pass
from tests.tui.conftest import app_of, make_app, run, select, settle, type_text, until
from tests.tui.screen_text import screen_lines

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

    from tests.tui.conftest import Recorder

NARROW = (80, 24)
SPECS = {name: BUILTIN_PLUGINS[name] for name in ("docker-pass", "vault")}


def vault_app() -> DockerPassApp:
    app = DockerPassApp(lambda: Engine(specs=SPECS), poll_seconds=None, cursor_blink=False)
    app.animation_level = "none"
    return app


async def open_vault_form(pilot: Pilot[None]) -> SetupScreen:
    await pilot.press("p")
    await settle(pilot)
    table = pilot.app.screen.query_one(PluginTable)
    while table.current is not None and table.current.name != "vault":
        await pilot.press("j")
    await pilot.press("s")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, SetupScreen)
    return form


def footer_line(pilot: Pilot[None]) -> str:
    return screen_lines(pilot.app)[-1]


def test_the_setup_forms_error_is_in_view_next_to_the_buttons_at_80x24(
    isolated_home: Path,
) -> None:
    async def scenario(pilot: Pilot[None], _: Recorder) -> None:
        form = await open_vault_form(pilot)
        # Compact fields, like the editor's: one line each.
        for field in form.query(Input):
            assert field.compact
            assert field.size.height == 1
        await type_text(pilot, "https://127.0.0.1:1", "#setup-field-0")
        await pilot.press("ctrl+s")
        await settle(pilot)
        error = form.query_one("#setup-error", Static)
        text = str(error.render())
        assert text, "the form's error line is empty"
        # In view: inside the dialog's visible region, right above the buttons.
        buttons = form.query_one("#setup-buttons")
        assert error.region.height >= 1
        assert error.region.bottom <= buttons.region.y
        assert form.screen.region.contains_region(error.region)
        lines = screen_lines(pilot.app)
        assert any(text[:30] in line for line in lines)
        # The dialog's footer: its keys, not the main screen's.
        footer = footer_line(pilot)
        assert "Save" in footer
        assert "Cancel" in footer
        assert "Quit" not in footer
        assert "Reveal" not in footer

    run(vault_app(), scenario, size=NARROW)


def test_a_stored_token_is_said_so_and_an_empty_one_keeps_it(isolated_home: Path) -> None:
    stored = docker_pass(
        "set", secret_id("vault", "token").value, input=b"s.not-a-real-token"
    )  # the CLI stores it where the setup form would
    assert stored.returncode == 0, stored.stderr

    async def scenario(pilot: Pilot[None], _: Recorder) -> None:
        form = await open_vault_form(pilot)
        labels = [str(label.render()) for label in form.query(Label)]
        assert "Token (stored; leave empty to keep)" in labels
        assert "Token (optional)" not in labels
        assert "Address" in labels

    run(vault_app(), scenario, size=NARROW)


def test_without_a_stored_token_the_field_is_optional(isolated_home: Path) -> None:
    async def scenario(pilot: Pilot[None], _: Recorder) -> None:
        form = await open_vault_form(pilot)
        labels = [str(label.render()) for label in form.query(Label)]
        assert "Token (optional)" in labels

    run(vault_app(), scenario, size=NARROW)


def test_reveal_says_hide_while_the_value_is_shown() -> None:
    async def scenario(pilot: Pilot[None], _: Recorder) -> None:
        await select(pilot, "gh/ci/token")
        assert " r Reveal " in footer_line(pilot) + " "
        await pilot.press("r")
        await settle(pilot)
        assert app_of(pilot).values.revealed_for is not None
        await until(pilot, lambda: "r Hide" in footer_line(pilot), "r Hide in the footer")
        await pilot.press("r")  # hides it again
        await settle(pilot)
        assert app_of(pilot).values.revealed_for is None
        await until(pilot, lambda: "r Reveal" in footer_line(pilot), "r Reveal in the footer")

    run(make_app(), scenario, size=NARROW)


def test_help_scrolls_with_j_k_and_g_and_its_footer_is_its_own() -> None:
    async def scenario(pilot: Pilot[None], _: Recorder) -> None:
        await pilot.press("question_mark")
        await settle(pilot)
        help_screen = pilot.app.screen
        assert isinstance(help_screen, HelpScreen)
        body = help_screen.query_one("#help-body")
        assert body.max_scroll_y > 0  # at 80x24 the keys are taller than the dialog
        await pilot.press("j", "j", "j")
        assert body.scroll_y == 3
        await pilot.press("k")
        assert body.scroll_y == 2
        await pilot.press("G")
        assert body.scroll_y == body.max_scroll_y
        await pilot.press("g")
        assert body.scroll_y == 0
        await pilot.press("space")
        assert body.scroll_y > 3
        footer = footer_line(pilot)
        assert "Close" in footer
        assert "j/k Scroll" in footer
        assert "Reveal" not in footer

    run(make_app(), scenario, size=NARROW)


def test_sorting_by_provider_is_seen_in_the_count_line_at_80_columns() -> None:
    async def scenario(pilot: Pilot[None], _: Recorder) -> None:
        assert isinstance(pilot.app.screen, MainScreen)
        await pilot.press("slash")
        await type_text(pilot, "myapp/*/postgres/**")
        await pilot.press("enter")
        await pilot.press("s")
        await settle(pilot)
        count_line = screen_lines(pilot.app)[2]
        assert count_line.rstrip().endswith("by provider")
        assert count_line.startswith(" pattern · 3 of 15 match")

    run(make_app(), scenario, size=NARROW)


def test_a_hide_label_stays_with_its_own_screen() -> None:
    """The label is the screen's own: another app started after one that showed a value
    (as in one test process) says Reveal."""

    async def revealed(pilot: Pilot[None], _: Recorder) -> None:
        await select(pilot, "gh/ci/token")
        await pilot.press("r")
        await settle(pilot)
        await until(pilot, lambda: "r Hide" in footer_line(pilot), "r Hide in the footer")

    async def fresh(pilot: Pilot[None], _: Recorder) -> None:
        await select(pilot, "gh/ci/token")
        assert app_of(pilot).values.revealed_for is None
        assert "r Reveal" in footer_line(pilot)

    run(make_app(), revealed, size=NARROW)
    run(make_app(), fresh, size=NARROW)
