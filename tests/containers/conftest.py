"""Fixtures of the container tests: a private dockerd, Compose, and the engine's Docker proxy."""

from __future__ import annotations

import json
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
from tests.support.raw_http import Answer, exchange, request

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
    engine, work = start_dockerd(debug=True)
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
    ``@pytest.mark.engine_args(...)`` adds arguments to its ``engine run``.  Afterwards no
    value may be in the engine's log, nor in dockerd's ``--debug`` log unless the test is
    marked ``values_reach_dockerd`` (it sent values straight to dockerd itself)."""
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
    start = dockerd.log.stat().st_size
    try:
        yield Proxy(running, root / "docker.sock", dockerd)
    finally:
        running.stop()
        dockerd.remove_all_containers()
        shutil.rmtree(root, ignore_errors=True)
    log = running.log()
    with dockerd.log.open("rb") as handle:
        handle.seek(start)
        dockerd_log = handle.read()
    straight = request.node.get_closest_marker("values_reach_dockerd") is not None
    for secret in SECRETS.values():
        assert secret not in log, "a secret value reached the engine's log"
        if not straight:
            assert secret.encode() not in dockerd_log, "a value reached dockerd's --debug log"


#: Values the proxy must refuse to put in a container's environment (not UTF-8; a NUL byte).
UNSENDABLE = {"odd/binary": b"\xff\xfe-binary-5c1d", "odd/nul": b"nul\x00byte-8e0a"}


@pytest.fixture(scope="module")
def shared_proxy(
    tmp_path_factory: pytest.TempPathFactory, dockerd: DockerEngine
) -> Iterator[Proxy]:
    """One engine daemon and its proxy for a whole module (tests of many spellings each send
    a request or two; an engine per test would cost more than the tests).  Its HOME, store and
    sockets are its own; it holds :data:`SECRETS` and :data:`UNSENDABLE`."""
    root = tmp_path_factory.mktemp("shared-proxy")
    sockets = Path(tempfile.mkdtemp(prefix="dps-", dir="/tmp"))
    home = root / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        for var, sub in (
            ("XDG_CONFIG_HOME", ".config"),
            ("XDG_DATA_HOME", ".local/share"),
            ("XDG_STATE_HOME", ".local/state"),
            ("XDG_CACHE_HOME", ".cache"),
        ):
            patch.setenv(var, str(home / sub))
        patch.setenv("DOCKER_CONFIG", str(home / ".docker"))
        patch.setenv("DOCKER_PASS_ENGINE_ABSTRACT_SOCKET", f"@docker-pass-test/{root.name}")
        patch.setenv("DOCKER_PASS_STORE", "file")
        patch.setenv("DOCKER_PASS_ENGINE_SOCKET", str(sockets / "engine.sock"))
        patch.delenv("XDG_RUNTIME_DIR", raising=False)
        values = {**{k: v.encode() for k, v in SECRETS.items()}, **UNSENDABLE}
        for key, value in values.items():
            done = docker_pass("set", key, input=value)
            assert done.returncode == 0, done.stderr.decode()
        running = start_engine(root / "engine.log", "--docker-host", dockerd.host)
    try:
        yield Proxy(running, sockets / "docker.sock", dockerd)
    finally:
        running.stop()
        dockerd.remove_all_containers()
        shutil.rmtree(sockets, ignore_errors=True)
    log = running.log()
    for secret in SECRETS.values():
        assert secret not in log, "a secret value reached the engine's log"


# -- raw requests to the private dockerd, straight and through the proxy ------------------------

#: The values no answer through the proxy, no log may hold.
VALUES = [v.encode() for v in SECRETS.values()] + list(UNSENDABLE.values())
#: The name of the container :func:`referenced` makes.
REFERENCED = "gate-ref"


def through(proxy: Proxy, data: bytes) -> Answer:
    return exchange(proxy.socket, data)


def straight(proxy: Proxy, data: bytes) -> Answer:
    return exchange(proxy.dockerd.socket, data)


def count_of(proxy: Proxy, what: str) -> int:
    listed = straight(proxy, request("GET", f"/{what}/json?all=1"))
    return len(listed.json())


@pytest.fixture
def no_value_in_any_log(shared_proxy: Proxy) -> Iterator[None]:
    """dockerd's --debug log gains no value during the test, nor does the engine's log."""
    log = shared_proxy.dockerd.log
    start = log.stat().st_size
    yield
    with log.open("rb") as handle:
        handle.seek(start)
        written = handle.read()
    engine_log = shared_proxy.engine.log().encode()
    for value in VALUES:
        assert value not in written, "a value reached dockerd's --debug log"
        assert value not in engine_log, "a value reached the engine's log"
    assert b"Traceback" not in engine_log


@pytest.fixture(scope="module")
def referenced(shared_proxy: Proxy) -> dict[str, str]:
    """A container created through the proxy: ``K`` resolved, ``P`` plain."""
    config = {"Image": "busybox", "Cmd": ["true"], "Env": ["K=se://openai/api-key", "P=plain"]}
    made = through(
        shared_proxy,
        request("POST", f"/containers/create?name={REFERENCED}", json.dumps(config).encode()),
    )
    assert made.status == 201, made
    cid = made.json()["Id"]
    return {"id": cid, "short": cid[:10], "name": REFERENCED, "image": "gate-committed:1"}


@pytest.fixture(scope="module")
def sleeper(shared_proxy: Proxy) -> dict[str, str]:
    """A running container (made straight, holding nothing of ours) to exec into."""
    config = {"Image": "busybox", "Cmd": ["sleep", "600"], "HostConfig": {"NetworkMode": "none"}}
    made = straight(
        shared_proxy,
        request("POST", "/containers/create?name=gate-sleeper", json.dumps(config).encode()),
    )
    assert made.status == 201, made
    cid = made.json()["Id"]
    assert straight(shared_proxy, request("POST", f"/containers/{cid}/start")).status == 204
    return {"id": cid, "short": cid[:10], "name": "gate-sleeper"}
