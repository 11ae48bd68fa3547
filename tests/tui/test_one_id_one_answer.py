"""One ID, one answer: an ID two plugins hold is marked ambiguous in the tree, the detail pane
says why ``se://ID`` fails and how to reach each copy, ``y`` copies the command that reads
this copy; and saving an ID another running plugin holds asks first (listed or not)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import Static

from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.editor import EditorScreen
from docker_pass.tui.screens.main import MainScreen
from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.support.tui_fakes import keychain_class
from tests.support.tui_fakes_extra import writable_class
from tests.tui.conftest import Recorder, app_of, make_app, run, select, settle, type_text
from tests.tui.screen_text import detail_words

if TYPE_CHECKING:
    from textual.pilot import Pilot

ALICE = "docker/auth/hub/alice"  # held by both the demo keychain and the vault fake


def two() -> tuple[type[Any], type[Any]]:
    return keychain_class(), writable_class()


def leaf_labels(pilot: Pilot[None], id_: str) -> list[str]:
    tree = pilot.app.screen.query_one(RealmTree)
    assert tree.show_secret(id_)
    node = tree.cursor_node
    assert node is not None
    assert node.parent is not None
    return [str(c.label) for c in node.parent.children]


def test_the_tree_marks_an_id_two_plugins_hold_and_the_detail_says_what_to_do() -> None:
    keychain, vault = two()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        labels = leaf_labels(pilot, ALICE)
        assert "alice  ambiguous  docker-pass" in labels
        assert "alice  ambiguous  vault" in labels
        assert "bob  docker-pass" in labels  # one holder: no mark
        await select(pilot, ALICE)
        words = detail_words(pilot.app)
        assert (
            f"✗ se://{ALICE} matches 2 secrets (docker-pass, vault): every reference to it "
            "fails" in words
        )
        assert f"docker pass get --plugin docker-pass {ALICE}" in words
        assert f"docker pass get --plugin vault {ALICE}" in words
        assert "narrow vault's pattern (plugins.vault.pattern, now **)" in words
        assert f"Reference se://{ALICE}" not in words  # no reference that fails is offered
        await select(pilot, "docker/auth/hub/bob")
        assert "Reference se://docker/auth/hub/bob" in detail_words(pilot.app)

    run(make_app({"docker-pass": keychain, "vault": vault}), scenario, size=(130, 34))


def test_y_on_an_ambiguous_id_copies_the_get_command() -> None:
    keychain, vault = two()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        copied: list[str] = []
        app.values.clipboard.copy = lambda text, report, **_: copied.append(text)  # type: ignore[method-assign]
        await select(pilot, ALICE)
        await pilot.press("y")
        await settle(pilot)
        selected = app.secrets.selected
        assert selected is not None
        assert copied == [f"docker pass get --plugin {selected.provider} {ALICE}"]

    run(make_app({"docker-pass": keychain, "vault": vault}), scenario)


def test_saving_an_id_another_plugin_holds_asks_first() -> None:
    keychain, vault = two()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("n", "ctrl+u")
        await type_text(pilot, "infra/vault/ci-token")  # vault's only
        await type_text(pilot, "v", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)
        question = pilot.app.screen
        assert isinstance(question, ConfirmScreen)
        title = str(question.query_one("#confirm-title", Static).render())
        body = str(question.query_one("#confirm-body", Static).render())
        assert title == "vault holds infra/vault/ci-token"
        assert body.startswith(
            "vault already holds infra/vault/ci-token: saving it to docker-pass too makes "
            "se://infra/vault/ci-token match 2 secrets (docker-pass, vault), so every "
            "reference to it fails."
        )
        await pilot.press("n")
        await settle(pilot)
        editor = pilot.app.screen
        assert isinstance(editor, EditorScreen)
        assert editor.error.startswith("Not saved: vault already holds")
        assert "infra/vault/ci-token" not in keychain.secrets
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen)
        assert keychain.secrets["infra/vault/ci-token"] == (b"v", {})

    run(make_app({"docker-pass": keychain, "vault": vault}), scenario)


def test_an_id_another_plugin_got_since_the_listing_is_asked_about_too() -> None:
    keychain, vault = two()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("n", "ctrl+u")
        await type_text(pilot, "team/fresh")
        hint = str(pilot.app.screen.query_one("#editor-id-hint", Static).render())
        assert hint == "✓ a valid new ID"
        vault.secrets["team/fresh"] = (b"theirs", {})  # another process, not listed yet
        await type_text(pilot, "mine", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)
        question = pilot.app.screen
        assert isinstance(question, ConfirmScreen)
        assert "vault already holds team/fresh" in str(
            question.query_one("#confirm-body", Static).render()
        )
        await pilot.press("n")
        await settle(pilot)
        assert "team/fresh" not in keychain.secrets

    run(make_app({"docker-pass": keychain, "vault": vault}), scenario)
