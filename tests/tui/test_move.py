"""Moving (``m``, and the editor's ID field): a secret within or across plugins, a realm with
its count confirmed, a taken ID replaced only when agreed, an ID another plugin holds asked
about; what exists where when the old one could not go; references left behind listed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import Input, Select, Static

from docker_pass.core.errors import StoreError
from docker_pass.tui.screens.choice import ChoiceScreen
from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.editor import EditorScreen
from docker_pass.tui.screens.main import MainScreen
from docker_pass.tui.screens.move import MoveScreen
from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.support.tui_fakes import keychain_class
from tests.support.tui_fakes_extra import writable_class
from tests.support.tui_versioned import versioned_class
from tests.tui.conftest import Recorder, app_of, make_app, run, select, settle, type_text

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from textual.pilot import Pilot

SEED = {
    "team/db/password": (b"pw", {"owner": "team"}),
    "team/db/user": (b"u", {}),
    "team/api": (b"k", {}),
}


def hint_of(pilot: Pilot[None]) -> str:
    return str(pilot.app.screen.query_one("#move-hint", Static).render())


def status_of(pilot: Pilot[None]) -> str:
    return app_of(pilot).status.message.text


async def open_move(pilot: Pilot[None], id_: str, new: str) -> MoveScreen:
    await select(pilot, id_)
    await pilot.press("m")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MoveScreen)
    field = screen.query_one("#move-new", Input)
    assert field.value == id_
    field.value = new
    await settle(pilot)
    return screen


def test_m_renames_a_secret_with_its_value_and_metadata() -> None:
    store: type[Any] = versioned_class(secrets=SEED, list_versions=True)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await open_move(pilot, "team/db/password", "team/db/pass")
        assert hint_of(pilot) == (
            "✓ moves to docker-pass:team/db/pass; the old ID goes once the copy is saved"
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)
        assert "team/db/password" not in store.held
        assert store.held["team/db/pass"].value == b"pw"
        assert store.held["team/db/pass"].metadata == {"owner": "team"}
        assert status_of(pilot) == (
            "Moved docker-pass:team/db/password to docker-pass:team/db/pass."
        )
        app = app_of(pilot)
        assert app.secrets.selected is not None
        assert app.secrets.selected.id.value == "team/db/pass"

    run(make_app({"docker-pass": store}), scenario)


def test_m_moves_to_another_plugin_and_the_same_id_is_no_duplicate_of_itself() -> None:
    keychain, vault = keychain_class(dict(SEED)), writable_class(secrets={})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        screen = await open_move(pilot, "team/api", "team/api")
        assert hint_of(pilot) == "type the new ID, or choose another plugin"
        screen.query_one("#move-plugin", Select).value = "vault"
        await settle(pilot)
        assert hint_of(pilot).startswith("✓ moves to vault:team/api")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)
        assert "team/api" not in keychain.secrets
        assert vault.secrets["team/api"] == (b"k", {})

    run(make_app({"docker-pass": keychain, "vault": vault}), scenario)


def test_a_taken_id_is_replaced_only_when_agreed() -> None:
    store: type[Any] = versioned_class(secrets=SEED, list_versions=True)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await open_move(pilot, "team/api", "team/db/user")
        assert hint_of(pilot) == (
            "team/db/user exists in docker-pass: moving replaces it (asked first)"
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MoveScreen)
        assert store.held["team/db/user"].value == b"u"
        await pilot.press("ctrl+s", "y")
        await settle(pilot)
        assert store.held["team/db/user"].value == b"k"
        assert "team/api" not in store.held

    run(make_app({"docker-pass": store}), scenario)


def test_moving_to_an_id_another_plugin_holds_asks_first() -> None:
    keychain = keychain_class(dict(SEED))
    vault = writable_class(secrets={"shared/token": (b"v", {})})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await open_move(pilot, "team/api", "shared/token")
        assert hint_of(pilot).startswith("⚠ vault has this ID: moving it here makes")
        await pilot.press("ctrl+s")
        await settle(pilot)
        question = pilot.app.screen
        assert isinstance(question, ConfirmScreen)
        body = str(question.query_one("#confirm-body", Static).render())
        assert "se://shared/token match 2 secrets (docker-pass, vault)" in body
        await pilot.press("n")
        await settle(pilot)
        assert "team/api" in keychain.secrets
        assert "shared/token" not in keychain.secrets
        assert status_of(pilot) == "Nothing moved."

    run(make_app({"docker-pass": keychain, "vault": vault}), scenario)


def test_a_realm_moves_with_its_count_confirmed() -> None:
    store: type[Any] = versioned_class(secrets=SEED, list_versions=True)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        tree = pilot.app.screen.query_one(RealmTree)
        assert tree.show_realm("team/db")
        tree.focus()
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, MoveScreen)
        screen.query_one("#move-new", Input).value = "team/database"
        await settle(pilot)
        assert hint_of(pilot) == "2 secrets go from team/db/ to docker-pass:team/database/"
        await pilot.press("ctrl+s")
        await settle(pilot)
        question = pilot.app.screen
        assert isinstance(question, ConfirmScreen)
        assert str(question.query_one("#confirm-title", Static).render()) == "Move 2 secrets?"
        await pilot.press("y")
        await settle(pilot)
        assert sorted(store.held) == ["team/api", "team/database/password", "team/database/user"]
        assert status_of(pilot) == ("Moved 2 of 2 secrets from team/db/ to team/database/.")

    run(make_app({"docker-pass": store}), scenario)


def test_a_realm_cannot_move_into_itself() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        tree = pilot.app.screen.query_one(RealmTree)
        assert tree.show_realm("team")
        tree.focus()
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        pilot.app.screen.query_one("#move-new", Input).value = "team/inner"
        await settle(pilot)
        assert hint_of(pilot) == "✗ cannot move team/ into itself"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MoveScreen)

    run(make_app({"docker-pass": keychain_class(dict(SEED))}), scenario)


def test_when_the_old_one_cannot_go_both_are_kept_and_said_where() -> None:
    base = keychain_class(dict(SEED))

    class StuckDelete(base):  # type: ignore[misc, valid-type]
        def delete(self, id_: Any) -> bool:
            raise StoreError("file store: the disk is read-only")

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await open_move(pilot, "team/api", "team/api2")
        await pilot.press("ctrl+s")
        await settle(pilot)
        result = pilot.app.screen
        assert isinstance(result, ChoiceScreen)
        body = str(result.query_one("#confirm-body", Static).render())
        assert "docker-pass:team/api2" in body
        assert "docker-pass:team/api" in body
        assert base.secrets["team/api"] == (b"k", {})
        assert base.secrets["team/api2"] == (b"k", {})  # old or new or both: both here
        assert status_of(pilot).startswith("Not moved: ")

    run(make_app({"docker-pass": StuckDelete}), scenario)


def test_references_left_behind_are_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: x\n    environment:\n      API_KEY: se://team/api\n"
    )
    monkeypatch.chdir(tmp_path)
    store: type[Any] = versioned_class(secrets=SEED, list_versions=True)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await open_move(pilot, "team/api", "team/api-key")
        await pilot.press("ctrl+s")
        await settle(pilot)
        result = pilot.app.screen
        assert isinstance(result, ChoiceScreen)
        body = str(result.query_one("#confirm-body", Static).render())
        assert "still referring to team/api: compose.yaml (service web, API_KEY)" in body
        assert "still referring to team/api" in status_of(pilot)

    run(make_app({"docker-pass": store}), scenario)


def test_the_editors_id_field_renames_with_the_edit() -> None:
    store: type[Any] = versioned_class(secrets=SEED)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, "team/api")
        await pilot.press("e")
        await settle(pilot)
        editor = pilot.app.screen
        assert isinstance(editor, EditorScreen)
        field = editor.query_one("#editor-id", Input)
        field.value = "team/api-key"
        await settle(pilot)
        hint = str(editor.query_one("#editor-id-hint", Static).render())
        assert (
            hint == "saving moves team/api to team/api-key (the old ID goes once the copy is saved)"
        )
        await type_text(pilot, "new-value", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)
        assert "team/api" not in store.held
        assert store.held["team/api-key"].value == b"new-value"
        # The edit met a change made elsewhere first: the usual question, nothing lost.
        await select(pilot, "team/api-key")
        await pilot.press("e")
        await settle(pilot)
        pilot.app.screen.query_one("#editor-id", Input).value = "team/renamed"
        await type_text(pilot, "mine", "#editor-value")
        store.outside_set("team/api-key", b"theirs")
        await pilot.press("ctrl+s")
        await settle(pilot)
        question = pilot.app.screen
        assert isinstance(question, ChoiceScreen)
        assert str(question.query_one("#confirm-title", Static).render()) == (
            "team/api-key changed elsewhere"
        )
        await pilot.press("c")
        await settle(pilot)
        assert store.held["team/api-key"].value == b"theirs"
        assert "team/renamed" not in store.held

    run(make_app({"docker-pass": store}), scenario)


def test_a_rename_that_cannot_move_keeps_the_saved_edit_and_the_editor() -> None:
    """The edit is saved under the old ID, the move is refused (the new ID was taken since
    the listing): the editor stays with the typing, says what happened, and a second try
    expects the version just saved (no question about its own change)."""
    store: type[Any] = versioned_class(secrets=SEED)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, "team/api")
        await pilot.press("e")
        await settle(pilot)
        editor = pilot.app.screen
        assert isinstance(editor, EditorScreen)
        editor.query_one("#editor-id", Input).value = "team/taken"
        await type_text(pilot, "edited", "#editor-value")
        store.outside_set("team/taken", b"theirs")  # not listed yet
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is editor
        assert isinstance(editor, EditorScreen)
        assert editor.error.startswith("Saved your edit to team/api; not moved: ")
        assert store.held["team/api"].value == b"edited"
        assert store.held["team/taken"].value == b"theirs"
        editor.query_one("#editor-id", Input).value = "team/free"
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)
        assert store.held["team/free"].value == b"edited"
        assert "team/api" not in store.held

    run(make_app({"docker-pass": store}), scenario)
