"""One slow or hostile plugin stops nothing else, in a real ``engine run`` process.

The ``laggard`` plugin (a third-party plugin installed through its entry point,
:mod:`tests.support.laggard_plugin`) never answers a call about ``…/hang/…`` and drips an
endless answer for ``…/drip/…``.  Its calls fail at its deadline (``$DOCKER_PASS_PLUGIN_TIMEOUT``
here, inherited by the daemon) with ``plugin laggard did not answer within N s`` and the
keychain plugin's answers still arrive; meanwhile GetVersion, other plugins, the Docker proxy
and ``engine stop`` answer.  ``plugins ls`` follows a crash as soon as any process found it.
Each test asserts its bound: no sooner than the deadline, within it plus :data:`MARGIN`.
"""

from __future__ import annotations

import http.client
import json
import secrets
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from docker_pass.core import ID, Pattern
from docker_pass.core.engine import Engine
from docker_pass.core.plugin_calls import TIMEOUT_ENV
from docker_pass.core.remote.client import DaemonClient
from docker_pass.core.remote.wire import GET_SECRETS
from tests.daemon.engines import RunningEngine, start_engine
from tests.daemon.test_limits import Pending, post
from tests.support.accepting import serve_each
from tests.support.helpers import docker_pass
from tests.support.laggard_plugin import DripServer, LaggardCalls, install_laggard_plugin
from tests.support.vault_server import BaoServer, bao_server, scoped_token

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["bao_server"]

DEADLINE = 1.0
MARGIN = 4.0
LATE = f"plugin laggard did not answer within {DEADLINE:g} s"


@pytest.fixture
def drip() -> Iterator[DripServer]:
    server = DripServer()
    yield server
    server.close()


@pytest.fixture
def laggard(tmp_path: Path, drip: DripServer, monkeypatch: pytest.MonkeyPatch) -> LaggardCalls:
    """The laggard plugin for this test's processes, serving ``slow/**`` (so requests for
    other IDs never ask it), and every plugin's deadline :data:`DEADLINE`."""
    env = install_laggard_plugin(tmp_path / "laggard", drip)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv(TIMEOUT_ENV, str(DEADLINE))
    write_config({"plugins": {"laggard": {"pattern": "slow/**"}}})
    return LaggardCalls(Path(env["LAGGARD_LOG"]))


def write_config(doc: dict[str, Any]) -> None:
    from docker_pass.core.config import config_path

    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def timed_resolve(engine: RunningEngine, pattern: str) -> tuple[float, Any]:
    started = time.monotonic()
    with DaemonClient(engine.socket, timeout=30) as client:
        resolution = client.resolve(Pattern.parse(pattern))
    return time.monotonic() - started, resolution


def plugin_statuses(*flags: str) -> dict[str, dict[str, Any]]:
    listed = docker_pass(*flags, "plugins", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    return {p["name"]: p for p in json.loads(listed.stdout)}


def test_a_hung_plugin_fails_at_its_deadline_and_the_others_answer(
    tmp_path: Path, socket_path: Path, laggard: LaggardCalls
) -> None:
    engine = start_engine(tmp_path / "engine.log")
    try:
        # The keychain serves slow/** too: its answer arrives with the laggard's failure.
        # Written straight to the keychain: `set` asks every plugin whether it holds the ID
        # (the laggard too, which would hang in that listing first).
        with Engine.for_plugin("docker-pass") as keychain:
            keychain.save(ID("slow/hang/kept"), b"from-the-keychain", {})
        elapsed, resolution = timed_resolve(engine, "slow/hang/**")
        assert DEADLINE <= elapsed < DEADLINE + MARGIN, elapsed
        assert [(e.id.value, e.provider) for e in resolution.envelopes] == [
            ("slow/hang/kept", "docker-pass")
        ]
        assert resolution.errors == {"laggard": LATE}
        # The call past its deadline still holds the plugin: the next one fails at once,
        # without reaching it, and the keychain's answer still comes.
        elapsed, resolution = timed_resolve(engine, "slow/hang/**")
        assert elapsed < DEADLINE, elapsed
        assert resolution.errors == {"laggard": LATE}
        assert [e.provider for e in resolution.envelopes] == ["docker-pass"]
        assert laggard.entered() == ["slow/hang/**"]
        # Through `run` too: the reference the hung plugin serves fails, naming it.
        ran = docker_pass("run", "--", "true", env={"X": "se://slow/hang/one"})
        assert ran.returncode == 1
        assert ran.stderr.decode() == f"Error: resolving X: laggard: {LATE}\n"
        assert "Traceback" not in engine.log()
    finally:
        engine.kill()


def test_a_dripping_plugin_alone(
    tmp_path: Path, socket_path: Path, laggard: LaggardCalls, drip: DripServer
) -> None:
    engine = start_engine(tmp_path / "engine.log")
    try:
        elapsed, resolution = timed_resolve(engine, "slow/drip/**")
        assert DEADLINE <= elapsed < DEADLINE + MARGIN, elapsed
        assert resolution.errors == {"laggard": LATE}
        assert laggard.entered() == ["slow/drip/**"]
        assert drip.connections == 1
    finally:
        engine.kill()


class StandInDocker:
    """A Docker engine stand-in on a Unix socket: answers every request ``[]`` and records
    its request line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.requests: list[str] = []
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        self._listener.listen(16)
        serve_each(self._listener, self._answer)

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(30)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(65536)
                if not chunk:
                    return  # a connection that asked nothing
                head += chunk
            self.requests.append(head.split(b"\r\n", 1)[0].decode())
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 2\r\nConnection: close\r\n\r\n[]"
            )

    def close(self) -> None:
        self._listener.close()


def proxy_request(path: Path, method: str, target: str, body: bytes = b"") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("localhost", timeout=30)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    sock.connect(str(path))
    conn.sock = sock
    try:
        conn.request(method, target, body=body, headers={"Content-Type": "application/json"})
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def test_while_a_plugin_hangs_the_daemon_answers_and_stops(
    tmp_path: Path, socket_path: Path, laggard: LaggardCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A long deadline here: the hung calls are still running while everything else answers.
    monkeypatch.setenv(TIMEOUT_ENV, "60")
    docker_socket = socket_path.parent / "docker.sock"
    monkeypatch.setenv("DOCKER_PASS_DOCKER_SOCKET", str(docker_socket))
    standin = StandInDocker(socket_path.parent / "standin.sock")
    engine = start_engine(tmp_path / "engine.log", "--docker-host", f"unix://{standin.path}")
    try:
        pending = [Pending(socket_path, f"slow/hang/{n}", deadline_ms=120_000) for n in range(3)]
        laggard.wait_entered(1)
        for _ in range(3):
            with DaemonClient(engine.socket, timeout=5) as client:
                assert client.version().startswith("v")
        # Another plugin answers: a write and a read of the keychain, through the daemon.
        assert docker_pass("set", "team/x=quick-value").returncode == 0
        status, doc = post(socket_path, GET_SECRETS, {"pattern": "team/x"}, deadline_ms=10_000)
        assert status == 200, doc
        listed = docker_pass("ls", "--all-plugins", "team/**")
        assert listed.stdout == b"team/x\n", listed.stderr
        # `plugins ls` (statuses never wait for a plugin's call).
        assert plugin_statuses()["laggard"]["status"] == "running"
        # The Docker proxy forwards, and resolves a create's reference another plugin serves.
        status, body = proxy_request(docker_socket, "GET", "/v1.43/containers/json")
        assert (status, body) == (200, b"[]")
        create = json.dumps({"Image": "busybox", "Env": ["X=se://team/x"]}).encode()
        status, body = proxy_request(docker_socket, "POST", "/v1.43/containers/create", create)
        assert status == 200, body
        assert standin.requests == [
            "GET /v1.43/containers/json HTTP/1.1",
            "POST /v1.43/containers/create HTTP/1.1",
        ]
        assert all(call.running() for call in pending)

        started = time.monotonic()
        stop = docker_pass("engine", "stop", timeout=30)
        assert stop.returncode == 0, stop.stderr
        assert engine.proc.wait(timeout=20) == 0
        assert time.monotonic() - started < 20
        for call in pending:
            status, doc = call.result(timeout=5)
            assert (status, doc["code"]) == (503, "unavailable")
        assert "laggard has not returned from a call" in engine.log()
    finally:
        standin.close()
        engine.kill()


def test_a_container_create_is_refused_at_the_deadline(
    tmp_path: Path, socket_path: Path, laggard: LaggardCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    docker_socket = socket_path.parent / "docker.sock"
    monkeypatch.setenv("DOCKER_PASS_DOCKER_SOCKET", str(docker_socket))
    standin = StandInDocker(socket_path.parent / "standin.sock")
    engine = start_engine(tmp_path / "engine.log", "--docker-host", f"unix://{standin.path}")
    try:
        create = json.dumps({"Image": "busybox", "Env": ["X=se://slow/hang/x"]}).encode()
        started = time.monotonic()
        status, body = proxy_request(docker_socket, "POST", "/v1.43/containers/create", create)
        assert DEADLINE <= time.monotonic() - started < DEADLINE + MARGIN
        assert status == 400
        assert LATE in json.loads(body)["message"]
        assert standin.requests == []  # never sent: no container was made
        status, body = proxy_request(docker_socket, "GET", "/v1.43/containers/json")
        assert (status, body) == (200, b"[]")
    finally:
        standin.close()
        engine.kill()


def test_a_plugin_whose_start_hangs_holds_the_daemons_start_no_longer_than_its_deadline(
    tmp_path: Path, socket_path: Path, laggard: LaggardCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAGGARD_START", "hang")
    started = time.monotonic()
    engine = start_engine(tmp_path / "engine.log")
    try:
        # Up (before: never), the keychain served, the laggard shown as slow, not broken.
        assert time.monotonic() - started < DEADLINE + 15
        assert laggard.entered() == ["hang/start"]
        shown = plugin_statuses()["laggard"]
        assert (shown["status"], shown["message"]) == ("stopped", LATE)
        assert docker_pass("set", "slow/kept=from-the-keychain").returncode == 0
        elapsed, resolution = timed_resolve(engine, "slow/**")
        assert elapsed < DEADLINE + MARGIN
        assert [e.value for e in resolution.envelopes] == [b"from-the-keychain"]
        assert resolution.errors == {"laggard": LATE}
        assert laggard.entered() == ["hang/start"]  # not started twice
    finally:
        engine.kill()


# -- crashes ------------------------------------------------------------------------------------


def test_plugins_ls_shows_a_crash_as_soon_as_a_call_found_it(
    tmp_path: Path, socket_path: Path, laggard: LaggardCalls
) -> None:
    engine = start_engine(tmp_path / "engine.log")
    try:
        assert plugin_statuses()["laggard"]["status"] == "running"
        message = "laggard broke on purpose; run: docker pass plugins enable laggard"
        # `get` always uses an embedded engine: another process finds it crashed...
        got = docker_pass("get", "--plugin", "laggard", "slow/crash/now")
        assert got.stderr.decode() == f"Error: {message}\n"
        # ...and the daemon shows it crashed at once, and stops asking it.
        for flags in ([], ["--no-daemon"]):
            laggard_status = plugin_statuses(*flags)["laggard"]
            assert (laggard_status["status"], laggard_status["message"]) == ("crashed", message)
        ran = docker_pass("run", "--explain", env={"K": "se://slow/ok"})
        assert b"asked: docker-pass;" in ran.stderr
        assert b"Hint: plugin laggard is crashed" in ran.stderr

        # The daemon's own call finding it crashed: shown at once as well.
        assert docker_pass("plugins", "enable", "laggard").returncode == 0
        assert plugin_statuses()["laggard"]["status"] == "running"
        crash = docker_pass("run", "--", "true", env={"K": "se://slow/crash/now"})
        assert crash.returncode == 1
        for flags in ([], ["--no-daemon"]):
            assert plugin_statuses(*flags)["laggard"]["status"] == "crashed"
    finally:
        engine.kill()


def test_a_revoked_vault_token_shows_crashed_in_the_daemons_plugins_ls(
    bao_server: BaoServer, tmp_path: Path, socket_path: Path
) -> None:
    prefix = f"d{secrets.token_hex(4)}"
    token = scoped_token(bao_server, prefix)
    bao_server.put(f"{prefix}/app/db", value="db-pass")
    setup = ["plugins", "vault", "setup", "--address", bao_server.address, "--prefix", prefix]
    done = docker_pass(*setup, input=f"{token}\n".encode())
    assert done.returncode == 0, done.stderr
    engine = start_engine(tmp_path / "engine.log")
    try:
        assert plugin_statuses()["vault"]["status"] == "running"
        bao_server.revoke(token)
        got = docker_pass("get", "--plugin", "vault", "app/db")
        assert got.returncode == 1
        assert b"refused the token" in got.stderr
        shown = plugin_statuses()["vault"]
        assert shown["status"] == "crashed"
        assert "refused the token" in shown["message"]
    finally:
        engine.kill()


@pytest.fixture
def socket_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short socket folder of its own (the proxy's and the stand-in's sockets go there)."""
    root = Path(tempfile.mkdtemp(prefix="dpd-", dir="/tmp"))
    path = root / "engine.sock"
    monkeypatch.setenv("DOCKER_PASS_ENGINE_SOCKET", str(path))
    yield path
    shutil.rmtree(root, ignore_errors=True)
