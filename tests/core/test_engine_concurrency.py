"""Engine calls from several threads: each plugin decides whether it may be called at once.

A plugin is called one request at a time unless its class says ``concurrent = True``; calls
to different plugins never wait for each other; a call whose caller gave up (its
:class:`AbandonToken` set) never reaches the plugin late.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from docker_pass.core import ID, Envelope, Pattern
from docker_pass.core.engine import Engine
from docker_pass.core.errors import PluginError
from docker_pass.core.plugin import READ_ONLY
from docker_pass.core.plugin_calls import AbandonToken, under_token

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable

WAIT = 20.0


class GatedPlugin:
    """Each resolve records that it entered, then waits for ``gate`` to open."""

    name = "gated"
    version = "1.0.0"
    pattern = Pattern("slow/**")
    configurable = True
    enabled_by_default = True
    capabilities = READ_ONLY
    concurrent = False
    gate: ClassVar[threading.Event]
    entered: ClassVar[threading.Semaphore]
    inside: ClassVar[list[str]]

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def storage(self) -> str:
        return "memory"

    def list(self, pattern: Pattern) -> builtins.list[Any]:
        return []

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        type(self).inside.append(pattern.value)
        type(self).entered.release()
        assert type(self).gate.wait(WAIT), "the test never opened the gate"
        return [Envelope(ID(pattern.value), b"slow-value")]


class QuickPlugin:
    """Answers at once."""

    name = "quick"
    version = "1.0.0"
    pattern = Pattern("fast/**")
    configurable = True
    enabled_by_default = True
    capabilities = READ_ONLY

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def storage(self) -> str:
        return "memory"

    def list(self, pattern: Pattern) -> builtins.list[Any]:
        return []

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        return [Envelope(ID(pattern.value), b"fast-value")]


def gated(*, concurrent: bool) -> type[GatedPlugin]:
    return type(
        "Gated",
        (GatedPlugin,),
        {
            "concurrent": concurrent,
            "gate": threading.Event(),
            "entered": threading.Semaphore(0),
            "inside": [],
        },
    )


def engine_with(plugin: type[GatedPlugin]) -> Engine:
    factories: dict[str, Callable[[], Any]] = {"gated": plugin, "quick": QuickPlugin}
    return Engine(factories=factories)


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(work())
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_a_slow_plugin_delays_only_requests_that_need_it() -> None:
    plugin = gated(concurrent=False)
    engine = engine_with(plugin)
    try:
        slow, slow_out = in_thread(lambda: engine.resolve_all(Pattern("slow/a")))
        assert plugin.entered.acquire(timeout=WAIT)
        # The other plugin answers while the slow one is stuck.
        (env,) = engine.resolve_all(Pattern("fast/b"))
        assert env.value == b"fast-value"
        assert slow.is_alive()
        plugin.gate.set()
        slow.join(WAIT)
        assert [e.value for e in slow_out[0]] == [b"slow-value"]
    finally:
        plugin.gate.set()
        engine.close()


def test_a_plugin_that_says_nothing_is_called_one_request_at_a_time() -> None:
    plugin = gated(concurrent=False)
    engine = engine_with(plugin)
    try:
        first, _ = in_thread(lambda: engine.resolve_all(Pattern("slow/a")))
        assert plugin.entered.acquire(timeout=WAIT)
        second, second_out = in_thread(lambda: engine.resolve_all(Pattern("slow/b")))
        # The second waits for its turn: it does not enter while the first is inside.
        assert not plugin.entered.acquire(timeout=0.5)
        assert plugin.inside == ["slow/a"]
        plugin.gate.set()
        first.join(WAIT)
        second.join(WAIT)
        assert plugin.inside == ["slow/a", "slow/b"]
        assert [e.id.value for e in second_out[0]] == ["slow/b"]
    finally:
        plugin.gate.set()
        engine.close()


def test_a_concurrent_plugin_takes_requests_side_by_side() -> None:
    plugin = gated(concurrent=True)
    engine = engine_with(plugin)
    try:

        def asking(n: int) -> Callable[[], Any]:
            return lambda: engine.resolve_all(Pattern(f"slow/{n}"))

        threads = [in_thread(asking(n))[0] for n in range(3)]
        for _ in range(3):  # all three inside at once
            assert plugin.entered.acquire(timeout=WAIT)
        assert sorted(plugin.inside) == ["slow/0", "slow/1", "slow/2"]
        plugin.gate.set()
        for thread in threads:
            thread.join(WAIT)
    finally:
        plugin.gate.set()
        engine.close()


def test_an_abandoned_call_never_reaches_its_plugin_late() -> None:
    plugin = gated(concurrent=False)
    engine = engine_with(plugin)
    try:
        first, _ = in_thread(lambda: engine.resolve_all(Pattern("slow/a")))
        assert plugin.entered.acquire(timeout=WAIT)
        token = AbandonToken()
        late, late_out = in_thread(
            lambda: under_token(token, lambda: engine.resolve(Pattern("slow/late")))
        )
        assert not plugin.entered.acquire(timeout=0.3)  # waiting for its turn
        token.abandoned = True  # its caller stopped waiting
        late.join(WAIT)
        plugin.gate.set()
        first.join(WAIT)
        assert plugin.inside == ["slow/a"]  # slow/late never entered
        (resolution,) = late_out
        assert "abandoned" in resolution.errors["gated"]
    finally:
        plugin.gate.set()
        engine.close()


def test_an_abandoned_token_before_the_call_fails_the_request_plainly() -> None:
    plugin = gated(concurrent=False)
    engine = engine_with(plugin)
    token = AbandonToken()
    token.abandoned = True
    try:
        resolution = under_token(token, lambda: engine.resolve(Pattern("slow/x")))
        assert "abandoned" in resolution.errors["gated"]
        assert plugin.inside == []
        with pytest.raises(PluginError, match="abandoned"):
            under_token(token, lambda: engine.resolve_all(Pattern("slow/y")))
        with pytest.raises(PluginError, match="abandoned"):
            under_token(token, lambda: engine.get(ID("slow/z"), plugin="gated"))
    finally:
        engine.close()
