"""Deleted secrets (a vault-like plugin keeps a secret whose latest version is deleted): not
live, not counted, shown greyed under a "deleted" line at the end of the tree; U undeletes,
X purges every version after its own question.  The real vault's are in
``test_vault_versions_tui.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import Static

from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.main import MainScreen
from docker_pass.tui.widgets.realm_tree import RealmTree
from docker_pass.tui.widgets.tree_content import DeletedGroup
from tests.support.tui_fakes import keychain_class
from tests.support.tui_versioned import vaultlike_class
from tests.tui.conftest import Recorder, app_of, make_app, run, select, settle, type_text
from tests.tui.screen_text import detail_words

if TYPE_CHECKING:
    from textual.pilot import Pilot

LIVE = "team/api"
GONE = "team/old-token"


def vault_with_one_deleted() -> type[Any]:
    vault: type[Any] = vaultlike_class(secrets={LIVE: (b"k", {}), GONE: (b"t", {"o": "x"})})
    vault.held[GONE].deleted = True
    return vault


def tree_lines(pilot: Pilot[None]) -> list[str]:
    tree = pilot.app.screen.query_one(RealmTree)
    return [tree.get_node_at_line(n).label.plain for n in range(tree.last_line + 1)]  # type: ignore[union-attr]


def detail_text(pilot: Pilot[None]) -> str:
    return detail_words(pilot.app)


async def to_deleted(pilot: Pilot[None], id_: str) -> None:
    tree = pilot.app.screen.query_one(RealmTree)
    group = next(c for c in tree.root.children if isinstance(c.data, DeletedGroup))
    tree.move_cursor(group)
    await pilot.press("l")  # opens the deleted line
    await settle(pilot)
    node = next(c for c in group.children if c.data.id.value == id_)  # type: ignore[union-attr]
    tree.move_cursor(node)
    tree.focus()
    await settle(pilot)


def test_a_deleted_secret_is_apart_greyed_and_not_counted() -> None:
    vault = vault_with_one_deleted()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        assert app.listing.index.find(GONE, "vault") is None  # no live secret
        assert [d.id.value for d in app.listing.deleted_entries] == [GONE]
        assert "1 secret" in app.sub_title  # only the live one is counted
        assert tree_lines(pilot)[-1] == "deleted 1 · not live"
        await to_deleted(pilot, GONE)
        text = detail_text(pilot)
        assert "deleted: its latest version (version 1) was deleted" in text
        assert f"se://{GONE} does not resolve while it is deleted" in text
        await pilot.press("r")  # no value to reveal
        await settle(pilot)
        assert app.status.message.text == (
            f"{GONE} is deleted in vault: U undeletes it, X purges every version."
        )
        await pilot.press("slash")
        await type_text(pilot, "team")
        assert not any(line.startswith("deleted") for line in tree_lines(pilot))

    run(make_app({"docker-pass": keychain_class({}), "vault": vault}), scenario)


def test_u_capital_undeletes_it() -> None:
    vault = vault_with_one_deleted()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await to_deleted(pilot, GONE)
        await pilot.press("U")
        await settle(pilot)
        assert not vault.held[GONE].deleted
        assert app.listing.index.find(GONE, "vault") is not None
        assert app.listing.deleted_entries == ()
        assert app.status.message.text == f"Undeleted {GONE} in vault."
        assert not any(line.startswith("deleted") for line in tree_lines(pilot))
        assert app.secrets.selected is not None
        assert app.secrets.selected.id.value == GONE

    run(make_app({"docker-pass": keychain_class({}), "vault": vault}), scenario)


def test_x_purges_every_version_after_its_own_question() -> None:
    vault = vault_with_one_deleted()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await to_deleted(pilot, GONE)
        await pilot.press("X")
        await settle(pilot)
        question = pilot.app.screen
        assert isinstance(question, ConfirmScreen)
        body = str(question.query_one("#confirm-body", Static).render())
        assert body.startswith(f"Purge every version of {GONE} from vault?")
        assert "cannot be undone" in body
        await pilot.press("n")
        await settle(pilot)
        assert GONE in vault.held
        await pilot.press("X", "y")
        await settle(pilot)
        assert GONE not in vault.held
        assert app.listing.deleted_entries == ()
        assert app.status.message.text == f"Purged every version of {GONE} from vault."
        # A live one can be purged too (its own question again).
        await select(pilot, LIVE)
        await pilot.press("X", "y")
        await settle(pilot)
        assert LIVE not in vault.held
        assert isinstance(pilot.app.screen, MainScreen)

    run(make_app({"docker-pass": keychain_class({}), "vault": vault}), scenario)


def test_d_then_u_on_a_vault_like_plugin_deletes_and_restores() -> None:
    vault: type[Any] = vaultlike_class(secrets={LIVE: (b"k", {"a": "b"})})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await select(pilot, LIVE)
        await pilot.press("d", "y")
        await settle(pilot)
        assert vault.held[LIVE].deleted
        assert app.listing.index.find(LIVE, "vault") is None
        await pilot.press("u")
        await settle(pilot)
        assert not vault.held[LIVE].deleted
        assert vault.held[LIVE].value == b"k"
        assert isinstance(pilot.app.screen, MainScreen)

    run(make_app({"docker-pass": keychain_class({}), "vault": vault}), scenario)
