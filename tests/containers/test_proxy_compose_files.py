"""Compose, ``x-secret`` files, the proxy socket's access rules and ``install --context``,
against a real dockerd."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import uuid
from typing import TYPE_CHECKING

import pytest

from tests.containers.conftest import SECRETS
from tests.support.helpers import docker_pass
from tests.support.other_user import SETPRIV, require_other_user

if TYPE_CHECKING:
    from pathlib import Path

    from tests.containers.conftest import Proxy

pytestmark = pytest.mark.integration
KEY = SECRETS["openai/api-key"]
DB = SECRETS["db/password"]
HUB = SECRETS["docker/auth/hub/alice"]

COMPOSE = """\
services:
  web:
    image: busybox
    network_mode: none
    environment:
      OPENAI_API_KEY: se://openai/api-key
      PLAIN: hello
    command: sh -c 'echo "web $$OPENAI_API_KEY $$PLAIN"'
  worker:
    image: busybox
    network_mode: none
    env_file: worker.env
    command: sh -c 'echo "worker $$DB_PASSWORD $$MODE"'
  hub:
    image: busybox
    network_mode: none
    environment:
      - HUB_TOKEN=se://docker/auth/hub/alice
    labels:
      # The list form: Compose keeps mapping keys that start with x- as extensions, not labels.
      - x-secret:db/password=/run/secrets/db
    command: sh -c 'echo "hub $$HUB_TOKEN $$(cat /run/secrets/db)"'
"""


def _out(done: subprocess.CompletedProcess[bytes]) -> str:
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    return done.stdout.decode()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / f"proj{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    (folder / "compose.yaml").write_text(COMPOSE)
    (folder / "worker.env").write_text("DB_PASSWORD=se://db/password\nMODE=batch\n")
    return folder


def test_compose_up_with_three_services(proxy: Proxy, project: Path) -> None:
    out = _out(proxy.docker("compose", "up", "--no-color", cwd=project, timeout=300))
    assert f"web {KEY} hello" in out
    assert f"worker {DB} batch" in out
    assert f"hub {HUB} {DB}" in out
    # Through the proxy, inspect shows what the Compose file says, not the values.
    names = _out(proxy.docker("compose", "ps", "-a", "-q", cwd=project)).split()
    assert len(names) == 3
    shown = json.dumps(json.loads(_out(proxy.docker("inspect", *names))))
    for value in SECRETS.values():
        assert value not in shown
    assert "OPENAI_API_KEY=se://openai/api-key" in shown
    assert "DB_PASSWORD=se://db/password" in shown
    _out(proxy.docker("compose", "down", cwd=project, timeout=300))


def test_compose_run_and_a_failing_reference(proxy: Proxy, project: Path) -> None:
    out = _out(proxy.docker("compose", "run", "--rm", "--no-deps", "web", cwd=project))
    assert out.strip().endswith(f"web {KEY} hello")
    (project / "worker.env").write_text("DB_PASSWORD=se://db/gone\n")
    done = proxy.docker("compose", "up", "worker", cwd=project, timeout=300)
    assert done.returncode != 0
    assert "resolving DB_PASSWORD: secret not found: db/gone" in done.stderr.decode()
    listed = proxy.dockerd.docker("ps", "-a", "--format", "{{.Names}}").stdout.decode()
    assert "worker" not in listed


def test_secret_files_contents_and_mode(proxy: Proxy) -> None:
    out = _out(
        proxy.docker(
            "run",
            "--rm",
            "--network",
            "none",
            "--label",
            "x-secret:openai/api-key=/run/secrets/openai",
            "--label",
            "x-secret:db/password=/deep/new/folder/db.txt",
            "busybox",
            "sh",
            "-c",
            "stat -c '%a %u %n' /run/secrets/openai /deep/new/folder/db.txt;"
            " cat /run/secrets/openai; echo; cat /deep/new/folder/db.txt",
        )
    )
    lines = out.splitlines()
    assert lines[0] == "400 0 /run/secrets/openai"
    assert lines[1] == "400 0 /deep/new/folder/db.txt"
    assert lines[2:] == [KEY, DB]


def test_secret_files_belong_to_the_containers_user(proxy: Proxy) -> None:
    out = _out(
        proxy.docker(
            "run",
            "--rm",
            "--network",
            "none",
            "--user",
            "65534",
            "--label",
            "x-secret:db/password=/tmp/s/db",
            "busybox",
            "sh",
            "-c",
            "stat -c '%a %u' /tmp/s/db; cat /tmp/s/db",
        )
    )
    assert out.splitlines() == ["400 65534", DB]


def test_a_failing_secret_file_leaves_no_container(proxy: Proxy) -> None:
    name = f"nofile-{uuid.uuid4().hex[:6]}"
    done = proxy.docker(
        "run",
        "--name",
        name,
        "--network",
        "none",
        "--label",
        "x-secret:no/such=/run/secrets/x",
        "busybox",
        "true",
    )
    assert done.returncode == 125
    assert "resolving label x-secret:no/such: secret not found: no/such" in done.stderr.decode()
    done = proxy.docker(
        "run", "--name", name, "--label", "x-secret:db/password=relative/path", "busybox", "true"
    )
    assert done.returncode == 125
    assert "relative/path is not an absolute file path" in done.stderr.decode()
    # The path is a folder of the image: the engine refuses the file; the container goes.
    done = proxy.docker(
        "run", "--name", name, "--label", "x-secret:db/password=/bin", "busybox", "true"
    )
    assert done.returncode == 125
    assert "writing secret db/password to /bin in the container" in done.stderr.decode()
    assert "(the container was removed)" in done.stderr.decode()
    listed = proxy.dockerd.docker("ps", "-a", "--format", "{{.Names}}").stdout.decode()
    assert name not in listed


def test_the_proxy_socket_is_private_and_refuses_another_user(proxy: Proxy) -> None:
    info = proxy.socket.stat()
    assert stat.S_ISSOCK(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert stat.S_IMODE(proxy.socket.parent.stat().st_mode) == 0o700
    require_other_user()
    # nobody cannot even traverse the folder; give it the socket by a path it can reach, as a
    # person who loosened the modes would, and the peer check still refuses it.
    os.chmod(proxy.socket.parent, 0o711)  # noqa: S103
    os.chmod(proxy.socket, 0o666)  # noqa: S103
    try:
        done = subprocess.run(
            [*SETPRIV, "curl", "-sS", "--unix-socket", str(proxy.socket), "http://d/_ping"],
            capture_output=True,
            check=False,
            timeout=60,
        )
        assert done.returncode != 0
        assert b"OK" not in done.stdout
        mine = subprocess.run(
            ["curl", "-sS", "--unix-socket", str(proxy.socket), "http://d/_ping"],
            capture_output=True,
            check=False,
            timeout=60,
        )
        assert mine.stdout == b"OK"
    finally:
        os.chmod(proxy.socket.parent, 0o700)
    assert "refused a connection from pid" in proxy.engine.log()
    assert "(uid 65534)" in proxy.engine.log()


def test_install_context_points_docker_at_the_proxy(proxy: Proxy) -> None:
    made = docker_pass("install", "--context")
    assert made.returncode == 0, made.stderr.decode()
    assert f"Created docker context docker-pass: unix://{proxy.socket}" in made.stdout.decode()
    again = docker_pass("install", "--context")
    assert f"Updated docker context docker-pass: unix://{proxy.socket}" in again.stdout.decode()
    env = dict(os.environ)
    env.pop("DOCKER_HOST", None)
    listed = subprocess.run(
        ["docker", "context", "ls", "--format", "{{.Name}} {{.DockerEndpoint}}"],
        capture_output=True,
        env=env,
        check=True,
    ).stdout.decode()
    assert f"docker-pass unix://{proxy.socket}" in listed
    done = subprocess.run(
        [
            "docker",
            "--context",
            "docker-pass",
            "run",
            "--rm",
            "--network",
            "none",
            "-e",
            "K=se://openai/api-key",
            "busybox",
            "sh",
            "-c",
            "echo $K",
        ],
        capture_output=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.stdout.decode() == KEY + "\n", done.stderr.decode()
    # With the context in use, a new engine must not forward to itself.
    subprocess.run(
        ["docker", "context", "use", "docker-pass"], env=env, check=True, capture_output=True
    )
    removed = docker_pass("install", "--context", "--uninstall")
    assert "Removed docker context docker-pass" in removed.stdout.decode()
    assert "docker context use default" in removed.stdout.decode()
