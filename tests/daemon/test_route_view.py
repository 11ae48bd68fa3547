"""Patterns the daemon has not seen yet, routed on its loop (:mod:`docker_pass.daemon.route_view`):
answered from the warm file store with no engine call once its values are warm, and handed to
the engine whenever the loop cannot say — a value not warm, a secret changed or removed behind
the daemon, a plugin that is not warm, a config change."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TYPE_CHECKING

import pytest

from docker_pass.core import ID, Pattern
from docker_pass.core.config import save_config
from docker_pass.core.engine import Engine, plugin_spec
from docker_pass.core.errors import SecretNotFoundError
from docker_pass.core.names import KEYCHAIN_PLUGIN
from docker_pass.daemon.engine_host import WarmEngine
from tests.daemon.test_routes import Served, Unwatched, save, serve

if TYPE_CHECKING:
    from collections.abc import Iterator

    from docker_pass.core.results import Resolution

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify: Linux")

IDS = [f"app/item{n:02d}" for n in range(20)]


def warmed(serving: Served) -> Served:
    """The daemon's start: its warm plugins read every value (as ``fill_warm_soon`` does)."""
    assert serving.host.run_now(lambda engine: engine.fill_warm()) == [KEYCHAIN_PLUGIN]  # type: ignore[attr-defined]
    serving.engine_calls = 0
    return serving


@pytest.fixture
def served() -> Iterator[Served]:
    for n, id_ in enumerate(IDS):
        save(id_, f"value-{n}")
    serving = warmed(serve())
    yield serving
    serving.host.close()


def burst(serving: Served, patterns: list[str]) -> list[Resolution]:
    async def together() -> list[Resolution]:
        return await asyncio.gather(*(serving.routes.resolve(Pattern(p)) for p in patterns))

    return asyncio.run(together())


def test_a_first_burst_of_unseen_ids_makes_no_engine_call(served: Served) -> None:
    answers = burst(served, IDS * 5)
    assert [a.envelopes[0].value for a in answers] == [f"value-{n}".encode() for n in range(20)] * 5
    assert served.engine_calls == 0
    first = answers[0]
    assert first.asked == first.answered == [KEYCHAIN_PLUGIN]
    assert first.envelopes[0].provider == KEYCHAIN_PLUGIN
    assert first.envelopes[0].resolved_at is not None


def test_without_warm_values_the_engine_is_asked() -> None:
    save("app/db", "one")
    serving = serve()  # nothing read yet: nothing warm
    try:
        assert serving.value("app/db") == b"one"
        assert serving.engine_calls == 1
        assert serving.value("app/db") == b"one"
        assert serving.engine_calls == 1  # read once: kept
    finally:
        serving.host.close()


def test_a_secret_changed_or_removed_behind_the_daemon_is_read_again(served: Served) -> None:
    save("app/item03", "changed")
    assert served.value("app/item03") == b"changed"
    with Engine.for_plugin(KEYCHAIN_PLUGIN) as engine:
        engine.remove([ID("app/item04")])
    with pytest.raises(SecretNotFoundError):
        served.resolve("app/item04").envelopes_or_raise()
    assert served.value("app/item05") == b"value-5"


def test_an_id_nobody_holds_goes_to_the_engine(served: Served) -> None:
    with pytest.raises(SecretNotFoundError):
        served.resolve("app/missing").envelopes_or_raise()
    assert served.engine_calls == 1


def test_a_wildcard_goes_to_the_engine(served: Served) -> None:
    assert len(served.resolve("app/*").envelopes) == len(IDS)
    assert served.engine_calls == 1


def test_a_config_change_stops_routing_on_the_loop(served: Served) -> None:
    assert served.value("app/item01") == b"value-1"
    assert served.engine_calls == 0
    save_config({"engine": {"plugin_timeout": 21}})
    assert served.value("app/item02") == b"value-2"
    assert served.engine_calls == 1  # the engine read the config again


def test_a_pattern_a_cold_plugin_also_serves_goes_to_the_engine() -> None:
    for n, id_ in enumerate(IDS):
        save(id_, f"value-{n}")
    save("other/x", "x")
    specs = {KEYCHAIN_PLUGIN: plugin_spec(KEYCHAIN_PLUGIN)}
    calls = Unwatched.calls
    serving = warmed(serve(lambda: WarmEngine(specs, {"unwatched": Unwatched})))
    try:
        for _ in range(2):
            assert serving.value("other/x") == b"x"  # only the warm store serves it
        assert serving.engine_calls == 0
        found = serving.resolve("app/item07")  # the plugin with no warm values serves app/**
        assert sorted(e.value for e in found.envelopes) == [b"value-7"]
        assert serving.engine_calls == 1
        assert Unwatched.calls == calls + 1
    finally:
        serving.host.close()
        Unwatched.calls = calls  # its counter is shared with the routes' tests


def test_the_daemon_reads_warm_values_as_it_starts_without_waiting_for_them() -> None:
    """``fill_warm_soon`` (what ``run_engine`` calls once listening) returns at once; the
    values are then warm: a peek answers with no read."""
    save("app/early", "soon")
    serving = serve()
    try:
        serving.host.fill_warm_soon()
        (slot,) = serving.host.run_now(Engine.running_slots)
        instance = slot.instance
        assert instance is not None
        deadline = time.monotonic() + 30
        while (found := instance.peek_warm(Pattern("app/early"))) is None:  # type: ignore[attr-defined]
            assert time.monotonic() < deadline, "the values were never made warm"
            time.sleep(0.02)
        assert [e.value for e in found] == [b"soon"]
    finally:
        serving.host.close()
