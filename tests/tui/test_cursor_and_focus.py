"""Where the cursor and the focus go: a delete keeps the tree's open realms and moves to the
neighbour, clearing the filter keeps the selected secret in view, Enter opens a secret's detail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.core.envelope import SecretInfo
from docker_pass.tui.screens.editor import EditorScreen
from docker_pass.tui.widgets.detail_pane import DetailPane
from docker_pass.tui.widgets.realm_tree import RealmTree
from docker_pass.tui.widgets.tree_content import RealmNode
from tests.support.tui_fakes import keychain_class, many_secrets
from tests.tui.conftest import Recorder, app_of, make_app, run, select, settle, type_text

if TYPE_CHECKING:
    from textual.pilot import Pilot

ALICE = "docker/auth/hub/alice"
BOB = "docker/auth/hub/bob"


def tree_of(pilot: Pilot[None]) -> RealmTree:
    return pilot.app.screen.query_one(RealmTree)


def open_realms(tree: RealmTree) -> set[str]:
    """Every open realm line on screen (below open realms)."""
    opened = set()
    for line in range(tree.last_line + 1):
        node = tree.get_node_at_line(line)
        if node is not None and isinstance(node.data, RealmNode) and node.is_expanded:
            opened.add(node.data.path)
    return opened


def on_cursor(tree: RealmTree) -> str:
    data = tree.highlighted
    if isinstance(data, SecretInfo):
        return data.id.value
    if isinstance(data, RealmNode):
        return data.path + "/"
    return ""


def in_view(tree: RealmTree) -> bool:
    top = tree.scroll_offset.y
    return top <= tree.cursor_line < top + tree.scrollable_content_region.height


async def delete_selected(pilot: Pilot[None]) -> None:
    await pilot.press("d", "y")
    await settle(pilot)


def test_deleting_moves_to_the_next_sibling_and_keeps_open_realms() -> None:
    keychain = keychain_class()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        tree = tree_of(pilot)
        assert tree.show_secret("myapp/prod/stripe/api-key")
        await select(pilot, ALICE)
        before = open_realms(tree)
        assert {"myapp", "myapp/prod", "myapp/prod/stripe", "docker/auth/hub"} <= before
        await delete_selected(pilot)
        assert ALICE not in keychain.secrets
        assert on_cursor(tree) == BOB
        assert open_realms(tree) == before
        selected = app_of(pilot).secrets.selected
        assert selected is not None
        assert selected.id.value == BOB

    run(make_app({"docker-pass": keychain}), scenario)


def test_deleting_the_last_of_a_realm_moves_to_the_previous_sibling() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        tree = tree_of(pilot)
        await select(pilot, BOB)
        await delete_selected(pilot)
        assert on_cursor(tree) == ALICE

    run(make_app(), scenario)


def test_deleting_the_only_secret_of_a_realm_moves_next_to_where_the_realm_was() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        tree = tree_of(pilot)
        await select(pilot, "docker/mcp/brave/api-key")  # brave holds only this one
        await delete_selected(pilot)
        # docker/mcp/brave is gone; its next sibling realm takes the cursor, still open above.
        assert on_cursor(tree) == "docker/mcp/oauth/"
        assert "docker/mcp" in open_realms(tree)

    run(make_app(), scenario)


def test_when_the_siblings_are_gone_too_the_cursor_goes_to_the_parent_realm() -> None:
    keychain = keychain_class(
        {"team/a/k1": (b"v", {}), "team/a/k2": (b"v", {}), "team/b/k": (b"v", {})}
    )

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        tree = tree_of(pilot)
        await select(pilot, "team/a/k1")
        # Another process removes both secrets of team/a and adds one deeper down.
        del keychain.secrets["team/a/k1"], keychain.secrets["team/a/k2"]
        keychain.secrets["team/a/deep/z"] = (b"v", {})
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert on_cursor(tree) == "team/a/"
        assert {"team", "team/a"} <= open_realms(tree)

    run(make_app({"docker-pass": keychain}), scenario)


def test_deleting_the_last_secret_leaves_the_empty_tree_hint() -> None:
    keychain = keychain_class({"only/one": (b"v", {})})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, "only/one")
        await delete_selected(pilot)
        assert not keychain.secrets
        assert app_of(pilot).secrets.selected is None

    run(make_app({"docker-pass": keychain}), scenario)


def test_a_reload_keeps_the_open_realms_and_the_cursor() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        tree = tree_of(pilot)
        assert tree.show_secret("aws/dev/access-key-id")
        await select(pilot, "myapp/staging/redis/url")
        before = open_realms(tree)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert open_realms(tree) == before
        assert on_cursor(tree) == "myapp/staging/redis/url"

    run(make_app(), scenario)


def test_a_collapsed_realm_stays_collapsed_after_a_refresh() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        tree = tree_of(pilot)
        await select(pilot, ALICE)
        assert tree.show_realm("docker/auth/hub")
        await pilot.press("h")  # close it
        await settle(pilot)
        assert "docker/auth/hub" not in open_realms(tree)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "docker/auth/hub" not in open_realms(tree)
        assert "docker/auth" in open_realms(tree)
        assert on_cursor(tree) == "docker/auth/hub/"

    run(make_app(), scenario)


def test_clearing_the_filter_keeps_the_selected_secret_in_view() -> None:
    secrets = many_secrets(600)
    wanted = sorted(i for i in secrets if i.startswith("web/staging/"))[-1]

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        tree = tree_of(pilot)
        await pilot.press("slash")
        await type_text(pilot, wanted)
        await pilot.press("enter")
        await settle(pilot)
        await select(pilot, wanted)  # the only match: its realms are all open
        await pilot.press("escape")  # on the tree: clears the pattern
        await settle(pilot)
        assert app_of(pilot).pattern.preview.pattern is None
        assert on_cursor(tree) == wanted
        assert in_view(tree)
        parts = wanted.split("/")
        above = {"/".join(parts[:n]) for n in range(1, len(parts))}
        # The realms above it are open, and the filter's expand-all did not stay behind.
        assert open_realms(tree) == above

    run(make_app({"docker-pass": keychain_class(secrets)}), scenario, size=(100, 20))


def test_a_realm_a_filter_hides_is_open_again_when_the_filter_clears() -> None:
    secrets = many_secrets(600)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        tree = tree_of(pilot)
        assert tree.show_realm("data/prod")  # opens data
        tree.focus()
        await settle(pilot)
        assert "data" in open_realms(tree)
        await pilot.press("slash")
        await type_text(pilot, "web/*")  # 75 matches: no expand-all, and data is hidden
        await type_text(pilot, "/**")  # another rebuild while data is hidden
        assert app_of(pilot).pattern.preview.matched == 75
        assert "data" not in open_realms(tree)
        await pilot.press("escape")  # clears the field
        await settle(pilot)
        assert "data" in open_realms(tree)

    run(make_app({"docker-pass": keychain_class(secrets)}), scenario)


def test_enter_on_a_secret_focuses_its_detail_where_e_edits_and_escape_goes_back() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, ALICE)
        await pilot.press("enter")
        await settle(pilot)
        detail = pilot.app.screen.query_one(DetailPane)
        assert pilot.app.focused is detail
        assert detail.has_focus
        assert "esc back to the tree" in str(detail.query_one("#detail-hint").render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.focused, RealmTree)
        assert on_cursor(tree_of(pilot)) == ALICE
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, EditorScreen)
        assert screen.info is not None
        assert screen.info.id.value == ALICE

    run(make_app(), scenario)


def test_enter_on_a_realm_still_opens_and_closes_it() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        tree = tree_of(pilot)
        assert tree.show_realm("gh")
        tree.focus()
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "gh" in open_realms(tree)
        assert isinstance(pilot.app.focused, RealmTree)
        await pilot.press("enter")
        await settle(pilot)
        assert "gh" not in open_realms(tree)

    run(make_app(), scenario)
