"""An outside write reaches the tree, with the engine daemon and without it (issue 24, item 1).

One scenario for both fronts, as ``docker pass ui`` builds them (:func:`open_engine`): with a
daemon running, the tree follows the daemon's change feed; without one, the UI's own
watchers.  Another process writes the store directly (``docker-pass set`` with no daemon to
talk to, ``secret-tool``) and, with the daemon, through it; the tree shows each write with no
interval refresh to help (the 1.5 s target is measured by ``python -m benchmarks
tui-latency``; here the wait is generous).  The feed's fallback is here too: an older daemon
(no feed) leaves the keychain to the UI's own watcher.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.envelope import SecretInfo
from docker_pass.core.ids import ID
from docker_pass.core.remote.front import open_engine
from docker_pass.core.store import SERVICE_GROUP, SERVICE_NAME, item_label
from docker_pass.tui.app import DockerPassApp
from docker_pass.tui.controllers.feed import DOWN, LIVE, NO_FEED, UNSUPPORTED
from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.daemon.engines import start_engine
from tests.tui.conftest import until as wait_for_condition

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from textual.pilot import Pilot

    from tests.daemon.engines import RunningEngine
    from tests.support.keyring_session import PrivateBus

#: A generous bound on waiting for a write to show (noisy machines; the target is 1.5 s).
BOUND = 10.0
#: The wait for an outside write to reach the tree, at most ``BOUND`` seconds.
until = partial(wait_for_condition, bound=BOUND)
EXE = Path(sys.executable).with_name("docker-pass")


class Fronts:
    """Where the UI's engine is: ``daemon`` (a daemon runs on a private socket) or
    ``embedded`` (none runs); ``direct_env`` writes the store with no daemon to talk to."""

    def __init__(self, kind: str, socket: Path, engine: RunningEngine | None) -> None:
        self.kind = kind
        self.socket = socket
        self.engine = engine
        self.direct_env = dict(os.environ, DOCKER_PASS_ENGINE_SOCKET=str(socket) + ".none")

    def cli(self, *args: str, value: bytes = b"", direct: bool = True) -> None:
        """``docker-pass`` in another process (the value on stdin, never in argv)."""
        env = self.direct_env if direct else dict(os.environ)
        subprocess.run(
            [str(EXE), *args], input=value, env=env, capture_output=True, check=True, timeout=60
        )


@pytest.fixture(params=["daemon", "embedded"])
def fronts(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Fronts]:
    root = Path(tempfile.mkdtemp(prefix="dpw-", dir="/tmp"))  # sun_path is short
    socket = root / "engine.sock"
    monkeypatch.setenv("DOCKER_PASS_ENGINE_SOCKET", str(socket))
    monkeypatch.setenv("DOCKER_PASS_ENGINE_ABSTRACT_SOCKET", "off")  # others' tests may run
    engine = start_engine(tmp_path / "engine.log") if request.param == "daemon" else None
    try:
        yield Fronts(request.param, socket, engine)
    finally:
        if engine is not None:
            engine.kill()
        shutil.rmtree(root, ignore_errors=True)


def ui_app() -> DockerPassApp:
    """The app as ``docker pass ui`` makes it, with no interval refresh to help."""
    app = DockerPassApp(open_engine, poll_seconds=None, refresh_seconds=None, cursor_blink=False)
    app.animation_level = "none"
    return app


def in_tree(pilot: Pilot[None], id_: str) -> bool:
    tree = pilot.app.screen.query_one(RealmTree)
    tree.show_secret(id_)  # expands its realms, if it is there
    nodes = [tree.get_node_at_line(i) for i in range(tree.last_line + 1)]
    return any(isinstance(n.data, SecretInfo) and n.data.id.value == id_ for n in nodes if n)


def follow_outside_writes(
    fronts: Fronts, write: Callable[[str], None], remove: Callable[[str], None]
) -> None:
    """The one scenario: the tree loads; another process writes x/daemon1 (and, with the
    daemon, x/daemon2 through it), then removes x/daemon1; the tree follows each."""
    fronts.cli("set", "x/keep", value=b"kept")
    app = ui_app()

    async def main() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: in_tree(pilot, "x/keep"), "the tree is listed")
            if fronts.kind == "daemon":
                assert "daemon" in str(app.sub_title)
                await until(pilot, lambda: app.listing.feed.state == LIVE, "the feed is live")
                assert not app.listing.watchers.watched("docker-pass")  # the feed does it
            else:
                assert app.listing.feed.state == NO_FEED
                await until(
                    pilot, lambda: app.listing.watchers.watched("docker-pass"), "it is watched"
                )
            await asyncio.to_thread(write, "x/daemon1")
            await until(pilot, lambda: in_tree(pilot, "x/daemon1"), "x/daemon1 shows")
            if fronts.kind == "daemon":
                await asyncio.to_thread(
                    fronts.cli, "set", "x/daemon2", value=b"via the daemon", direct=False
                )
                await until(pilot, lambda: in_tree(pilot, "x/daemon2"), "x/daemon2 shows")
            await asyncio.to_thread(remove, "x/daemon1")
            await until(pilot, lambda: not in_tree(pilot, "x/daemon1"), "x/daemon1 goes")
            assert "may be stale" not in str(app.sub_title)

    asyncio.run(main())
    if fronts.engine is not None:
        assert "typed elsewhere" not in fronts.engine.log()


def test_the_file_store_written_elsewhere_reaches_the_tree(fronts: Fronts) -> None:
    follow_outside_writes(
        fronts,
        lambda id_: fronts.cli("set", id_, value=b"typed elsewhere"),
        lambda id_: fronts.cli("rm", id_),
    )


@pytest.fixture
def on_secret_service(
    keyring_bus: PrivateBus, keyring_address: str, monkeypatch: pytest.MonkeyPatch
) -> PrivateBus:
    """The keychain on the private gnome-keyring (set before the daemon starts)."""
    monkeypatch.setenv("DOCKER_PASS_STORE", "secret-service")
    return keyring_bus


def test_the_secret_service_written_elsewhere_reaches_the_tree(
    on_secret_service: PrivateBus, fronts: Fronts
) -> None:
    keyring_bus = on_secret_service

    def secret_tool_stores(id_: str) -> None:
        # Another client altogether: the items Docker's tool and ours write are the same.
        new = ID(id_)
        attributes = ["service:group", SERVICE_GROUP, "service:name", SERVICE_NAME, "id", new.value]
        subprocess.run(
            ["secret-tool", "store", f"--label={item_label(new)}", *attributes],
            input=b"typed elsewhere",
            env=keyring_bus.client_env(),
            capture_output=True,
            check=True,
            timeout=60,
        )

    follow_outside_writes(fronts, secret_tool_stores, lambda id_: fronts.cli("rm", id_))


@pytest.mark.parametrize("fronts", ["daemon"], indirect=True)
def test_a_daemon_without_a_feed_leaves_the_keychain_to_our_watcher(
    fronts: Fronts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older daemon (no ``watch`` feature): the UI watches the store itself, quietly."""
    from docker_pass.core.remote.client import DaemonClient

    monkeypatch.setattr(DaemonClient, "features", lambda self: frozenset({"versions"}))
    fronts.cli("set", "x/keep", value=b"kept")
    app = ui_app()

    async def main() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: in_tree(pilot, "x/keep"), "the tree is listed")
            await until(pilot, lambda: app.listing.feed.state == UNSUPPORTED, "no feed")
            await until(pilot, lambda: app.listing.watchers.watched("docker-pass"), "watched here")
            assert "may be stale" not in str(app.sub_title)
            await asyncio.to_thread(fronts.cli, "set", "x/old1", value=b"typed elsewhere")
            await until(pilot, lambda: in_tree(pilot, "x/old1"), "x/old1 shows")

    asyncio.run(main())


@pytest.mark.parametrize("fronts", ["daemon"], indirect=True)
def test_when_the_daemon_goes_away_the_tree_follows_the_store_from_here(fronts: Fronts) -> None:
    """The feed goes down with the daemon: the UI falls back to watching the keychain
    itself, and a write made after that still reaches the tree."""
    fronts.cli("set", "x/keep", value=b"kept")
    app = ui_app()
    engine = fronts.engine
    assert engine is not None

    async def main() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: in_tree(pilot, "x/keep"), "the tree is listed")
            await until(pilot, lambda: app.listing.feed.state == LIVE, "the feed is live")
            await asyncio.to_thread(engine.kill)
            await until(pilot, lambda: app.listing.feed.state == DOWN, "the feed is down")
            await until(pilot, lambda: app.listing.watchers.watched("docker-pass"), "watched here")
            await asyncio.to_thread(fronts.cli, "set", "x/later", value=b"typed elsewhere")
            await until(pilot, lambda: in_tree(pilot, "x/later"), "x/later shows")

    asyncio.run(main())


@pytest.mark.parametrize("fronts", ["daemon"], indirect=True)
def test_the_header_says_may_be_stale_while_nothing_covers_a_plugin(
    fronts: Fronts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon goes away and the keychain cannot be watched from here either: nothing
    tells the tree of changes, and the header says so (quietly, beside the engine's kind)."""
    from docker_pass.core.errors import DockerPassError
    from docker_pass.tui.model.gateway import SecretsGateway

    def cannot(self: SecretsGateway, name: str) -> object:
        raise DockerPassError("no local keychain here")

    monkeypatch.setattr(SecretsGateway, "fallback_watch", cannot)
    fronts.cli("set", "x/keep", value=b"kept")
    app = ui_app()
    engine = fronts.engine
    assert engine is not None

    async def main() -> None:
        async with app.run_test(size=(120, 35)) as pilot:
            await until(pilot, lambda: app.listing.feed.state == LIVE, "the feed is live")
            assert "may be stale" not in str(app.sub_title)
            await asyncio.to_thread(engine.kill)
            await until(pilot, lambda: "may be stale" in str(app.sub_title), "the stale mark")
            assert app.listing.stale == frozenset({"docker-pass"})

    asyncio.run(main())
