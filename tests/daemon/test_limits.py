"""The daemon never wedges: deadlines, a hung plugin, idle connections, the connection limit,
and running out of file descriptors, each against a real ``engine run`` process.

The ``snapshot`` plugin hangs on ``hang/…`` until the test releases it (:class:`HungPlugin`),
as a plugin waiting on a prompt nobody answers would.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import resource
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from docker_pass.core import Pattern
from docker_pass.core.remote.client import DaemonClient, UnixHttpTransport
from docker_pass.core.remote.wire import GET_SECRETS, GET_VERSION
from tests.daemon.engines import HungPlugin, RunningEngine, start_engine
from tests.support.helpers import docker_pass

#: The daemon's default deadline in tests that show a client's deadline wins: far longer
#: than any socket timeout below, so an answer at all means the client's deadline ruled.
LONG = "120"


@pytest.fixture
def hung(snapshot_data: Path) -> HungPlugin:
    return HungPlugin(snapshot_data)


def post(
    socket_path: Path,
    method: str,
    doc: dict[str, Any],
    *,
    deadline_ms: int | None = None,
    timeout: float = 20.0,
) -> tuple[int, dict[str, Any]]:
    """One Connect JSON call on a connection of its own; status and body.  ``timeout`` bounds
    every socket step, so a daemon that never answers fails the test."""
    headers = {"Content-Type": "application/json", "Connect-Protocol-Version": "1"}
    if deadline_ms is not None:
        headers["Connect-Timeout-Ms"] = str(deadline_ms)
    transport = UnixHttpTransport(socket_path)
    try:
        answer = transport.post(method, headers, json.dumps(doc).encode(), timeout)
    finally:
        transport.close()
    return answer.status, json.loads(answer.body)


class Pending:
    """A call running in a thread of its own, to be looked at later."""

    def __init__(self, socket_path: Path, pattern: str, deadline_ms: int) -> None:
        self.answer: tuple[int, dict[str, Any]] | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._call, args=(socket_path, pattern, deadline_ms), daemon=True
        )
        self._thread.start()

    def _call(self, socket_path: Path, pattern: str, deadline_ms: int) -> None:
        try:
            self.answer = post(
                socket_path, GET_SECRETS, {"pattern": pattern}, deadline_ms=deadline_ms, timeout=60
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def running(self) -> bool:
        return self._thread.is_alive()

    def result(self, timeout: float = 30) -> tuple[int, dict[str, Any]]:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the call got no answer"
        assert self.error is None, repr(self.error)
        assert self.answer is not None
        return self.answer


def version(engine: RunningEngine) -> str:
    with DaemonClient(engine.socket, timeout=5) as client:
        return client.version()


def wait_for_log(engine: RunningEngine, text: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while text not in engine.log():
        assert time.monotonic() < deadline, f"{text!r} not logged:\n{engine.log()}"
        time.sleep(0.05)


# -- deadlines -----------------------------------------------------------------------------------


def test_client_deadline_answers_deadline_exceeded(
    tmp_path: Path, socket_path: Path, hung: HungPlugin
) -> None:
    engine = start_engine(tmp_path / "engine.log", "--request-timeout", LONG)
    try:
        started = time.monotonic()
        status, doc = post(socket_path, GET_SECRETS, {"pattern": "hang/a"}, deadline_ms=300)
        elapsed = time.monotonic() - started
        assert (status, doc["code"]) == (504, "deadline_exceeded")
        assert elapsed >= 0.3  # not cut short either
        assert hung.entered() == 1
        assert "engine call still runs" in engine.log()

        # Queued behind the hung call: answered at its deadline, and dropped from the queue.
        status, doc = post(socket_path, GET_SECRETS, {"pattern": "hang/b"}, deadline_ms=300)
        assert (status, doc["code"]) == (504, "deadline_exceeded")
        hung.release_one()
        with DaemonClient(engine.socket, timeout=20) as client:
            (envelope,) = client.resolve_all(Pattern.parse("app/db"))
        assert envelope.value == b"db-secret-1"
        assert hung.entered() == 1  # hang/b never reached the plugin
    finally:
        engine.kill()


def test_default_deadline_applies_without_a_header(
    tmp_path: Path, socket_path: Path, hung: HungPlugin, isolated_home: Path
) -> None:
    config = isolated_home / ".config/docker-pass/config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"engine": {"request_timeout": 1}}))
    engine = start_engine(tmp_path / "engine.log")
    try:
        assert "requests time out after 1 s unless the client sets a deadline" in engine.log()
        started = time.monotonic()
        status, doc = post(socket_path, GET_SECRETS, {"pattern": "hang/a"})
        assert (status, doc["code"]) == (504, "deadline_exceeded")
        assert time.monotonic() - started >= 1.0
        assert hung.entered() == 1
        # A client's own deadline still wins over the default, longer as well as shorter.
        hung.release_one()
        pending = Pending(socket_path, "hang/c", deadline_ms=60_000)
        hung.wait_entered(2)
        hung.release_one()
        status, doc = pending.result()
        assert (status, doc["code"]) == (404, "not_found")
    finally:
        engine.kill()


def test_get_version_answers_while_requests_hang(
    tmp_path: Path, socket_path: Path, hung: HungPlugin
) -> None:
    engine = start_engine(tmp_path / "engine.log", "--request-timeout", LONG)
    try:
        pending = [Pending(socket_path, f"hang/{n}", deadline_ms=60_000) for n in range(4)]
        hung.wait_entered(1)
        for _ in range(5):
            assert version(engine).startswith("v")
        assert all(call.running() for call in pending)
        with DaemonClient(engine.socket, timeout=5) as client:
            assert client.info().requests["/resolver.v1.ResolverService/GetSecrets"] == 4
        # `engine status` says it runs, with every plugin's state: the hung calls hold only
        # their own plugin's turn, and statuses never wait for a plugin's call.
        shown = docker_pass("engine", "status")
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.decode().splitlines()
        assert lines[0].startswith(f"engine: running (pid {engine.pid}, v")
        assert lines[-1].startswith("plugins: ")
        assert "snapshot running" in lines[-1]
        # Another plugin answers at once while the snapshot plugin is stuck.
        with DaemonClient(engine.socket, timeout=5) as client:
            listing = client.list_secrets(Pattern.parse("**"), plugin="docker-pass")
        assert listing.errors == {}

        # Released one by one, every call is answered and the engine serves again.
        for n in range(1, 5):
            hung.release_one()
            if n < 4:
                hung.wait_entered(n + 1)
        for call in pending:
            status, doc = call.result()
            assert (status, doc["code"]) == (404, "not_found")
        with DaemonClient(engine.socket, timeout=20) as client:
            (envelope,) = client.resolve_all(Pattern.parse("app/api"))
        assert envelope.value == b"api-secret-2"
    finally:
        engine.kill()


def test_engine_stop_while_requests_hang(
    tmp_path: Path, socket_path: Path, hung: HungPlugin
) -> None:
    engine = start_engine(tmp_path / "engine.log", "--request-timeout", LONG)
    try:
        pending = [Pending(socket_path, f"hang/{n}", deadline_ms=60_000) for n in range(3)]
        hung.wait_entered(1)
        stop = docker_pass("engine", "stop", timeout=30)
        assert (stop.returncode, stop.stdout) == (
            0,
            f"engine: stopped (pid {engine.pid})\n".encode(),
        ), stop.stderr
        assert engine.proc.wait(timeout=20) == 0
        # Every waiting client was told, rather than left to its own deadline.
        for call in pending:
            status, doc = call.result(timeout=5)
            assert status == 503
            assert doc == {"code": "unavailable", "message": "the engine is stopping"}
        assert not socket_path.exists()
        assert "exiting without stopping plugins" in engine.log()
    finally:
        engine.kill()


# -- connections ---------------------------------------------------------------------------------

GET_VERSION_REQUEST = (
    f"POST {GET_VERSION} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    "Content-Length: 2\r\n\r\n{}"
).encode()


def connect(path: Path, timeout: float = 10) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(str(path))
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the daemon sends until it closes the connection (the socket's timeout
    fails the test if it never does)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def get_version_on(sock: socket.socket) -> int:
    """A GetVersion call on an open connection, kept alive; the HTTP status."""
    conn = http.client.HTTPConnection("localhost")
    conn.sock = sock
    conn.request("POST", GET_VERSION, body=b"{}", headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    return response.status


def test_idle_connections_are_closed(tmp_path: Path, socket_path: Path, hung: HungPlugin) -> None:
    engine = start_engine(
        tmp_path / "engine.log", "--idle-timeout", "0.5", "--request-timeout", LONG
    )
    try:
        # Connected, and never a word.
        with connect(socket_path) as silent:
            assert read_until_closed(silent) == b""
        # Half a request (a slow or stuck client).
        with connect(socket_path) as half:
            half.sendall(GET_VERSION_REQUEST[:40])
            assert read_until_closed(half) == b""
        # Kept alive after an answer.
        with connect(socket_path) as kept:
            kept.sendall(GET_VERSION_REQUEST)
            answer = read_until_closed(kept)
            assert answer.startswith(b"HTTP/1.1 200 ")
            assert b'"version"' in answer
        assert engine.log().count("closing an idle connection") >= 3
        # A request in progress is not idle: it gets its answer at its own deadline.
        status, doc = post(socket_path, GET_SECRETS, {"pattern": "hang/a"}, deadline_ms=2000)
        assert (status, doc["code"]) == (504, "deadline_exceeded")
    finally:
        engine.kill()


def test_connection_limit(tmp_path: Path, socket_path: Path) -> None:
    engine = start_engine(tmp_path / "engine.log", "--max-connections", "8", "--idle-timeout", "60")
    served = [connect(socket_path) for _ in range(8)]
    try:
        assert [get_version_on(sock) for sock in served] == [200] * 8
        for _ in range(3):
            with connect(socket_path) as refused:
                answer = read_until_closed(refused)
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 503 ")
            assert json.loads(body) == {
                "code": "unavailable",
                "message": "too many connections (the limit is 8)",
            }
        assert engine.log().count("the limit: refusing new ones") == 1  # said once
        assert get_version_on(served[0]) == 200  # the open ones are still served

        served.pop().close()
        deadline = time.monotonic() + 20
        while True:
            with connect(socket_path) as again:
                again.sendall(GET_VERSION_REQUEST)
                if again.recv(65536).startswith(b"HTTP/1.1 200 "):
                    break
            assert time.monotonic() < deadline, "a freed slot was never reused"
            time.sleep(0.02)
        assert "serving new connections again" in engine.log()
    finally:
        for sock in served:
            sock.close()
        engine.kill()


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of every thread of ``pid`` (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    # After the command name: state is field 3, utime 14, stime 15 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_descriptors_does_not_spin(tmp_path: Path, socket_path: Path) -> None:
    engine = start_engine(tmp_path / "engine.log", "--idle-timeout", "60")
    clients: list[socket.socket] = []
    try:
        # A descriptor limit just above what the daemon holds now: ten connections' worth.
        in_use = len(os.listdir(f"/proc/{engine.pid}/fd"))
        limit = in_use + 10
        resource.prlimit(engine.pid, resource.RLIMIT_NOFILE, (limit, limit))
        clients = [connect(socket_path) for _ in range(60)]  # the kernel queues the rest
        wait_for_log(engine, "cannot accept connections")

        # Saturated: the daemon must wait, not spin, while the connections stay queued.
        cpu, wall = _cpu_seconds(engine.pid), time.monotonic()
        with pytest.raises(subprocess.TimeoutExpired):
            engine.proc.wait(timeout=2.0)  # a measuring window that also shows it is alive
        share = (_cpu_seconds(engine.pid) - cpu) / (time.monotonic() - wall)
        # Generous: asyncio's own accept loop took about half a CPU here, retrying and
        # logging a traceback for every queued connection; pausing takes next to nothing.
        assert share < 0.25, f"the daemon used {share:.0%} of a CPU while out of descriptors"
        log = engine.log()
        assert log.count("cannot accept connections") == 1  # said once, not per retry
        assert "Traceback" not in log
        assert "out of system resource" not in log

        for sock in clients:
            sock.close()
        deadline = time.monotonic() + 20
        while True:
            try:
                if version(engine).startswith("v"):
                    break
            except Exception:  # noqa: BLE001 - still catching up; the deadline decides
                assert time.monotonic() < deadline, engine.log()
                time.sleep(0.05)
        wait_for_log(engine, "accepting connections again")
    finally:
        for sock in clients:
            sock.close()
        engine.kill()


# -- options -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--request-timeout", "a positive number of seconds"),
        ("--idle-timeout", "a positive number of seconds"),
        ("--max-connections", "a positive number"),
    ],
)
def test_bad_limits(socket_path: Path, option: str, message: str) -> None:
    result = docker_pass("engine", "run", option, "0")
    assert result.returncode == 1
    assert result.stderr == f"Error: {option} must be {message}\n".encode()


# -- one slow plugin, others served ----------------------------------------------------------------


def test_a_hung_plugin_delays_only_requests_that_need_it(
    tmp_path: Path, socket_path: Path, hung: HungPlugin
) -> None:
    # The snapshot plugin serves hang/** only (its pattern from the config): requests for
    # other IDs never ask it, so its stuck call holds nobody else up.
    from docker_pass.core.config import config_path

    config = config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"plugins": {"snapshot": {"pattern": "hang/**"}}}))
    engine = start_engine(tmp_path / "engine.log", "--request-timeout", LONG)
    try:
        stuck = Pending(socket_path, "hang/a", deadline_ms=60_000)
        hung.wait_entered(1)
        assert docker_pass("set", "team/x=quick-value").returncode == 0  # through the daemon
        started = time.monotonic()
        status, doc = post(socket_path, GET_SECRETS, {"pattern": "team/x"}, deadline_ms=10_000)
        assert status == 200, doc
        assert time.monotonic() - started < 10
        assert base64.b64decode(doc["envelopes"][0]["value"]) == b"quick-value"
        assert stuck.running()
        hung.release_one()
        assert stuck.result()[0] == 404  # hang/a: nothing there once released
    finally:
        engine.kill()
