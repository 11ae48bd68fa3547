"""The proxy's limits in the real engine daemon, in front of the real dockerd: a flood of
half-sent requests under a 1,024-descriptor limit leaves the engine socket answering, and the
proxy serving again once the flood ends."""

from __future__ import annotations

import resource
import socket
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.remote.client import DaemonClient
from tests.containers.conftest import SECRETS, Proxy
from tests.daemon.engines import start_engine
from tests.support.helpers import docker_pass
from tests.support.raw_http import exchange, request

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.docker_engine import DockerEngine

pytestmark = pytest.mark.integration
FLOOD = 1_100
#: A request head that never ends (no blank line).
HALF = b"POST /containers/create HTTP/1.1\r\nHost: docker\r\nContent-Length: 10\r\n"


@pytest.fixture
def descriptors() -> Iterator[None]:
    """Enough descriptors in this process for the flood (the daemon gets 1,024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = FLOOD + 200
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"needs {wanted} file descriptors; the hard limit here is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_half_sent_requests_under_1024_descriptors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    dockerd: DockerEngine,
    descriptors: None,
) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    sockets = Path(tempfile.mkdtemp(prefix="dpl-", dir="/tmp"))
    monkeypatch.setenv("DOCKER_PASS_ENGINE_SOCKET", str(sockets / "engine.sock"))
    assert (
        docker_pass("set", "openai/api-key", input=SECRETS["openai/api-key"].encode()).returncode
        == 0
    )
    engine = start_engine(
        tmp_path / "engine.log",
        "--docker-host",
        dockerd.host,
        "--idle-timeout",
        "60",  # the flood stays while the engine socket is asked
        prefix=["prlimit", "--nofile=1024:1024", "--"],
    )
    proxy = Proxy(engine, sockets / "docker.sock", dockerd)
    try:
        with ExitStack() as held:
            answered = 0
            for _ in range(FLOOD):
                sock = held.enter_context(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
                sock.settimeout(20)
                sock.connect(str(proxy.socket))
                try:
                    sock.sendall(HALF)
                except (BrokenPipeError, ConnectionResetError):
                    answered += 1  # refused (503) and closed already
            started = time.monotonic()
            with DaemonClient(engine.socket, timeout=10) as client:
                assert client.version().startswith("v")
            assert time.monotonic() - started < 10
            refused = exchange(proxy.socket, request("GET", "/_ping"))
            assert refused.status == 503
            assert refused.message().startswith(
                "docker-pass: too many connections to the Docker proxy"
            )
        # The flood is gone: the proxy serves again.
        deadline = time.monotonic() + 30
        while exchange(proxy.socket, request("GET", "/_ping")).status != 200:
            assert time.monotonic() < deadline, engine.log()
            time.sleep(0.05)
        done = proxy.docker(
            "run",
            "--rm",
            "--network",
            "none",
            "-e",
            "K=se://openai/api-key",
            "busybox",
            "sh",
            "-c",
            'echo "${#K}"',
        )
        assert done.stdout == f"{len(SECRETS['openai/api-key'])}\n".encode(), done.stderr
    finally:
        engine.stop()
        dockerd.remove_all_containers()
    log = engine.log()
    assert "serving at most 480 connections on the engine socket and 240 on the Docker proxy" in log
    assert "the Docker proxy: 240 connections open, the limit: refusing new ones" in log
    assert "cannot accept connections" not in log  # never out of descriptors
    assert "Traceback" not in log
