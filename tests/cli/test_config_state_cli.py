"""Config and state problems as a person meets them, through the real executable."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.helpers import docker_pass


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def config_file() -> Path:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "docker-pass" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def state_dir() -> Path:
    return Path(os.environ["XDG_STATE_HOME"]) / "docker-pass"


def rows(stdout: bytes) -> dict[str, str]:
    return {line.split()[0]: line for line in stdout.decode().splitlines()[1:]}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            b'{"plugins": {"1password-cli": {"enabled": "off"}}}',
            'plugins.1password-cli.enabled must be true or false, not "off" '
            '(write "enabled": true or "enabled": false, without quotes)',
        ),
        (b'{"storage": "\xff"}', "not UTF-8 text (a bad byte at offset 13)"),
        (b'{"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "nested deeper than 16 levels"),
    ],
    ids=["wrong-type", "non-utf8", "deep"],
)
@pytest.mark.parametrize("verb", [("plugins", "ls"), ("ls",), ("run", "--", "true")])
def test_a_bad_config_is_one_error_line(raw: bytes, message: str, verb: tuple[str, ...]) -> None:
    path = config_file()
    path.write_bytes(raw)
    result = docker_pass(*verb, env={"K": "se://k"})  # run reads the config for a reference
    assert result.returncode == 1
    assert result.stderr.decode().endswith(f"{path}: {message}\n")
    assert result.stderr.startswith(b"Error: ")
    assert result.stderr.count(b"\n") == 1


def test_bad_pattern_crashes_the_plugin_until_the_file_is_fixed(memory_plugin: Path) -> None:
    path = config_file()
    path.write_text(json.dumps({"plugins": {"memory": {"pattern": "team/*x"}}}))
    listed = docker_pass("plugins", "ls")
    assert listed.returncode == 0, listed.stderr
    assert "crashed" in rows(listed.stdout)["memory"]
    assert f"{path}: plugins.memory.pattern" in rows(listed.stdout)["memory"]
    assert "running" in rows(listed.stdout)["docker-pass"]
    path.write_text(json.dumps({"plugins": {"memory": {"pattern": "team/**"}}}))
    listed = docker_pass("plugins", "ls", "--json")
    memory = next(p for p in json.loads(listed.stdout) if p["name"] == "memory")
    assert (memory["status"], memory["pattern"]) == ("running", "team/**")


def test_bad_setting_of_one_plugin_is_an_error_only_for_commands_that_need_it(
    memory_plugin: Path,
) -> None:
    memory_plugin.write_text(json.dumps({"m/x": "1"}))
    config_file().write_text(json.dumps({"plugins": {"memory": {"refresh_interval": "5m"}}}))
    got = docker_pass("get", "m/x", "--plugin", "memory")
    assert got.returncode == 1
    assert got.stderr.startswith(
        b"Error: plugin memory is crashed: config "
        + str(config_file()).encode()
        + b': plugins.memory.refresh_interval must be a number of seconds (0 or more), not "5m"'
    )
    assert got.stderr.count(b"\n") == 1  # no "plugins enable" hint: fixing the file is enough
    assert docker_pass("set", "k=v").returncode == 0  # the keychain plugin is untouched
    config_file().write_text(json.dumps({"plugins": {"memory": {"refresh_interval": 300}}}))
    assert docker_pass("get", "m/x", "--plugin", "memory").returncode == 0


def test_enable_docker_pass_clears_its_crash() -> None:
    state_dir().mkdir(parents=True)
    crashed = {"docker-pass": {"status": "crashed", "message": "keychain locked", "failures": 0}}
    (state_dir() / "plugins.json").write_text(json.dumps(crashed))
    assert "crashed" in rows(docker_pass("plugins", "ls").stdout)["docker-pass"]
    enabled = docker_pass("plugins", "enable", "docker-pass")
    assert (enabled.returncode, enabled.stdout) == (0, b"docker-pass: running\n"), enabled.stderr
    assert "running" in rows(docker_pass("plugins", "ls").stdout)["docker-pass"]
    refused = docker_pass("plugins", "disable", "docker-pass")
    assert refused.stderr == b"Error: plugin docker-pass is not configurable: it is always on\n"


@pytest.mark.parametrize(
    "verb",
    [("run", "--", "sh", "-c", 'printf %s "$K"'), ("ls",), ("plugins", "ls")],
    ids=["run", "ls", "plugins-ls"],
)
def test_an_unwritable_state_is_one_warning_line(verb: tuple[str, ...]) -> None:
    assert docker_pass("set", "k=v").returncode == 0
    (state_dir() / "plugins.json").unlink()
    for entry in state_dir().iterdir():
        entry.unlink()
    state_dir().rmdir()
    state_dir().write_text("a file where the state directory belongs")  # writes fail: ENOTDIR
    result = docker_pass(*verb, env={"K": "se://k"})
    assert result.returncode == 0, result.stderr
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Warning: plugin state not recorded in {state_dir()}/plugins.json")
    if verb[0] == "run":
        assert result.stdout == b"v"
    else:
        assert b"k" in result.stdout or b"docker-pass" in result.stdout


def test_an_unrecordable_enabled_flag_is_one_error_line(memory_plugin: Path) -> None:
    state_dir().parent.mkdir(parents=True, exist_ok=True)
    state_dir().write_text("a file where the state directory belongs")
    result = docker_pass("plugins", "disable", "memory")
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert lines[-1] == f"Error: recording plugins.memory.enabled: {state_dir()}: not a directory"
    assert all(line.startswith(("Warning: ", "Error: ")) for line in lines)
