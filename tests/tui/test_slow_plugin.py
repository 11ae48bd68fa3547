"""A 3-second-slow plugin (a slow fake ``op``): the UI keeps answering keys while it lists."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from docker_pass.tui.messages import PluginListed, PluginsLoaded
from docker_pass.tui.screens.help import HelpScreen
from docker_pass.tui.screens.plugins import PluginsScreen
from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.support.tui_fakes import keychain_class, readonly_class
from tests.tui.conftest import Recorder, app_of, make_app, settle

if TYPE_CHECKING:
    from textual.pilot import Pilot


def test_keys_are_answered_while_a_plugin_takes_three_seconds_to_list() -> None:
    # The slow listing waits on the gate until the test opens it: on a busy machine the keys
    # below may take longer than any fixed time, and the test is about order, not speed.
    gate = threading.Event()
    slow = readonly_class("1password-cli", list_gate=gate, gate_seconds=None)
    app = make_app({"docker-pass": keychain_class(), "1password-cli": slow})
    seen = Recorder()

    def listing_running() -> bool:
        return any(w.group == "listing:1password-cli" and w.is_running for w in app.workers)

    def listed(name: str) -> bool:
        return any(m.plugin == name for m in seen.of(PluginListed))

    async def scenario(pilot: Pilot[None]) -> None:
        while not seen.of(PluginsLoaded) or not listed("docker-pass"):
            await pilot.pause(0.02)
        assert listing_running()
        tree = app.screen.query_one(RealmTree)
        lines = [str(tree.get_node_at_line(i).label) for i in range(tree.last_line + 1)]  # type: ignore[union-attr]
        assert "… 1password-cli: listing…" in lines  # a placeholder while it answers
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "p")
        assert isinstance(app.screen, PluginsScreen)
        await pilot.press("escape", "slash")
        await pilot.press("d", "o")
        assert app_of(pilot).pattern.preview.text == "do"
        # Every key above was answered while the plugin was still busy listing.
        assert listing_running(), "the plugin is still listing"
        assert not listed("1password-cli")
        gate.set()  # let the slow plugin answer now
        await settle(pilot)
        assert listed("1password-cli")
        assert app.listing.index.find("op/vault/github/token", "1password-cli") is not None

    async def main() -> None:
        async with app.run_test(size=(100, 30), message_hook=seen) as pilot:
            await scenario(pilot)

    try:
        asyncio.run(main())
    finally:
        gate.set()
