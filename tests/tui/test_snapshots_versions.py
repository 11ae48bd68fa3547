"""Snapshots of issue 23's states: the conflict question and the edit kept aside after a
reload, an ID two plugins hold (the tree's mark and the detail pane), the question before
saving such an ID, the move dialog, and a deleted secret under the "deleted" line.

Fixed data (in-memory plugins: a versioned keychain whose changes elsewhere carry a fixed time
and author, a second writable plugin, a vault-like one that keeps deleted secrets), fixed
sizes, cursor blink off; no value is ever shown.  Update after checking the pictures:
``pytest tests/tui/test_snapshots_versions.py --snapshot-update``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from docker_pass.tui.widgets.realm_tree import RealmTree
from docker_pass.tui.widgets.tree_content import DeletedGroup
from tests.support.tui_fakes import demo_secrets, keychain_class
from tests.support.tui_fakes_extra import writable_class
from tests.support.tui_versioned import vaultlike_class, versioned_class
from tests.tui.conftest import make_app, select, settle, type_text
from tests.tui.test_snapshots import ALICE, SIZE, SnapCompare
from tests.tui.test_snapshots_editor import on_first_realm

if TYPE_CHECKING:
    from textual.pilot import Pilot

PASSWORD = "myapp/prod/postgres/password"


def versioned_demo() -> type[Any]:
    return versioned_class(secrets=demo_secrets(), list_versions=True)


def test_conflict_question(snap_compare: SnapCompare) -> None:
    """You should see, over the editor of myapp/prod/postgres/password, the red-bordered
    question "myapp/prod/postgres/password changed elsewhere": "docker-pass changed … since
    you opened it: now version 2, changed at 2026-12-06 23:19 UTC, by alice@laptop.", that
    nothing was saved and the typing stays whatever the answer, and the buttons Overwrite (o)
    in red, Reload (r) and Cancel (c), Cancel focused."""
    store = versioned_demo()

    async def conflicted(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await select(pilot, PASSWORD)
        await pilot.press("e")
        await settle(pilot)
        store.outside_set(PASSWORD, b"changed elsewhere")
        await type_text(pilot, "typed here", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)

    app = make_app({"docker-pass": store})
    assert snap_compare(app, terminal_size=SIZE, run_before=conflicted)


def test_reloaded_with_the_edit_aside(snap_compare: SnapCompare) -> None:
    """You should see the editor after Reload: the stored value masked in the value area,
    "current value loaded" under it, then in yellow "Your edit is kept aside (10 chars): ctrl+b
    swaps it back"; under the title "version 2 as you reloaded it: a save checks it
    is unchanged"."""
    store = versioned_demo()

    async def reloaded(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await select(pilot, PASSWORD)
        await pilot.press("e")
        await settle(pilot)
        store.outside_set(PASSWORD, b"changed elsewhere")
        await type_text(pilot, "typed here", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)

    assert snap_compare(make_app({"docker-pass": store}), terminal_size=SIZE, run_before=reloaded)


def test_ambiguous_id_in_the_tree_and_the_detail_pane(snap_compare: SnapCompare) -> None:
    """You should see docker/auth/hub/alice twice in the tree, each line marked "ambiguous"
    in bold yellow (docker-pass's and vault's), bob without a mark; the detail pane says
    "✗ se://docker/auth/hub/alice matches 2 secrets (docker-pass, vault): every reference to
    it fails", "Read with" the two docker pass get --plugin commands, and "To fix": move or
    delete one copy, or narrow vault's pattern."""

    async def on_alice(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await select(pilot, ALICE)

    app = make_app({"docker-pass": keychain_class(), "vault": writable_class()})
    assert snap_compare(app, terminal_size=(110, 32), run_before=on_alice)


def test_duplicate_question(snap_compare: SnapCompare) -> None:
    """You should see, over the New editor saving infra/vault/ci-token to docker-pass, the
    red-bordered question "vault holds infra/vault/ci-token": saving it to docker-pass too
    makes se://infra/vault/ci-token match 2 secrets (docker-pass, vault), so every reference
    to it fails; Save anyway (y) in red and Cancel (n)."""

    async def asked(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await on_first_realm(pilot)  # whichever plugin answered first: the same picture
        await pilot.press("n", "ctrl+u")
        await type_text(pilot, "infra/vault/ci-token")
        await type_text(pilot, "v", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)

    app = make_app({"docker-pass": keychain_class(), "vault": writable_class()})
    assert snap_compare(app, terminal_size=SIZE, run_before=asked)


def test_move_dialog(snap_compare: SnapCompare) -> None:
    """You should see the dialog "Move myapp/prod/postgres/password", "from docker-pass", the
    To field holding myapp/prod/postgres/pass, the Plugin choice on docker-pass, and under
    them "✓ moves to docker-pass:myapp/prod/postgres/pass; the old ID goes once the copy is
    saved"; Move (ctrl+s) and Cancel (esc)."""

    async def moving(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await select(pilot, PASSWORD)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("backspace", "backspace", "backspace", "backspace")
        await settle(pilot)

    app = make_app({"docker-pass": keychain_class(), "vault": writable_class()})
    assert snap_compare(app, terminal_size=SIZE, run_before=moving)


def test_move_realm_dialog(snap_compare: SnapCompare) -> None:
    """You should see "Move realm docker/auth/", "3 secrets under it in docker-pass" with a
    From choice (docker-pass (3), vault (1)), To holding docker/registry-auth, and "3 secrets
    go from docker/auth/ to docker-pass:docker/registry-auth/"."""

    async def moving(pilot: Pilot[None]) -> None:
        await settle(pilot)
        tree = pilot.app.screen.query_one(RealmTree)
        assert tree.show_realm("docker/auth")
        tree.focus()
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("backspace", "backspace", "backspace", "backspace")
        await type_text(pilot, "registry-auth")

    app = make_app({"docker-pass": keychain_class(), "vault": writable_class()})
    assert snap_compare(app, terminal_size=SIZE, run_before=moving)


def test_deleted_secret(snap_compare: SnapCompare) -> None:
    """You should see, at the end of the tree, "deleted 1 · not live" opened on a greyed
    "team/old-token  vault" line with the cursor on it; the detail pane says its latest
    version (version 1) was deleted, that se://team/old-token does not resolve, and "U
    undelete · X purge every version (irreversible)"; the header counts 1 secret."""
    vault: type[Any] = vaultlike_class(
        secrets={"team/api": (b"k", {}), "team/old-token": (b"t", {"owner": "ops"})}
    )
    vault.held["team/old-token"].deleted = True

    async def on_deleted(pilot: Pilot[None]) -> None:
        await settle(pilot)
        tree = pilot.app.screen.query_one(RealmTree)
        group = next(c for c in tree.root.children if isinstance(c.data, DeletedGroup))
        tree.move_cursor(group)
        tree.focus()
        await pilot.press("l")
        await settle(pilot)
        tree.move_cursor(group.children[0])
        await settle(pilot)

    app = make_app({"docker-pass": keychain_class({}), "vault": vault})
    assert snap_compare(app, terminal_size=SIZE, run_before=on_deleted)
