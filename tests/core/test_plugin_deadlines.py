"""Every plugin call has a deadline the engine sets: a plugin that hangs, or drips an answer
forever, fails its own callers at that deadline with ``plugin NAME did not answer within N s``,
and the other plugins' answers still arrive.

In-process engines with plugins that hang until the test ends (``Gate``) or answer a little
at a time forever; the deadline comes from ``$DOCKER_PASS_PLUGIN_TIMEOUT`` or the config file.
Each test asserts the bound: answered no sooner than the deadline and within it plus
:data:`MARGIN`.  (The daemon and the CLI, with plugins installed through entry points, are in
``tests/daemon/test_plugin_deadlines.py`` and ``tests/cli/test_plugin_deadlines_cli.py``.)
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from docker_pass.core import ID, Envelope, Pattern, SecretInfo
from docker_pass.core.config import config_path
from docker_pass.core.config_schema import ConfigError
from docker_pass.core.engine import Engine
from docker_pass.core.errors import DockerPassError, FatalPluginError, PluginError
from docker_pass.core.plugin import READ_ONLY, READ_WRITE
from docker_pass.core.plugin_calls import MAX_OVERDUE, TIMEOUT_ENV, PluginTimeoutError
from docker_pass.core.state import RunStatus, load_run_states

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Iterator

DEADLINE = 0.5
#: What a bound allows beyond the deadline (a loaded machine, a thread's hand-over).
MARGIN = 2.0
WAIT = 20.0


class Gate:
    """Where a hanging plugin waits: it counts the calls that came in, and lets them out only
    when the test ends."""

    def __init__(self) -> None:
        self.inside = 0
        self._entered = threading.Condition()
        self._open = threading.Event()

    def hang(self) -> None:
        with self._entered:
            self.inside += 1
            self._entered.notify_all()
        self._open.wait()

    def wait_inside(self, count: int) -> None:
        with self._entered:
            assert self._entered.wait_for(lambda: self.inside >= count, WAIT), self.inside

    def open(self) -> None:
        self._open.set()


class HangingPlugin:
    """Never answers (until the test ends): every verb waits at ``gate``."""

    name = "hanging"
    version = "1.0.0"
    pattern = Pattern("**")
    configurable = True
    enabled_by_default = True
    capabilities = READ_WRITE
    gate: ClassVar[Gate]
    hang_start = False
    start_breaks = False
    stops = 0

    def start(self) -> None:
        if self.hang_start:
            self.gate.hang()
        if self.start_breaks:
            raise FatalPluginError("no token; run: docker pass plugins enable hanging")

    def stop(self) -> None:
        type(self).stops += 1

    def storage(self) -> str:
        return "nowhere"

    def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
        self.gate.hang()
        return []

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        self.gate.hang()
        return []

    def get(self, id_: ID) -> Envelope:
        self.gate.hang()
        return Envelope(id_, b"late")

    def save(self, id_: ID, value: bytes, metadata: Any) -> None:
        self.gate.hang()

    def delete(self, id_: ID) -> bool:
        self.gate.hang()
        return False


class DrippingPlugin:
    """Answers a little at a time and never finishes, as a server that sends one byte every
    few seconds: each step is quick (a per-read timeout never fires), the whole never ends."""

    name = "dripping"
    version = "1.0.0"
    pattern = Pattern("**")
    configurable = True
    enabled_by_default = True
    capabilities = READ_ONLY
    received: ClassVar[list[bytes]] = []
    stop_dripping = threading.Event()

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def storage(self) -> str:
        return "a slow server"

    def _drip(self) -> None:
        while not self.stop_dripping.wait(0.02):  # one byte, then the next one soon
            self.received.append(b".")

    def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
        self._drip()
        return []

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        self._drip()
        return []


class QuickPlugin:
    """Answers at once."""

    name = "quick"
    version = "1.0.0"
    pattern = Pattern("**")
    configurable = True
    enabled_by_default = True
    capabilities = READ_ONLY

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def storage(self) -> str:
        return "memory"

    def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
        return [SecretInfo(ID("team/one"))] if pattern.matches("team/one") else []

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        return [Envelope(ID("team/one"), b"quick-1")] if pattern.matches("team/one") else []


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    """The hanging plugin's gate, opened when the test ends; every deadline :data:`DEADLINE`."""
    monkeypatch.setenv(TIMEOUT_ENV, str(DEADLINE))
    opened = Gate()
    monkeypatch.setattr(HangingPlugin, "gate", opened, raising=False)
    monkeypatch.setattr(HangingPlugin, "hang_start", False)
    monkeypatch.setattr(HangingPlugin, "start_breaks", False)
    monkeypatch.setattr(HangingPlugin, "stops", 0)
    yield opened
    opened.open()


@pytest.fixture
def dripping() -> Iterator[type[DrippingPlugin]]:
    DrippingPlugin.received.clear()
    DrippingPlugin.stop_dripping.clear()
    yield DrippingPlugin
    DrippingPlugin.stop_dripping.set()


def engine_of(*plugins: type[Any]) -> Engine:
    factories: dict[str, Callable[[], Any]] = {p.name: p for p in plugins}
    return Engine(factories=factories)


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    """How long ``work`` took, and what it returned (or raised)."""
    started = time.monotonic()
    try:
        out = work()
    except Exception as exc:  # noqa: BLE001 - the test looks at it
        out = exc
    return time.monotonic() - started, out


def os_threads() -> int:
    """The threads of this process, as the kernel counts them (plugin-call threads are not
    ``threading.Thread`` objects)."""
    return len(os.listdir("/proc/self/task"))


def within_deadline(elapsed: float, deadline: float = DEADLINE) -> bool:
    return deadline <= elapsed < deadline + MARGIN


def late(name: str, seconds: float = DEADLINE) -> str:
    return f"plugin {name} did not answer within {seconds:g} s"


def write_config(doc: dict[str, Any]) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


# -- a hung plugin, a dripping one; the others answer ---------------------------------------------


def test_a_hung_plugin_fails_at_its_deadline_and_the_others_answer(gate: Gate) -> None:
    with engine_of(HangingPlugin, QuickPlugin) as engine:
        elapsed, resolution = timed(lambda: engine.resolve(Pattern("team/**")))
        assert within_deadline(elapsed), elapsed
        assert [(e.id.value, e.value) for e in resolution.envelopes] == [("team/one", b"quick-1")]
        assert resolution.errors == {"hanging": late("hanging")}
        assert sorted(resolution.asked) == ["hanging", "quick"]

        elapsed, listing = timed(lambda: engine.list_secrets(Pattern("team/**")))
        assert elapsed < DEADLINE + MARGIN  # the first call still holds the plugin: at once
        assert [i.id.value for i in listing.infos] == ["team/one"]
        assert listing.errors == {"hanging": late("hanging")}


def test_every_verb_of_a_hung_plugin_has_the_deadline(gate: Gate) -> None:
    with engine_of(HangingPlugin) as engine:
        verbs: list[Callable[[], Any]] = [
            lambda: engine.get(ID("a/b"), plugin="hanging"),
            lambda: engine.list_secrets(Pattern("**"), plugin="hanging"),
            lambda: engine.save(ID("a/b"), b"v", {}, plugin="hanging"),
        ]
        elapsed, error = timed(verbs[0])
        assert within_deadline(elapsed), elapsed
        assert isinstance(error, PluginTimeoutError)
        assert str(error) == late("hanging")
        # The call past its deadline still holds the plugin: the others fail at once, and
        # never reach it (it is not asked twice meanwhile).
        for verb in verbs:
            elapsed, error = timed(verb)
            assert elapsed < DEADLINE, elapsed
            assert str(error) == late("hanging")
        removal = engine.remove([ID("a/b")], plugin="hanging")
        assert removal.outcomes == ((ID("a/b"), late("hanging")),)
        assert gate.inside == 1
        # Not fatal: nothing is recorded, and the plugin still shows running.
        assert load_run_states().get("hanging") is None or not (
            load_run_states()["hanging"].status.is_down
        )
        (status,) = engine.plugins()
        assert status.status == RunStatus.RUNNING


def test_a_dripping_plugin_fails_at_its_total_deadline(
    gate: Gate, dripping: type[DrippingPlugin]
) -> None:
    with engine_of(DrippingPlugin, QuickPlugin) as engine:
        elapsed, resolution = timed(lambda: engine.resolve(Pattern("team/**")))
        assert within_deadline(elapsed), elapsed
        assert resolution.errors == {"dripping": late("dripping")}
        assert [e.value for e in resolution.envelopes] == [b"quick-1"]
        # It was answering all along, a byte at a time: no single step was slow.
        assert len(dripping.received) > 5
        elapsed, error = timed(lambda: engine.list_secrets(Pattern("**"), plugin="dripping"))
        assert elapsed < DEADLINE
        assert str(error) == late("dripping")


def test_the_next_call_tries_again_once_the_plugin_has_answered(gate: Gate) -> None:
    with engine_of(HangingPlugin) as engine:
        with pytest.raises(PluginTimeoutError):
            engine.get(ID("a/b"), plugin="hanging")
        gate.open()  # the late call ends, unheard
        deadline = time.monotonic() + WAIT
        while engine.busy_plugins():
            assert time.monotonic() < deadline, "the late call never ended"
            time.sleep(0.01)
        assert engine.get(ID("a/b"), plugin="hanging").value == b"late"


def test_a_call_waiting_for_its_turn_is_bounded_by_its_own_deadline(
    gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, "1.5")
    with engine_of(HangingPlugin) as engine:
        first = threading.Thread(
            target=lambda: timed(lambda: engine.get(ID("a/1"), plugin="hanging"))
        )
        first.start()
        gate.wait_inside(1)
        # Queued behind a call that has not passed its deadline yet: it waits its turn, and
        # fails when the one holding the plugin passes its deadline (never later than its own).
        elapsed, error = timed(lambda: engine.get(ID("a/2"), plugin="hanging"))
        assert elapsed < 1.5 + MARGIN, elapsed
        assert str(error) == late("hanging", 1.5)
        first.join(WAIT)
        assert gate.inside == 1


def test_a_concurrent_plugin_that_always_hangs_holds_a_bounded_number_of_threads(
    gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, "0.2")
    monkeypatch.setattr(HangingPlugin, "concurrent", True, raising=False)
    with engine_of(HangingPlugin) as engine:
        for _ in range(MAX_OVERDUE):
            elapsed, error = timed(lambda: engine.get(ID("a/b"), plugin="hanging"))
            assert within_deadline(elapsed, 0.2), elapsed
            assert str(error) == late("hanging", 0.2)
        threads = os_threads()
        for _ in range(20):  # refused at once: no thread more, no call more
            elapsed, error = timed(lambda: engine.get(ID("a/b"), plugin="hanging"))
            assert elapsed < 0.2
            assert str(error) == late("hanging", 0.2)
        assert gate.inside == MAX_OVERDUE
        assert os_threads() <= threads


# -- starting -----------------------------------------------------------------------------------


def test_a_start_that_hangs_is_bounded_and_kept_when_it_ends(gate: Gate) -> None:
    HangingPlugin.hang_start = True
    with engine_of(HangingPlugin, QuickPlugin) as engine:
        elapsed, error = timed(lambda: engine.get(ID("a/b"), plugin="hanging"))
        assert within_deadline(elapsed), elapsed
        assert str(error) == late("hanging")
        # Resolving: the plugin that did not start in time is reported, the other answers.
        elapsed, resolution = timed(lambda: engine.resolve(Pattern("team/**")))
        assert elapsed < DEADLINE + MARGIN
        assert resolution.errors == {"hanging": late("hanging")}
        assert [e.value for e in resolution.envelopes] == [b"quick-1"]
        statuses = {s.name: s for s in engine.plugins()}
        assert (statuses["hanging"].status, statuses["hanging"].message) == (
            RunStatus.STOPPED,
            late("hanging"),
        )
        assert "hanging" not in load_run_states()  # slow is not broken: nothing recorded
        assert gate.inside == 1  # one start, not one per call

        HangingPlugin.hang_start = False
        gate.open()  # the start ends late: the instance it made is the one used
        deadline = time.monotonic() + WAIT
        while engine.status("hanging").status is not RunStatus.RUNNING:
            assert time.monotonic() < deadline, "the late start was not kept"
            time.sleep(0.01)
        assert engine.get(ID("a/b"), plugin="hanging").value == b"late"
        assert load_run_states()["hanging"].status is RunStatus.RUNNING


def test_a_late_start_that_fails_is_recorded_as_it_failed(gate: Gate) -> None:
    HangingPlugin.hang_start = HangingPlugin.start_breaks = True
    with engine_of(HangingPlugin) as engine:
        with pytest.raises(PluginTimeoutError):
            engine.get(ID("a/b"), plugin="hanging")
        gate.open()  # the start ends late, and fatally: crashed, for every process
        deadline = time.monotonic() + WAIT
        while load_run_states().get("hanging") is None:
            assert time.monotonic() < deadline, "the late start recorded nothing"
            time.sleep(0.01)
        with pytest.raises(DockerPassError) as failed:
            engine.get(ID("a/b"), plugin="hanging")
        assert str(failed.value) == (
            "plugin hanging is crashed: no token; run: docker pass plugins enable hanging"
        )


# -- settings -----------------------------------------------------------------------------------


def test_a_plugins_own_timeout_wins_over_the_engines(
    gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TIMEOUT_ENV)
    write_config({"engine": {"plugin_timeout": 30}, "plugins": {"hanging": {"deadline": 0.3}}})
    with engine_of(HangingPlugin) as engine:
        elapsed, error = timed(lambda: engine.get(ID("a/b"), plugin="hanging"))
        assert within_deadline(elapsed, 0.3), elapsed
        assert str(error) == late("hanging", 0.3)


def test_the_engine_setting_and_the_environment(
    gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TIMEOUT_ENV)
    write_config({"engine": {"plugin_timeout": 0.4}})
    with engine_of(HangingPlugin) as engine:
        elapsed, error = timed(lambda: engine.get(ID("a/b"), plugin="hanging"))
        assert within_deadline(elapsed, 0.4), elapsed
        assert str(error) == late("hanging", 0.4)
    write_config({"engine": {"plugin_timeout": 30}})
    monkeypatch.setenv(TIMEOUT_ENV, "0.3")  # over the config file
    with engine_of(HangingPlugin) as engine:
        elapsed, error = timed(lambda: engine.get(ID("a/b"), plugin="hanging"))
        assert within_deadline(elapsed, 0.3), elapsed
        assert str(error) == late("hanging", 0.3)
    monkeypatch.setenv(TIMEOUT_ENV, "soon")
    with pytest.raises(DockerPassError, match=r"\$DOCKER_PASS_PLUGIN_TIMEOUT: 'soon' is not"):
        engine_of(QuickPlugin)
    monkeypatch.delenv(TIMEOUT_ENV)
    write_config({"engine": {"plugin_timeout": 0}})
    with pytest.raises(ConfigError, match=r"engine\.plugin_timeout must be a positive number"):
        engine_of(QuickPlugin)


# -- crashes ------------------------------------------------------------------------------------


class BreakablePlugin(QuickPlugin):
    """Quick, until asked for ``break/now``: then fatally broken."""

    name = "breakable"
    stops = 0

    def stop(self) -> None:
        type(self).stops += 1

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        if pattern.value == "break/now":
            raise FatalPluginError("broke on purpose; run: docker pass plugins enable breakable")
        return super().resolve(pattern)


def test_a_crash_recorded_by_another_process_stops_the_running_instance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(BreakablePlugin, "stops", 0)
    with engine_of(BreakablePlugin) as warm, engine_of(BreakablePlugin) as other:
        assert [e.value for e in warm.resolve_all(Pattern("team/one"))] == [b"quick-1"]
        with pytest.raises(PluginError, match="broke on purpose"):
            other.resolve_all(Pattern("break/now"))  # another process finds it broken
        (status,) = warm.plugins()
        assert (status.status, status.message) == (
            RunStatus.CRASHED,
            "broke on purpose; run: docker pass plugins enable breakable",
        )
        assert BreakablePlugin.stops == 2  # both instances are stopped
        warm.enable("breakable")
        assert [e.value for e in warm.resolve_all(Pattern("team/one"))] == [b"quick-1"]


def test_a_crash_because_the_plugin_could_not_load_ends_once_it_loads() -> None:
    with Engine(specs={"quick": "no_such_module_here:QuickPlugin"}) as broken:
        (status,) = broken.plugins()
        assert status.status is RunStatus.CRASHED
    assert load_run_states()["quick"].status is RunStatus.CRASHED
    # Installed again (here: a class that loads): the crash's cause is gone, and so is it.
    with engine_of(QuickPlugin) as fixed:
        assert [e.value for e in fixed.resolve_all(Pattern("team/one"))] == [b"quick-1"]
        (status,) = fixed.plugins()
        assert status.status is RunStatus.RUNNING
