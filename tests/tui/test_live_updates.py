"""Other processes' changes appear in the running app: the keychain on a real gnome-keyring
(its collection's signals), the file store (its directory), other plugins on an interval —
with the cursor kept and the header's count following."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from docker_pass.backends.keychain import KeychainPlugin
from docker_pass.backends.keychain.secretservice import SecretServiceStore
from docker_pass.backends.keychain.signals import SecretServiceWatcher
from docker_pass.core.envelope import SecretInfo
from docker_pass.core.ids import ID
from docker_pass.core.store import SERVICE_GROUP, SERVICE_NAME, item_label
from docker_pass.tui.messages import SecretsChanged
from docker_pass.tui.watch import DirectoryWatcher
from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.support.tui_fakes import keychain_class, readonly_class
from tests.tui.conftest import app_of, make_app, run, select, settle, until

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.pilot import Pilot

    from tests.support.keyring_session import PrivateBus
    from tests.tui.conftest import Recorder

#: A generous bound on waiting for a change to show (the watchers answer within ~1 s).
BOUND = 20.0


def cli(*args: str, value: bytes = b"") -> None:
    """Our CLI in another process (the value on stdin, never in argv)."""
    exe = Path(sys.executable).with_name("docker-pass")
    command = [str(exe)] if exe.exists() else [shutil.which("docker-pass") or "docker-pass"]
    subprocess.run(
        [*command, *args], input=value, env=dict(os.environ), capture_output=True, check=True
    )


def cursor_on(pilot: Pilot[None]) -> str:
    data = pilot.app.screen.query_one(RealmTree).highlighted
    assert isinstance(data, SecretInfo), f"the cursor is on {data!r}"
    return data.id.value


def in_tree(pilot: Pilot[None], id_: str) -> bool:
    tree = pilot.app.screen.query_one(RealmTree)
    nodes = [tree.get_node_at_line(i) for i in range(tree.last_line + 1)]
    return any(isinstance(n.data, SecretInfo) and n.data.id.value == id_ for n in nodes if n)


async def another_process_adds_and_removes(
    pilot: Pilot[None], add: Callable[[], None], remove: Callable[[], None]
) -> None:
    """The shared scenario: the cursor on app/keep; another process adds app/new, then
    removes it; the tree and the header follow, and the cursor stays."""
    app = app_of(pilot)
    await select(pilot, "app/keep")
    assert "1 secret ·" in app.sub_title
    await asyncio.to_thread(add)
    await until(pilot, lambda: in_tree(pilot, "app/new"), "app/new shows")
    assert cursor_on(pilot) == "app/keep"
    assert "2 secrets" in app.sub_title
    await asyncio.to_thread(remove)
    await until(pilot, lambda: not in_tree(pilot, "app/new"), "app/new goes")
    assert cursor_on(pilot) == "app/keep"
    assert "1 secret ·" in app.sub_title


def test_the_file_store_follows_another_process() -> None:
    cli("set", "app/keep", value=b"kept")
    app = make_app({"docker-pass": KeychainPlugin})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await until(
            pilot, lambda: app.listing.watchers.watched("docker-pass"), "the store is watched"
        )
        assert isinstance(app.listing.watchers.watcher("docker-pass"), DirectoryWatcher)
        await another_process_adds_and_removes(
            pilot,
            lambda: cli("set", "app/new", value=b"typed elsewhere"),
            lambda: cli("rm", "app/new"),
        )

    run(app, scenario)


@pytest.mark.usefixtures("keyring_address")
def test_the_secret_service_follows_another_process(
    keyring_bus: PrivateBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "secret-service")
    cli("set", "app/keep", value=b"kept")
    app = make_app({"docker-pass": KeychainPlugin})
    new = ID("app/new")

    def secret_tool_stores() -> None:
        # Another client altogether: the items Docker's tool and ours write are the same.
        attributes = ["service:group", SERVICE_GROUP, "service:name", SERVICE_NAME, "id", new.value]
        subprocess.run(
            ["secret-tool", "store", f"--label={item_label(new)}", *attributes],
            input=b"typed elsewhere",
            env=keyring_bus.client_env(),
            capture_output=True,
            check=True,
        )

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await until(
            pilot, lambda: app.listing.watchers.watched("docker-pass"), "the keychain is watched"
        )
        watcher = app.listing.watchers.watcher("docker-pass")
        assert isinstance(watcher, SecretServiceWatcher)
        assert await asyncio.to_thread(watcher.subscribed.wait, BOUND)
        await another_process_adds_and_removes(
            pilot, secret_tool_stores, lambda: cli("rm", "app/new")
        )

    run(app, scenario)


def test_a_plugin_nobody_can_watch_is_listed_again_on_the_interval() -> None:
    op = readonly_class("1password-cli", {"op/vault/one": b"1"})
    app = make_app({"docker-pass": keychain_class(), "1password-cli": op}, refresh_seconds=0.1)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, "docker/auth/hub/alice")
        assert "16 secrets" in app.sub_title
        op.secrets["op/vault/two"] = b"2"  # changed where the plugin's secrets live
        await until(pilot, lambda: app.listing.index.find("op/vault/two") is not None, "listed")
        await settle(pilot)
        assert cursor_on(pilot) == "docker/auth/hub/alice"
        assert "17 secrets" in app.sub_title

    run(app, scenario)


def test_a_change_message_lists_that_plugin_again_and_keeps_the_cursor() -> None:
    keychain = keychain_class()
    op = readonly_class("1password-cli")
    app = make_app({"docker-pass": keychain, "1password-cli": op}, refresh_seconds=None)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await select(pilot, "docker/auth/hub/alice")
        lists_before = op.lists
        keychain.secrets["docker/auth/hub/zed"] = (b"z", {})
        del keychain.secrets["gh/ci/token"]
        app.post_message(SecretsChanged("docker-pass"))
        await settle(pilot)
        assert app.listing.index.find("docker/auth/hub/zed", "docker-pass") is not None
        assert app.listing.index.find("gh/ci/token") is None
        assert in_tree(pilot, "docker/auth/hub/zed")
        assert cursor_on(pilot) == "docker/auth/hub/alice"
        assert op.lists == lists_before  # only the plugin that changed was asked
        assert "16 secrets" in app.sub_title  # 15 - 1 + 1, and the plugin's one

    run(app, scenario)


def test_an_unchanged_listing_does_not_rebuild_the_tree() -> None:
    app = make_app({"docker-pass": keychain_class()}, refresh_seconds=None)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        index = app.listing.index
        tree = pilot.app.screen.query_one(RealmTree)
        content = tree.content
        app.post_message(SecretsChanged("docker-pass"))
        await settle(pilot)
        assert app.listing.index is index
        assert tree.content is content

    run(app, scenario)


def test_our_own_delete_updates_the_header_count() -> None:
    app = make_app()

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        assert "15 secrets" in app.sub_title
        info = app.listing.index.find("gh/ci/token", "docker-pass")
        assert info is not None
        app.undo.delete(info)  # what d (confirmed) runs
        await settle(pilot)
        assert "14 secrets" in app.sub_title

    run(app, scenario)


def test_the_directory_watcher_sees_a_file_come_and_go(tmp_path: Path) -> None:
    changes: list[int] = []
    seen = threading.Event()

    def changed() -> None:
        changes.append(1)
        seen.set()

    watcher = DirectoryWatcher(str(tmp_path), changed, poll=0.02)
    watcher.start()
    try:
        (tmp_path / "a.json").write_text("{}")
        assert seen.wait(BOUND)
        seen.clear()
        (tmp_path / "a.json").unlink()
        assert seen.wait(BOUND)
    finally:
        watcher.stop()


@pytest.mark.usefixtures("keyring_address")
def test_the_secret_service_watcher_coalesces_a_burst(keyring_bus: PrivateBus) -> None:
    store = SecretServiceStore(keyring_bus.address)
    collection = store.watch_hint()[1]
    fired = threading.Event()
    calls: list[int] = []

    def changed() -> None:
        calls.append(1)
        fired.set()

    watcher = SecretServiceWatcher(
        collection, changed, debounce=0.5, bus_address=keyring_bus.address
    )
    watcher.start()
    try:
        assert watcher.subscribed.wait(BOUND)
        for n in range(3):  # a burst: three items at once
            store.save(ID(f"burst/{n}"), b"v", {})
        assert fired.wait(BOUND)
        fired.clear()
        store.save(ID("burst/late"), b"v", {})  # a change after the burst: one call more
        assert fired.wait(BOUND)
        assert len(calls) == 2  # one for the burst of three, one for the late item
    finally:
        watcher.stop()
        store.close()
