"""The editor (n, e, ctrl+s), the delete confirmation (d), and read-only plugins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Button, Input, Static

from docker_pass.core.engine import Engine
from docker_pass.core.errors import StoreError
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import WritablePlugin
from docker_pass.core.registry import BUILTIN_PLUGINS, create_plugin
from docker_pass.tui.app import DockerPassApp
from docker_pass.tui.messages import SecretDeleted, SecretSaved
from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.editor import EditorScreen
from docker_pass.tui.screens.main import MainScreen
from docker_pass.tui.widgets.metadata_rows import MetadataRow
from docker_pass.tui.widgets.value_area import ValueArea
from tests.support.tui_fakes import keychain_class, readonly_class
from tests.tui.conftest import Recorder, app_of, make_app, run, select, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot

ALICE = "docker/auth/hub/alice"


def editor_of(pilot: Pilot[None]) -> EditorScreen:
    screen = pilot.app.screen
    assert isinstance(screen, EditorScreen)
    return screen


def hint(pilot: Pilot[None]) -> str:
    return str(editor_of(pilot).query_one("#editor-id-hint", Static).render())


def status_of(pilot: Pilot[None]) -> str:
    return app_of(pilot).status.message.text


def drawn(area: ValueArea) -> list[str]:
    """The value area's lines as they reach the screen (what a snapshot records)."""
    return [area.render_line(y).text.rstrip() for y in range(area.size.height)]


def test_new_secret_validates_the_id_live_masks_the_value_and_saves_with_metadata() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("n")
        editor = editor_of(pilot)
        assert editor.creating
        assert editor.query_one("#editor-id", Input).value == "aws/"  # the realm under the cursor
        await pilot.press("ctrl+u")
        await type_text(pilot, "myapp/dev/a")
        await pilot.press("space", "b")
        # The ID's own words: no "or a whole * / **", which only a pattern may hold.
        assert hint(pilot) == '✗ " " at position 12 is not allowed (use A-Z a-z 0-9 . _ - :)'
        assert editor.query_one("#editor-id", Input).has_class("-invalid")
        await pilot.press("backspace", "backspace", "backspace", "*")
        assert hint(pilot) == "✗ * at position 11 is a wildcard: an ID names one secret"
        await pilot.press("backspace")
        await type_text(pilot, "api-key")
        assert hint(pilot) == "✓ a valid new ID"
        value = editor.query_one(ValueArea)
        assert value.masked  # masked while typed
        await type_text(pilot, "s3cr3t", "#editor-value")
        assert drawn(value) == ["••••••"]
        await pilot.press("ctrl+t")
        assert not value.masked
        assert drawn(value) == ["s3cr3t"]
        await pilot.press("ctrl+t")
        assert value.masked
        assert drawn(value) == ["••••••"]
        await pilot.press("ctrl+n")
        await settle(pilot)
        await type_text(pilot, "owner")
        await pilot.press("tab")
        await type_text(pilot, "alice")
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = seen.of(SecretSaved)
        assert [(m.info.id.value, m.created) for m in saved] == [("myapp/dev/api-key", True)]
        assert not isinstance(app.screen, EditorScreen)
        assert keychain.secrets["myapp/dev/api-key"] == (b"s3cr3t", {"owner": "alice"})
        assert app.listing.index.find("myapp/dev/api-key") is not None
        assert app.secrets.selected is not None
        # The cursor is on the new secret.
        assert app.secrets.selected.id.value == "myapp/dev/api-key"
        assert status_of(pilot) == "Created myapp/dev/api-key in docker-pass."

    run(make_app({"docker-pass": keychain}), scenario)


def test_an_existing_id_is_flagged_and_bad_metadata_stops_the_save() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("n", "ctrl+u")  # ctrl+u: clear the realm "New" pre-filled
        await type_text(pilot, ALICE)
        assert hint(pilot) == f"{ALICE} exists: saving replaces its value and metadata"
        await pilot.press("ctrl+n")
        await settle(pilot)
        await type_text(pilot, "bad key")
        await pilot.press("ctrl+s")
        await settle(pilot)
        editor = editor_of(pilot)
        assert editor.error == "invalid metadata key 'bad key' (use A-Z a-z 0-9 _ . -)"
        assert not seen.of(EditorScreen.SaveRequested)
        assert not editor.saving

    run(make_app(), scenario)


def test_a_failed_save_keeps_everything_typed_and_says_why() -> None:
    base = keychain_class()

    class Full(base):  # type: ignore[misc, valid-type]
        def save(self, id_: ID, value: bytes, metadata: object) -> None:
            raise StoreError("file store: cannot save x: No space left on device")

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("n", "ctrl+u")  # ctrl+u: clear the realm "New" pre-filled
        await type_text(pilot, "new/secret")
        await type_text(pilot, "typed-value", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)
        editor = editor_of(pilot)  # still open
        assert editor.error == "file store: cannot save x: No space left on device"
        assert not editor.saving
        assert editor.query_one("#editor-id", Input).value == "new/secret"
        assert editor.query_one(ValueArea).text == "typed-value"
        assert "No space left" in str(editor.query_one("#editor-error", Static).render())
        assert status_of(pilot) == (
            "Saving failed: file store: cannot save x: No space left on device"
        )
        assert not seen.of(SecretSaved)

    run(make_app({"docker-pass": Full}), scenario)


def test_edit_changes_metadata_and_keeps_the_value_when_left_empty() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("e")
        editor = editor_of(pilot)
        assert not editor.creating
        # Issue 23: the ID of an existing secret is editable (saving under a new ID moves it).
        assert not editor.query_one("#editor-id", Input).disabled
        assert editor.query_one(ValueArea).text == ""  # never pre-filled
        rows = list(editor.query(MetadataRow))
        assert [r.pair for r in rows] == [
            ("created-by", "docker login"),
            ("registry", "docker.io"),
            ("username", "alice"),
        ]
        rows[0].query_one(Button).press()
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        value, metadata = keychain.secrets[ALICE]
        assert value == b"dckr_pat_demo-alice-not-a-real-token"
        assert metadata == {"registry": "docker.io", "username": "alice"}
        assert [m.created for m in seen.of(SecretSaved)] == [False]
        assert status_of(pilot) == f"Saved {ALICE} in docker-pass. u undoes it."

    run(make_app({"docker-pass": keychain}), scenario)


def test_escape_closes_the_editor_without_saving() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("n", "ctrl+u")  # ctrl+u: clear the realm "New" pre-filled
        await type_text(pilot, "x/y")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)  # it was edited: asks first
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)
        assert not seen.of(EditorScreen.SaveRequested)

    run(make_app(), scenario)


def test_read_only_plugins_say_so_instead_of_offering_edits() -> None:
    classes = {"docker-pass": keychain_class(), "1password-sdk": readonly_class()}

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, "op/vault/github/token")
        for key in ("e", "d"):
            await pilot.press(key)
            assert not isinstance(pilot.app.screen, EditorScreen | ConfirmScreen)
            assert status_of(pilot).startswith("1password-sdk is read-only")
        detail_hint = str(pilot.app.screen.query_one("#detail-hint", Static).render())
        assert detail_hint.startswith("1password-sdk is read-only here")

    run(make_app(classes), scenario)


def test_d_asks_first_and_deletes_only_on_yes() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await select(pilot, ALICE)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert ALICE in keychain.secrets
        assert status_of(pilot) == "Nothing deleted."
        await pilot.press("d", "enter")  # enter on the focused Cancel button
        await settle(pilot)
        assert ALICE in keychain.secrets
        await pilot.press("d", "y")
        await settle(pilot)
        assert ALICE not in keychain.secrets
        assert [m.info.id.value for m in seen.of(SecretDeleted)] == [ALICE]
        assert app.listing.index.find(ALICE) is None
        assert status_of(pilot) == f"Deleted {ALICE} from docker-pass. u undoes it."

    run(make_app({"docker-pass": keychain}), scenario)


def test_save_and_delete_through_the_real_file_store() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        assert app.plugins.statuses[0].storage.startswith("file store ")
        await pilot.press("n", "ctrl+u")  # ctrl+u: clear the realm "New" pre-filled
        await type_text(pilot, "ci/deploy/token")
        await type_text(pilot, "tok-123", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)
        store = create_plugin("docker-pass")
        assert isinstance(store, WritablePlugin)
        assert store.get(ID("ci/deploy/token")).value == b"tok-123"
        await pilot.press("d", "y")
        await settle(pilot)
        assert not store.list(Pattern("ci/**"))
        assert [m.info.id.value for m in seen.of(SecretDeleted)] == ["ci/deploy/token"]

    specs = {"docker-pass": BUILTIN_PLUGINS["docker-pass"]}
    app = DockerPassApp(lambda: Engine(specs=specs), poll_seconds=None, cursor_blink=False)
    run(app, scenario)
