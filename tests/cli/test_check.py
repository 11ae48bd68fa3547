"""`check` driven as a subprocess against the real file store (and a second plugin)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from pathlib import Path

SECRET = "sk-live-0123456789abcdef"
OTHER_SECRET = "gh-token-value-987"
ID_RULE = "^[A-Za-z0-9._:-]+(?:/[A-Za-z0-9._:-]+)*$"

COMPOSE = """\
services:
  api:
    image: busybox
    environment:
      OPENAI_API_KEY: se://openai/api-key
      DATABASE_URL: postgres://u:se://x@h
      PORT: 8080
    env_file:
      - config/api.env
  worker:
    image: busybox
    environment:
      - GH_TOKEN=se://gh/token
      - MODE=batch
"""


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a Compose file, its env_file and a .env; the current directory."""
    root = tmp_path / "project"
    (root / "config").mkdir(parents=True)
    (root / "compose.yaml").write_text(COMPOSE)
    (root / "config" / "api.env").write_text("API_SECRET=se://openai/api-key\nLOG=debug\n")
    (root / ".env").write_text("GH=se://gh/token\nPLAIN=value\n")
    monkeypatch.chdir(root)
    assert docker_pass("set", f"openai/api-key={SECRET}").returncode == 0
    assert docker_pass("set", "gh/token", input=OTHER_SECRET.encode()).returncode == 0
    return root


def assert_no_values(*outputs: bytes) -> None:
    for output in outputs:
        assert SECRET.encode() not in output
        assert OTHER_SECRET.encode() not in output


def test_default_files_all_resolve(project: Path) -> None:
    result = docker_pass("check")
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    assert result.stdout.decode().splitlines() == [
        "FILE            SERVICE  VARIABLE        REFERENCE            STATUS    DETAIL",
        "compose.yaml    api      OPENAI_API_KEY  se://openai/api-key  resolves  docker-pass",
        "config/api.env  api      API_SECRET      se://openai/api-key  resolves  docker-pass",
        "compose.yaml    worker   GH_TOKEN        se://gh/token        resolves  docker-pass",
        ".env                     GH              se://gh/token        resolves  docker-pass",
    ]
    assert_no_values(result.stdout, result.stderr)


def test_default_discovery_takes_the_first_compose_name(project: Path) -> None:
    (project / "compose.yaml").rename(project / "docker-compose.yml")
    (project / "docker-compose.yaml").write_text(
        "services:\n  ignored:\n    environment: {X: se://never/read}\n"
    )
    result = docker_pass("check", "--json")
    assert result.returncode == 0, result.stderr
    files = [row["file"] for row in json.loads(result.stdout)]
    assert files == ["docker-compose.yml", "config/api.env", "docker-compose.yml", ".env"]


def test_no_default_files_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = docker_pass("check")
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode() == (
        "Error: no Compose file (compose.yaml, compose.yml, docker-compose.yml, "
        f"docker-compose.yaml) and no .env in {tmp_path}\n"
    )


def test_failures_are_listed_and_exit_1(project: Path) -> None:
    (project / "bad.yml").write_text(
        "services:\n"
        "  web:\n"
        "    environment:\n"
        "      GOOD: se://openai/api-key\n"
        "      GONE: se://no/such\n"
        "      WILD: se://openai/*\n"
        "      EMPTY: se://a//b\n"
    )
    result = docker_pass("check", "bad.yml")
    assert result.returncode == 1
    lines = result.stdout.decode().splitlines()
    assert lines[0].split() == ["FILE", "SERVICE", "VARIABLE", "REFERENCE", "STATUS", "DETAIL"]
    assert lines[1].split() == [
        "bad.yml",
        "web",
        "GOOD",
        "se://openai/api-key",
        "resolves",
        "docker-pass",
    ]
    assert lines[2].endswith("se://no/such         not found  secret not found: no/such")
    assert lines[3].endswith(
        f'se://openai/*        invalid    invalid identifier: "openai/*" must match {ID_RULE} '
        "(* at position 8 is a wildcard: an ID names one secret)"
    )
    assert lines[4].endswith(
        f'se://a//b            invalid    invalid identifier: "a//b" must match {ID_RULE} '
        "(component 2 is empty)"
    )
    assert len(lines) == 5
    assert_no_values(result.stdout, result.stderr)


def test_ambiguous_names_both_plugins(project: Path, memory_plugin: Path) -> None:
    memory_plugin.write_text(json.dumps({"openai/api-key": "from-memory-value"}))
    env = project / "prod.env"
    env.write_text("KEY=se://openai/api-key\n")
    result = docker_pass("check", "prod.env")
    assert result.returncode == 1
    assert result.stdout.decode().splitlines() == [
        "FILE      SERVICE  VARIABLE  REFERENCE            STATUS     DETAIL",
        "prod.env           KEY       se://openai/api-key  ambiguous  docker-pass, memory",
    ]
    as_json = docker_pass("check", "--json", "prod.env")
    assert as_json.returncode == 1
    (row,) = json.loads(as_json.stdout)
    assert row["status"] == "ambiguous"
    assert row["providers"] == ["docker-pass", "memory"]
    assert row["error"] == "2 secrets matched openai/api-key (docker-pass, memory)"
    for output in (result.stdout, result.stderr, as_json.stdout, as_json.stderr):
        assert b"from-memory-value" not in output
    assert_no_values(result.stdout, result.stderr, as_json.stdout, as_json.stderr)


def test_json_output(project: Path) -> None:
    (project / "compose.yaml").write_text(
        COMPOSE + "  broken:\n    environment:\n      MISSING: se://no/such\n"
    )
    result = docker_pass("check", "--json", "compose.yaml")
    assert result.returncode == 1
    assert result.stderr == b""
    rows = json.loads(result.stdout)
    assert rows[0] == {
        "file": "compose.yaml",
        "service": "api",
        "variable": "OPENAI_API_KEY",
        "reference": "se://openai/api-key",
        "lookup": None,
        "status": "resolves",
        "provider": "docker-pass",
        "providers": ["docker-pass"],
        "error": None,
        "note": None,
    }
    assert rows[-1] == {
        "file": "compose.yaml",
        "service": "broken",
        "variable": "MISSING",
        "reference": "se://no/such",
        "lookup": None,
        "status": "not found",
        "provider": None,
        "providers": [],
        "error": "secret not found: no/such",
        "note": None,
    }
    assert [(r["service"], r["variable"]) for r in rows] == [
        ("api", "OPENAI_API_KEY"),
        ("api", "API_SECRET"),
        ("worker", "GH_TOKEN"),
        ("broken", "MISSING"),
    ]
    assert_no_values(result.stdout, result.stderr)


def test_env_files_relative_to_the_compose_file_from_another_folder(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "compose.yaml").write_text(
        "services:\n"
        "  api:\n"
        "    env_file:\n"
        "      - path: config/api.env\n"
        "      - path: config/local.env\n"
        "        required: false\n"
        "  cli:\n"
        "    env_file: config/api.env\n"
    )
    monkeypatch.chdir(project.parent)
    result = docker_pass("check", "--json", "project/compose.yaml")
    assert result.returncode == 0, result.stderr
    rows = [(r["file"], r["service"], r["variable"]) for r in json.loads(result.stdout)]
    assert rows == [
        ("project/config/api.env", "api", "API_SECRET"),
        ("project/config/api.env", "cli", "API_SECRET"),
    ]
    (project / "compose.yaml").write_text("services:\n  api:\n    env_file: config/gone.env\n")
    missing = docker_pass("check", "project/compose.yaml")
    assert missing.returncode == 1
    assert missing.stderr == (
        b"Error: env_file of service api in project/compose.yaml not found: "
        b"project/config/gone.env\n"
    )


def test_plain_env_file_and_embedded_references(project: Path) -> None:
    env = project / "vars"
    env.write_text("A=se://gh/token\nB=postgres://u:se://x@h\nexport C='se://openai/api-key'\n")
    result = docker_pass("check", "--json", "vars")
    assert result.returncode == 0, result.stderr
    rows = [
        (r["file"], r["service"], r["variable"], r["status"]) for r in json.loads(result.stdout)
    ]
    assert rows == [("vars", None, "A", "resolves"), ("vars", None, "C", "resolves")]


def test_no_references_is_a_note_and_exit_0(project: Path) -> None:
    (project / "plain.env").write_text("A=1\nB=postgres://u:se://x@h\n")
    result = docker_pass("check", "plain.env")
    assert (result.returncode, result.stdout) == (0, b"")
    assert result.stderr == b"no se:// references in plain.env\n"
    as_json = docker_pass("check", "--json", "plain.env")
    assert (as_json.returncode, json.loads(as_json.stdout)) == (0, [])


def test_interpolation_is_not_expanded_and_says_so(project: Path) -> None:
    (project / "compose.yaml").write_text(
        "services:\n  s:\n    environment:\n      A: se://${REALM}/key\n      B: ${REF}\n"
    )
    result = docker_pass(
        "check", "--json", "compose.yaml", env={"REALM": "openai", "REF": "se://gh/token"}
    )
    assert result.returncode == 1
    rows = json.loads(result.stdout)
    # B's value would be a reference only after Compose expands it: check does not see it.
    assert [(r["variable"], r["status"]) for r in rows] == [("A", "invalid")]
    assert rows[0]["note"] == "Compose expands ${...} first; check reads the value as written"


@pytest.mark.parametrize(
    ("name", "text", "error"),
    [
        (
            "compose.yaml",
            "services:\n  web:\n    environment: {A: [}\n",
            "Error: reading Compose file compose.yaml: line 3, column 23: "
            "did not find expected node content\n",
        ),
        (
            "compose.yaml",
            "- web\n",
            "Error: reading Compose file compose.yaml: the top level must be a mapping, "
            "not a list\n",
        ),
        ("broken.env", "A=1\n'B\n", "Error: reading env-file broken.env: cannot parse line 2\n"),
    ],
)
def test_bad_files_are_one_error_line(project: Path, name: str, text: str, error: str) -> None:
    (project / name).write_text(text)
    result = docker_pass("check", name)
    assert result.returncode == 1
    assert (result.stdout, result.stderr.decode()) == (b"", error)


def test_a_missing_file_is_an_error(project: Path) -> None:
    result = docker_pass("check", "compose.yaml", "nowhere.env")
    assert result.returncode == 1
    assert (result.stdout, result.stderr) == (b"", b"Error: file not found: nowhere.env\n")


def test_help_names_the_statuses() -> None:
    result = docker_pass("check", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.decode().split())
    assert "resolves (with the provider), not found, ambiguous" in text
    assert "docker pass check deploy/compose.yaml .env.prod" in text
    listed = docker_pass("--help").stdout.decode().splitlines()
    assert any(line.split()[:1] == ["check"] and "se:// references" in line for line in listed)


def test_only_check_loads_yaml(project: Path) -> None:
    script = (
        "import contextlib, io, json, sys\n"
        "from docker_pass.cli.main import main\n"
        "seen = []\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        seen.append((main(argv), 'yaml' in sys.modules))\n"
        "print(json.dumps(seen))\n"
    )
    verbs = [
        ["get", "gh/token"],
        ["ls", "--long"],
        ["run", "--env-file", ".env", "--", "true"],
        ["run", "--explain", "--env-file", "config/api.env"],
        ["check", "compose.yaml"],
    ]
    out = subprocess.run(
        [sys.executable, "-c", script, json.dumps(verbs)],
        capture_output=True,
        check=True,
        env={**os.environ, "GH": "se://gh/token"},
    )
    assert json.loads(out.stdout) == [[0, False], [0, False], [0, False], [0, False], [0, True]]
    assert_no_values(out.stdout, out.stderr)


def test_secret_file_labels_are_checked_and_the_mapping_form_fails(project: Path) -> None:
    (project / "files.yaml").write_text(
        "services:\n"
        "  ok:\n"
        "    labels: [x-secret:openai/api-key=/run/secrets/key]\n"
        "  dropped:\n"
        "    labels:\n"
        "      x-secret:gh/token: /run/secrets/gh\n"
    )
    done = docker_pass("check", "files.yaml", "--json")
    assert done.returncode == 1
    rows = json.loads(done.stdout)
    assert [(r["service"], r["status"], r["reference"]) for r in rows] == [
        ("ok", "resolves", "se://openai/api-key"),
        ("dropped", "dropped", "se://gh/token"),
    ]
    assert "write it in the list form" in rows[1]["note"]
    assert_no_values(done.stdout, done.stderr)
    (project / "files.yaml").write_text(
        "services:\n  ok:\n    labels: [x-secret:openai/api-key=/run/secrets/key]\n"
    )
    table = docker_pass("check", "files.yaml")
    assert table.returncode == 0, table.stderr.decode()
    assert b"x-secret:openai/api-key=/run/secrets/key" in table.stdout
    assert_no_values(table.stdout, table.stderr)
