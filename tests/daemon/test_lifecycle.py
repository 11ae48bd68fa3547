"""The daemon's life: where its socket is and who may use it, one per user, status and stop."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

from docker_pass.core.remote.endpoint import (
    SOCKET_ENV,
    default_socket_path,
    lock_holder,
    socket_location,
)
from tests.daemon.engines import RunningEngine, start_engine
from tests.support.helpers import docker_pass


def test_default_socket_location_and_permissions(
    tmp_path: Path, isolated_home: Path, snapshot_data: Path
) -> None:
    expected = isolated_home / ".cache/docker-secrets-engine/engine.sock"
    assert default_socket_path() == expected
    # pytest's folders make this path longer than sun_path holds: bind and connect must cope.
    running = start_engine(tmp_path / "engine.log")
    try:
        assert running.socket == expected
        st = expected.stat()
        assert stat.S_ISSOCK(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o600
        assert stat.S_IMODE(expected.parent.stat().st_mode) == 0o700
        status = docker_pass("engine", "status", "--json")
        assert status.returncode == 0, status.stderr
        doc = json.loads(status.stdout)
        assert doc["running"] is True
        assert (doc["socket"], doc["source"], doc["pid"]) == (str(expected), "default", running.pid)
        assert doc["version"].startswith("v")
        assert doc["plugins"]["snapshot"] == "running"
    finally:
        running.kill()


def test_socket_path_precedence(monkeypatch: pytest.MonkeyPatch, isolated_home: Path) -> None:
    assert socket_location().source == "default"
    config = isolated_home / ".config/docker-pass/config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"engine": {"socket": "~/from-config.sock"}}))
    location = socket_location()
    assert (location.path, location.source) == (isolated_home / "from-config.sock", "config")
    monkeypatch.setenv(SOCKET_ENV, "/tmp/from-env.sock")
    assert (socket_location().path, socket_location().source) == (Path("/tmp/from-env.sock"), "env")


def test_one_engine_per_user(engine: RunningEngine, tmp_path: Path) -> None:
    result = docker_pass("engine", "run", timeout=30)
    assert result.returncode == 1
    assert result.stderr.decode() == (
        f"Error: an engine is already running (pid {engine.pid}, socket {engine.socket})\n"
    )
    # The first one is unharmed.
    assert docker_pass("engine", "status").returncode == 0


def test_stale_socket_is_replaced(engine: RunningEngine, tmp_path: Path) -> None:
    engine.kill()  # SIGKILL: the socket file stays behind
    assert engine.socket.exists()
    assert lock_holder() is None
    status = docker_pass("engine", "status")
    assert (status.returncode, status.stdout.splitlines()[0]) == (1, b"engine: not running")
    again = start_engine(tmp_path / "again.log")
    try:
        assert "removing stale socket" in again.log()
        assert docker_pass("engine", "status").returncode == 0
    finally:
        again.kill()


def test_refuses_a_socket_path_it_does_not_own(socket_path: Path, snapshot_data: Path) -> None:
    # Another program already serves the path: leave it alone.
    other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    other.bind(str(socket_path))
    other.listen(1)
    try:
        result = docker_pass("engine", "run", timeout=30)
        assert result.returncode == 1
        assert result.stderr.decode() == f"Error: another program is serving {socket_path}\n"
        assert socket_path.exists()
    finally:
        other.close()
        socket_path.unlink()
    # Something that is not a socket: never deleted.
    socket_path.write_text("precious")
    result = docker_pass("engine", "run", timeout=30)
    assert result.returncode == 1
    assert b"exists and is not a socket" in result.stderr
    assert socket_path.read_text() == "precious"


def test_status_and_stop(engine: RunningEngine) -> None:
    status = docker_pass("engine", "status")
    assert status.returncode == 0
    lines = status.stdout.decode().splitlines()
    assert lines[0].startswith(f"engine: running (pid {engine.pid}, v")
    assert lines[1] == f"socket: {engine.socket} (env)"
    assert any(line.startswith("requests: ") for line in lines)

    stop = docker_pass("engine", "stop")
    assert (stop.returncode, stop.stdout) == (0, f"engine: stopped (pid {engine.pid})\n".encode())
    assert engine.proc.wait(timeout=20) == 0
    assert not engine.socket.exists()
    assert lock_holder() is None
    assert "engine stopped after" in engine.log()

    assert docker_pass("engine", "stop").stdout == b"engine: not running\n"
    not_running = docker_pass("engine", "status", "--json")
    assert not_running.returncode == 1
    assert json.loads(not_running.stdout)["running"] is False


def test_sigterm_cleans_up(engine: RunningEngine) -> None:
    assert engine.stop() == 0
    assert not engine.socket.exists()
    assert lock_holder() is None


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_peers_of_another_user_are_refused(engine: RunningEngine) -> None:
    # Loosen the file modes so that only the peer-credential check stands in the way.
    os.chmod(engine.socket.parent, 0o755)  # noqa: S103 - on purpose, see above
    os.chmod(engine.socket, 0o666)  # noqa: S103 - on purpose, see above
    curl = [
        "curl",
        "-sS",
        "--max-time",
        "10",
        "--unix-socket",
        str(engine.socket),
        "-H",
        "Content-Type: application/json",
        "-d",
        "{}",
        "http://localhost/health.v1.VersionService/GetVersion",
    ]
    nobody = subprocess.run(
        curl, user=65534, group=65534, extra_groups=[], capture_output=True, check=False
    )
    assert nobody.returncode != 0
    assert b"version" not in nobody.stdout
    deadline = time.monotonic() + 10
    while "(uid 65534)" not in engine.log():
        assert time.monotonic() < deadline, engine.log()
        time.sleep(0.05)
    assert "refused a connection from pid" in engine.log()
    # The owner is still served.
    assert b'"version"' in subprocess.run(curl, capture_output=True, check=True).stdout


def test_config_change_reaches_the_daemon(engine: RunningEngine) -> None:
    # Changed behind the daemon's back, by an embedded engine.
    assert docker_pass("--no-daemon", "plugins", "disable", "snapshot").returncode == 0
    listed = json.loads(docker_pass("plugins", "ls", "--json").stdout)
    assert {p["name"]: p["status"] for p in listed}["snapshot"] == "disabled"
    assert "changed: reloading plugins" in engine.log()
    with engine.client() as client:
        assert client.info().requests["/plugins.v1.PluginManagementService/ListPlugins"] == 1


def test_plugins_stay_warm_and_refresh(
    tmp_path: Path, socket_path: Path, snapshot_data: Path
) -> None:
    running = start_engine(tmp_path / "engine.log", "--refresh-interval", "0.1")
    try:
        refreshes = Path(f"{snapshot_data}.refreshes")
        deadline = time.monotonic() + 20
        while len(_lines(refreshes)) < 2:
            assert time.monotonic() < deadline, running.log()
            time.sleep(0.05)
        assert set(_lines(refreshes)) == {str(running.pid)}
        for _ in range(5):
            assert docker_pass("run", "--", "true", env={"A": "se://app/db"}).returncode == 0
        # Started once, by the daemon; every `run` used that instance.
        starts = Path(f"{snapshot_data}.starts").read_text().split()
        assert starts == [str(running.pid)]
    finally:
        running.kill()


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_bad_refresh_interval(socket_path: Path) -> None:
    result = docker_pass("engine", "run", "--refresh-interval", "0")
    assert result.returncode == 1
    assert result.stderr == b"Error: --refresh-interval must be a positive number of seconds\n"
