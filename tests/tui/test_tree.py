"""The realm tree: loading, counts, providers, lazy children, vim keys, inline plugin errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.core.envelope import SecretInfo
from docker_pass.core.errors import PluginError
from docker_pass.tui.messages import PluginListed, PluginsLoaded
from docker_pass.tui.model.realms import Notice
from docker_pass.tui.widgets.realm_tree import RealmTree
from docker_pass.tui.widgets.tree_content import RealmNode
from tests.support.tui_fakes import crashing_class, keychain_class, readonly_class
from tests.tui.conftest import Recorder, app_of, make_app, run, settle

if TYPE_CHECKING:
    from textual.pilot import Pilot


def tree_of(pilot: Pilot[None]) -> RealmTree:
    return pilot.app.screen.query_one(RealmTree)


def labels(tree: RealmTree) -> list[str]:
    nodes = [tree.get_node_at_line(i) for i in range(tree.last_line + 1)]
    return [str(node.label) for node in nodes if node is not None]


def test_tree_shows_realms_with_counts_and_a_crashed_plugin_inline() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        assert seen.of(PluginsLoaded)
        # Each enabled plugin was started and listed on its own; 1password-cli crashed starting.
        outcomes = {m.plugin: m.error for m in seen.of(PluginListed)}
        assert outcomes.keys() == {"docker-pass", "1password-cli"}
        assert not outcomes["docker-pass"]
        assert len(app.listing.index) == 15
        lines = labels(tree_of(pilot))
        assert lines[0] == "✖ 1password-cli: crashed"
        assert lines[1:] == ["aws/ 2", "docker/ 6", "gh/ 1", "myapp/ 5", "registry:5000/ 1"]

    run(make_app(), scenario)


def test_children_are_built_only_when_a_realm_opens() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        tree = tree_of(pilot)
        docker = next(n for n in tree.root.children if n.data == RealmNode("docker", 6))
        assert not docker.children  # nothing built for a closed realm
        tree.focus()
        await pilot.press("j", "l")  # from aws (the cursor starts on the first realm) onto docker
        await settle(pilot)
        assert docker.is_expanded
        assert [str(c.label) for c in docker.children] == ["auth/ 3", "mcp/ 3"]
        assert not docker.children[0].children

    run(make_app(), scenario)


def test_vim_keys_and_arrows_move_open_and_close() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        tree = tree_of(pilot)
        await pilot.press("G")
        assert tree.cursor_line == tree.last_line  # registry:5000
        await pilot.press("l", "l")  # open, then onto its first child
        await settle(pilot)
        assert isinstance(tree.highlighted, SecretInfo)
        assert app.secrets.selected is not None
        assert app.secrets.selected.id.value == "registry:5000/token"
        assert tree.cursor_node is not None
        assert "docker-pass" in str(tree.cursor_node.label)  # leaves name their provider
        await pilot.press("h")  # a leaf: go to its realm
        assert tree.highlighted == RealmNode("registry:5000", 1)
        await pilot.press("h")  # an open realm: close it
        assert tree.cursor_node is not None
        assert not tree.cursor_node.is_expanded
        await pilot.press("g")
        assert tree.cursor_line == 0
        await pilot.press("j", "down", "k")
        assert tree.highlighted == RealmNode("aws", 2)
        await pilot.press("right", "right", "right", "right", "down")
        await settle(pilot)
        assert app.secrets.selected is not None
        assert app.secrets.selected.id.value == "aws/dev/secret-access-key"
        await pilot.press("left", "left", "left")
        assert tree.highlighted == RealmNode("aws", 2)

    run(make_app(), scenario)


def test_a_plugin_that_fails_to_list_shows_an_inline_error_not_an_empty_tree() -> None:
    class Failing(readonly_class("1password-sdk")):  # type: ignore[misc]
        def list(self, pattern: object) -> list[SecretInfo]:
            raise PluginError("vault Private: access denied")

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        tree = tree_of(pilot)
        assert labels(tree)[0] == "✖ 1password-sdk: listing failed"
        first = tree.get_node_at_line(0)
        assert first is not None
        assert isinstance(first.data, Notice)
        assert first.data.message == "vault Private: access denied"
        assert len(labels(tree)) == 6  # the keychain's realms are still there

    run(make_app({"docker-pass": keychain_class(), "1password-sdk": Failing}), scenario)


def test_empty_store_says_how_to_add_a_secret() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        assert labels(tree_of(pilot)) == ["No secrets yet: n adds one"]

    run(make_app({"docker-pass": keychain_class({})}), scenario)


def test_secrets_of_a_second_plugin_are_merged_and_marked() -> None:
    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        await pilot.press("j", "j", "j", "j", "j", "l")  # op/
        await settle(pilot)
        tree = tree_of(pilot)
        assert app.listing.index.find("op/vault/github/token", "1password-sdk")
        assert tree.show_secret("op/vault/github/token")
        assert tree.cursor_node is not None
        assert str(tree.cursor_node.label) == "token  1password-sdk"

    classes = {
        "docker-pass": keychain_class(),
        "1password-cli": crashing_class(),
        "1password-sdk": readonly_class(),
    }
    run(make_app(classes), scenario)
