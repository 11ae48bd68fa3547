"""External plugins asked on the daemon's event loop (``daemon/routes.py``): with nothing but
the file store beside them, ``GetSecrets`` asks them without an engine thread.  A plugin that
hangs there costs its callers their deadline and holds no thread of the daemon; a value
written behind the daemon's back is still seen by the next lookup."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest

from docker_pass.core import ID, Pattern
from docker_pass.core.engine import Engine
from docker_pass.core.names import KEYCHAIN_PLUGIN
from tests.daemon.engines import start_engine
from tests.daemon.external.hosting import sdk_plugin, statuses, wait_for

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from tests.daemon.engines import RunningEngine

GOOD = ("--name", "good", "--pattern", "good/**", "--secrets", '{"good/one": "good-value"}')
#: Calls hung at once, each for its own ID: more than the daemon's engine threads
#: (``MAX_ENGINE_THREADS``), which they would all have held, one each, before.
HUNG_CALLS = 40
#: The plugin deadline here (seconds): what the hung calls cost their callers.
DEADLINE = "3"


@pytest.fixture
def bare(
    tmp_path: Path,
    socket_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    spawn: Callable[..., subprocess.Popen[Any]],
) -> Iterator[RunningEngine]:
    """The daemon (plugin deadline 3 s) with the file store and a good external plugin."""
    monkeypatch.setenv("DOCKER_PASS_PLUGIN_TIMEOUT", DEADLINE)
    running = start_engine(tmp_path / "engine.log")
    try:
        spawn(sdk_plugin("--socket", str(socket_path), *GOOD))
        wait_for(lambda: statuses().get("good", {}).get("status") == "running", "good")
        yield running
    finally:
        running.kill()


def value(engine: RunningEngine, id_: str) -> bytes:
    with engine.client() as client:
        return client.resolve_all(Pattern.parse(id_))[0].value


def test_hung_calls_on_the_loop_hold_no_engine_thread_and_end_at_the_deadline(
    bare: RunningEngine, tmp_path: Path, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    said = tmp_path / "hung.err"
    with said.open("wb") as err:
        spawn(sdk_plugin("--socket", str(bare.socket), "--misbehave", "hang", "--name", "hung",
                         "--pattern", "hung/**"), stderr=err)  # fmt: skip
    wait_for(lambda: statuses().get("hung", {}).get("status") == "running", "hung")
    errors: list[str] = []

    def hung_call(n: int) -> None:
        try:
            value(bare, f"hung/x{n:02d}")
        except Exception as exc:  # noqa: BLE001 - the test reads what each call met
            errors.append(str(exc))

    callers = [threading.Thread(target=hung_call, args=(n,)) for n in range(HUNG_CALLS)]
    for caller in callers:
        caller.start()
    # Every call is in the plugin at once: none waits for an engine thread to come free.
    wait_for(lambda: said.read_text().count("GetSecrets(") == HUNG_CALLS, "every call to hang")
    with bare.client() as client:  # the engine's own calls, and the others, answer meanwhile
        assert client.version().startswith("v")
        assert client.list_secrets(Pattern.parse("**")).infos == []
    assert value(bare, "good/one") == b"good-value"
    assert errors == []  # all of that before a single hung call reached its deadline
    for caller in callers:
        caller.join(30)
    assert len(errors) == HUNG_CALLS
    assert all(f"plugin hung did not answer within {DEADLINE} s" in e for e in errors), errors


def test_a_value_written_behind_the_daemon_is_seen_by_the_next_lookup(bare: RunningEngine) -> None:
    for n in range(5):
        with Engine.for_plugin(KEYCHAIN_PLUGIN) as engine:  # another process than the daemon
            engine.save(ID.parse("app/db"), f"value-{n}".encode(), {})
        assert value(bare, "app/db") == f"value-{n}".encode()
        assert value(bare, "app/db") == f"value-{n}".encode()  # and again, from its route
    assert value(bare, "good/one") == b"good-value"
