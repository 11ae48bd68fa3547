"""``GetSecrets`` on the daemon's loop (:mod:`docker_pass.daemon.routes`), in-process: a
pattern asked again is answered without the engine, and never once anything it depends on
changed — another process's write, a config change, a plugin that is not warm.  Changes are
made and looked up at once: nothing here waits for a watcher to catch up."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any

import pytest

from docker_pass.core import ID, Envelope, Pattern
from docker_pass.core.config import save_config
from docker_pass.core.engine import Engine, plugin_spec
from docker_pass.core.errors import SecretNotFoundError
from docker_pass.core.names import KEYCHAIN_PLUGIN
from docker_pass.core.plugin import READ_ONLY
from docker_pass.daemon.changes import ChangeWatch
from docker_pass.daemon.engine_host import EngineHost, WarmEngine
from docker_pass.daemon.routes import MAX_KEPT_VALUES, Routes

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Iterator

    from docker_pass.core.results import Resolution

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify: Linux")


def save(id_: str, value: str) -> None:
    """Store a secret as another process would: an engine of its own on the same files."""
    with Engine.for_plugin(KEYCHAIN_PLUGIN) as engine:
        engine.save(ID.parse(id_), value.encode(), {})


class Served:
    """The daemon's routes over a real warm engine, and how many engine calls they made."""

    def __init__(self, host: EngineHost, routes: Routes) -> None:
        self.host = host
        self.routes = routes
        self.engine_calls = 0
        original = host.call

        async def counted(work: Callable[[Engine], Any], **kwargs: Any) -> Any:
            self.engine_calls += 1
            return await original(work, **kwargs)

        host.call = counted  # type: ignore[method-assign]

    def resolve(self, pattern: str) -> Resolution:
        return asyncio.run(self.routes.resolve(Pattern.parse(pattern)))

    def value(self, pattern: str) -> bytes:
        return self.resolve(pattern).envelopes_or_raise()[0].value


def serve(factory: Callable[[], Engine] = WarmEngine, *, watched: bool = True) -> Served:
    host = EngineHost(factory)
    host.start()
    routes = Routes(host, ChangeWatch(enabled=watched))
    host.run_now(routes.prepare)
    return Served(host, routes)


@pytest.fixture
def served() -> Iterator[Served]:
    save("app/db", "one")
    save("app/api", "two")
    serving = serve()
    yield serving
    serving.host.close()


def test_a_pattern_asked_again_is_answered_without_the_engine(served: Served) -> None:
    first = served.resolve("app/db")
    second = served.resolve("app/db")
    assert served.engine_calls == 1
    assert [e.value for e in second.envelopes] == [b"one"]
    assert second.asked == second.answered == [KEYCHAIN_PLUGIN]
    assert second.envelopes[0].provider == KEYCHAIN_PLUGIN
    # Stamped when answered, as the engine stamps it.
    before, after = (r.envelopes[0].resolved_at for r in (first, second))
    assert before is not None
    assert after is not None
    assert after >= before


def test_a_secret_another_process_writes_is_seen_by_the_next_lookup(served: Served) -> None:
    assert served.value("app/db") == b"one"
    for n in range(5):
        save("app/db", f"changed-{n}")
        assert served.value("app/db") == f"changed-{n}".encode()
    assert served.value("app/api") == b"two"


def test_a_secret_removed_or_added_behind_the_daemon_is_seen(served: Served) -> None:
    assert served.value("app/db") == b"one"
    with pytest.raises(SecretNotFoundError):
        served.resolve("app/new").envelopes_or_raise()
    with pytest.raises(SecretNotFoundError):
        served.resolve("app/new").envelopes_or_raise()  # a miss is kept too
    save("app/new", "fresh")
    assert served.value("app/new") == b"fresh"
    with Engine.for_plugin(KEYCHAIN_PLUGIN) as engine:
        engine.remove([ID.parse("app/db")])
    with pytest.raises(SecretNotFoundError):
        served.resolve("app/db").envelopes_or_raise()


def test_a_config_change_drops_the_kept_routes() -> None:
    save("app/db", "one")
    save_config({"engine": {"plugin_timeout": 25}})
    serving = serve()
    try:
        serving.resolve("app/db")
        serving.resolve("app/db")
        assert serving.engine_calls == 1
        save_config({"engine": {"plugin_timeout": 20}})
        assert serving.value("app/db") == b"one"
        assert serving.engine_calls == 2  # the engine read the config again
        serving.resolve("app/db")
        assert serving.engine_calls == 2
    finally:
        serving.host.close()


def test_a_config_directory_made_behind_the_daemon_is_seen(served: Served) -> None:
    """Nothing was there to watch but its parent: the new directory's file is read, and the
    routes are kept again once the watch covers it."""
    served.resolve("app/db")
    save_config({"engine": {"plugin_timeout": 20}})
    assert served.value("app/db") == b"one"
    served.resolve("app/db")
    calls = served.engine_calls
    served.resolve("app/db")
    assert served.engine_calls == calls


def test_a_burst_of_misses_is_one_engine_call(served: Served) -> None:
    async def burst() -> list[Resolution]:
        pattern = Pattern.parse("app/api")
        return await asyncio.gather(*(served.routes.resolve(pattern) for _ in range(50)))

    answers = asyncio.run(burst())
    assert {a.envelopes[0].value for a in answers} == {b"two"}
    assert served.engine_calls == 1


def test_a_wildcard_over_more_values_than_a_route_keeps_asks_the_engine_each_time() -> None:
    for n in range(MAX_KEPT_VALUES + 2):
        save(f"many/s{n:02d}", f"v{n}")
    serving = serve()
    try:
        for _ in range(2):
            assert len(serving.resolve("many/**").envelopes) == MAX_KEPT_VALUES + 2
        assert serving.engine_calls == 2
        assert serving.value("many/s01") == serving.value("many/s01") == b"v1"
        # The wildcard's answer left its values warm: one ID is routed on the loop and kept.
        assert serving.engine_calls == 2
    finally:
        serving.host.close()


class Unwatched:
    """A plugin with no warm directory: asked by the engine every time."""

    name = "unwatched"
    version = "1.0.0"
    pattern = Pattern("app/**")
    configurable = True
    enabled_by_default = True
    capabilities = READ_ONLY
    calls = 0

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def storage(self) -> str:
        return "memory"

    def list(self, pattern: Pattern) -> list[Any]:
        return []

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        Unwatched.calls += 1
        return [Envelope(ID("app/db"), b"from-unwatched")] if pattern.matches("app/db") else []


def test_a_plugin_whose_answers_are_not_warm_is_asked_every_time() -> None:
    save("app/db", "one")
    specs = {KEYCHAIN_PLUGIN: plugin_spec(KEYCHAIN_PLUGIN)}
    serving = serve(lambda: WarmEngine(specs, {"unwatched": Unwatched}))
    try:
        for _ in range(3):
            found = serving.resolve("app/db")
            assert sorted(e.value for e in found.envelopes) == [b"from-unwatched", b"one"]
        assert serving.engine_calls == Unwatched.calls == 3
        serving.resolve("other/x")
        serving.resolve("other/x")
        assert serving.engine_calls == 4  # a pattern only the warm store serves is kept
    finally:
        serving.host.close()


def test_without_a_watch_every_lookup_asks_the_engine() -> None:
    save("app/db", "one")
    serving = serve(watched=False)
    try:
        assert serving.value("app/db") == serving.value("app/db") == b"one"
        assert serving.engine_calls == 2
        save("app/db", "two")
        assert serving.value("app/db") == b"two"
    finally:
        serving.host.close()
