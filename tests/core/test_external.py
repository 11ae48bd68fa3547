"""External plugins in core: the registry the daemon fills, the roster that follows it as
plugins come and go (from any thread), the plugins directory, and what an engine without the
daemon says of them."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.config_schema import ConfigError, validate_config
from docker_pass.core.engine import Engine
from docker_pass.core.envelope import Envelope
from docker_pass.core.external import (
    ExternalEntry,
    ExternalPlugins,
    launchable_plugins,
    not_asked,
    plugins_dir,
)
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import Capability
from docker_pass.core.remote.wire import envelope_from_json
from docker_pass.core.state import RunStatus, update_run_state
from tests.core.test_engine import make

if TYPE_CHECKING:
    import builtins
    from pathlib import Path

    from docker_pass.core.envelope import SecretInfo


class Connected:
    """What the daemon's ExternalPlugin looks like to the engine (a fake connection)."""

    configurable = True
    concurrent = True

    def __init__(self, name: str, pattern: str = "far/**") -> None:
        self.name = name
        self.version = "v1.0.0"
        self.pattern = Pattern(pattern)
        self.capabilities = frozenset({Capability.READ})
        self.calls = 0

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def storage(self) -> str:
        return "external, test"

    def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
        raise AssertionError("never listed")

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        self.calls += 1
        return [Envelope(ID("far/one"), b"v", provider="whatever")]


def connected_entry(plugin: Connected) -> ExternalEntry:
    return ExternalEntry(plugin.name, version=plugin.version, pattern=plugin.pattern, plugin=plugin)


def engine_following(registry: ExternalPlugins) -> Engine:
    engine = Engine(
        factories={"mem": make("mem", secrets={"far/one": b"own"}, pattern=Pattern("x/**"))}
    )
    engine.follow_external(registry)
    return engine


def test_the_registry_claims_a_name_once_and_replaces_only_what_it_holds() -> None:
    registry = ExternalPlugins()
    first = ExternalEntry("far")
    assert registry.claim(first, lambda name: False)
    assert not registry.claim(ExternalEntry("far"), lambda name: False)
    assert not registry.claim(ExternalEntry("mem"), {"mem"}.__contains__)
    newer = ExternalEntry("far", version="v2")
    assert registry.replace(first, newer)
    assert not registry.replace(first, ExternalEntry("far"))  # first is gone already
    assert not registry.remove(first)
    generation = registry.generation
    assert registry.remove(newer)
    assert registry.generation == generation + 1
    assert registry.names() == frozenset()


def test_an_engine_serves_external_plugins_as_they_come_and_go() -> None:
    registry = ExternalPlugins()
    engine = engine_following(registry)
    assert engine.names() == ["mem"]
    plugin = Connected("far")
    entry = connected_entry(plugin)
    registry.put(entry)
    statuses = {s.name: s for s in engine.plugins()}
    assert statuses["far"].status is RunStatus.RUNNING
    assert (statuses["far"].external, statuses["mem"].external) == (True, False)
    assert statuses["far"].capabilities == frozenset({Capability.READ})
    assert (statuses["far"].pattern, statuses["far"].version) == ("far/**", "v1.0.0")
    envelopes = engine.resolve_all(Pattern("far/one"))
    assert [(e.id.value, e.provider) for e in envelopes] == [("far/one", "far")]
    listing = engine.list_secrets(Pattern("**"))
    assert listing.errors["far"] == "cannot list its secrets (it resolves IDs it is asked for)"

    registry.remove(entry)
    assert engine.names() == ["mem"]
    assert "far" not in {s.name for s in engine.plugins()}


def test_a_launched_plugin_not_connected_serves_nothing_and_is_revived_when_enabled() -> None:
    registry = ExternalPlugins()
    engine = engine_following(registry)
    revived: list[str] = []
    registry.put(ExternalEntry("later", launched=True, revive=lambda: revived.append("later")))
    update_run_state("later", lambda s: setattr(s, "status", RunStatus.CRASHED))
    status = engine.status("later")
    assert (status.status, status.pattern) == (RunStatus.CRASHED, "")
    assert engine.resolve(Pattern("**")).asked == ["mem"]  # never registered: asked nothing
    assert revived == []  # down: its supervisor brings it back in its own time
    engine.enable("later")
    assert revived == ["later"]


def test_slots_follow_the_registry_while_other_threads_resolve() -> None:
    registry = ExternalPlugins()
    engine = engine_following(registry)
    plugin = Connected("far")
    failures: list[BaseException] = []
    done = threading.Event()

    def churn() -> None:
        try:
            while not done.is_set():
                entry = connected_entry(plugin)
                registry.put(entry)
                registry.remove(entry)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            failures.append(exc)

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        for _ in range(300):
            engine.resolve(Pattern("**"))
            engine.plugins(start=False)
    finally:
        done.set()
        thread.join()
    assert failures == []


def test_launchable_plugins_are_the_executable_regular_files(tmp_path: Path) -> None:
    for name, mode in (("a", 0o755), ("b", 0o644), (".hidden", 0o755), ("tool.exe", 0o700)):
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(mode)
    (tmp_path / "folder").mkdir()
    assert launchable_plugins(str(tmp_path)) == {
        "a": str(tmp_path / "a"),
        "tool": str(tmp_path / "tool.exe"),
    }
    assert launchable_plugins(str(tmp_path / "missing")) == {}


def test_the_plugins_directory_by_precedence(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert plugins_dir({}) == str(isolated_home / ".config/docker-pass/plugins")
    assert plugins_dir({"engine": {"plugins_dir": "~/mine"}}) == str(isolated_home / "mine")
    monkeypatch.setenv("DOCKER_PASS_PLUGINS_DIR", "/elsewhere")
    assert plugins_dir({"engine": {"plugins_dir": "~/mine"}}) == "/elsewhere"


def test_what_an_engine_without_the_daemon_says(tmp_path: Path) -> None:
    assert not_asked(str(tmp_path)) == ""
    for name in ("one", "two"):
        (tmp_path / name).write_text("")
        (tmp_path / name).chmod(0o755)
    assert not_asked(str(tmp_path)) == (
        "external plugins one, two not asked: they run only in the engine daemon "
        "(docker pass engine run)"
    )


@pytest.mark.parametrize(
    ("engine", "message"),
    [
        ({"plugins_dir": 3}, "engine.plugins_dir must be a path (a string), not 3"),
        ({"plugin_backoff": -1}, "engine.plugin_backoff must be a positive number of seconds"),
        ({"plugin_retries": 1.5}, "engine.plugin_retries must be a positive whole number"),
        ({"max_external_plugins": True}, "engine.max_external_plugins must be a positive whole"),
    ],
)
def test_the_launch_settings_are_checked(engine: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_config({"engine": engine}, "config.json")


def test_go_s_zero_time_reads_as_no_time() -> None:
    doc = json.loads(
        '{"id": "a/b", "value": "dg==", "createdAt": "0001-01-01T00:00:00Z",'
        ' "expiresAt": "0001-01-01T00:00:00Z", "resolvedAt": "2025-01-02T03:04:05Z"}'
    )
    envelope = envelope_from_json(doc)
    assert (envelope.created_at, envelope.expires_at) == (None, None)
    assert envelope.resolved_at is not None
    assert envelope.resolved_at.year == 2025
    absent = envelope_from_json({"id": "a/b"})
    assert absent.expires_at is None  # what older engines send: read the same
