"""Docker's empty-value lookup through the proxy, on a real dockerd: a variable sent empty
(``-e GH_TOKEN=``, or ``-e GH_TOKEN`` with nothing in the client's environment) takes the secret
whose ID is its name; with no such secret, or the lookup turned off, it stays empty and the
container still starts."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import docker_pass, docker_plugin_env

if TYPE_CHECKING:
    from pathlib import Path

    from tests.containers.conftest import Proxy

VALUE = "123456789"


def _out(done: subprocess.CompletedProcess[bytes]) -> str:
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout.decode()


def _env_of(proxy: Proxy, container: str, *, straight: bool = False) -> list[str]:
    """The container's Config.Env, through the proxy or straight to dockerd."""
    docker = proxy.dockerd.docker if straight else proxy.docker
    done = docker("inspect", "--format", "{{json .Config.Env}}", container)
    env: list[str] = json.loads(_out(done))
    return env


def test_the_seeds_three_commands(proxy: Proxy, tmp_path: Path) -> None:
    """Docker's documentation, verbatim: the container sees 123456789."""
    env = docker_plugin_env(tmp_path)
    done = subprocess.run(
        ["docker", "pass", "set", "GH_TOKEN=123456789"], env=env, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    _out(proxy.docker("run", "-e", "GH_TOKEN=", "-dt", "--name", "demo", "busybox"))
    seen = _out(proxy.docker("exec", "demo", "sh", "-c", "echo $GH_TOKEN"))
    assert seen == VALUE + "\n"
    # As sent through the proxy; the value only straight from the engine.
    assert "GH_TOKEN=" in _env_of(proxy, "demo")
    assert VALUE not in json.dumps(_env_of(proxy, "demo"))
    assert f"GH_TOKEN={VALUE}" in _env_of(proxy, "demo", straight=True)
    assert VALUE not in proxy.engine.log()


def test_a_name_alone_is_looked_up_and_shown_as_sent(proxy: Proxy) -> None:
    assert docker_pass("set", f"GH_TOKEN={VALUE}").returncode == 0
    name = f"bare-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in proxy.env().items() if k != "GH_TOKEN"}
    done = subprocess.run(
        ["docker", "run", "-e", "GH_TOKEN", "-dt", "--name", name, "busybox"],
        env=env,
        capture_output=True,
        check=False,
    )
    _out(done)
    assert _out(proxy.docker("exec", name, "sh", "-c", "echo $GH_TOKEN")) == VALUE + "\n"
    assert "GH_TOKEN" in _env_of(proxy, name)
    assert f"GH_TOKEN={VALUE}" in _env_of(proxy, name, straight=True)


def test_exec_looks_up_empty_variables_too(proxy: Proxy) -> None:
    assert docker_pass("set", f"GH_TOKEN={VALUE}").returncode == 0
    cid = _out(proxy.docker("run", "-d", "--network", "none", "busybox", "sleep", "60")).strip()
    seen = _out(proxy.docker("exec", "-e", "GH_TOKEN=", cid, "sh", "-c", 'echo "[$GH_TOKEN]"'))
    assert seen == f"[{VALUE}]\n"


def test_no_such_secret_leaves_it_empty_and_the_container_runs(proxy: Proxy) -> None:
    name = f"none-{uuid.uuid4().hex[:8]}"
    _out(proxy.docker("run", "-e", "NO_SUCH_TOKEN=", "-dt", "--name", name, "busybox"))
    seen = _out(proxy.docker("exec", name, "sh", "-c", 'echo "[$NO_SUCH_TOKEN]"'))
    assert seen == "[]\n"
    assert "NO_SUCH_TOKEN=" in _env_of(proxy, name, straight=True)
    # A name that is no ID is not looked up either: it goes on as it was sent.
    done = proxy.docker("run", "--rm", "-e", "not*an*id=", "busybox", "true")
    assert done.returncode == 0, done.stderr.decode()


@pytest.mark.engine_args("--no-empty-env-lookup")
def test_turned_off_it_stays_empty(proxy: Proxy) -> None:
    assert docker_pass("set", f"GH_TOKEN={VALUE}").returncode == 0
    status = _out(docker_pass_status())
    assert "empty env lookup: off (--[no-]empty-env-lookup)" in status
    name = f"off-{uuid.uuid4().hex[:8]}"
    _out(proxy.docker("run", "-e", "GH_TOKEN=", "-dt", "--name", name, "busybox"))
    assert _out(proxy.docker("exec", name, "sh", "-c", 'echo "[$GH_TOKEN]"')) == "[]\n"


def test_on_by_default_and_said_so(proxy: Proxy) -> None:
    status = json.loads(_out(docker_pass("engine", "status", "--json")))
    assert status["empty_env_lookup"] is True
    assert status["empty_env_lookup_source"] == "default"
    assert "empty env lookup: on (default)" in _out(docker_pass_status())


def docker_pass_status() -> subprocess.CompletedProcess[bytes]:
    return docker_pass("engine", "status")


COMPOSE = """\
services:
  listed:
    image: busybox
    command: sh -c 'echo "listed [$$GH_TOKEN]"'
    environment:
      - GH_TOKEN
  mapped:
    image: busybox
    command: sh -c 'echo "mapped [$$GH_TOKEN]"'
    environment:
      GH_TOKEN:
"""


def test_compose_sends_both_forms_empty_and_both_resolve(proxy: Proxy, tmp_path: Path) -> None:
    assert docker_pass("set", f"GH_TOKEN={VALUE}").returncode == 0
    project = tmp_path / f"lookup{uuid.uuid4().hex[:6]}"
    project.mkdir()
    (project / "compose.yaml").write_text(COMPOSE)
    env = {k: v for k, v in proxy.env().items() if k != "GH_TOKEN"}
    done = subprocess.run(
        ["docker", "compose", "up", "--no-color"],
        env=env,
        cwd=project,
        capture_output=True,
        check=False,
        timeout=300,
    )
    out = _out(done)
    assert f"listed [{VALUE}]" in out
    assert f"mapped [{VALUE}]" in out
    subprocess.run(["docker", "compose", "down"], env=env, cwd=project, check=False, timeout=300)
    assert VALUE not in proxy.engine.log()


def test_the_shells_value_wins_over_the_lookup(proxy: Proxy, tmp_path: Path) -> None:
    """Compose (and the docker CLI) fill GH_TOKEN from the shell when it is set there: then it
    is not empty, and nothing is looked up."""
    assert docker_pass("set", f"GH_TOKEN={VALUE}").returncode == 0
    env = dict(proxy.env(), GH_TOKEN="from-the-shell")
    done = subprocess.run(
        ["docker", "run", "--rm", "-e", "GH_TOKEN", "busybox", "sh", "-c", "echo $GH_TOKEN"],
        env=env,
        capture_output=True,
        check=False,
    )
    assert _out(done) == "from-the-shell\n"
    assert os.environ.get("GH_TOKEN") != VALUE
