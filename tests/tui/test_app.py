"""App-wide behaviour: help, command palette, quitting, 80x24, errors, keymaps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer, Input

from docker_pass.core.config import config_path
from docker_pass.core.engine import Engine
from docker_pass.core.registry import BUILTIN_PLUGINS
from docker_pass.tui.app import DockerPassApp
from docker_pass.tui.keys import parse_keymap
from docker_pass.tui.screens.editor import EditorScreen
from docker_pass.tui.screens.help import HelpScreen
from docker_pass.tui.screens.main import MainScreen
from docker_pass.tui.screens.plugins import PluginsScreen
from docker_pass.tui.widgets.detail_pane import DetailPane
from docker_pass.tui.widgets.pattern_bar import PatternBar
from docker_pass.tui.widgets.realm_tree import RealmTree
from docker_pass.tui.widgets.tree_content import RealmNode
from tests.support.tui_fakes import crashing_class, keychain_class
from tests.tui.conftest import Recorder, app_of, make_app, run, select, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from docker_pass.core.envelope import Envelope
    from docker_pass.core.ids import ID


def test_question_mark_shows_every_key_and_closes_again() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("question_mark")
        screen = pilot.app.screen
        assert isinstance(screen, HelpScreen)
        titles = [title for title, _ in screen.sections]
        assert titles == [
            "Secrets",
            "Pattern field",
            "Anywhere",
            "Realm tree",
            "Editor",
            "Plugins panel",
        ]
        keys = {item.keys for _, items in screen.sections for item in items}
        for key in ("/", "r", "c", "y", "n", "e", "d", "q", "?", "p", "ctrl+p", "j", "k"):
            assert key in keys
        for key in ("h / ←", "l / →", "g / home", "G / end", "ctrl+s", "space / enter"):
            assert key in keys
        await pilot.press("question_mark")
        assert isinstance(pilot.app.screen, MainScreen)

    run(make_app(), scenario)


def test_the_command_palette_offers_the_same_actions() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in (
            "New secret",
            "Reveal value",
            "Copy value",
            "Copy reference",
            "Edit secret",
            "Delete secret",
            "Show plugins",
            "Re-enable plugin 1password-cli",
            "Jump to realm docker/auth",
            "Help",
        ):
            assert title in titles
        await pilot.press("ctrl+p")
        await settle(pilot)
        await type_text(pilot, "new secret")
        await pilot.pause(0.2)  # the palette searches in a task of its own
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EditorScreen)

    run(make_app(), scenario)


def test_palette_commands_jump_to_a_realm_and_act_on_the_selection() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        commands = {c.title: c.callback for c in app.get_system_commands(app.screen)}
        await pilot.press("slash")
        await type_text(pilot, "gh/**")
        commands["Jump to realm docker/mcp/oauth"]()  # hidden by the filter: it is cleared
        await settle(pilot)
        tree = app.screen.query_one(RealmTree)
        assert tree.highlighted == RealmNode("docker/mcp/oauth", 2)
        assert app.pattern.preview.pattern is None
        await pilot.press("l", "l")
        await settle(pilot)
        assert app.secrets.selected is not None
        assert app.secrets.selected.id.value == "docker/mcp/oauth/github"
        await pilot.press("p")
        commands["Copy reference"]()  # from the plugins panel: back on the main screen
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.clipboard == "se://docker/mcp/oauth/github"

    run(make_app(), scenario)


def test_q_quits_but_not_while_editing() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("n")
        app.screen.query_one("#editor-save").focus()
        await pilot.press("q")  # with a button focused, q must not throw the edit away
        assert isinstance(app.screen, EditorScreen)
        await pilot.press("ctrl+p")  # nor may a palette command pop the editor
        assert isinstance(app.screen, EditorScreen)
        await pilot.press("escape", "q")
        await settle(pilot)
        assert app.return_code == 0
        assert not app.is_running

    run(make_app(), scenario)


def test_the_layout_works_at_80x24() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await select(pilot, "docker/auth/hub/alice")
        for widget in (
            app.screen.query_one(RealmTree),
            app.screen.query_one(DetailPane),
            app.screen.query_one(PatternBar),
            app.screen.query_one(Footer),
        ):
            region = widget.region
            assert region.width > 0
            assert region.height > 0
            assert region.right <= 80
            assert region.bottom <= 24
        tree = app.screen.query_one(RealmTree)
        assert tree.region.width >= 28
        assert tree.region.height >= 15
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PluginsScreen)
        await pilot.press("escape", "n")
        editor = app.screen
        assert isinstance(editor, EditorScreen)
        assert editor.query_one("#editor-save").region.bottom <= 24

    run(make_app(), scenario, size=(80, 24))


def test_a_worker_error_becomes_one_status_message_without_its_text() -> None:
    base = keychain_class()

    class Broken(base):  # type: ignore[misc, valid-type]
        def get(self, id_: ID) -> Envelope:
            raise RuntimeError("would show dckr_pat_demo-alice-not-a-real-token")

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await select(pilot, "docker/auth/hub/alice")
        await pilot.press("r")
        await settle(pilot)
        assert app.status.message.text == "Reading the value failed: internal error (RuntimeError)"
        assert app.status.message.level == "error"
        assert app.is_running

    run(make_app({"docker-pass": Broken}), scenario)


def test_an_engine_that_cannot_start_says_why_in_the_tree_and_status_line() -> None:
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text("{not json")
    specs = {"docker-pass": BUILTIN_PLUGINS["docker-pass"]}
    app = DockerPassApp(lambda: Engine(specs=specs), poll_seconds=None, cursor_blink=False)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        message = app_of(pilot).status.message
        assert message.level == "error"
        assert message.text.startswith("Listing secrets failed: reading config ")
        assert message.text.endswith("invalid JSON at line 1")
        tree = pilot.app.screen.query_one(RealmTree)
        first = tree.get_node_at_line(0)
        assert first is not None
        assert str(first.label) == "✖ engine: listing failed"

    run(app, scenario)


def test_keys_can_be_remapped_by_binding_id() -> None:
    keymap = {"main.reveal": "v", "app.plugins": "P"}

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await select(pilot, "docker/auth/hub/alice")
        await pilot.press("v")
        await settle(pilot)
        assert app.values.revealed_for is not None
        await pilot.press("P")
        assert isinstance(app.screen, PluginsScreen)
        await pilot.press("escape", "question_mark")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        secrets = dict(screen.sections)["Secrets"]
        assert ("v", "Reveal the value (hidden again later)") in [
            (k.keys, k.description) for k in secrets
        ]

    run(make_app(keymap=keymap), scenario)


def test_cursor_blink_can_be_turned_off_for_pictures() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("slash")
        field = pilot.app.screen.query_one("#pattern-input", Input)
        assert field.has_focus
        assert not field.cursor_blink

    run(make_app({"docker-pass": keychain_class(), "x": crashing_class("x")}), scenario)


def test_a_malformed_keymap_section_is_ignored_entry_by_entry() -> None:
    assert parse_keymap({"main.reveal": "v", "bad": 3}) == {"main.reveal": "v"}
    assert parse_keymap(["not", "a", "dict"]) == {}
