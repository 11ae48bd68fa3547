"""Each plugin fills in its part of the tree as it answers; a slow one delays no other, and
quitting never waits for it."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import textwrap
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from docker_pass.core.collecting import collection_held
from docker_pass.core.engine import Engine
from docker_pass.core.envelope import SecretInfo
from docker_pass.core.ids import ID, Pattern
from docker_pass.tui.controllers import listing as listing_controller
from docker_pass.tui.messages import PluginListed
from docker_pass.tui.model.gateway import SecretsGateway
from docker_pass.tui.model.listing import replace_provider
from docker_pass.tui.model.realms import RealmIndex
from docker_pass.tui.threads import DaemonThreadExecutor
from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.support.tui_fakes import engine_factory, keychain_class, readonly_class
from tests.tui.conftest import Recorder, make_app, settle, until

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pytest
    from textual.pilot import Pilot

    from docker_pass.tui.app import DockerPassApp

REPO = Path(__file__).resolve().parents[2]
#: A generous bound: the scenario fails, rather than hangs, if something waits on a plugin.
BOUND = 20.0


def labels(app: DockerPassApp) -> list[str]:
    tree = app.screen.query_one(RealmTree)
    nodes = [tree.get_node_at_line(i) for i in range(tree.last_line + 1)]
    return [str(node.label) for node in nodes if node is not None]


def listed(seen: Recorder, name: str) -> bool:
    return any(m.plugin == name for m in seen.of(PluginListed))


def run_bounded(app: DockerPassApp, scenario: Callable[[Pilot[None], Recorder], object]) -> None:
    seen = Recorder()

    async def main() -> None:
        async with app.run_test(size=(100, 30), message_hook=seen) as pilot:
            await scenario(pilot, seen)  # type: ignore[misc]

    async def bounded() -> None:
        await asyncio.wait_for(main(), BOUND)

    # In a thread of its own, so that the loop's shutdown (which joins the loop's worker
    # threads) is bounded too: a hang there fails the test instead of stalling the run.
    errors: list[BaseException] = []

    def body() -> None:
        try:
            asyncio.run(bounded())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)

    runner = threading.Thread(target=body, daemon=True)
    runner.start()
    runner.join(BOUND * 2)
    assert not runner.is_alive(), "the app (or its event loop's shutdown) did not finish"
    if errors:
        raise errors[0]


def test_a_slow_plugin_shows_its_loading_row_while_the_others_secrets_are_in_the_tree() -> None:
    gate = threading.Event()  # never times out: only the test lets the plugin answer
    slow = readonly_class("1password-cli", list_gate=gate, gate_seconds=None)
    app = make_app({"docker-pass": keychain_class(), "1password-cli": slow})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await until(pilot, lambda: listed(seen, "docker-pass"), "the keychain answered")
        await pilot.pause()
        lines = labels(app)
        assert lines[0] == "… 1password-cli: listing…"
        assert "docker/ 6" in lines  # the keychain's secrets, already there
        assert "op/ 1" not in lines
        assert not app.listing.loaded
        assert app.listing.index.find("docker/auth/hub/alice", "docker-pass") is not None
        assert "15 secrets so far" in app.sub_title
        gate.set()
        await settle(pilot)
        lines = labels(app)
        assert not any("listing…" in line for line in lines)
        assert "op/ 1" in lines
        assert "docker/ 6" in lines
        assert app.listing.loaded
        assert "16 secrets · 2 plugins" in app.sub_title
        # The index stays sorted by (id, provider) after the merge.
        keys = [(e.id.value, e.provider) for e in app.listing.index.entries]
        assert keys == sorted(keys)

    try:
        run_bounded(app, scenario)
    finally:
        gate.set()


def test_collection_is_held_off_only_while_a_listing_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each plugin's listing is made with automatic collection held off (its objects need
    none); once every plugin answered — one slow, one failing — none of the app's holds is
    left.  (Other tests' stuck plugins may hold it too, until their deadline: this app's holds
    are counted, and :mod:`tests.core.test_collecting` checks what a hold does.)"""
    active: list[int] = []
    held = collection_held

    @contextmanager
    def counted(*, freeze: bool = False) -> Iterator[None]:
        with held(freeze=freeze):
            active.append(1)
            try:
                yield
            finally:
                active.pop()

    monkeypatch.setattr(listing_controller, "collection_held", counted)
    gate = threading.Event()
    slow = readonly_class("1password-cli", list_gate=gate, gate_seconds=None)

    class Failing(readonly_class("1password-sdk")):  # type: ignore[misc]
        def list(self, pattern: object) -> list[SecretInfo]:
            from docker_pass.core.errors import PluginError

            raise PluginError("sdk: the vault is locked")

    app = make_app(
        {"docker-pass": keychain_class(), "1password-cli": slow, "1password-sdk": Failing}
    )

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await until(pilot, lambda: listed(seen, "1password-sdk"), "the failing plugin answered")
        await until(pilot, lambda: listed(seen, "docker-pass"), "the keychain answered")
        assert len(active) == 1  # the slow plugin's listing, still being made
        assert not gc.isenabled()
        gate.set()
        await settle(pilot)
        assert app.listing.loaded
        assert "1password-sdk" in app.listing.errors
        assert active == []

    try:
        run_bounded(app, scenario)
    finally:
        gate.set()


def test_two_slow_plugins_answer_in_their_own_time() -> None:
    first_gate, second_gate = threading.Event(), threading.Event()
    first = readonly_class("1password-cli", {"op/a": b"1"}, list_gate=first_gate, gate_seconds=None)
    second = readonly_class(
        "1password-sdk", {"sdk/b": b"2"}, list_gate=second_gate, gate_seconds=None
    )
    app = make_app(
        {"docker-pass": keychain_class({}), "1password-cli": first, "1password-sdk": second}
    )

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await until(pilot, lambda: listed(seen, "docker-pass"), "the keychain answered")
        second_gate.set()  # the one asked second answers first: nothing waits for the first
        await until(pilot, lambda: listed(seen, "1password-sdk"), "1password-sdk answered")
        await pilot.pause()
        lines = labels(app)
        assert "… 1password-cli: listing…" in lines
        assert "… 1password-sdk: listing…" not in lines
        assert "sdk/ 1" in lines
        assert not listed(seen, "1password-cli")
        first_gate.set()
        await settle(pilot)
        assert {"op/ 1", "sdk/ 1"} <= set(labels(app))
        assert app.listing.loaded

    try:
        run_bounded(app, scenario)
    finally:
        first_gate.set()
        second_gate.set()


def test_a_plugins_failure_shows_in_its_own_row_and_the_others_list() -> None:
    class Failing(readonly_class("1password-cli")):  # type: ignore[misc]
        def list(self, pattern: object) -> list[SecretInfo]:
            from docker_pass.core.errors import PluginError

            raise PluginError("op: the vault is locked")

    app = make_app({"docker-pass": keychain_class(), "1password-cli": Failing})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await settle(pilot)
        lines = labels(app)
        assert lines[0] == "✖ 1password-cli: listing failed"
        assert "docker/ 6" in lines
        assert "op: the vault is locked" in app.listing.errors["1password-cli"]
        assert app.listing.loaded

    run_bounded(app, scenario)


def test_the_gateway_lets_other_plugins_answer_while_one_is_stuck() -> None:
    gate, listing = threading.Event(), threading.Event()
    slow = readonly_class("1password-cli", list_gate=gate, gate_seconds=None, listing=listing)
    gateway = SecretsGateway(
        engine_factory({"docker-pass": keychain_class(), "1password-cli": slow})
    )
    stuck = threading.Thread(target=gateway.list_plugin, args=("1password-cli",), daemon=True)
    try:
        gateway.plugins()
        stuck.start()
        assert listing.wait(BOUND)
        # Another plugin's listing, a value and the statuses do not wait for the stuck plugin.
        infos = gateway.list_plugin("docker-pass")
        assert len(infos) == 15
        assert gateway.read_value(infos[0])
        assert {p.name for p in gateway.plugins()} == {"docker-pass", "1password-cli"}
        # Closing returns at once; the stuck call's engine is closed when the call ends.
        gateway.close()
        assert slow.stops == 0
        gate.set()
        stuck.join(BOUND)
        assert not stuck.is_alive()
        assert slow.stops == 1
    finally:
        gate.set()


def test_a_reload_gives_new_calls_a_fresh_engine_while_an_old_call_is_stuck() -> None:
    gate, listing = threading.Event(), threading.Event()
    slow = readonly_class("1password-cli", list_gate=gate, gate_seconds=None, listing=listing)
    gateway = SecretsGateway(
        engine_factory({"docker-pass": keychain_class(), "1password-cli": slow})
    )
    stuck = threading.Thread(target=gateway.list_plugin, args=("1password-cli",), daemon=True)
    try:
        stuck.start()
        assert listing.wait(BOUND)
        gateway.reload()
        gate.clear()
        listing.clear()
        again = threading.Thread(target=gateway.list_plugin, args=("1password-cli",), daemon=True)
        again.start()
        # The fresh engine's instance lists although the old one still holds its own lock.
        assert listing.wait(BOUND)
        assert stuck.is_alive()
        gate.set()
        stuck.join(BOUND)
        again.join(BOUND)
        assert slow.lists == 2
        assert slow.stops == 1  # the old engine, closed by its last call
    finally:
        gate.set()
        gateway.close()


def test_the_engine_starts_a_plugin_once_when_threads_ask_at_once() -> None:
    started = threading.Event()
    release = threading.Event()

    class SlowStart(readonly_class("1password-cli")):  # type: ignore[misc]
        starts = 0

        def start(self) -> None:
            type(self).starts += 1
            started.set()
            release.wait(BOUND)

    engine = Engine(factories={"1password-cli": SlowStart})
    results: list[int] = []

    def list_it() -> None:
        results.append(len(engine.list_secrets(Pattern("**"), plugin="1password-cli").infos))

    threads = [threading.Thread(target=list_it) for _ in range(3)]
    for thread in threads:
        thread.start()
    assert started.wait(BOUND)
    release.set()
    for thread in threads:
        thread.join(BOUND)
    assert SlowStart.starts == 1
    assert results == [1, 1, 1]
    engine.close()


def test_replacing_a_providers_entries_keeps_the_order_and_says_when_nothing_changed() -> None:
    def info(id_: str, provider: str) -> SecretInfo:
        return SecretInfo(ID(id_), provider)

    index = RealmIndex([info("a", "x"), info("b", "y"), info("c", "x")])
    merged = replace_provider(index, "y", [info("d", "y"), info("a", "y")])
    assert merged is not None
    assert [(e.id.value, e.provider) for e in merged.entries] == [
        ("a", "x"),
        ("a", "y"),
        ("c", "x"),
        ("d", "y"),
    ]
    assert replace_provider(merged, "y", [info("a", "y"), info("d", "y")]) is None
    assert replace_provider(merged, "x", [info("a", "x")]) is not None


def test_one_plugins_listing_is_taken_as_it_comes_and_others_are_merged_in_order() -> None:
    """The usual case (one plugin, sorted by the engine) shares no work with a merge, but an
    unsorted listing is sorted, and another plugin's entries interleave by (ID, provider)."""

    def info(id_: str, provider: str) -> SecretInfo:
        return SecretInfo(ID(id_), provider)

    alone = replace_provider(RealmIndex([]), "x", [info("b", "x"), info("a", "x")])
    assert alone is not None
    assert alone.ids == ["a", "b"]
    assert [e.id.value for e in alone.entries] == ["a", "b"]
    both = replace_provider(alone, "w", [info("a", "w"), info("c", "w")])
    assert both is not None
    assert [(e.id.value, e.provider) for e in both.entries] == [
        ("a", "w"),
        ("a", "x"),
        ("b", "x"),
        ("c", "w"),
    ]
    assert both.ids == ["a", "a", "b", "c"]
    again = replace_provider(both, "x", [info("b", "x")])
    assert again is not None
    assert [(e.id.value, e.provider) for e in again.entries] == [("a", "w"), ("b", "x"), ("c", "w")]
    assert replace_provider(again, "w", [info("a", "w"), info("c", "w")]) is None


def test_the_executor_does_not_wait_for_a_call_that_never_returns() -> None:
    never = threading.Event()
    executor = DaemonThreadExecutor(grace=0.05)
    future = executor.submit(never.wait)
    quick = executor.submit(lambda: 42)
    assert quick.result(BOUND) == 42
    executor.shutdown(wait=True)  # returns after the grace, the stuck call still running
    assert not future.done()
    assert executor.running == 1
    never.set()
    assert future.result(BOUND) is True


QUIT_SCRIPT = textwrap.dedent(
    """
    import asyncio, threading
    from tests.tui.conftest import make_app
    from tests.support.tui_fakes import keychain_class, readonly_class

    never = threading.Event()  # never set: the plugin's listing blocks for good
    listing = threading.Event()
    stuck = readonly_class("1password-cli", list_gate=never, gate_seconds=None, listing=listing)
    app = make_app({"docker-pass": keychain_class(), "1password-cli": stuck})

    async def main():
        async with app.run_test(size=(100, 30)) as pilot:
            while not listing.is_set():
                await pilot.pause(0.02)
            await pilot.press("q")
            await pilot.pause()
        print("returned from run_test", flush=True)

    asyncio.run(asyncio.wait_for(main(), 20))
    print("asyncio.run returned", flush=True)
    """
)


def test_q_exits_while_a_plugin_is_blocked_in_a_call() -> None:
    """In a fresh interpreter: ``run_test`` returns, the loop shuts down and the process
    exits although the plugin's call never returns."""
    env = dict(os.environ, DOCKER_PASS_STORE="file", PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-c", QUIT_SCRIPT],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=BOUND * 2,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["returned from run_test", "asyncio.run returned"]


def test_q_returns_from_run_test_while_a_plugin_is_blocked() -> None:
    never = threading.Event()
    listing = threading.Event()
    stuck = readonly_class("1password-cli", list_gate=never, gate_seconds=None, listing=listing)
    app = make_app({"docker-pass": keychain_class(), "1password-cli": stuck})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await until(pilot, listing.is_set, "the plugin is stuck listing")
        await pilot.press("q")
        await pilot.pause()

    try:
        run_bounded(app, scenario)  # fails after BOUND seconds rather than hanging
        assert not app.is_running
        assert not never.is_set()
    finally:
        never.set()


def test_a_plugin_slow_to_start_delays_no_other() -> None:
    gate = threading.Event()

    class SlowStart(readonly_class("1password-sdk")):  # type: ignore[misc]
        def start(self) -> None:
            gate.wait()  # 1Password reads its whole item list when it starts

    app = make_app({"docker-pass": keychain_class(), "1password-sdk": SlowStart})

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        await until(pilot, lambda: listed(seen, "docker-pass"), "the keychain answered")
        await pilot.pause()
        lines = labels(app)
        assert lines[0] == "… 1password-sdk: listing…"
        assert "docker/ 6" in lines
        keychain = next(s for s in app.plugins.statuses if s.name == "docker-pass")
        assert keychain.status == "running"
        assert keychain.storage  # its fresh status, asked of it alone
        gate.set()
        await settle(pilot)
        assert "op/ 1" in labels(app)
        sdk = next(s for s in app.plugins.statuses if s.name == "1password-sdk")
        assert sdk.status == "running"
        assert sdk.storage == "1Password (fake)"

    try:
        run_bounded(app, scenario)
    finally:
        gate.set()


def test_a_stuck_plugin_does_not_stop_noticing_other_processes_changes() -> None:
    from docker_pass.core.state import set_enabled

    gate, listing = threading.Event(), threading.Event()
    slow = readonly_class("1password-cli", list_gate=gate, gate_seconds=None, listing=listing)
    other = readonly_class("1password-sdk", {"sdk/a": b"1"})
    plugins = {"docker-pass": keychain_class(), "1password-cli": slow, "1password-sdk": other}
    gateway = SecretsGateway(engine_factory(plugins))
    stuck = threading.Thread(target=gateway.list_plugin, args=("1password-cli",), daemon=True)
    try:
        gateway.plugins()
        assert not gateway.state_changed_elsewhere()
        stuck.start()
        assert listing.wait(BOUND)
        set_enabled("1password-sdk", False)  # as `docker pass plugins disable` would
        assert gateway.state_changed_elsewhere()
        assert not gateway.state_changed_elsewhere()  # reported once
    finally:
        gate.set()
        stuck.join(BOUND)
        gateway.close()
