"""config.json is validated on load (one error naming the file and key); junk state is no state;
a crash caused by a setting ends once the setting is fixed; an unwritable state is a warning."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docker_pass.core import ID
from docker_pass.core.config import config_path, load_config, save_config, write_json_atomic
from docker_pass.core.engine import Engine
from docker_pass.core.errors import DockerPassError, FatalPluginError
from docker_pass.core.state import (
    RunState,
    RunStatus,
    load_run_states,
    state_path,
    update_run_state,
)
from tests.core.test_engine import make

if TYPE_CHECKING:
    from pathlib import Path


def write_config(raw: bytes | str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(raw, str):
        raw = raw.encode()
    path.write_bytes(raw)
    return path


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"plugins": {"1password-cli": {"enabled": "off"}}},
            'plugins.1password-cli.enabled must be true or false, not "off" '
            '(write "enabled": true or "enabled": false, without quotes)',
        ),
        ({"plugins": {"x": {"enabled": 0}}}, "plugins.x.enabled must be true or false, not 0"),
        ({"plugins": []}, "plugins must be an object, not a list"),
        ({"plugins": {"x": "on"}}, 'plugins.x must be an object, not "on"'),
        ({"storage": "floppy"}, "storage must be one of auto, secret-service, keyring, file"),
        ({"storage": 3}, "storage must be one of auto, secret-service, keyring, file, not 3"),
        ({"engine": {"socket": 5}}, "engine.socket must be a path (a string), not 5"),
        (
            {"engine": {"request_timeout": "soon"}},
            'engine.request_timeout must be a positive number of seconds, not "soon"',
        ),
        ({"engine": {"idle_timeout": 0}}, "engine.idle_timeout must be a positive number"),
        (
            {"engine": {"max_connections": 2.5}},
            "engine.max_connections must be a positive whole number, not 2.5",
        ),
        ({"engine": {"max_connections": True}}, "engine.max_connections must be a positive"),
        ({"tui": {"keymap": ["q"]}}, "tui.keymap must be an object of binding id to keys"),
        ({"tui": {"keymap": {"quit": 1}}}, "tui.keymap.quit must be keys (a string), not 1"),
    ],
)
def test_a_wrong_type_names_the_file_and_the_key(doc: object, message: str) -> None:
    path = write_config(json.dumps(doc))
    with pytest.raises(DockerPassError) as caught:
        load_config()
    text = str(caught.value)
    assert text.startswith(f"config {path}: {message}")
    assert "\n" not in text


def test_a_long_bad_value_is_cut() -> None:
    write_config(json.dumps({"plugins": {"x": {"enabled": "y" * 5000}}}))
    with pytest.raises(DockerPassError) as caught:
        load_config()
    assert '"yyyy' in str(caught.value)
    assert len(str(caught.value)) < len(str(config_path())) + 120


def test_unknown_keys_are_kept_and_valid_ones_load() -> None:
    doc = {
        "storage": "file",
        "future": {"deep": [1, {"x": None}]},
        "plugins": {"p": {"enabled": False, "pattern": "a/**", "colour": "blue"}},
        "engine": {"socket": "/tmp/s", "request_timeout": 2, "idle_timeout": 0.5},
        "tui": {"keymap": {"quit": "ctrl+q"}},
    }
    write_config(json.dumps(doc))
    assert load_config() == doc


def test_non_utf8_config_is_one_error_naming_the_file() -> None:
    path = write_config(b'{"storage": "\xff\xfe"}')
    with pytest.raises(DockerPassError, match="not UTF-8") as caught:
        load_config()
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deep_nesting_is_one_error_naming_the_file(depth: int) -> None:
    path = write_config('{"x": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(DockerPassError, match="nested deeper than") as caught:
        load_config()
    assert str(path) in str(caught.value)


# -- junk in the state file counts as no state -------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'["a list"]',
        b"\xff\xfe\x00garbage",
        b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["not-json", "not-object", "non-utf8", "deep"],
)
def test_junk_state_file_is_no_state(raw: bytes) -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    assert load_run_states() == {}
    engine = Engine(factories={"x": make("x")})
    (status,) = engine.plugins()
    assert status.status == "running"
    assert json.loads(path.read_text())["x"]["status"] == "running"  # rewritten, valid


def test_wrong_types_inside_the_state_file_count_as_unrecorded() -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "x": {"status": "crashed", "message": 7, "changed_at": "noon", "failures": "many"},
        "y": {"status": ["crashed"], "failures": -3, "cause": 1, "settings": {}},
        "z": "crashed",
    }
    path.write_text(json.dumps(doc))
    states = load_run_states()
    assert states["x"].status is RunStatus.CRASHED
    assert (states["x"].message, states["x"].changed_at, states["x"].failures) == ("", 0.0, 0)
    assert (states["y"].status, states["y"].failures) == (RunStatus.STOPPED, 0)
    assert (states["y"].cause, states["y"].settings) == ("", "")
    assert states["z"].status is RunStatus.STOPPED


# -- a crash caused by configuration ends with its cause ----------------------------------------


def test_bad_pattern_crash_recovers_once_the_file_is_fixed() -> None:
    save_config({"plugins": {"a": {"pattern": "team/*x"}}})
    (status,) = Engine(factories={"a": make("a")}).plugins()
    assert status.status == "crashed"
    assert f"config {config_path()}: plugins.a.pattern" in status.message
    recorded = load_run_states()["a"]
    assert (recorded.status, recorded.cause) == (RunStatus.CRASHED, "config")
    save_config({"plugins": {"a": {"pattern": "team/**"}}})
    (status,) = Engine(factories={"a": make("a")}).plugins()
    assert (status.status, status.pattern) == ("running", "team/**")
    assert load_run_states()["a"].status is RunStatus.RUNNING


def test_bad_refresh_interval_crashes_that_plugin_only_and_recovers() -> None:
    save_config({"plugins": {"a": {"refresh_interval": "soon"}}})
    engine = Engine(factories={"a": make("a"), "b": make("b")})
    statuses = {s.name: s for s in engine.plugins()}
    assert statuses["b"].status == "running"
    assert statuses["a"].status == "crashed"
    assert statuses["a"].message == (
        f"config {config_path()}: plugins.a.refresh_interval must be a number of seconds "
        '(0 or more), not "soon"'
    )
    with pytest.raises(DockerPassError, match=r"plugin a is crashed: config .*refresh_interval"):
        engine.get(ID("k"), plugin="a")
    save_config({"plugins": {"a": {"refresh_interval": 5}}})
    statuses = {s.name: s for s in Engine(factories={"a": make("a"), "b": make("b")}).plugins()}
    assert statuses["a"].status == "running"


def test_fatal_start_error_from_a_setting_recovers_when_the_section_changes() -> None:
    bad = make("a", fail_start=FatalPluginError("config plugins.a.vault: no such vault"))
    save_config({"plugins": {"a": {"vault": "nope"}}})
    (status,) = Engine(factories={"a": bad}).plugins()
    assert status.status == "crashed"
    good = make("a")
    (status,) = Engine(factories={"a": good}).plugins()
    assert status.status == "crashed"  # same settings: stays down, not retried
    assert good.started == 0
    save_config({"plugins": {"a": {"vault": "Private"}}})
    (status,) = Engine(factories={"a": good}).plugins()
    assert status.status == "running"


def test_a_crash_not_caused_by_settings_stays_down_when_they_change() -> None:
    bad = make("a", fail_start=FatalPluginError("the vault is locked"))
    (status,) = Engine(factories={"a": bad}).plugins()
    assert status.status == "crashed"
    save_config({"plugins": {"a": {"colour": "blue"}}})
    good = make("a")
    (status,) = Engine(factories={"a": good}).plugins()
    assert status.status == "crashed"
    assert good.started == 0


def test_enable_clears_the_crash_of_an_always_on_plugin() -> None:
    fixed = make("fixed", configurable=False, fail_start=FatalPluginError("keychain locked"))
    (status,) = Engine(factories={"fixed": fixed}).plugins()
    assert status.status == "crashed"
    healthy = make("fixed", configurable=False)
    engine = Engine(factories={"fixed": healthy})
    assert engine.enable("fixed").status == "running"
    assert "fixed" not in load_config().get("plugins", {})  # nothing to record: always on


# -- an unwritable state is a warning -----------------------------------------------------------


def test_unwritable_state_dir_warns_once_and_the_engine_goes_on(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process the warning goes to the ``docker_pass.state`` logger (pytest's handler here,
    the daemon's log there); tests/cli/test_config_state_cli.py sees the CLI's stderr line."""
    from docker_pass.core import state

    monkeypatch.setattr(state, "_warned", [])
    directory = state_path().parent
    directory.parent.mkdir(parents=True, exist_ok=True)
    directory.write_text("a file where the state directory belongs")
    engine = Engine(factories={"a": make("a", secrets={"k": b"v"})})
    (status,) = engine.plugins()
    assert status.status == "running"
    recorded = update_run_state("a", lambda s: setattr(s, "failures", 2))
    assert recorded.failures == 2
    warnings = [r for r in caplog.records if r.name == "docker_pass.state"]
    assert len(warnings) == 1
    assert warnings[0].levelname == "WARNING"
    assert (
        warnings[0]
        .getMessage()
        .startswith(f"plugin state not recorded in {directory}{os.sep}plugins.json")
    )


@given(
    status=st.sampled_from(
        [RunStatus.RUNNING, RunStatus.STOPPED, RunStatus.CRASHED, RunStatus.RETRIES_EXCEEDED]
    ),
    message=st.sampled_from(["", "boom", 'say "hi"', '"x": {"changed_at": 1, "failures": 0}']),
    changed_at=st.one_of(st.integers(0, 2**40), st.floats(0, 1e12, allow_nan=False)),
    failures=st.integers(0, 3),
    cause=st.sampled_from(["", "config"]),
)
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_plugins_state_reads_the_same_with_or_without_parsing(
    status: RunStatus, message: str, changed_at: float, failures: int, cause: str
) -> None:
    """``get`` recognises a healthy plugin's record without the json module; whatever the
    record, what it reads equals what parsing the file gives."""
    others = {"other": RunState(RunStatus.RUNNING, changed_at=7.0).to_json()}
    record = RunState(status, message, changed_at, failures, cause, "f" if cause else "")
    write_json_atomic(state_path(), {**others, "x": record.to_json()})
    quick = load_run_states(only="x")["x"]
    full = load_run_states()["x"]
    assert (quick.status, quick.message, quick.changed_at, quick.failures, quick.cause) == (
        full.status,
        full.message,
        full.changed_at,
        full.failures,
        full.cause,
    )
