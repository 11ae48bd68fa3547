"""Snapshots of the live listing: a slow plugin's own loading row while the others' secrets
already show (pytest-textual-snapshot; fixed data and size, cursor blink off).

Update after checking the pictures: ``pytest tests/tui/test_snapshots_live.py --snapshot-update``.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Protocol

from tests.support.tui_fakes import keychain_class, readonly_class
from tests.tui.conftest import make_app

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from textual.pilot import Pilot

    from docker_pass.tui.app import DockerPassApp

SIZE = (100, 30)


class SnapCompare(Protocol):
    def __call__(
        self,
        app: DockerPassApp,
        press: tuple[str, ...] = (),
        terminal_size: tuple[int, int] = ...,
        run_before: Callable[[Pilot[None]], Awaitable[None]] | None = None,
    ) -> bool: ...


def test_a_slow_plugins_loading_row_while_the_keychain_shows(snap_compare: SnapCompare) -> None:
    """You should see "… 1password-cli: listing…" as the tree's first line, above the
    keychain's realms (aws, docker, gh, myapp, registry:5000 with counts) already listed, and
    "15 secrets so far · 2 plugins" in the header."""
    gate = threading.Event()  # the slow plugin answers only after the picture is taken
    slow = readonly_class("1password-cli", list_gate=gate, gate_seconds=None)
    app = make_app({"docker-pass": keychain_class(), "1password-cli": slow})

    async def keychain_listed(pilot: Pilot[None]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while "docker-pass" not in app.listing.answered:
            assert loop.time() < deadline, "the keychain did not answer"
            await pilot.pause(0.02)
        await pilot.pause()
        assert not app.listing.loaded  # the slow plugin is still listing

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=keychain_listed)
    finally:
        gate.set()
