"""The real `docker` client runs docker-pass as its `pass` plugin."""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import docker_plugin_env

if TYPE_CHECKING:
    from pathlib import Path

DOCKER = shutil.which("docker")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(DOCKER is None, reason="the docker client is not installed on this machine"),
]


@pytest.fixture
def docker_env(tmp_path: Path) -> dict[str, str]:
    """A DOCKER_CONFIG whose config.json adds a plugin dir holding a link to docker-pass."""
    return docker_plugin_env(tmp_path)


def docker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    assert DOCKER is not None
    return subprocess.run(
        [DOCKER, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_docker_help_lists_pass(docker_env: dict[str, str]) -> None:
    result = docker(docker_env, "--help")
    assert result.returncode == 0
    assert any(line.split()[:1] in (["pass"], ["pass*"]) for line in result.stdout.splitlines()), (
        result.stdout
    )


def test_docker_pass_help_reaches_our_code(docker_env: dict[str, str]) -> None:
    result = docker(docker_env, "pass", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: docker pass ")
    assert "se://" in result.stdout


def test_docker_pass_version_reaches_our_code(docker_env: dict[str, str]) -> None:
    result = docker(docker_env, "pass", "version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("docker-pass version 0.1.0")


def test_errors_pass_through_docker_with_exit_1(docker_env: dict[str, str]) -> None:
    docker_env["DOCKER_PASS_STORE"] = "file"
    result = docker(docker_env, "pass", "get", "missing/secret")
    assert result.returncode == 1
    assert result.stderr == "Error: secret not found: missing/secret\n"
