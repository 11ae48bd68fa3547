"""Fixtures of the container tests: a private dockerd, Compose, and the engine's Docker proxy."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.daemon.engines import RunningEngine, start_engine
from tests.support.docker_engine import (
    DockerEngine,
    compose_plugin_dir,
    docker_config_with_compose,
    start_dockerd,
    stop_dockerd,
)
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Test secrets (values the tests look for inside containers and never elsewhere).
SECRETS = {
    "openai/api-key": "sk-proxy-test-4f1c9a",
    "db/password": "pg-proxy-test-77e2",
    "docker/auth/hub/alice": "hub-token-alice-93b1",
}


@pytest.fixture(scope="session")
def dockerd() -> Iterator[DockerEngine]:
    engine, work = start_dockerd()
    yield engine
    stop_dockerd(engine, work)


@pytest.fixture(scope="session")
def compose_dir() -> Path:
    return compose_plugin_dir()


class Proxy:
    """The engine daemon with its Docker proxy in front of the private dockerd."""

    def __init__(self, engine: RunningEngine, socket: Path, dockerd: DockerEngine) -> None:
        self.engine = engine
        self.socket = socket
        self.dockerd = dockerd

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ, DOCKER_HOST=self.host)
        env.pop("DOCKER_CONTEXT", None)
        env.update(extra)
        return env

    def docker(
        self, *args: str, input: bytes | None = None, timeout: float = 120, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        """The docker CLI through the proxy."""
        return subprocess.run(
            ["docker", *args],
            input=input if input is not None else b"",
            capture_output=True,
            env=self.env(),
            timeout=timeout,
            check=False,
            cwd=cwd,
        )


@pytest.fixture
def proxy(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    dockerd: DockerEngine,
    compose_dir: Path,
    isolated_home: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Proxy]:
    """The engine daemon (file store holding :data:`SECRETS`) serving the Docker proxy;
    ``@pytest.mark.engine_args(...)`` adds arguments to its ``engine run``."""
    marker = request.node.get_closest_marker("engine_args")
    extra = [str(arg) for arg in marker.args] if marker is not None else []
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    root = Path(tempfile.mkdtemp(prefix="dpp-", dir="/tmp"))
    monkeypatch.setenv("DOCKER_PASS_ENGINE_SOCKET", str(root / "engine.sock"))
    docker_config_with_compose(Path(os.environ["DOCKER_CONFIG"]), [compose_dir])
    for key, value in SECRETS.items():
        done = docker_pass("set", key, input=value.encode())
        assert done.returncode == 0, done.stderr.decode()
    running = start_engine(tmp_path / "engine.log", "--docker-host", dockerd.host, *extra)
    try:
        yield Proxy(running, root / "docker.sock", dockerd)
    finally:
        running.stop()
        dockerd.remove_all_containers()
        shutil.rmtree(root, ignore_errors=True)
    log = running.log()
    for value in SECRETS.values():
        assert value not in log, "a secret value reached the engine's log"
