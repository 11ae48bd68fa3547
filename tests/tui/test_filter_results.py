"""Issue 24, item 3: a filter's results are on screen and a key away.

Many results open realms until the tree is full (not one closed row above empty lines);
Down/Up and ctrl+n/ctrl+p in the filter field move the tree's cursor through the secrets while
the keys stay in the field; Enter opens the secret so chosen, or the only one left, as Enter on
its row does (its detail takes the keys).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from textual.widgets import Input

from docker_pass.core.envelope import SecretInfo
from docker_pass.tui.widgets.detail_pane import DetailPane
from docker_pass.tui.widgets.realm_tree import RealmTree
from docker_pass.tui.widgets.tree_content import RealmNode
from tests.support.tui_fakes import keychain_class, many_secrets
from tests.tui.conftest import Recorder, app_of, filled, make_app, run, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot


def tree_of(pilot: Pilot[None]) -> RealmTree:
    return pilot.app.screen.query_one(RealmTree)


def shown(tree: RealmTree) -> list[object]:
    """What each line of the tree holds, top to bottom."""
    out: list[object] = []
    for line in range(tree.last_line + 1):
        node = tree.get_node_at_line(line)
        out.append(node.data if node is not None else None)
    return out


def secrets_shown(tree: RealmTree, rows: int) -> list[str]:
    """The secrets on the tree's first ``rows`` lines."""
    return [d.id.value for d in shown(tree)[:rows] if isinstance(d, SecretInfo)]


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
def test_many_results_open_realms_until_the_screen_is_full(size: tuple[int, int]) -> None:
    secrets = many_secrets(6_000)
    prefix = "payments/prod/svc1"
    expected = sorted(i for i in secrets if i.startswith(prefix))
    assert len(expected) > 60  # more than the "open everything" limit

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("slash")
        await type_text(pilot, prefix)
        assert app.pattern.preview.matched == len(expected)
        tree = tree_of(pilot)
        assert tree.fill_pending  # not on every key: once typing pauses
        await filled(pilot)
        rows = tree.scrollable_content_region.height
        lines = shown(tree)
        assert len(lines) >= rows, "the tree fills its height"
        # The first result is open down to its secret, on screen.
        first = secrets_shown(tree, rows)
        assert first
        assert first[0] == expected[0]
        realms = [d for d in lines[:rows] if isinstance(d, RealmNode)]
        assert [r.path for r in realms[:3]] == ["payments", "payments/prod", "payments/prod/svc1"]

    run(make_app({"docker-pass": keychain_class(secrets)}), scenario, size=size)


def test_down_and_up_in_the_field_step_through_the_results_and_keep_the_keys() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("slash")
        await type_text(pilot, "docker/auth/")
        field = app.screen.query_one("#pattern-input", Input)
        tree = tree_of(pilot)
        visited = []
        for key in ("down", "down", "ctrl+n", "down"):
            await pilot.press(key)
            await settle(pilot)
            assert app.focused is field, f"{key} took the keys out of the field"
            assert isinstance(tree.highlighted, SecretInfo)
            visited.append(tree.highlighted.id.value)
        assert visited == [
            "docker/auth/ghcr.io/alice",
            "docker/auth/hub/alice",
            "docker/auth/hub/bob",
            "docker/auth/hub/bob",  # the last result: the cursor stays
        ]
        # The detail pane follows the cursor.
        detail = app.screen.query_one(DetailPane)
        assert isinstance(detail.subject, SecretInfo)
        assert detail.subject.id.value == "docker/auth/hub/bob"
        for key, want in (("up", "hub/alice"), ("ctrl+p", "ghcr.io/alice")):
            await pilot.press(key)
            await settle(pilot)
            assert app.focused is field
            assert isinstance(tree.highlighted, SecretInfo)
            assert tree.highlighted.id.value == f"docker/auth/{want}"
        assert not app.screen_stack[1:], "ctrl+p in the field opens no palette"
        # Enter opens the secret chosen: its detail takes the keys.
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.focused, DetailPane)
        assert detail.subject.id.value == "docker/auth/hub/alice"

    run(make_app(), scenario)


def test_down_reaches_secrets_inside_closed_realms() -> None:
    secrets = many_secrets(3_000)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await pilot.press("slash")
        await type_text(pilot, "svc3")  # a search: results all over the tree
        tree = tree_of(pilot)
        ids = []
        for _ in range(40):
            await pilot.press("down")
            await pilot.pause()
            assert isinstance(tree.highlighted, SecretInfo)
            ids.append(tree.highlighted.id.value)
        expected = sorted(i for i in secrets if any("svc3" in c for c in i.split("/")))
        assert ids == expected[:40]
        assert tree.cursor_node is not None
        assert tree.cursor_line == tree.cursor_node.line  # on a line: its realms are open

    run(make_app({"docker-pass": keychain_class(secrets)}), scenario)


def test_enter_on_a_single_result_opens_it() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("slash")
        await type_text(pilot, "**/stripe/*")
        assert app.pattern.preview.matched == 1
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.focused, DetailPane)
        detail = app.screen.query_one(DetailPane)
        assert isinstance(detail.subject, SecretInfo)
        assert detail.subject.id.value == "myapp/prod/stripe/api-key"

    run(make_app(), scenario)


def test_enter_on_several_results_reads_exactly_and_gives_the_tree_the_keys() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("slash")
        await type_text(pilot, "docker/*/hub")
        assert app.pattern.preview.matched == 2  # hub… while typing
        await pilot.press("enter")
        await settle(pilot)
        assert app.pattern.preview.matched == 0  # exactly: a component named hub, last
        assert isinstance(app.focused, RealmTree)

    run(make_app(), scenario)


def test_enter_right_after_typing_on_a_large_listing_waits_for_the_exact_read() -> None:
    # Above the inline limit the previews come from a worker: the one for the text as typed
    # may still run when Enter comes; the single result is opened from the exact one.
    secrets = many_secrets(20_000)
    text = "payments/prod/svc0/**"
    assert sum(1 for i in secrets if i.startswith("payments/prod/svc0/")) == 1

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("slash")
        field = app.screen.query_one("#pattern-input", Input)
        field.insert_text_at_cursor(text)
        await pilot.press("enter")
        await settle(pilot)
        assert app.pattern.preview.text == text
        assert not app.pattern.preview.typing
        assert app.pattern.preview.matched == 1
        assert isinstance(app.focused, DetailPane)
        detail = app.screen.query_one(DetailPane)
        assert isinstance(detail.subject, SecretInfo)
        assert detail.subject.id.value.startswith("payments/prod/svc0/")

    app = make_app({"docker-pass": keychain_class(secrets)}, inline_preview_limit=5_000)
    run(app, scenario)
