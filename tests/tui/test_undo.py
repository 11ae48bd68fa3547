"""``u`` undoes the last delete or replace of the session: the old value and metadata, kept in
memory only, saved back through the gateway."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Input

from docker_pass.core.errors import StoreError
from docker_pass.core.ids import ID
from docker_pass.tui.messages import SecretRestored
from docker_pass.tui.model.undo import NOTHING_TO_UNDO, Change, KeptSecret, UndoLog
from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.editor import EditorScreen
from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.support.tui_fakes import keychain_class
from tests.tui.conftest import Recorder, app_of, make_app, run, select, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from docker_pass.core.envelope import Envelope

ALICE = "docker/auth/hub/alice"
ALICE_VALUE = b"dckr_pat_demo-alice-not-a-real-token"
ALICE_META = {"registry": "docker.io", "username": "alice", "created-by": "docker login"}


def status_of(pilot: Pilot[None]) -> str:
    return app_of(pilot).status.message.text


def test_u_restores_a_deleted_secret_with_its_value_and_metadata() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await select(pilot, ALICE)
        await pilot.press("d", "y")
        await settle(pilot)
        assert ALICE not in keychain.secrets
        assert status_of(pilot) == f"Deleted {ALICE} from docker-pass. u undoes it."
        await pilot.press("u")
        await settle(pilot)
        assert keychain.secrets[ALICE] == (ALICE_VALUE, ALICE_META)
        assert status_of(pilot) == f"Restored {ALICE} in docker-pass (undid the delete)."
        assert [m.info.id.value for m in seen.of(SecretRestored)] == [ALICE]
        # Back in the listing, with the cursor on it.
        assert app.listing.index.find(ALICE, "docker-pass") is not None
        assert app.secrets.selected is not None
        assert app.secrets.selected.id.value == ALICE
        # One level: a second u has nothing left.
        await pilot.press("u")
        await settle(pilot)
        assert status_of(pilot) == NOTHING_TO_UNDO

    run(make_app({"docker-pass": keychain}), scenario)


def test_u_restores_the_value_and_metadata_an_edit_replaced() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("e")
        assert isinstance(pilot.app.screen, EditorScreen)
        await type_text(pilot, "a-new-value", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert keychain.secrets[ALICE][0] == b"a-new-value"
        assert status_of(pilot).endswith("u undoes it.")
        await pilot.press("u")
        await settle(pilot)
        assert keychain.secrets[ALICE] == (ALICE_VALUE, ALICE_META)
        assert status_of(pilot) == f"Restored {ALICE} in docker-pass (undid the edit)."

    run(make_app({"docker-pass": keychain}), scenario)


def test_u_restores_a_secret_that_new_replaced() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("n", "ctrl+u")
        await type_text(pilot, ALICE)
        await type_text(pilot, "replacement", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)
        if isinstance(pilot.app.screen, ConfirmScreen):  # "it exists: replace?"
            await pilot.press("y")
            await settle(pilot)
        assert keychain.secrets[ALICE] == (b"replacement", {})
        await pilot.press("u")
        await settle(pilot)
        assert keychain.secrets[ALICE] == (ALICE_VALUE, ALICE_META)
        assert status_of(pilot) == f"Restored {ALICE} in docker-pass (undid the replace)."

    run(make_app({"docker-pass": keychain}), scenario)


def test_creating_a_secret_is_not_an_undoable_change() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("n", "ctrl+u")
        await type_text(pilot, "brand/new")
        await type_text(pilot, "v", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "brand/new" in keychain.secrets
        assert status_of(pilot) == "Created brand/new in docker-pass."
        await pilot.press("u")
        await settle(pilot)
        assert status_of(pilot) == NOTHING_TO_UNDO
        assert "brand/new" in keychain.secrets

    run(make_app({"docker-pass": keychain}), scenario)


def test_only_the_last_change_is_undone() -> None:
    keychain = keychain_class()
    bob = "docker/auth/hub/bob"

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("d", "y")
        await settle(pilot)
        await select(pilot, bob)
        await pilot.press("d", "y")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert bob in keychain.secrets
        assert ALICE not in keychain.secrets
        await pilot.press("u")
        await settle(pilot)
        assert status_of(pilot) == NOTHING_TO_UNDO

    run(make_app({"docker-pass": keychain}), scenario)


def test_a_secret_whose_value_cannot_be_read_is_still_deleted_and_u_says_why() -> None:
    base = keychain_class()

    class DamagedAlice(base):  # type: ignore[misc, valid-type]
        def get(self, id_: ID) -> Envelope:
            if id_.value == ALICE:
                raise StoreError("damaged record")
            return super().get(id_)  # type: ignore[no-any-return]

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("d", "y")
        await settle(pilot)
        assert ALICE not in base.secrets
        assert status_of(pilot) == f"Deleted {ALICE} from docker-pass."  # no undo hint
        await pilot.press("u")
        await settle(pilot)
        assert status_of(pilot) == (
            f"Nothing to undo: the old value of {ALICE} could not be read (damaged record)."
        )

    run(make_app({"docker-pass": DamagedAlice}), scenario)


def test_u_with_nothing_changed_says_so() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("u")
        await settle(pilot)
        assert status_of(pilot) == NOTHING_TO_UNDO
        assert not seen.of(SecretRestored)

    run(make_app(), scenario)


def test_u_works_from_the_detail_pane_and_not_in_the_pattern_field() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("d", "y")
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press("u")  # typed into the field
        await settle(pilot)
        assert pilot.app.screen.query_one("#pattern-input", Input).value == "u"
        assert ALICE not in keychain.secrets
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.focused, RealmTree)
        await pilot.press("u")
        await settle(pilot)
        assert ALICE in keychain.secrets

    run(make_app({"docker-pass": keychain}), scenario)


def test_the_kept_secret_never_shows_its_value_or_metadata() -> None:
    kept = KeptSecret(ID("a/b"), "docker-pass", b"s3cret-value", {"k": "meta"}, Change.DELETE)
    log = UndoLog()
    log.keep(kept)
    for text in (repr(kept), str(kept), repr(log)):
        assert "s3cret" not in text
        assert "meta" not in text
        assert "a/b" in text
    assert log.take() is kept
    assert log.take() is None
    assert log.nothing_text() == NOTHING_TO_UNDO


def test_a_failed_restore_is_kept_for_another_try_unless_something_newer_came() -> None:
    log = UndoLog()
    first = KeptSecret(ID("a/b"), "docker-pass", b"1", {}, Change.DELETE)
    newer = KeptSecret(ID("a/c"), "docker-pass", b"2", {}, Change.EDIT)
    log.keep(first)
    taken = log.take()
    assert taken is first
    log.put_back(first)
    assert log.last is first
    log.take()
    log.keep(newer)
    log.put_back(first)
    assert log.last is newer
    log.cannot_keep("the old value of a/d could not be read (damaged)")
    assert log.last is None
    assert log.nothing_text() == (
        "Nothing to undo: the old value of a/d could not be read (damaged)."
    )
