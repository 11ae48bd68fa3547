"""Snapshots of the filter field's modes and of a tree order other than by name.

Fixed data (the demo secrets in an in-memory keychain, a crashed 1password-cli), a fixed
terminal size, cursor blink off.  Update after checking the pictures:
``pytest tests/tui/test_snapshots_filter.py --snapshot-update``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.support.tui_fakes import keychain_class, readonly_class
from tests.tui.conftest import make_app, settle, type_text
from tests.tui.test_snapshots import SIZE, SnapCompare

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from textual.pilot import Pilot


def typing(text: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def typed(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, text)

    return typed


def test_prefix_mode(snap_compare: SnapCompare) -> None:
    """You should see docker/au in the field, "prefix · 3 of 15 under docker/au… · by name"
    under it, and the tree opened down to docker/auth's three secrets (ghcr.io/alice,
    hub/alice, hub/bob), with "docker" and the "au" of "auth" highlighted."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=typing("docker/au"))


def test_search_mode(snap_compare: SnapCompare) -> None:
    """You should see alice in the field, "search · 2 of 15 · components containing alice ·
    as a pattern: **/alice/** or **/alice · by name", and the two alice secrets (under
    docker/auth/ghcr.io and docker/auth/hub) with "alice" highlighted."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=typing("alice"))


def test_search_mode_inside_components(snap_compare: SnapCompare) -> None:
    """You should see hub in the field, "search · 3 of 15 · components containing hub · whole
    components: **/hub/** (2) · by name", and the tree with hub/alice, hub/bob and
    oauth/github, the characters "hub" highlighted in "hub" and in "github"."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=typing("hub"))


def test_metadata_mode(snap_compare: SnapCompare) -> None:
    """You should see owner=platform-team in the field, "metadata · 4 of 15 with
    owner=platform-team · as you type: platform-team… as a prefix · by name", and the four
    myapp secrets owned by platform-team (prod postgres password and user, staging postgres
    password, staging redis url)."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=typing("owner=platform-team"))


def test_sorted_by_provider(snap_compare: SnapCompare) -> None:
    """You should see the tree sorted by provider (s pressed once), opened down to
    docker/auth/hub: carol (1password-sdk) before alice and bob (docker-pass), the cursor on
    alice; the count line ends with "· by provider" and the status line says "Sorted by
    provider (s: next order).\""""

    async def sorted_by_provider(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        tree = pilot.app.screen.query_one(RealmTree)
        assert tree.show_secret("docker/auth/hub/alice")
        await settle(pilot)

    classes = {
        "docker-pass": keychain_class(),
        "1password-sdk": readonly_class(items={"docker/auth/hub/carol": b"v"}),
    }
    assert snap_compare(make_app(classes), terminal_size=SIZE, run_before=sorted_by_provider)
