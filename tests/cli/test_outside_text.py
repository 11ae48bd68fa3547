"""Text from outside reaches the terminal only cleaned: no escape sequence, control byte or
bidi override on stdout or stderr, one line, bounded, URL credentials dropped.

Hostile text comes from a plugin's errors, a Compose file's paths, the state file, the
storage-choice file and the config file; each is driven through the real executable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.bounded import assert_plain
from tests.support.helpers import docker_pass

#: A server's answer that retitles and clears a terminal, reverses text, and rings a bell.
HOSTILE = "boom\x1b]0;pwned\x07\x1b[2J\x1b[31mred\u202eevil\x9b6n\x00end"
#: What is left of it to show.
CLEANED = "boomredevilend"


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def hostile_plugin(memory_plugin: Path, where: str, message: str = HOSTILE) -> None:
    """Make the memory plugin raise ``message`` from ``where`` (start, list or resolve)."""
    module = Path(str(memory_plugin.parent)) / "site" / "memory_plugin_mod.py"
    text = module.read_text()
    raise_it = (
        "        from docker_pass.core.errors import FatalPluginError, PluginError\n"
        f"        raise {'FatalPluginError' if where == 'start' else 'PluginError'}"
        f"({message!r})\n"
    )
    if where == "start":
        text = text.replace("    def start(self): pass", "    def start(self):\n" + raise_it)
    else:
        marker = f"    def {where}(self, pattern):\n"
        text = text.replace(marker, marker + raise_it)
    module.write_text(text)


def test_a_plugins_error_is_cleaned_in_every_verb(memory_plugin: Path) -> None:
    hostile_plugin(memory_plugin, "list")
    hostile_plugin(memory_plugin, "resolve")
    assert docker_pass("set", "kc/a=1").returncode == 0
    outputs = {
        "ls --all-plugins": docker_pass("ls", "--all-plugins"),
        "ls --plugin": docker_pass("ls", "--plugin", "memory"),
        "get --plugin": docker_pass("get", "--plugin", "memory", "m/x"),
        "run": docker_pass("run", "--", "true", env={"M": "se://m/x"}),
        "run --explain": docker_pass("run", "--explain", env={"M": "se://m/x"}),
    }
    for verb, result in outputs.items():
        assert_plain(result.stdout, result.stderr)
        assert CLEANED in result.stderr.decode(), (verb, result.stderr)
    assert outputs["ls --all-plugins"].stdout == b"kc/a\n"


def test_a_crash_message_is_cleaned_in_the_table_and_in_json(memory_plugin: Path) -> None:
    hostile_plugin(memory_plugin, "start")
    table = docker_pass("plugins", "ls")
    assert_plain(table.stdout, table.stderr)
    assert CLEANED in table.stdout.decode()
    as_json = docker_pass("plugins", "ls", "--json")
    (memory,) = [p for p in json.loads(as_json.stdout) if p["name"] == "memory"]
    assert memory["status"] == "crashed"
    assert memory["message"] == CLEANED
    enabled = docker_pass("plugins", "enable", "memory")
    assert enabled.returncode == 1
    assert_plain(enabled.stdout, enabled.stderr)


def test_credentials_in_a_url_are_not_shown(memory_plugin: Path) -> None:
    hostile_plugin(memory_plugin, "resolve", "cannot reach https://alice:hunter2@vault.example/v1")
    result = docker_pass("get", "--plugin", "memory", "m/x")
    assert result.returncode == 1
    assert b"hunter2" not in result.stderr
    assert b"cannot reach https://vault.example/v1" in result.stderr


def test_a_flood_from_a_plugin_is_cut(memory_plugin: Path) -> None:
    hostile_plugin(memory_plugin, "resolve", "x" * 1_000_000)
    result = docker_pass("get", "--plugin", "memory", "m/x")
    assert result.returncode == 1
    assert len(result.stderr) < 2_000
    assert result.stderr.count(b"\n") == 1


def test_a_compose_files_paths_are_cleaned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # YAML's own escapes: \e is ESC, \a is BEL.
    (tmp_path / "compose.yaml").write_text(
        'services:\n  api:\n    env_file: ["\\e]0;pwned\\a\\e[2Jgone.env"]\n'
    )
    result = docker_pass("check")
    assert result.returncode == 1
    assert_plain(result.stdout, result.stderr)
    assert result.stderr.decode().startswith("Error: env_file of service api in compose.yaml")


def test_a_yaml_error_quoting_a_control_character_is_plain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "compose.yaml").write_bytes(b"services:\n  api: \x1b[2J\x07\n")
    result = docker_pass("check")
    assert result.returncode == 1
    assert_plain(result.stdout, result.stderr)


def test_a_state_files_message_is_cleaned(isolated_home: Path) -> None:
    state = isolated_home / ".local" / "state" / "docker-pass"
    state.mkdir(parents=True, mode=0o700)
    recorded = {"1password-cli": {"status": "crashed", "message": HOSTILE, "failures": 0}}
    (state / "plugins.json").write_text(json.dumps(recorded))
    (isolated_home / ".config" / "docker-pass").mkdir(parents=True, mode=0o700)
    (isolated_home / ".config" / "docker-pass" / "config.json").write_text(
        json.dumps({"plugins": {"1password-cli": {"enabled": True}}})
    )
    for verb in (
        ("plugins", "ls"),
        ("plugins", "ls", "--json"),
        ("get", "--plugin", "1password-cli", "x"),
    ):
        result = docker_pass(*verb)
        assert_plain(result.stdout, result.stderr)


def test_a_storage_choice_reason_is_cleaned(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKER_PASS_STORE")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    state = isolated_home / ".local" / "state" / "docker-pass"
    state.mkdir(parents=True, mode=0o700)
    (state / "storage-choice").write_text(f"file\n{HOSTILE}\n")
    for verb in (("plugins", "ls"), ("plugins", "ls", "--json")):
        result = docker_pass(*verb)
        assert result.returncode == 0, result.stderr
        assert_plain(result.stdout, result.stderr)
        assert CLEANED in result.stdout.decode().replace("\n", "")


def test_a_config_value_with_escapes_is_shown_plain(isolated_home: Path) -> None:
    config = isolated_home / ".config" / "docker-pass"
    config.mkdir(parents=True, mode=0o700)
    (config / "config.json").write_text(json.dumps({"storage": HOSTILE}))
    result = docker_pass("ls")
    assert result.returncode == 1
    assert_plain(result.stdout, result.stderr)
    (config / "config.json").write_text(
        json.dumps({"plugins": {"1password-cli": {"enabled": True, "op_path": f"/x/{HOSTILE}"}}})
    )
    result = docker_pass("plugins", "ls")
    assert_plain(result.stdout, result.stderr)
    assert "is not an executable op" in result.stdout.decode()


def test_an_env_file_path_with_escapes_is_plain(tmp_path: Path) -> None:
    name = str(tmp_path / "\x1b]0;pwned\x07.env")
    os.mkfifo(name)
    result = docker_pass("run", "--env-file", name, "--", "true")
    assert result.returncode == 1
    assert_plain(result.stdout, result.stderr)
    assert b"is a FIFO (named pipe), not a regular file" in result.stderr
