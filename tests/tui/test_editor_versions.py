"""The editor saves with the version it opened (or loaded with ctrl+r): a change made elsewhere
meanwhile ends in a question (overwrite / reload / cancel), and nothing typed is lost on any
answer.  Over a versioned plugin whose listing carries no versions (the editor reads the
version as it opens, as for the Secret Service) and one whose listing does (the file store);
the real stores' tests are in ``test_editor_conflicts_real.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from textual.widgets import Button, Input, Static

from docker_pass.tui.screens.choice import ChoiceScreen
from docker_pass.tui.screens.editor import EditorScreen
from docker_pass.tui.screens.main import MainScreen
from docker_pass.tui.widgets.metadata_rows import MetadataRow
from docker_pass.tui.widgets.value_area import ValueArea
from tests.support.tui_fakes import keychain_class
from tests.support.tui_versioned import versioned_class
from tests.tui.conftest import Recorder, app_of, make_app, run, select, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot

ID_ = "team/db/password"
SEED = {ID_: (b"stored-1", {"owner": "team"}), "team/api": (b"k", {})}


def editor_of(pilot: Pilot[None]) -> EditorScreen:
    screen = pilot.app.screen
    assert isinstance(screen, EditorScreen), screen
    return screen


def text_of(pilot: Pilot[None], selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


def question(pilot: Pilot[None]) -> tuple[str, str, list[str]]:
    screen = pilot.app.screen
    assert isinstance(screen, ChoiceScreen), screen
    buttons = [str(b.label) for b in screen.query(Button)]
    return text_of(pilot, "#confirm-title"), text_of(pilot, "#confirm-body"), buttons


def rows(editor: EditorScreen) -> list[tuple[str, str]]:
    return [r.pair for r in editor.query(MetadataRow) if r.pair != ("", "")]


async def open_and_type(pilot: Pilot[None], typed: str) -> EditorScreen:
    await select(pilot, ID_)
    await pilot.press("e")
    await settle(pilot)
    await type_text(pilot, typed, "#editor-value")
    return editor_of(pilot)


@pytest.fixture(params=[False, True], ids=["read-for-version", "listed-version"])
def store(request: pytest.FixtureRequest) -> type[Any]:
    return versioned_class(secrets=SEED, list_versions=request.param)


def test_the_editor_says_the_version_it_opened(store: type[Any]) -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ID_)
        await pilot.press("e")
        await settle(pilot)
        line = text_of(pilot, "#editor-version")
        assert line == "version 1 as you opened it: a save checks it is unchanged"
        assert editor_of(pilot).query_one(ValueArea).text == ""  # no value shown

    run(make_app({"docker-pass": store}), scenario)


def test_cancel_keeps_the_typing_and_the_other_change(store: type[Any]) -> None:
    """You should see the question name what changed (version, when, by whom); Cancel goes
    back to the editor with the typing as it was, and the store keeps the other change."""

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        editor = await open_and_type(pilot, "mine")
        store.outside_set(ID_, b"other-2")
        await pilot.press("ctrl+s")
        await settle(pilot)
        title, body, buttons = question(pilot)
        assert title == f"{ID_} changed elsewhere"
        assert body.startswith(
            f"docker-pass changed {ID_} since you opened it: now version 2, changed at "
            "2026-12-06 23:19 UTC, by alice@laptop."
        )
        assert buttons == ["Overwrite (o)", "Reload (r)", "Cancel (c)"]
        await pilot.press("c")
        await settle(pilot)
        assert editor_of(pilot) is editor
        assert editor.query_one(ValueArea).text == "mine"
        assert editor.error.startswith(f"Not saved: docker-pass changed {ID_}")
        assert store.held[ID_].value == b"other-2"
        await pilot.press("ctrl+s")  # asks again: still the version it opened
        await settle(pilot)
        assert question(pilot)[0] == f"{ID_} changed elsewhere"
        await pilot.press("escape")
        await settle(pilot)
        assert store.held[ID_].value == b"other-2"

    run(make_app({"docker-pass": store}), scenario)


def test_overwrite_saves_over_the_change_it_named_only(store: type[Any]) -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await open_and_type(pilot, "mine")
        store.outside_set(ID_, b"other-2")
        await pilot.press("ctrl+s")
        await settle(pilot)
        store.outside_set(ID_, b"other-3")  # a third change after the question was asked
        await pilot.press("o")
        await settle(pilot)
        _, body, _ = question(pilot)  # asked again, about version 3
        assert "now version 3" in body
        assert store.held[ID_].value == b"other-3"
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)
        assert store.held[ID_].value == b"mine"
        assert store.held[ID_].metadata == {"owner": "team"}
        assert app_of(pilot).status.message.text.startswith(f"Saved {ID_} in docker-pass.")

    run(make_app({"docker-pass": store}), scenario)


def test_reload_shows_the_stored_secret_and_keeps_the_edit_aside(store: type[Any]) -> None:
    """You should see the stored value (masked) and metadata in the form, and a line saying
    your edit is kept aside; ctrl+b swaps it back, and saving then overwrites knowingly."""

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        editor = await open_and_type(pilot, "mine")
        store.outside_set(ID_, b"other-2", {"owner": "ops"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert editor_of(pilot) is editor
        area = editor.query_one(ValueArea)
        assert area.text == "other-2"
        assert area.masked
        assert rows(editor) == [("owner", "ops")]
        aside = text_of(pilot, "#editor-aside")
        assert aside == "Your edit is kept aside (4 chars): ctrl+b swaps it back"
        version = text_of(pilot, "#editor-version")
        assert version == "version 2 as you reloaded it: a save checks it is unchanged"
        await pilot.press("escape")  # the edit aside is typing: leaving asks first
        await settle(pilot)
        assert pilot.app.screen.query_one("#confirm-title", Static)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert area.text == "mine"
        assert rows(editor) == [("owner", "team")]
        aside = text_of(pilot, "#editor-aside")
        assert aside.startswith("The stored secret is kept aside (7 chars)")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)
        assert store.held[ID_].value == b"mine"
        assert store.held[ID_].metadata == {"owner": "team"}

    run(make_app({"docker-pass": store}), scenario)


def test_ctrl_r_sets_the_version_a_save_expects(store: type[Any]) -> None:
    """The issue's own steps: ctrl+r loads the value, another shell changes it, a key is
    typed, ctrl+s: the question, and the other change is still stored."""

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ID_)
        await pilot.press("e")
        await settle(pilot)
        store.outside_set(ID_, b"other-2")  # before the load: the load sees it
        await pilot.press("ctrl+r")
        await settle(pilot)
        editor = editor_of(pilot)
        assert editor.query_one(ValueArea).text == "other-2"
        assert text_of(pilot, "#editor-version").startswith("version 2 as you loaded it")
        store.outside_set(ID_, b"other-3")
        await pilot.press("end", "2")
        await pilot.press("ctrl+s")
        await settle(pilot)
        _, body, _ = question(pilot)
        assert body.startswith(f"docker-pass changed {ID_} since you loaded it: now version 3")
        await pilot.press("r")
        await settle(pilot)
        assert editor.query_one(ValueArea).text == "other-3"
        assert editor.aside is not None
        assert editor.aside.value == "other-22"
        assert store.held[ID_].value == b"other-3"

    run(make_app({"docker-pass": store}), scenario)


def test_a_secret_deleted_elsewhere_can_be_saved_again(store: type[Any]) -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        editor = await open_and_type(pilot, "mine")
        store.outside_delete(ID_)
        await pilot.press("ctrl+s")
        await settle(pilot)
        title, body, buttons = question(pilot)
        assert title == f"{ID_} was deleted"
        assert body.startswith(f"{ID_} was deleted from docker-pass since you opened it")
        assert buttons == ["Save again (o)", "Cancel (c)"]
        await pilot.press("c")
        await settle(pilot)
        assert editor.query_one(ValueArea).text == "mine"
        assert ID_ not in store.held
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)
        assert store.held[ID_].value == b"mine"

    run(make_app({"docker-pass": store}), scenario)


def test_a_metadata_only_edit_of_a_deleted_secret_says_to_type_a_value(
    store: type[Any],
) -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ID_)
        await pilot.press("e")
        await settle(pilot)
        editor = editor_of(pilot)
        editor.query(MetadataRow).first().query(Input).last().value = "other-team"
        store.outside_delete(ID_)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert editor_of(pilot) is editor
        assert "Type a value to store it again." in editor.error
        assert rows(editor) == [("owner", "other-team")]
        assert ID_ not in store.held

    run(make_app({"docker-pass": store}), scenario)


def test_new_asks_when_someone_else_created_the_id_meanwhile(store: type[Any]) -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ID_)  # seen a token: the plugin keeps versions
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("n", "ctrl+u")
        await type_text(pilot, "team/new")
        await type_text(pilot, "mine", "#editor-value")
        store.outside_set("team/new", b"theirs")
        await pilot.press("ctrl+s")
        await settle(pilot)
        title, body, _ = question(pilot)
        assert title == "team/new changed elsewhere"
        assert body.startswith("team/new was created in docker-pass since you opened the editor")
        await pilot.press("r")
        await settle(pilot)
        editor = editor_of(pilot)
        assert editor.query_one(ValueArea).text == "theirs"
        assert editor.aside is not None
        assert editor.aside.value == "mine"
        assert store.held["team/new"].value == b"theirs"

    run(make_app({"docker-pass": store}), scenario)


def test_an_unversioned_plugin_is_said_to_be_one() -> None:
    keychain = keychain_class({ID_: (b"v", {})})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ID_)
        await pilot.press("e")
        await settle(pilot)
        line = text_of(pilot, "#editor-version")
        assert line == "unversioned: saves replace whatever is stored"
        await pilot.press("escape")
        await settle(pilot)
        reads = keychain.reads
        await pilot.press("e")  # known to keep none: not read again for a version
        await settle(pilot)
        assert keychain.reads == reads
        await pilot.press("escape", "n")
        await settle(pilot)
        assert text_of(pilot, "#editor-version") == (
            "unversioned: saves replace whatever is stored"
        )

    run(make_app({"docker-pass": keychain}), scenario)


def test_a_save_before_the_version_is_read_waits_for_it() -> None:
    """The version is read as the editor opens; a save pressed before it arrives waits, then
    goes with it (never blind)."""
    import threading

    base: type[Any] = versioned_class(secrets=SEED)
    gate = threading.Event()

    class SlowRead(base):  # type: ignore[misc]
        def get(self, id_: Any) -> Any:
            gate.wait(30)  # released by the test (the bound only keeps a failure from hanging)
            return super().get(id_)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ID_)
        await pilot.press("e")
        await pilot.pause()
        editor = editor_of(pilot)
        assert text_of(pilot, "#editor-version") == "reading its version…"
        editor.query_one(ValueArea).insert("mine")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert editor.saving
        assert not seen.of(EditorScreen.SaveRequested)
        gate.set()
        await settle(pilot)
        (request,) = {id(m): m for m in seen.of(EditorScreen.SaveRequested)}.values()
        assert request.draft.expected_version == "1"
        assert SlowRead.held[ID_].value == b"mine"

    run(make_app({"docker-pass": SlowRead}), scenario)
