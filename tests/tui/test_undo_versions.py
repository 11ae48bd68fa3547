"""``u`` restores only if the secret is still what the change it undoes left; otherwise it asks
(restore anyway / keep), and keeping it leaves ``u`` able to ask again.  Over a versioned
plugin (the check is the plugin's, under its lock) and an unversioned one (the secret is read
and compared with what the change left)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import Static

from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.main import MainScreen
from tests.support.tui_fakes import keychain_class
from tests.support.tui_versioned import versioned_class
from tests.tui.conftest import Recorder, app_of, make_app, run, select, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot

ID_ = "team/db/password"


def status_of(pilot: Pilot[None]) -> str:
    return app_of(pilot).status.message.text


def asked(pilot: Pilot[None]) -> tuple[str, str]:
    screen = pilot.app.screen
    assert isinstance(screen, ConfirmScreen), screen
    title = str(screen.query_one("#confirm-title", Static).render())
    return title, str(screen.query_one("#confirm-body", Static).render())


async def edit_to(pilot: Pilot[None], value: str) -> None:
    await select(pilot, ID_)
    await pilot.press("e")
    await settle(pilot)
    await type_text(pilot, value, "#editor-value")
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert isinstance(pilot.app.screen, MainScreen)


def test_undo_over_a_change_made_elsewhere_asks_and_keep_keeps_it() -> None:
    store: type[Any] = versioned_class(secrets={ID_: (b"first", {"k": "v"})})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await edit_to(pilot, "mine")
        assert store.held[ID_].value == b"mine"
        store.outside_set(ID_, b"theirs")
        await pilot.press("u")
        await settle(pilot)
        title, body = asked(pilot)
        assert title == f"{ID_} changed since"
        assert body.startswith(
            f"docker-pass changed {ID_} since the change u would undo: now version 3"
        )
        assert "as it was before your edit" in body
        await pilot.press("n")
        await settle(pilot)
        assert store.held[ID_].value == b"theirs"
        assert status_of(pilot) == f"Kept {ID_} as it is now; u asks again."
        await pilot.press("u")
        await settle(pilot)
        assert asked(pilot)[0] == f"{ID_} changed since"
        await pilot.press("y")
        await settle(pilot)
        assert store.held[ID_].value == b"first"
        assert store.held[ID_].metadata == {"k": "v"}
        assert status_of(pilot) == f"Restored {ID_} in docker-pass (undid the edit)."

    run(make_app({"docker-pass": store}), scenario)


def test_undo_of_a_delete_asks_when_the_id_was_created_again_elsewhere() -> None:
    store: type[Any] = versioned_class(secrets={ID_: (b"first", {})})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ID_)
        await pilot.press("d", "y")
        await settle(pilot)
        assert ID_ not in store.held
        store.outside_set(ID_, b"theirs")
        await pilot.press("u")
        await settle(pilot)
        _, body = asked(pilot)
        assert body.startswith(f"{ID_} was created in docker-pass since the change u would undo")
        await pilot.press("n")
        await settle(pilot)
        assert store.held[ID_].value == b"theirs"

    run(make_app({"docker-pass": store}), scenario)


def test_undo_with_nothing_changed_since_restores_without_asking() -> None:
    store: type[Any] = versioned_class(secrets={ID_: (b"first", {})})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await edit_to(pilot, "mine")
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)
        assert store.held[ID_].value == b"first"
        await select(pilot, ID_)
        await pilot.press("d", "y")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)
        assert store.held[ID_].value == b"first"

    run(make_app({"docker-pass": store}), scenario)


def test_an_unversioned_plugin_is_compared_by_reading_it() -> None:
    keychain = keychain_class({ID_: (b"first", {})})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await edit_to(pilot, "mine")
        keychain.secrets[ID_] = (b"theirs", {})  # another process, no versions to tell
        await pilot.press("u")
        await settle(pilot)
        _, body = asked(pilot)
        assert body.startswith(f"docker-pass changed {ID_} since the change u would undo.")
        await pilot.press("n")
        await settle(pilot)
        assert keychain.secrets[ID_] == (b"theirs", {})
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert keychain.secrets[ID_] == (b"first", {})
        # Unchanged since: no question.
        await edit_to(pilot, "again")
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)
        assert keychain.secrets[ID_] == (b"first", {})

    run(make_app({"docker-pass": keychain}), scenario)
