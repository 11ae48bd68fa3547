"""`docker pass uses` on a real dockerd with Compose v2: two Compose projects brought up
through the proxy (one service never started), plain containers through the proxy, a container
made straight with unrelated labels, and an env file given with --file."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import TYPE_CHECKING, Any

import pytest

from docker_pass.core.docker.endpoint import DockerHost
from docker_pass.core.docker.engine_api import DockerApi
from tests.containers.conftest import SECRETS
from tests.support.helpers import docker_pass, docker_plugin_env

if TYPE_CHECKING:
    from pathlib import Path

    from tests.containers.conftest import Proxy

pytestmark = pytest.mark.integration

ALPHA = """\
services:
  web:
    image: busybox
    network_mode: none
    environment:
      DB_PASSWORD: se://db/password
      PLAIN: hello
    command: sleep 600
  cache:
    image: busybox
    network_mode: none
    environment:
      OPENAI_API_KEY: se://openai/api-key
    command: sleep 600
  migrate:
    image: busybox
    network_mode: none
    profiles: [manual]
    environment:
      - PW=se://db/password
    command: sleep 600
"""

BETA = """\
services:
  api:
    image: busybox
    network_mode: none
    env_file: api.env
    command: sleep 600
  hub:
    image: busybox
    network_mode: none
    environment:
      HUB: se://docker/auth/hub/alice
    labels:
      - x-secret:db/password=/run/secrets/db
    command: sleep 600
"""


def ok(done: subprocess.CompletedProcess[bytes]) -> str:
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    return done.stdout.decode()


def uses_json(*args: str, cwd: Path | None = None) -> dict[str, Any]:
    done = docker_pass("uses", "--json", *args, cwd=cwd)
    doc: dict[str, Any] = json.loads(ok(done))
    return doc


def places(doc: dict[str, Any], id_: str) -> set[tuple[str, str, str, str, bool]]:
    """(kind, name, via, state, by_pattern) of each use of ``id_``."""
    return {
        (e["kind"], e["name"], e["via"], e["state"], e["by_pattern"])
        for e in doc["uses"].get(id_, [])
    }


@pytest.fixture
def two_projects(proxy: Proxy, tmp_path: Path) -> dict[str, Path]:
    """alpha (web, cache up; migrate has a profile, so no container) and beta (api with an
    env_file, hub with an x-secret label), plus plain containers through the proxy and one
    made straight; an env file outside both."""
    alpha, beta = tmp_path / "alpha", tmp_path / "beta"
    alpha.mkdir()
    beta.mkdir()
    (alpha / "compose.yaml").write_text(ALPHA)
    (beta / "compose.yaml").write_text(BETA)
    (beta / "api.env").write_text("DB=se://db/password\nMODE=prod\n")
    ok(proxy.docker("compose", "-p", "alpha", "up", "-d", cwd=alpha, timeout=300))
    ok(proxy.docker("compose", "-p", "beta", "up", "-d", cwd=beta, timeout=300))
    ok(proxy.docker("run", "-d", "--name", "plain-run", "-e", "PW=se://db/password",
                    "busybox", "sleep", "600"))  # fmt: skip
    ok(proxy.docker("create", "--name", "plain-file", "--label",
                    "x-secret:db/password=/run/pw", "busybox", "true"))  # fmt: skip
    ok(proxy.docker("run", "-d", "--name", "plain-other", "-e", "K=se://openai/api-key",
                    "busybox", "sleep", "600"))  # fmt: skip
    ok(proxy.dockerd.docker("create", "--name", "straight", "--label", "team=infra",
                            "--label", "com.example.db=password", "busybox", "true"))  # fmt: skip
    extra = tmp_path / "deploy.env"
    extra.write_text("X=se://db/password\nY=se://openai/api-key\n")
    return {"alpha": alpha, "beta": beta, "env": extra}


def test_uses_lists_exactly_the_users(proxy: Proxy, two_projects: dict[str, Path]) -> None:
    env = two_projects["env"]
    doc = uses_json("db/password", "--file", str(env))
    assert doc["docker"] == ""
    assert doc["problems"] == []
    assert list(doc["uses"]) == ["db/password"]
    alpha, beta = two_projects["alpha"], two_projects["beta"]
    assert places(doc, "db/password") == {
        ("container", "alpha-web-1", "DB_PASSWORD", "running", False),
        ("container", "beta-api-1", "DB", "running", False),
        ("container", "beta-hub-1", "x-secret:db/password=/run/secrets/db", "running", False),
        ("container", "plain-run", "PW", "running", False),
        ("container", "plain-file", "x-secret:db/password=/run/pw", "created", False),
        ("service", "alpha/web", "DB_PASSWORD", "", False),
        ("service", "alpha/migrate", "PW", "no container", False),
        ("service", "beta/api", "DB", "", False),
        ("service", "beta/hub", "x-secret:db/password=/run/secrets/db", "", False),
        ("file", str(env), "X", "", False),
    }
    by_name = {(e["kind"], e["name"]): e for e in doc["uses"]["db/password"]}
    web = by_name[("container", "alpha-web-1")]
    assert (web["project"], web["service"]) == ("alpha", "web")
    assert web["working_dir"] == str(alpha)
    assert web["config_files"] == [str(alpha / "compose.yaml")]
    assert web["reference"] == "se://db/password"
    assert len(web["container_id"]) == 64
    migrate = by_name[("service", "alpha/migrate")]
    assert migrate["file"] == str(alpha / "compose.yaml")
    assert by_name[("service", "beta/api")]["file"] == str(beta / "api.env")
    assert by_name[("container", "plain-run")]["project"] == ""
    # Never a value, anywhere in the output.
    text = json.dumps(doc)
    for value in SECRETS.values():
        assert value not in text


def test_uses_text_groups_and_other_ids(proxy: Proxy, two_projects: dict[str, Path]) -> None:
    done = docker_pass("uses", "--file", str(two_projects["env"]))
    out = ok(done)
    assert done.stderr == b""
    ids = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert ids == ["db/password", "docker/auth/hub/alice", "openai/api-key"]
    section = out.split("docker/auth/hub/alice")[0]
    assert "  containers:" in section
    assert "  Compose services:" in section
    assert "  files:" in section
    no_container = [line for line in section.splitlines() if "alpha/migrate" in line]
    assert len(no_container) == 1
    assert no_container[0].rstrip().endswith("no container")
    assert "compose alpha/web" in section
    doc = uses_json("openai/**", "--file", str(two_projects["env"]))
    assert {p[1] for p in places(doc, "openai/api-key")} == {
        "alpha-cache-1",
        "alpha/cache",
        "plain-other",
        str(two_projects["env"]),
    }
    for value in SECRETS.values():
        assert value not in out


def test_pattern_references_dangling_and_unused(proxy: Proxy, tmp_path: Path) -> None:
    env = tmp_path / "patterns.env"
    env.write_text(
        "ALL_DB=se://db/**\nTOKENS=se://**/alice\nGONE=se://old/secret\nNONE=se://zzz/*\n"
    )
    ok(proxy.dockerd.docker("create", "--name", "by-pattern", "--label",
                            "x-secret:docker/**=/run/all", "busybox", "true"))  # fmt: skip
    doc = uses_json("--file", str(env), "--dangling", "--unused")
    assert places(doc, "db/password") == {("file", str(env), "ALL_DB", "", True)}
    assert places(doc, "docker/auth/hub/alice") == {
        ("file", str(env), "TOKENS", "", True),
        ("container", "by-pattern", "x-secret:docker/**=/run/all", "created", True),
    }
    assert {(d["via"], d["reason"]) for d in doc["dangling"]} == {
        ("GONE", "no secret has this ID"),
        ("NONE", "the pattern matches no secret"),
    }
    assert doc["unused"] == ["openai/api-key"]
    # A narrower pattern keeps only what concerns it.
    narrow = uses_json("db/**", "--file", str(env), "--dangling", "--unused")
    assert list(narrow["uses"]) == ["db/password"]
    assert narrow["dangling"] == []
    assert narrow["unused"] == []
    text = ok(docker_pass("uses", "--file", str(env), "--dangling", "--unused"))
    assert "by pattern" in text
    assert "dangling references (no secret):" in text
    assert "unused (nothing refers to them):\n  openai/api-key" in text


def test_hostile_labels_are_problems_not_crashes(proxy: Proxy, tmp_path: Path) -> None:
    esc = "\x1b[31m"
    labels = {
        "not-json": ("docker-pass.references", "{not json"),
        "not-object": ("docker-pass.references", '["se://db/password"]'),
        "odd-values": ("docker-pass.references", json.dumps({"A": 5, "B": "plain"})),
        "huge": ("docker-pass.references", "x" * 300_000),
        "escapes": (
            "docker-pass.references",
            json.dumps({f"{esc}EVIL\x07": "se://db/password"}),
        ),
        "bad-file-label": (f"x-secret:db/pass{esc}word", "/run/x"),
        "ghost-project": ("com.docker.compose.project", f"ghost{esc}\x9b2J"),
    }
    straight = DockerApi(DockerHost(proxy.dockerd.host, "the test's dockerd"))
    for name, (key, value) in labels.items():
        extra = {"com.docker.compose.project.config_files": "/nonexistent/compose.yaml"}
        body = {"Image": "busybox", "Labels": {key: value, **(extra if "ghost" in name else {})}}
        straight.call("POST", "/containers/create", query={"name": name}, body=body)
    done = docker_pass("uses", "--dangling")
    out, err = ok(done), done.stderr.decode()
    for stream in (out, err):
        assert "\x1b" not in stream
        assert "\x9b" not in stream
        assert "\x07" not in stream
    assert "EVIL" in out  # the variable is listed, escaped
    problems = [line for line in err.splitlines() if line.startswith("Warning: ")]
    assert len(problems) == 5, err
    assert sum("not-json" in p and "is not JSON" in p for p in problems) == 1
    assert sum("not-object" in p and "not a JSON object" in p for p in problems) == 1
    assert sum("odd-values" in p and "A, B" in p for p in problems) == 1
    assert sum("huge" in p and "is not JSON" in p for p in problems) == 1
    assert sum("Compose project ghost" in p and "not found" in p for p in problems) == 1
    assert max(len(p) for p in problems) < 600
    doc = uses_json("--dangling")
    assert {(e["name"], e["via"]) for e in doc["uses"]["db/password"]} == {
        ("escapes", f"{esc}EVIL\x07")
    }
    assert [d["name"] for d in doc["dangling"]] == ["bad-file-label"]
    assert len(doc["problems"]) == 5


def test_engine_unreachable_still_reads_files(proxy: Proxy, tmp_path: Path) -> None:
    """With the engine daemon gone and DOCKER_HOST pointing nowhere: one line naming the
    engine and why, the file's uses still listed, exit 0."""
    proxy.engine.stop()
    env = tmp_path / "app.env"
    env.write_text("PW=se://db/password\n")
    gone = f"unix://{tmp_path}/no-docker.sock"
    done = docker_pass("uses", "--file", str(env), env={"DOCKER_HOST": gone})
    assert done.returncode == 0, done.stderr.decode()
    err = done.stderr.decode().splitlines()
    assert len(err) == 1
    assert err[0].startswith("Warning: containers not listed: cannot reach the Docker engine")
    assert gone in err[0]
    assert "PW" in done.stdout.decode()
    json_done = docker_pass("uses", "--json", "--file", str(env), env={"DOCKER_HOST": gone})
    doc = json.loads(json_done.stdout)
    assert gone in doc["docker"]
    assert places(doc, "db/password") == {("file", str(env), "PW", "", False)}


def test_bad_pattern_and_missing_file(proxy: Proxy, tmp_path: Path) -> None:
    bad = docker_pass("uses", "db/[x")
    assert bad.returncode == 1
    assert bad.stderr.decode().startswith("Error: invalid pattern")
    assert b"Traceback" not in bad.stderr
    missing = docker_pass("uses", "--file", str(tmp_path / "gone.env"))
    assert missing.returncode == 1
    assert missing.stderr.decode().count("\n") == 1
    assert "not found" in missing.stderr.decode()


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client")
def test_through_the_docker_client(proxy: Proxy, tmp_path: Path) -> None:
    ok(proxy.docker("run", "-d", "--name", "via-client", "-e", "PW=se://db/password",
                    "busybox", "sleep", "600"))  # fmt: skip
    env = docker_plugin_env(tmp_path)
    done = subprocess.run(
        ["docker", "pass", "uses", "db/password", "--json"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    doc = json.loads(ok(done))
    assert places(doc, "db/password") == {("container", "via-client", "PW", "running", False)}
