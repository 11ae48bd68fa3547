"""What the editor keeps and what it asks: a pasted multi-line value is stored whole,
"New" on a listed ID asks before replacing it, an empty value asks, and Esc on an edited form
asks before discarding it (an untouched one closes at once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.widgets import Button, Input, Static

from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.editor import EditorScreen
from docker_pass.tui.screens.main import MainScreen
from docker_pass.tui.widgets.metadata_rows import MetadataRow
from docker_pass.tui.widgets.value_area import ValueArea, describe_value
from tests.support.tui_fakes import keychain_class
from tests.tui.conftest import Recorder, app_of, make_app, run, select, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot

ALICE = "docker/auth/hub/alice"
ALICE_VALUE = b"dckr_pat_demo-alice-not-a-real-token"
#: A PEM-like value (made up), as a file holds it: LF line breaks, a final one.
PEM = (
    "-----BEGIN DEMO PRIVATE KEY-----\n"
    "MIIBVgIBADANBgkqhkiG9w0BAQEFAASCAUAwggE8AgEAAkEAdemoNotARealKeyAtAll0000\n"
    "-----END DEMO PRIVATE KEY-----\n"
)


def editor_of(pilot: Pilot[None]) -> EditorScreen:
    screen = pilot.app.screen
    assert isinstance(screen, EditorScreen), f"on {screen!r}, not the editor"
    return screen


def question_of(pilot: Pilot[None]) -> tuple[str, str, str]:
    """The open confirmation's title, body and yes-button label."""
    screen = pilot.app.screen
    assert isinstance(screen, ConfirmScreen), f"on {screen!r}, not a confirmation"
    title = str(screen.query_one("#confirm-title", Static).render())
    body = str(screen.query_one("#confirm-body", Static).render())
    yes = str(screen.query_one("#confirm-yes", Button).label)
    return title, body, yes


def status_of(pilot: Pilot[None]) -> str:
    return app_of(pilot).status.message.text


def drawn(area: ValueArea) -> list[str]:
    """The value area's lines as they reach the screen."""
    return [area.render_line(y).text.rstrip() for y in range(area.size.height)]


async def paste(pilot: Pilot[None], text: str) -> None:
    """A bracketed paste, as the terminal driver delivers it (to the focused widget)."""
    pilot.app.post_message(events.Paste(text))
    await settle(pilot)


async def new_secret(pilot: Pilot[None], id_: str) -> EditorScreen:
    await pilot.press("n", "ctrl+u")  # ctrl+u: clear the realm "New" pre-filled
    await type_text(pilot, id_)
    editor = editor_of(pilot)
    editor.query_one(ValueArea).focus()
    await settle(pilot)
    return editor


def test_a_pasted_pem_key_is_stored_whole_and_drawn_masked() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        editor = await new_secret(pilot, "tls/demo/key")
        # Terminals (and tmux) send a pasted line feed as CR; the area stores line breaks as LF.
        await paste(pilot, PEM.replace("\n", "\r"))
        area = editor.query_one(ValueArea)
        assert area.text == PEM
        lines = drawn(area)
        # Every character drawn as •, none of the value itself (line breaks are not drawn).
        assert set("".join(lines)) == {"•"}
        assert sum(len(line) for line in lines) == len(PEM) - PEM.count("\n")
        assert len(lines) >= 3
        hint = str(editor.query_one("#editor-value-hint", Static).render())
        assert hint == f"{len(PEM)} characters on 3 lines, ending with a line break"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert keychain.secrets["tls/demo/key"] == (PEM.encode(), {})
        assert status_of(pilot) == "Created tls/demo/key in docker-pass."

    run(make_app({"docker-pass": keychain}), scenario)


def test_a_paste_without_a_final_line_break_gets_none_and_lf_pastes_stay_lf() -> None:
    keychain = keychain_class()
    value = PEM.rstrip("\n")

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await new_secret(pilot, "tls/demo/no-final-break")
        await paste(pilot, value)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert keychain.secrets["tls/demo/no-final-break"][0] == value.encode()

    run(make_app({"docker-pass": keychain}), scenario)


def test_typed_text_and_enter_make_lines_too() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await new_secret(pilot, "multi/typed")
        await pilot.press("a", "enter", "b")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert keychain.secrets["multi/typed"][0] == b"a\nb"

    run(make_app({"docker-pass": keychain}), scenario)


def test_new_on_a_listed_id_asks_before_replacing_and_says_replaced() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        editor = await new_secret(pilot, ALICE)
        await type_text(pilot, "dckr_pat_new-demo-value")
        await pilot.press("ctrl+s")
        await settle(pilot)
        title, body, yes = question_of(pilot)
        assert title == f"Replace {ALICE}?"
        assert body == (
            f"{ALICE} exists in docker-pass.\n"
            "Saving replaces its value and metadata with what you typed."
        )
        assert yes == "Replace (y)"
        await pilot.press("n")
        await settle(pilot)
        assert editor_of(pilot) is editor  # back in the form, everything still typed
        assert editor.error == "Not saved."
        assert not editor.saving
        assert editor.query_one(ValueArea).text == "dckr_pat_new-demo-value"
        assert not seen.of(EditorScreen.SaveRequested)
        assert keychain.secrets[ALICE][0] == ALICE_VALUE

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert question_of(pilot)[0] == f"Replace {ALICE}?"
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)
        assert keychain.secrets[ALICE] == (b"dckr_pat_new-demo-value", {})
        assert status_of(pilot) == f"Replaced {ALICE} in docker-pass. u undoes it."

    run(make_app({"docker-pass": keychain}), scenario)


def test_saving_an_empty_value_asks_first() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await new_secret(pilot, "flags/empty")
        await pilot.press("ctrl+s")
        await settle(pilot)
        title, body, yes = question_of(pilot)
        assert (title, yes) == ("Empty value", "Save empty (y)")
        assert body == (
            "Save flags/empty with an empty value?\n"
            "Nothing was typed or pasted into the value field."
        )
        await pilot.press("escape")  # escape answers no
        await settle(pilot)
        assert editor_of(pilot).error == "Not saved."
        assert "flags/empty" not in keychain.secrets
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert keychain.secrets["flags/empty"] == (b"", {})
        assert status_of(pilot) == "Created flags/empty in docker-pass."

    run(make_app({"docker-pass": keychain}), scenario)


def test_an_empty_value_on_a_listed_id_asks_both_questions_in_turn() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await new_secret(pilot, ALICE)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert question_of(pilot)[0] == f"Replace {ALICE}?"
        await pilot.press("y")
        await settle(pilot)
        assert question_of(pilot)[0] == "Empty value"
        await pilot.press("n")
        await settle(pilot)
        assert keychain.secrets[ALICE][0] == ALICE_VALUE  # one "no" is enough to stop
        assert not seen.of(EditorScreen.SaveRequested)

    run(make_app({"docker-pass": keychain}), scenario)


def test_escape_on_an_edited_form_asks_before_discarding() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        editor = await new_secret(pilot, "x/y")
        await paste(pilot, PEM)
        await pilot.press("escape")
        await settle(pilot)
        title, body, yes = question_of(pilot)
        assert (title, yes) == ("Discard changes", "Discard (y)")
        assert body == "Close the editor and discard what you typed for x/y?\nNothing is saved."
        await pilot.press("n")
        await settle(pilot)
        assert editor_of(pilot) is editor
        assert editor.query_one("#editor-id", Input).value == "x/y"
        assert editor.query_one(ValueArea).text == PEM
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)
        assert not seen.of(EditorScreen.SaveRequested)
        assert "x/y" not in keychain.secrets

    run(make_app({"docker-pass": keychain}), scenario)


def test_removing_a_metadata_row_is_an_edit_too() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("e")
        editor = editor_of(pilot)
        assert not editor.edited
        editor.query(MetadataRow).first().query_one(Button).press()
        await settle(pilot)
        assert editor.edited
        await pilot.press("escape")
        await settle(pilot)
        title, body, _yes = question_of(pilot)
        assert title == "Discard changes"
        assert f"what you typed for {ALICE}?" in body

    run(make_app(), scenario)


def test_discarding_a_new_secret_without_a_valid_id_names_no_id() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("n", "x", "space", "y")  # "x y" is no ID
        await pilot.press("escape")
        await settle(pilot)
        body = question_of(pilot)[1]
        assert body == (
            "Close the editor and discard what you typed for the new secret?\nNothing is saved."
        )

    run(make_app(), scenario)


def test_escape_on_an_untouched_form_closes_at_once() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("n")
        await pilot.press("ctrl+n")  # an empty metadata row is not an edit
        await settle(pilot)
        assert not editor_of(pilot).edited
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        await select(pilot, ALICE)
        await pilot.press("e")
        await settle(pilot)
        assert not editor_of(pilot).edited
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert not seen.of(EditorScreen.SaveRequested)
        # No confirmation was ever opened.
        assert not any(isinstance(s, ConfirmScreen) for s in app.screen_stack)

    run(make_app(), scenario)


def test_the_value_area_never_copies_to_the_clipboard() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        editor = await new_secret(pilot, "x/y")
        await type_text(pilot, "typed-demo-value")
        await pilot.press("f7")  # select all
        assert editor.query_one(ValueArea).selected_text == "typed-demo-value"
        await pilot.press("ctrl+c")
        await pilot.press("ctrl+x")
        await settle(pilot)
        assert app.clipboard == ""
        assert editor.query_one(ValueArea).text == "typed-demo-value"  # nor cut away

    run(make_app(), scenario)


def test_describe_value() -> None:
    assert describe_value("") == ""
    assert describe_value("a") == "1 character"
    assert describe_value("ab\n") == "3 characters, ending with a line break"
    assert describe_value("a\nb") == "3 characters on 2 lines"
    assert describe_value("a\nb\n") == "4 characters on 2 lines, ending with a line break"
