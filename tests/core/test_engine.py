"""The engine with in-process plugins: fan-out, filtering, isolation, crash and retry state."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

import pytest

from docker_pass.core import ID, Envelope, Pattern, SecretInfo
from docker_pass.core.engine import Engine
from docker_pass.core.errors import (
    FatalPluginError,
    NoPluginMatchesError,
    PluginError,
    ReadOnlyError,
    SecretNotFoundError,
    UnknownPluginError,
    UsageError,
)
from docker_pass.core.plugin import READ_ONLY, Capability
from docker_pass.core.state import RunStatus, load_run_states

if TYPE_CHECKING:
    import builtins


class FakePlugin:
    """A plugin holding fixed secrets; behaviour is switched by class attributes."""

    name = "fake"
    version = "1.2.3"
    pattern = Pattern("**")
    configurable = True
    enabled_by_default = True
    capabilities = READ_ONLY
    secrets: ClassVar[dict[str, bytes]] = {}
    fail_start: Exception | None = None
    fail_resolve: Exception | None = None
    fail_list: Exception | None = None
    ignore_request = False
    delay = 0.0
    started = 0

    def start(self) -> None:
        type(self).started += 1
        if self.fail_start is not None:
            raise self.fail_start

    def stop(self) -> None:
        pass

    def storage(self) -> str:
        return "memory"

    def list(self, pattern: Pattern) -> list[SecretInfo]:
        if self.fail_list is not None:
            raise self.fail_list
        return [SecretInfo(ID(k)) for k in self.secrets if pattern.matches(k)]

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        if self.delay:
            time.sleep(self.delay)
        if self.fail_resolve is not None:
            raise self.fail_resolve
        chosen = (
            self.secrets
            if self.ignore_request
            else {k: v for k, v in self.secrets.items() if pattern.matches(k)}
        )
        return [Envelope(ID(k), v, provider="lies") for k, v in chosen.items()]


def make(name: str, **attrs: object) -> type[FakePlugin]:
    return type(f"Fake_{name}", (FakePlugin,), {"name": name, "started": 0, **attrs})


def test_fan_out_merges_and_stamps_providers() -> None:
    engine = Engine(
        factories={
            "a": make("a", secrets={"app/db": b"A", "app/x": b"AX"}),
            "b": make("b", secrets={"app/db": b"B"}),
        }
    )
    result = engine.resolve(Pattern.parse("app/db"))
    assert [(e.id.value, e.provider, e.value) for e in result.envelopes] == [
        ("app/db", "a", b"A"),
        ("app/db", "b", b"B"),
    ]
    assert result.asked == ["a", "b"]
    assert result.answered == ["a", "b"]
    assert all(e.resolved_at is not None for e in result.envelopes)


def test_only_overlapping_plugins_are_asked_and_answers_are_refiltered() -> None:
    engine = Engine(
        factories={
            "docker-only": make(
                "docker-only",
                pattern=Pattern("docker/**"),
                secrets={"docker/a": b"1", "other/b": b"2"},
                ignore_request=True,  # a sloppy plugin answering more than asked
            ),
            "mcp": make("mcp", pattern=Pattern("mcp/**"), secrets={"mcp/x": b"3"}),
        }
    )
    result = engine.resolve(Pattern.parse("**"))
    assert [e.id.value for e in result.envelopes] == ["docker/a", "mcp/x"]
    only = engine.resolve(Pattern.parse("docker/*"))
    assert only.asked == ["docker-only"]
    with pytest.raises(NoPluginMatchesError, match="no plugin matches nowhere/x"):
        engine.resolve(Pattern.parse("nowhere/x"))


def test_internal_realm_never_resolves() -> None:
    engine = Engine(
        factories={"a": make("a", secrets={"docker/secrets-engine/tok": b"t", "x": b"1"})}
    )
    assert [e.id.value for e in engine.resolve(Pattern.parse("**")).envelopes] == ["x"]


def test_not_found_is_not_an_error_and_resolve_all_says_so() -> None:
    engine = Engine(factories={"a": make("a", secrets={})})
    result = engine.resolve(Pattern.parse("x"))
    assert result.envelopes == []
    assert result.errors == {}
    with pytest.raises(SecretNotFoundError, match="secret not found"):
        engine.resolve_all(Pattern.parse("x"))


def test_one_failing_plugin_does_not_fail_the_others() -> None:
    engine = Engine(
        factories={
            "good": make("good", secrets={"k": b"v"}),
            "bad": make("bad", fail_resolve=PluginError("backend timed out")),
        }
    )
    result = engine.resolve(Pattern.parse("k"))
    assert [e.provider for e in result.envelopes] == ["good"]
    assert result.errors == {"bad": "backend timed out"}
    assert load_run_states()["bad"].status == "running"  # an ordinary error keeps it up


def test_fatal_error_crashes_until_enabled() -> None:
    bad = make("bad", fail_resolve=FatalPluginError("signed out: run op signin"))
    engine = Engine(factories={"bad": bad, "good": make("good", secrets={"k": b"v"})})
    result = engine.resolve(Pattern.parse("k"))
    assert result.errors == {"bad": "signed out: run op signin"}
    status = {s.name: s for s in engine.plugins()}
    assert status["bad"].status == "crashed"
    assert status["bad"].message == "signed out: run op signin"
    # Another engine (another process) sees the crash and does not start the plugin.
    again = Engine(factories={"bad": bad, "good": make("good", secrets={"k": b"v"})})
    assert again.resolve(Pattern.parse("k")).asked == ["good"]
    # Enabling clears the crash and retries.
    bad.fail_resolve = None
    assert again.enable("bad").status == "running"
    assert load_run_states()["bad"].status == "running"


def test_failed_start_isolated_then_retries_exceeded() -> None:
    flaky = make("flaky", fail_start=PluginError("cannot reach the vault"))
    for _ in range(3):
        engine = Engine(factories={"flaky": flaky, "good": make("good", secrets={"k": b"v"})})
        assert engine.resolve(Pattern.parse("k")).asked == ["good"]
    state = load_run_states()["flaky"]
    assert state.status == "retries-exceeded"
    assert "cannot reach the vault" in state.message
    with pytest.raises(NoPluginMatchesError):
        Engine(factories={"flaky": flaky}).resolve(Pattern.parse("**"))
    statuses = {s.name: s.status for s in Engine(factories={"flaky": flaky}).plugins()}
    assert statuses["flaky"] == "retries-exceeded"


def test_a_plugin_that_crashes_on_start_with_an_unexpected_error() -> None:
    boom = make("boom", fail_start=RuntimeError("kaboom with details"))
    engine = Engine(factories={"boom": boom})
    (status,) = engine.plugins()
    assert status.status == "stopped"
    assert status.message == "internal error (RuntimeError)"


def test_disable_and_enable_persist(isolated_home: object) -> None:
    factories = {"opt": make("opt", secrets={"k": b"v"})}
    engine = Engine(factories=factories)
    assert engine.disable("opt").status == "disabled"
    with pytest.raises(NoPluginMatchesError):
        Engine(factories=factories).resolve(Pattern.parse("k"))
    assert Engine(factories=factories).enable("opt").status == "running"
    assert Engine(factories=factories).resolve(Pattern.parse("k")).asked == ["opt"]


def test_unknown_and_non_configurable_plugins() -> None:
    fixed = make("fixed", configurable=False)
    engine = Engine(factories={"fixed": fixed, "x": make("x")})
    with pytest.raises(UnknownPluginError, match="known: fixed, x"):
        engine.enable("nope")
    with pytest.raises(UsageError, match="not configurable"):
        engine.disable("fixed")


def test_disabled_by_default_until_enabled() -> None:
    shy = make("shy", enabled_by_default=False, secrets={"k": b"v"})
    engine = Engine(factories={"shy": shy})
    (status,) = engine.plugins()
    assert status.status == "disabled"
    assert shy.started == 0


def test_pattern_narrowed_in_config(isolated_home: object) -> None:
    from docker_pass.core.config import save_config

    save_config({"plugins": {"a": {"pattern": "team/**"}}})
    engine = Engine(factories={"a": make("a", secrets={"team/x": b"1", "other/y": b"2"})})
    assert [e.id.value for e in engine.resolve(Pattern.parse("**")).envelopes] == ["team/x"]
    (status,) = engine.plugins()
    assert status.pattern == "team/**"


def test_invalid_pattern_in_config_crashes_with_reason(isolated_home: object) -> None:
    from docker_pass.core.config import save_config

    save_config({"plugins": {"a": {"pattern": "team/*x"}}})
    engine = Engine(factories={"a": make("a")})
    (status,) = engine.plugins()
    assert status.status == "crashed"
    assert "a component mixes * with other characters" in status.message


def test_plugins_are_asked_concurrently() -> None:
    engine = Engine(
        factories={
            "s1": make("s1", delay=0.5, secrets={"k": b"1"}),
            "s2": make("s2", delay=0.5, secrets={"k": b"2"}),
        }
    )
    engine.plugins()  # start both
    started = time.monotonic()
    assert len(engine.resolve(Pattern.parse("k")).envelopes) == 2
    assert time.monotonic() - started < 0.95  # behaviour: not one after the other


def test_registry_entry_points_agree_with_builtin_table() -> None:
    from importlib.metadata import entry_points

    from docker_pass.core.registry import BUILTIN_PLUGINS, ENTRY_POINT_GROUP

    declared = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert {k: declared.get(k) for k in BUILTIN_PLUGINS} == BUILTIN_PLUGINS


def test_entry_point_scan_is_cached_until_a_path_folder_changes(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys
    from pathlib import Path

    from docker_pass.core import registry

    calls: list[int] = []
    site = Path(str(tmp_path)) / "site"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    import importlib.metadata as md

    original = md.entry_points

    def counting(**kw: str) -> object:
        calls.append(1)
        return original(**kw)

    monkeypatch.setattr(md, "entry_points", counting)
    first = registry.plugin_specs()
    second = registry.plugin_specs()
    assert first == second
    assert "docker-pass" in first
    assert len(calls) == 1  # the second call came from the cache
    dist = site / "late_plugin-1.0.dist-info"
    dist.mkdir()  # installing a distribution changes the folder
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: late-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[docker_pass.plugins]\nlate = late_mod:Late\n")
    third = registry.plugin_specs()
    assert len(calls) == 2
    assert third["late"] == "late_mod:Late"


# -- the secret verbs and plugin choice ------------------------------------------------------


def test_get_reads_one_plugin_through_resolve_when_it_has_no_get() -> None:
    engine = Engine(factories={"a": make("a", secrets={"x": b"1"}), "b": make("b")})
    envelope = engine.get(ID("x"), plugin="a")
    assert (envelope.value, envelope.provider) == (b"1", "a")
    with pytest.raises(SecretNotFoundError):
        engine.get(ID("x"), plugin="b")


def test_writes_to_a_read_only_plugin_name_the_writable_ones() -> None:
    engine = Engine(factories={"ro": make("ro")})
    with pytest.raises(ReadOnlyError, match=r"plugin ro is read-only: it cannot write secrets"):
        engine.save(ID("x"), b"v", {}, plugin="ro")
    with pytest.raises(ReadOnlyError, match=r"writable plugins: .*docker-pass"):
        engine.remove([ID("x")], plugin="ro")


def test_a_plugin_that_cannot_list_says_so() -> None:
    blind = make("blind", capabilities=frozenset({Capability.READ}), secrets={"k": b"v"})
    engine = Engine(factories={"blind": blind, "a": make("a", secrets={"j": b"1"})})
    with pytest.raises(UsageError, match="plugin blind cannot list its secrets"):
        engine.list_secrets(Pattern("**"), plugin="blind")
    listing = engine.list_secrets(Pattern("**"))
    assert [i.id.value for i in listing.infos] == ["j"]
    assert "cannot list" in listing.errors["blind"]
    assert engine.get(ID("k"), plugin="blind").value == b"v"  # reading still works


def test_listing_all_plugins_isolates_a_failing_one() -> None:
    broken = make("broken", fail_list=PluginError("op timed out"))
    engine = Engine(factories={"broken": broken, "a": make("a", secrets={"j": b"1"})})
    listing = engine.list_secrets(Pattern("**"))
    assert [(i.id.value, i.provider) for i in listing.infos] == [("j", "a")]
    assert listing.errors == {"broken": "op timed out"}
    with pytest.raises(PluginError, match="op timed out"):
        engine.list_secrets(Pattern("**"), plugin="broken")


def test_the_reserved_realm_is_listed_only_on_request() -> None:
    secrets = {"docker/secrets-engine/tok": b"t", "x": b"1"}
    engine = Engine(factories={"a": make("a", secrets=secrets)})
    assert [i.id.value for i in engine.list_secrets(Pattern("**")).infos] == ["x"]
    listed = engine.list_secrets(Pattern("**"), reserved=True).infos
    assert [i.id.value for i in listed] == ["docker/secrets-engine/tok", "x"]


def test_plugin_status_reports_capabilities_and_down_state() -> None:
    engine = Engine(
        factories={"a": make("a"), "bad": make("bad", fail_start=FatalPluginError("fix"))}
    )
    statuses = {s.name: s for s in engine.plugins()}
    assert statuses["a"].capabilities == READ_ONLY
    assert not statuses["a"].writable
    assert statuses["bad"].status is RunStatus.CRASHED
    assert statuses["bad"].is_down
    assert statuses["bad"].remedy == "docker pass plugins enable bad"
    assert statuses["bad"].to_json()["status"] == "crashed"
