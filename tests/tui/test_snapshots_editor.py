"""Snapshots of the editor's layout: a small terminal, a wide one, "New" in a realm, a choice
of writable plugins, and replacing a secret in the chosen one.

Fixed data (the demo secrets in an in-memory keychain, a crashed 1password-cli, or a second
writable fake plugin), fixed terminal sizes, cursor blink off; no value is ever shown.
Update after checking the pictures:
``pytest tests/tui/test_snapshots_editor.py --snapshot-update``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Input

from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.support.tui_fakes import keychain_class
from tests.support.tui_fakes_extra import writable_class
from tests.tui.conftest import make_app, settle, type_text
from tests.tui.test_snapshots import ALICE, SnapCompare, on_alice

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from docker_pass.tui.app import DockerPassApp


async def on_first_realm(pilot: Pilot[None]) -> None:
    """The cursor on realm ``aws`` whichever plugin answered first (with two plugins, the first
    tree is built from whichever listing arrives first, and the cursor stays where it was put)."""
    tree = pilot.app.screen.query_one(RealmTree)
    assert tree.show_realm("aws")
    tree.focus()
    await settle(pilot)


def two_writable_app() -> DockerPassApp:
    return make_app({"docker-pass": keychain_class(), "vault": writable_class()})


def test_editor_at_80x24_with_five_metadata_rows_scrolled(snap_compare: SnapCompare) -> None:
    """You should see, at 80x24, the "New secret" editor with five filled metadata rows (team,
    env, owner, ticket, rotates; the cursor in the last value, scrolled into view) and a
    one-cell scrollbar at the right of the fields, "+ metadata (ctrl+n)" scrolled out below;
    the title, "Saves to docker-pass (encrypted file store)", and the Save (ctrl+s) and
    Cancel (esc) buttons at the bottom stay in sight outside the scrolling part."""

    async def five_rows(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await on_first_realm(pilot)
        await pilot.press("n", "ctrl+u")
        await type_text(pilot, "payments/prod/stripe/api-key")
        for key, value in [
            ("team", "payments"),
            ("env", "prod"),
            ("owner", "alice"),
            ("ticket", "SEC-1234"),
            ("rotates", "quarterly"),
        ]:
            await pilot.press("ctrl+n")
            await settle(pilot)
            await type_text(pilot, key)
            await pilot.press("tab")
            await type_text(pilot, value)
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=five_rows)


def test_editor_at_120x35(snap_compare: SnapCompare) -> None:
    """You should see the editor for docker/auth/hub/alice spread over 118 of the 120 columns:
    the metadata keys and values in wide fields, and "Load current (ctrl+r)", "Save (ctrl+s)"
    and "Cancel (esc)" compact at the bottom right."""

    async def editing(pilot: Pilot[None]) -> None:
        await on_alice(pilot)
        await pilot.press("e")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(120, 35), run_before=editing)


def test_new_with_a_pre_filled_realm(snap_compare: SnapCompare) -> None:
    """You should see the "New secret" editor opened on realm docker/auth: the ID field holds
    "docker/auth/" selected (typing a whole ID replaces it), and under it "in docker/auth: type
    the rest of the ID after →, or a whole ID" (not an error)."""

    async def on_realm(pilot: Pilot[None]) -> None:
        await settle(pilot)
        tree = pilot.app.screen.query_one(RealmTree)
        assert tree.show_realm("docker/auth")
        tree.focus()
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(pilot.app.focused, Input)

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=on_realm)


def test_plugin_choice_with_two_writable_plugins(snap_compare: SnapCompare) -> None:
    """You should see the "New secret" editor with a "Plugin" choice opened under it, listing
    docker-pass and vault with vault highlighted, and the line "Saves to docker-pass
    (encrypted file store)" above (the choice is not made yet)."""

    async def choosing(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await on_first_realm(pilot)
        await pilot.press("n", "ctrl+u")
        pilot.app.screen.query_one("#editor-plugin").focus()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)

    assert snap_compare(two_writable_app(), terminal_size=(100, 30), run_before=choosing)


def test_replace_confirmation_in_the_chosen_plugin(snap_compare: SnapCompare) -> None:
    """You should see, over the editor (which says "Saves to vault (vault kv v2 mount secret/
    at https://vault.example.internal:8200)"), a red-bordered dialog "Replace
    docker/auth/hub/alice?" saying it exists in vault and that saving replaces its value and
    metadata, with compact "Replace (y)" and "Cancel (n)" buttons."""

    async def replacing(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await on_first_realm(pilot)
        await pilot.press("n", "ctrl+u")
        choice = pilot.app.screen.query_one("#editor-plugin")
        choice.value = "vault"  # type: ignore[attr-defined]
        await settle(pilot)
        await type_text(pilot, ALICE, "#editor-id")
        await type_text(pilot, "dckr_pat_demo-new-not-a-real-token", "#editor-value")
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(two_writable_app(), terminal_size=(100, 30), run_before=replacing)
