"""`plugins ls|enable|disable` as a person runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.helpers import docker_pass


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def test_ls_table_has_a_header_and_the_keychain(memory_plugin: Path) -> None:
    result = docker_pass("plugins", "ls")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert lines[0].split()[:5] == ["NAME", "VERSION", "STATUS", "CONFIGURABLE", "PATTERN"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["docker-pass"][1:5] == ["0.1.0", "running", "no", "**"]
    assert "file store" in result.stdout.decode()
    assert rows["memory"][1:5] == ["9.9.9", "running", "yes", "**"]


def test_disable_enable_round_trip_is_seen_by_later_processes(memory_plugin: Path) -> None:
    assert docker_pass("plugins", "disable", "memory").stdout == b"memory: disabled\n"
    listed = {p["name"]: p for p in json.loads(docker_pass("plugins", "ls", "--json").stdout)}
    assert listed["memory"]["status"] == "disabled"
    assert listed["memory"]["enabled"] is False
    memory_plugin.write_text(json.dumps({"only/mem": "m"}))
    gone = docker_pass("run", "--", "true", env={"M": "se://only/mem"})
    assert gone.stderr == b"Error: resolving M: secret not found: only/mem\n"
    assert docker_pass("plugins", "enable", "memory").stdout == b"memory: running\n"
    back = docker_pass("run", "--", "sh", "-c", 'printf %s "$M"', env={"M": "se://only/mem"})
    assert back.stdout == b"m"


def test_keychain_plugin_is_not_configurable() -> None:
    result = docker_pass("plugins", "disable", "docker-pass")
    assert result.returncode == 1
    assert result.stderr == b"Error: plugin docker-pass is not configurable: it is always on\n"


def test_unknown_plugin_lists_known_ones(memory_plugin: Path) -> None:
    result = docker_pass("plugins", "enable", "nope")
    assert result.returncode == 1
    assert result.stderr.startswith(b"Error: unknown plugin 'nope' (known: ")
    assert b"docker-pass" in result.stderr
    assert b"memory" in result.stderr


def test_crashed_plugin_shows_message_and_fix(memory_plugin: Path, tmp_path: Path) -> None:
    # A plugin whose data file is unreadable JSON at start... use a broken entry point instead.
    site = Path(str(memory_plugin.parent)) / "site"
    (site / "memory_plugin_mod.py").write_text("raise ImportError('needs libfoo')\n")
    listed = docker_pass("plugins", "ls")
    row = next(line for line in listed.stdout.decode().splitlines() if line.startswith("memory"))
    assert "crashed" in row
    assert "cannot load memory_plugin_mod:MemoryPlugin" in row
    assert "docker pass plugins enable memory" in row
    # The keychain plugin keeps working.
    assert docker_pass("set", "k=v").returncode == 0
    assert docker_pass("run", "--", "true", env={"K": "se://k"}).returncode == 0


def test_a_crashed_plugin_is_named_when_a_reference_is_not_found(memory_plugin: Path) -> None:
    site = Path(str(memory_plugin.parent)) / "site"
    (site / "memory_plugin_mod.py").write_text("raise ImportError('needs libfoo')\n")
    result = docker_pass("run", "--", "true", env={"M": "se://only/mem"})
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert lines[0] == "Error: resolving M: secret not found: only/mem"
    assert lines[1].startswith("Hint: plugin memory is crashed: plugin memory: cannot load")
    assert lines[1].endswith("(docker pass plugins enable memory)")


def test_the_crash_remedy_is_printed_once_everywhere(memory_plugin: Path) -> None:
    """A plugin whose own message already says what to run: no front repeats the command."""
    site = Path(str(memory_plugin.parent)) / "site"
    module = site / "memory_plugin_mod.py"
    module.write_text(
        module.read_text().replace(
            "def start(self): pass",
            "def start(self):\n"
            "        from docker_pass.core.errors import FatalPluginError\n"
            "        raise FatalPluginError(\n"
            "            'memory needs setup; fix it, then run: '\n"
            "            'docker pass plugins enable memory'\n"
            "        )",
        )
    )
    remedy = "docker pass plugins enable memory"
    outputs = {
        "plugins ls": docker_pass("plugins", "ls"),
        "ls --all-plugins": docker_pass("ls", "--all-plugins"),
        "run": docker_pass("run", "--", "true", env={"M": "se://only/mem"}),
        "run --explain": docker_pass("run", "--explain", env={"M": "se://only/mem"}),
        "get --plugin": docker_pass("get", "--plugin", "memory", "only/mem"),
    }
    for verb, result in outputs.items():
        text = (result.stdout + result.stderr).decode()
        assert text.count(remedy) == 1, (verb, text)
        assert "memory needs setup; fix it, then run: " + remedy in text, (verb, text)
    assert outputs["run"].stderr.decode().splitlines() == [
        "Error: resolving M: secret not found: only/mem",
        f"Hint: plugin memory is crashed: memory needs setup; fix it, then run: {remedy}",
    ]
    assert outputs["run --explain"].returncode == 1
    assert outputs["get --plugin"].returncode == 1
