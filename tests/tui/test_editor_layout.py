"""The editor's layout and manners: Save and Cancel in sight at 80x24, the width it has at 120,
long texts ending in …, "New" in the realm under the cursor, Tab that keeps a field's text,
errors that go with their cause, the current value on request, and a choice of plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import Button, Input, Select, Static

from docker_pass.core.results import PluginStatus
from docker_pass.core.state import RunStatus
from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.editor import EditorScreen
from docker_pass.tui.screens.editor_words import ID_HINT, LOADED_HINT, storage_kind, where_line
from docker_pass.tui.screens.main import MainScreen
from docker_pass.tui.widgets.detail_pane import DetailPane
from docker_pass.tui.widgets.metadata_rows import MetadataRow
from docker_pass.tui.widgets.realm_tree import RealmTree
from docker_pass.tui.widgets.value_area import ValueArea
from tests.support.tui_fakes import STORAGE, crashing_class, keychain_class, readonly_class
from tests.support.tui_fakes_extra import VAULT_SECRETS, writable_class
from tests.tui.conftest import Recorder, app_of, make_app, run, select, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot
    from textual.widget import Widget

ALICE = "docker/auth/hub/alice"
ALICE_VALUE = b"dckr_pat_demo-alice-not-a-real-token"
FIVE = {f"key-{n}": f"value {n}" for n in range(1, 6)}
LONG_ID = (
    "myorganisation/production/eu-west-1/payments-service/postgres/primary/"
    "password-for-the-nightly-reporting-user"
)
LONG_VALUE = "the password the nightly reporting job uses to read the primary replica " * 2


def editor_of(pilot: Pilot[None]) -> EditorScreen:
    screen = pilot.app.screen
    assert isinstance(screen, EditorScreen)
    return screen


def line_of(widget: Widget, y: int = 0) -> str:
    """Line ``y`` of ``widget`` as drawn."""
    return widget.render_line(y).text.rstrip()


def shown(pilot: Pilot[None], widget: Widget) -> bool:
    """Whether ``widget`` is on screen and uncovered (what is at its middle is itself)."""
    region = widget.region
    if not region or region.bottom > pilot.app.size.height:
        return False
    hit, _ = pilot.app.screen.get_widget_at(region.x + region.width // 2, region.y)
    return hit is widget or widget in hit.ancestors


def status_of(pilot: Pilot[None]) -> str:
    return app_of(pilot).status.message.text


# -- layout -------------------------------------------------------------------------------------


def test_at_80x24_many_metadata_rows_scroll_while_save_and_cancel_stay_in_sight() -> None:
    keychain = keychain_class({"app/token": (b"v", dict(FIVE))})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, "app/token")
        await pilot.press("e")
        await settle(pilot)
        editor = editor_of(pilot)
        body = editor.query_one("#editor-body")
        assert len(editor.query(MetadataRow)) == 5
        await pilot.press("ctrl+n", "ctrl+n")  # seven rows: more than 24 lines hold
        await settle(pilot)
        assert body.max_scroll_y > 0  # the fields scroll ...
        for button in ("#editor-save", "#editor-cancel", "#editor-load"):
            assert shown(pilot, editor.query_one(button, Button)), button  # ... these do not
            assert body not in editor.query_one(button).ancestors
        last = editor.query(MetadataRow).last()
        assert app_of(pilot).focused in list(last.query(Input))  # the new row's key has the cursor
        assert shown(pilot, last)  # scrolled into view
        editor.query_one("#editor-save", Button).press()
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)  # saved (empty rows are left out)
        assert keychain.secrets["app/token"] == (b"v", FIVE)

    run(make_app({"docker-pass": keychain}), scenario, size=(80, 24))


def test_the_editor_uses_the_width_it_has_up_to_a_readable_line() -> None:
    widths: dict[int, int] = {}

    def measure(width: int) -> None:
        async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
            await select(pilot, ALICE)
            await pilot.press("e")
            await settle(pilot)
            widths[width] = editor_of(pilot).query_one("#editor-dialog").region.width

        run(make_app(), scenario, size=(width, 35))

    for width in (80, 120, 200):
        measure(width)
    assert widths == {80: 78, 120: 118, 200: 120}


def test_long_ids_labels_and_values_end_in_an_ellipsis() -> None:
    meta = {"a-very-long-metadata-key-name-indeed-it-is": "x", "description": LONG_VALUE}
    keychain = keychain_class({LONG_ID: (b"v", meta)})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, LONG_ID)
        tree = pilot.app.screen.query_one(RealmTree)
        leaf = line_of(tree, tree.cursor_line - round(tree.scroll_y))
        assert leaf.endswith("password-for…")  # at the tree's edge
        detail = pilot.app.screen.query_one(DetailPane)
        title = line_of(detail.query_one("#detail-title"))
        assert title.endswith("…")
        assert LONG_ID.startswith(title[:-1])
        table = detail.query_one("#detail-metadata")
        long_key, long_value = (line_of(table, y) for y in range(1, 3))
        assert "a-very-long-" in long_key
        assert "… " in long_key  # the key ends in …, its short value follows
        assert long_value.startswith(" description")
        assert long_value.endswith("…")
        assert table.max_scroll_x == 0  # no horizontal scrollbar
        await pilot.press("e")
        await settle(pilot)
        editor_title = line_of(editor_of(pilot).query_one("#editor-title"))
        assert editor_title.startswith("Edit myorganisation/")
        assert editor_title.endswith("…")

    run(make_app({"docker-pass": keychain}), scenario, size=(80, 24))


# -- New in the realm under the cursor ----------------------------------------------------------


def test_new_on_a_realm_pre_fills_it_selected_and_right_keeps_it() -> None:
    """The realm is pre-filled selected (typing a whole ID replaces it); → keeps it, with the
    cursor after its "/", and the rest typed is added to it."""

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        tree = pilot.app.screen.query_one(RealmTree)
        assert tree.show_realm("docker/auth")
        tree.focus()
        await settle(pilot)
        await pilot.press("n")
        editor = editor_of(pilot)
        field = editor.query_one("#editor-id", Input)
        assert field.value == "docker/auth/"
        assert field.selected_text == "docker/auth/"
        hint = str(editor.query_one("#editor-id-hint", Static).render())
        assert hint == "in docker/auth: type the rest of the ID after →, or a whole ID"
        await pilot.press("right")
        assert field.cursor_position == len("docker/auth/")
        assert field.selected_text == ""
        hint = str(editor.query_one("#editor-id-hint", Static).render())
        assert hint == "in docker/auth: type the rest of the ID"  # not an error
        await pilot.press("h", "u", "b", "/", "c", "a", "r", "o", "l")
        assert field.value == "docker/auth/hub/carol"
        assert str(editor.query_one("#editor-id-hint", Static).render()) == "✓ a valid new ID"

    run(make_app(), scenario)


def test_new_on_a_secret_pre_fills_its_realm_and_an_untouched_form_closes_at_once() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("n")
        editor = editor_of(pilot)
        assert editor.query_one("#editor-id", Input).value == "docker/auth/hub/"
        assert not editor.edited
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)  # nothing to discard: no question

    run(make_app(), scenario)


def test_new_on_a_notice_starts_empty() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        tree = pilot.app.screen.query_one(RealmTree)
        tree.focus()
        await pilot.press("home")  # the "1password-cli: crashed" line
        await settle(pilot)
        await pilot.press("n")
        editor = editor_of(pilot)
        assert editor.query_one("#editor-id", Input).value == ""
        assert str(editor.query_one("#editor-id-hint", Static).render()) == ID_HINT

    run(make_app(), scenario)


# -- fields -------------------------------------------------------------------------------------


def test_tab_into_a_field_keeps_its_text_unselected() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("e")
        await settle(pilot)
        visited: list[tuple[str, str]] = []
        for _ in range(8):
            await pilot.press("tab")
            focused = app_of(pilot).focused
            if isinstance(focused, Input) and focused.value:
                visited.append((focused.value, focused.selected_text))
        assert ("created-by", "") in visited
        assert ("docker login", "") in visited
        assert all(selected == "" for _, selected in visited)

    run(make_app(), scenario)


def test_an_id_error_clears_as_soon_as_the_id_is_valid() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("n", "ctrl+u")
        await type_text(pilot, "new/a*b")
        await pilot.press("ctrl+s")
        editor = editor_of(pilot)
        assert editor.error.startswith("ID: ")
        error = editor.query_one("#editor-error", Static)
        assert error.has_class("-error")
        assert error.display
        await pilot.press("backspace")  # "new/a*" is still invalid: the error stays
        assert editor.error.startswith("ID: ")
        await pilot.press("backspace")
        assert editor.error == ""
        assert not error.has_class("-error")
        assert not seen.of(EditorScreen.SaveRequested)

    run(make_app(), scenario)


def test_a_metadata_error_clears_when_the_key_is_fixed_or_its_row_removed() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("n", "ctrl+u")
        await type_text(pilot, "new/secret")
        await type_text(pilot, "v", "#editor-value")
        await pilot.press("ctrl+n")
        await settle(pilot)
        await type_text(pilot, "bad key")
        await pilot.press("ctrl+s")
        editor = editor_of(pilot)
        assert editor.error == "invalid metadata key 'bad key' (use A-Z a-z 0-9 _ . -)"
        await pilot.press("ctrl+u")
        await type_text(pilot, "good-key")
        assert editor.error == ""
        # Broken again, then the row removed: the cause is gone with it.
        await pilot.press("ctrl+u")
        await type_text(pilot, "bad key")
        await pilot.press("ctrl+s")
        assert editor.error.startswith("invalid metadata key")
        editor.query_one(".metadata-remove", Button).press()
        await settle(pilot)
        assert not editor.query(MetadataRow)
        assert editor.error == ""

    run(make_app(), scenario)


def test_a_failed_answer_is_not_the_fields_to_clear() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("n", "ctrl+u")
        await type_text(pilot, ALICE)
        await type_text(pilot, "new-value", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        editor = editor_of(pilot)
        assert editor.error == "Not saved."
        await type_text(pilot, "!")  # typing more does not say it was saved
        assert editor.error == "Not saved."

    run(make_app(), scenario)


# -- the current value, on request --------------------------------------------------------------


def test_ctrl_r_loads_the_current_value_masked_and_only_when_asked() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("e")
        await settle(pilot)
        editor = editor_of(pilot)
        area = editor.query_one(ValueArea)
        assert keychain.reads == 0  # opening the editor reads nothing
        assert area.text == ""
        await pilot.press("ctrl+r")
        await settle(pilot)
        requests = {id(m): m.info.id.value for m in seen.of(EditorScreen.CurrentValueRequested)}
        assert list(requests.values()) == [ALICE]  # one request (seen by each pump it passes)
        assert keychain.reads == 1
        assert area.text == ALICE_VALUE.decode()
        assert area.masked
        assert set(area.render_line(0).text.strip()) == {"•"}
        assert str(editor.query_one("#editor-value-hint", Static).render()) == LOADED_HINT
        assert status_of(pilot) == f"Loaded the current value of {ALICE} into the editor."
        assert not editor.edited  # loaded is not changed: Escape closes at once
        await pilot.press("end", "2")
        assert editor.edited
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert keychain.secrets[ALICE][0] == ALICE_VALUE + b"2"

    run(make_app({"docker-pass": keychain}), scenario)


def test_a_binary_value_is_not_loaded_and_new_has_nothing_to_load() -> None:
    keychain = keychain_class({"bin/key": (b"\xff\x00", {})})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("n")
        await pilot.press("ctrl+r")  # not offered for a new secret
        await settle(pilot)
        assert not seen.of(EditorScreen.CurrentValueRequested)
        assert keychain.reads == 0
        await pilot.press("escape")
        await select(pilot, "bin/key")
        await pilot.press("e")
        await settle(pilot)
        editor_of(pilot).query_one("#editor-load", Button).press()
        await settle(pilot)
        editor = editor_of(pilot)
        assert editor.error == "bin/key holds binary data: it cannot be edited as text."
        assert editor.query_one(ValueArea).text == ""

    run(make_app({"docker-pass": keychain}), scenario)


# -- where it saves -----------------------------------------------------------------------------


def store(kind: str, storage: str) -> PluginStatus:
    """The status of a running ``docker-pass`` plugin whose store is of ``kind``."""
    return PluginStatus(
        name="docker-pass",
        version="0.1.0",
        status=RunStatus.RUNNING,
        configurable=False,
        enabled=True,
        pattern="**",
        storage=storage,
        store_kind=kind,
    )


def test_the_where_line_names_the_plugin_and_the_kind_of_store_only() -> None:
    assert storage_kind(store("file", STORAGE)) == "encrypted file store"
    assert (
        storage_kind(
            store("secret-service", "Secret Service collection 'Login' (/org/freedesktop/…)")
        )
        == "Secret Service keychain"
    )
    assert storage_kind(store("keyring", "keyring backend macOS.Keyring (default)")) == (
        "system keyring"
    )
    assert storage_kind(store("", "")) == ""
    assert storage_kind(None) == ""
    assert where_line("docker-pass", store("file", STORAGE)) == (
        "Saves to docker-pass (encrypted file store)"
    )
    assert where_line("docker-pass", store("", "")) == "Saves to docker-pass"
    assert where_line("docker-pass", None) == "Saves to docker-pass"


def test_the_kind_is_the_stores_word_not_the_storage_texts() -> None:
    """The store says its kind; the first words of its storage text are not read."""
    assert storage_kind(store("file", "Secret Service collection 'Login' (…)")) == (
        "encrypted file store"
    )
    assert storage_kind(store("", "vault kv v2 mount secret/; token from keychain")) == (
        "vault kv v2 mount secret/"
    )


def two_writable() -> tuple[type[Any], type[Any]]:
    return keychain_class(), writable_class()


def test_with_one_writable_plugin_no_choice_is_shown() -> None:
    classes = {
        "docker-pass": keychain_class(),
        "1password-sdk": readonly_class(),
        "1password-cli": crashing_class(),
    }

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("n")
        editor = editor_of(pilot)
        assert not editor.query(Select)
        assert list(editor.targets) == ["docker-pass"]
        where = str(editor.query_one("#editor-where", Static).render())
        assert where == "Saves to docker-pass (encrypted file store)"

    run(make_app(classes), scenario)


def test_with_two_writable_plugins_new_offers_a_choice_and_saves_to_the_chosen_one() -> None:
    keychain, vault = two_writable()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("n", "ctrl+u")
        editor = editor_of(pilot)
        choice = editor.query_one("#editor-plugin", Select)
        assert choice.value == "docker-pass"  # the keychain first
        assert list(editor.targets) == ["docker-pass", "vault"]
        where = editor.query_one("#editor-where", Static)
        await type_text(pilot, "infra/vault/ci-token")  # listed by vault only
        hint = editor.query_one("#editor-id-hint", Static)
        # New to docker-pass, but vault holds it: saving it there too would make its
        # reference ambiguous, and the hint says so (issue 23: no longer "✓ a valid new ID").
        assert str(hint.render()) == (
            "⚠ vault has this ID: saving it here too makes se://infra/vault/ci-token match "
            "2 secrets"
        )
        choice.value = "vault"
        await settle(pilot)
        assert str(where.render()) == (
            "Saves to vault (vault kv v2 mount secret/ at https://vault.example.internal:8200)"
        )
        assert "exists: saving replaces" in str(hint.render())  # ... but not to vault
        await type_text(pilot, "new-token", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)
        question = pilot.app.screen
        assert isinstance(question, ConfirmScreen)
        assert "exists in vault" in str(question.query_one("#confirm-body", Static).render())
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)
        assert vault.secrets["infra/vault/ci-token"] == (b"new-token", {})
        assert "infra/vault/ci-token" not in keychain.secrets
        assert status_of(pilot) == "Replaced infra/vault/ci-token in vault. u undoes it."

    run(make_app({"docker-pass": keychain, "vault": vault}), scenario)


def test_the_default_choice_saves_to_docker_pass_without_asking_about_vaults_copy() -> None:
    keychain, vault = two_writable()
    assert "docker/auth/hub/alice" in VAULT_SECRETS

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("n", "ctrl+u")
        await type_text(pilot, "only/in/docker-pass")
        await type_text(pilot, "v", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)  # nothing to replace: no question
        assert keychain.secrets["only/in/docker-pass"] == (b"v", {})
        assert "only/in/docker-pass" not in vault.secrets

    run(make_app({"docker-pass": keychain, "vault": vault}), scenario)


# -- one button style ---------------------------------------------------------------------------


def test_every_dialog_uses_compact_buttons_with_one_variant_scheme() -> None:
    seen_buttons: dict[str, list[tuple[str, bool, str]]] = {}

    def note(pilot: Pilot[None], name: str) -> None:
        seen_buttons[name] = [
            (str(b.label), b.compact, b.variant) for b in pilot.app.screen.query(Button)
        ]

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("e")
        await settle(pilot)
        note(pilot, "editor")
        await pilot.press("escape")
        await pilot.press("d")
        await settle(pilot)
        note(pilot, "delete")
        await pilot.press("n")
        await pilot.press("question_mark")
        await settle(pilot)
        note(pilot, "help")

    run(make_app(), scenario)
    editor = [b for b in seen_buttons["editor"] if not b[0].startswith(("✕", "+"))]
    assert editor == [
        ("Load current (ctrl+r)", True, "default"),
        ("Save (ctrl+s)", True, "primary"),
        ("Cancel (esc)", True, "default"),
    ]
    assert seen_buttons["delete"] == [
        ("Delete (y)", True, "error"),
        ("Cancel (n)", True, "default"),
    ]
    assert seen_buttons["help"] == [("Close (esc)", True, "default")]
