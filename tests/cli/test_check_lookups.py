"""`check` lists the variables that reach a container empty as lookups by name: the proxy
gives each the secret whose ID is its name, or leaves it empty (never a failure)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from pathlib import Path

VALUE = "123456789"
COMPOSE = """\
services:
  listed:
    image: busybox
    environment:
      - GH_TOKEN
      - EMPTY_TOKEN=
      - FROM_SHELL
      - PLAIN=value
  mapped:
    image: busybox
    environment:
      GH_TOKEN:
      EMPTY_TOKEN: ""
      PORT: 8080
    env_file: [lookup.env]
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.delenv("EMPTY_TOKEN", raising=False)
    monkeypatch.setenv("FROM_SHELL", "set in the shell")  # Compose sends it: no lookup
    root = tmp_path / "project"
    root.mkdir()
    (root / "compose.yaml").write_text(COMPOSE)
    (root / "lookup.env").write_text("ENV_FILE_TOKEN=\nLOG=debug\n")
    monkeypatch.chdir(root)
    assert docker_pass("set", f"GH_TOKEN={VALUE}").returncode == 0
    return root


def by_service_and_variable(out: bytes) -> dict[tuple[str, str], str]:
    found = {}
    for line in out.decode().splitlines()[1:]:
        cells = [cell for cell in line.split("  ") if cell]
        found[(cells[1].strip(), cells[2].strip())] = "  ".join(cells[3:]).strip()
    return found


def test_empty_variables_are_lookups_by_name(project: Path) -> None:
    done = docker_pass("check", "compose.yaml")
    assert done.returncode == 0, done.stderr.decode()
    table = by_service_and_variable(done.stdout)
    assert table[("listed", "GH_TOKEN")] == "GH_TOKEN (by name)  resolves  docker-pass"
    assert table[("mapped", "GH_TOKEN")].endswith("resolves  docker-pass")
    for service in ("listed", "mapped"):
        assert "not found — left empty" in table[(service, "EMPTY_TOKEN")]
    assert "not found — left empty" in table[("mapped", "ENV_FILE_TOKEN")]
    assert ("listed", "FROM_SHELL") not in table
    assert ("listed", "PLAIN") not in table
    assert VALUE.encode() not in done.stdout + done.stderr


def test_the_lookup_turned_off_leaves_them_empty_and_says_why(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_PASS_EMPTY_ENV_LOOKUP", "off")
    done = docker_pass("check", "compose.yaml")
    assert done.returncode == 0, done.stderr.decode()
    table = by_service_and_variable(done.stdout)
    why = "left empty  the empty-value lookup is off ($DOCKER_PASS_EMPTY_ENV_LOOKUP)"
    assert table[("listed", "GH_TOKEN")].endswith(why)


def test_json_names_the_lookup(project: Path) -> None:
    done = docker_pass("check", "--json", "compose.yaml")
    assert done.returncode == 0, done.stderr.decode()
    entries = json.loads(done.stdout)
    first = next(e for e in entries if e["service"] == "listed" and e["variable"] == "GH_TOKEN")
    assert first["lookup"] == "GH_TOKEN"
    assert first["reference"] is None
    assert first["status"] == "resolves"
    assert first["provider"] == "docker-pass"


def test_a_shell_value_is_sent_instead(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GH_TOKEN", "from the shell")
    done = docker_pass("check", "compose.yaml")
    table = by_service_and_variable(done.stdout)
    assert ("listed", "GH_TOKEN") not in table
    assert ("mapped", "GH_TOKEN") not in table
