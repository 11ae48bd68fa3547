"""Plugins from the UI: a plugin's setup form (the same rules and messages as the CLI), disabling
a crashed plugin, and the keymap checked on start with hints that show the keys in effect."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import Button, Input, Static

from docker_pass.backends.onepassword.sdk_plugin import (
    NO_TOKEN,
    NOT_A_TOKEN,
    TOKEN_REJECTED,
)
from docker_pass.cli.commands.ui import read_keymap
from docker_pass.core.config import load_config
from docker_pass.core.errors import DockerPassError, FatalPluginError
from docker_pass.core.ids import Pattern
from docker_pass.core.plugin import READ_ONLY
from docker_pass.core.state import RunStatus
from docker_pass.tui.keys import (
    check_keymap,
    key_for,
    key_problem,
    keymap_warning,
    known_binding_ids,
)
from docker_pass.tui.messages import PluginSetUp, PluginToggled, SetupRefused
from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.plugins import PluginsScreen
from docker_pass.tui.screens.setup import SetupScreen
from docker_pass.tui.widgets.plugin_table import PluginDetail, PluginTable
from tests.support.fakes.onepassword_data import TOKEN_ID
from tests.support.tui_fakes import crashing_class, keychain_class
from tests.tui.conftest import Recorder, app_of, make_app, run, settle, type_text

if TYPE_CHECKING:
    import builtins

    import pytest
    from textual.pilot import Pilot

    from docker_pass.core.envelope import Envelope, SecretInfo
    from docker_pass.tui.app import DockerPassApp

TOKEN = "ops_fake-service-account-token"
FIELD = "#setup-field-0"


def sdk_class(store: dict[str, tuple[bytes, dict[str, str]]]) -> type[Any]:
    """A stand-in for 1password-sdk (the real one's registry entry describes the form): it comes
    up only once the keychain holds its token."""

    class FakeSdk:
        name = "1password-sdk"
        version = "0.1.0"
        pattern = Pattern("**")
        configurable = True
        capabilities = READ_ONLY
        enabled_by_default = False

        def start(self) -> None:
            if TOKEN_ID not in store:
                raise FatalPluginError(NO_TOKEN)
            if store[TOKEN_ID][0] != TOKEN.encode():
                raise FatalPluginError(TOKEN_REJECTED)  # what 1Password says of a wrong one

        def stop(self) -> None:
            pass

        def storage(self) -> str:
            return "1Password service account (fake)"

        def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
            return []

        def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
            return []

    return FakeSdk


def setup_app(
    keychain: type[Any] | None = None, **options: Any
) -> tuple[DockerPassApp, dict[str, tuple[bytes, dict[str, str]]]]:
    """An app over the demo keychain, a crashed 1password-cli and the stand-in 1password-sdk;
    and the keychain's secrets."""
    keychain = keychain or keychain_class()
    store: dict[str, tuple[bytes, dict[str, str]]] = keychain.secrets
    classes = {
        "docker-pass": keychain,
        "1password-cli": crashing_class(),
        "1password-sdk": sdk_class(store),
    }
    return make_app(classes, **options), store


def status_of(pilot: Pilot[None], name: str) -> str:
    return next(s.status for s in app_of(pilot).plugins.statuses if s.name == name)


async def open_sdk_form(pilot: Pilot[None]) -> SetupScreen:
    await pilot.press("p")
    await settle(pilot)
    await pilot.press("j", "j")
    table = pilot.app.screen.query_one(PluginTable)
    assert table.current is not None
    assert table.current.name == "1password-sdk"
    panel = pilot.app.screen
    assert isinstance(panel, PluginsScreen)
    assert "1password-sdk" in panel.setups
    detail = str(pilot.app.screen.query_one(PluginDetail).render())
    assert "s: set it up" in detail
    await pilot.press("s")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SetupScreen)
    return screen


def error_under_field(screen: SetupScreen) -> str:
    return str(screen.query_one("#setup-error-0", Static).render())


def test_a_bad_token_shows_the_clis_rule_for_the_field_and_stores_nothing() -> None:
    app, store = setup_app()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        screen = await open_sdk_form(pilot)
        field = screen.query_one(FIELD, Input)
        assert field.password  # masked
        assert field.has_focus
        await type_text(pilot, "ops_one ops_two")
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen is screen
        assert error_under_field(screen) == (
            "the field holds more than one word: give exactly one service account token"
        )
        assert field.has_class("-invalid")
        field.value = ""
        await type_text(pilot, "not-a-token")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert error_under_field(screen) == NOT_A_TOKEN
        field.value = ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert error_under_field(screen) == "no token given: type it in the field"
        assert [m.field for m in seen.of(SetupRefused)] == ["service-account-token"] * 3
        assert TOKEN_ID not in store
        assert status_of(pilot, "1password-sdk") == RunStatus.DISABLED
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, PluginsScreen)
        assert TOKEN_ID not in store

    run(app, scenario)


def test_a_good_token_is_stored_by_the_keychain_plugin_and_the_plugin_comes_up() -> None:
    app, store = setup_app()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await open_sdk_form(pilot)
        await type_text(pilot, f"  {TOKEN} ")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, PluginsScreen)  # the form closed
        assert store[TOKEN_ID] == (TOKEN.encode(), {})
        assert status_of(pilot, "1password-sdk") == RunStatus.RUNNING
        table = pilot.app.screen.query_one(PluginTable)
        assert [str(c) for c in table.get_row_at(2)][2] == "● running"
        message = app_of(pilot).status.message
        assert message.level == "success"
        assert message.text.startswith(
            "Stored the 1Password service account token with the docker-pass plugin"
        )
        assert message.text.endswith("1password-sdk is running")
        assert load_config()["plugins"]["1password-sdk"]["enabled"] is True
        (done,) = seen.of(PluginSetUp)
        assert done.result.status.status == RunStatus.RUNNING
        # The token reached the keychain, and nothing else: no message, worker or status.
        for recorded in seen.messages:
            assert TOKEN not in repr(recorded)
        for worker in pilot.app.workers:
            assert TOKEN not in repr(worker)
            assert TOKEN not in worker.description
        assert TOKEN not in message.text

    run(app, scenario)


def test_a_token_the_service_rejects_is_stored_and_the_form_says_why_it_crashed() -> None:
    app, store = setup_app()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        screen = await open_sdk_form(pilot)
        await type_text(pilot, "ops_revoked-token")
        await pilot.press("enter")
        await settle(pilot)
        # As on the command line: stored, enabled, and then crashed with 1Password's reason.
        assert store[TOKEN_ID][0] == b"ops_revoked-token"
        assert status_of(pilot, "1password-sdk") == RunStatus.CRASHED
        assert pilot.app.screen is screen  # left open, to try another token
        general = str(screen.query_one("#setup-error", Static).render())
        assert general == f"1password-sdk is crashed: {TOKEN_REJECTED}"
        assert app_of(pilot).status.message.level == "error"
        assert "ops_revoked-token" not in app_of(pilot).status.message.text
        screen.query_one(FIELD, Input).value = TOKEN
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, PluginsScreen)
        assert status_of(pilot, "1password-sdk") == RunStatus.RUNNING

    run(app, scenario)


def test_a_store_that_fails_is_reported_in_the_form_and_the_status_line() -> None:
    def refuse(self: object, id_: object, value: bytes, metadata: object) -> None:
        raise DockerPassError("the keychain is locked")

    keychain = keychain_class()
    keychain.save = refuse
    app, store = setup_app(keychain)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        screen = await open_sdk_form(pilot)
        await type_text(pilot, TOKEN)
        await pilot.press("enter")
        await settle(pilot)
        assert pilot.app.screen is screen
        general = str(screen.query_one("#setup-error", Static).render())
        assert general == "Not set up: the keychain is locked"
        message = app_of(pilot).status.message
        assert message.text == "Setting up the plugin failed: the keychain is locked"
        assert TOKEN_ID not in store
        assert status_of(pilot, "1password-sdk") == RunStatus.DISABLED

    run(app, scenario)


def test_the_palette_offers_set_up_and_both_actions_on_a_crashed_plugin() -> None:
    app, _store = setup_app()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        commands = {c.title: c.callback for c in app.get_system_commands(app.screen)}
        assert "Re-enable plugin 1password-cli" in commands
        assert "Disable plugin 1password-cli" in commands
        assert "Enable plugin 1password-sdk" in commands
        assert "Set up plugin docker-pass" not in commands
        commands["Set up plugin 1password-sdk"]()
        await settle(pilot)
        assert isinstance(pilot.app.screen, SetupScreen)
        await pilot.press("escape")
        commands["Disable plugin 1password-cli"]()
        await settle(pilot)
        assert status_of(pilot, "1password-cli") != RunStatus.CRASHED
        assert [(m.status.name, m.enabled) for m in seen.of(PluginToggled)] == [
            ("1password-cli", False)
        ]

    run(app, scenario)


def test_x_disables_a_crashed_plugin_without_starting_it() -> None:
    crashing = crashing_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("j")
        detail = str(pilot.app.screen.query_one(PluginDetail).render())
        assert "x disables it." in detail
        starts = crashing.starts
        await pilot.press("x")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, ConfirmScreen)  # disabling needs no question
        assert status_of(pilot, "1password-cli") == RunStatus.DISABLED
        assert crashing.starts == starts
        assert load_config()["plugins"]["1password-cli"]["enabled"] is False
        await pilot.press("x")
        assert app_of(pilot).status.message.text == "1password-cli is already disabled."
        await pilot.press("s")
        assert app_of(pilot).status.message.text == "1password-cli has nothing to set up."
        await pilot.press("k", "x")
        assert app_of(pilot).status.message.text == (
            "docker-pass is always on: it is not configurable."
        )

    run(make_app({"docker-pass": keychain_class(), "1password-cli": crashing}), scenario)


# -- the keymap ------------------------------------------------------------------------------


def test_key_names_are_checked_as_textual_reads_them() -> None:
    for good in ("v", "P", "ctrl+s", "ctrl+shift+a", "f5", "question_mark", "slash", "h,left"):
        assert key_problem(good) == "", good
    assert key_problem("") == "no key given"
    assert key_problem("   ") == "no key given"
    assert key_problem("v,") == "an empty key between commas"
    assert key_problem("ctrl+") == "'ctrl+' names no key after its modifier"
    assert key_problem("bogus") == "'bogus' is not a key name Textual knows"
    assert key_problem("cmd+v") == (
        "'cmd+v': 'cmd' is not a modifier (ctrl, shift, alt, meta, super, hyper)"
    )
    assert key_problem("ctrl s") == "'ctrl s' holds a space or a control character"


def test_every_binding_id_is_known_and_unknown_ones_are_named() -> None:
    from docker_pass.tui.app import DockerPassApp

    known = known_binding_ids(DockerPassApp.BINDINGS)
    assert {"app.quit", "main.reveal", "editor.save", "plugins.disable", "plugins.setup"} <= known
    assert {"setup.save", "confirm.yes", "help.close", "tree.left"} <= known
    valid, warnings = check_keymap(
        {"main.reveal": "v", "main.revael": "v", "app.quit": "ctrl+"}, known
    )
    assert valid == {"main.reveal": "v"}
    assert warnings == [
        "'main.revael': no binding has this id",
        "app.quit: 'ctrl+' names no key after its modifier",
    ]


def test_a_bad_keymap_entry_is_named_and_ignored_and_the_good_ones_apply() -> None:
    keymap = {"main.revael": "v", "app.quit": "bogus", "app.plugins": "P", "plugins.disable": "D"}

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        assert app.user_keymap == {"app.plugins": "P", "plugins.disable": "D"}
        assert app.keymap_warnings == [
            "'main.revael': no binding has this id",
            "app.quit: 'bogus' is not a key name Textual knows",
        ]
        notes = [n.message for n in app._notifications]
        assert notes == [keymap_warning(app.keymap_warnings)]
        assert notes[0].startswith("tui.keymap: ignored 2 entries: 'main.revael': no binding")
        await pilot.press("P")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PluginsScreen)
        intro = str(screen.query_one("#plugins-intro", Static).render())
        assert "; D disables it;" in intro
        assert key_for(app, "plugins.disable", "x") == "D"
        assert key_for(app, "editor.save", "ctrl+s") == "ctrl+s"
        await pilot.press("j")
        assert "D disables it." in str(screen.query_one(PluginDetail).render())
        await pilot.press("D")
        await settle(pilot)
        assert status_of(pilot, "1password-cli") == RunStatus.DISABLED

    run(make_app(keymap=keymap), scenario)


def test_docker_pass_ui_names_the_ignored_entries_on_stderr_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    entries = read_keymap({"main.reveal": "v", "nope": "x"})
    assert entries == {"main.reveal": "v", "nope": "x"}  # the app ignores it again, and says so
    assert capsys.readouterr().err == (
        "docker pass ui: tui.keymap: ignored 1 entry: 'nope': no binding has this id\n"
    )
    read_keymap({"main.reveal": "v"})
    assert capsys.readouterr().err == ""


def test_the_setup_form_uses_the_dialogs_one_button_style() -> None:
    app, _store = setup_app()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        screen = await open_sdk_form(pilot)
        buttons = [(str(b.label), b.compact, b.variant) for b in screen.query(Button)]
        assert buttons == [("Save (ctrl+s)", True, "primary"), ("Cancel (esc)", True, "default")]

    run(app, scenario)
