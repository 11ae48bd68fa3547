"""Docker's own ``fixed-plugin`` (built with the upstream plugin SDK) on the real daemon: by
manual launch on the path socket and on the abstract one, and by engine launch from the
plugins directory; ``run`` resolves ``se://fixed/hello`` through it; ``plugins ls`` shows it;
killed, it comes back (launched) or is gone (manual); it can be disabled and enabled; ``engine
stop`` shuts it down cleanly.  Skipped, saying why, where the binary is absent
(``$DOCKER_PASS_TEST_FIXED_PLUGIN``)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from typing import TYPE_CHECKING, Any

import pytest

from docker_pass.core.state import RunStatus
from tests.daemon.engines import start_engine
from tests.daemon.external.hosting import (
    fixed_plugin,
    plugins_dir,
    running_from,
    state_of,
    statuses,
    wait_for,
)
from tests.daemon.upstream_wire import UpstreamWireClient, default_address
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.daemon.engines import RunningEngine

__all__ = ["plugins_dir"]  # the fixture, used by name

PRINT_X = ("run", "--", "sh", "-c", 'printf %s "$X"')
#: Go's zero time, what "no expiry" is on the wire.
ZERO_TIME = -62135596800


def running_fixed() -> dict[str, Any] | None:
    row = statuses().get("fixed-plugin")
    return row if row is not None and row["status"] == "running" else None


def resolves_hello() -> None:
    resolved = docker_pass(*PRINT_X, env={"X": "se://fixed/hello"})
    assert (resolved.returncode, resolved.stdout) == (0, b"world"), resolved.stderr


def test_manual_launch_on_the_path_socket_and_a_clean_stop(
    engine: RunningEngine, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    binary = fixed_plugin()
    plugin = spawn([str(binary), "-socket", str(engine.socket)], stderr=subprocess.PIPE)
    row = wait_for(running_fixed, "fixed-plugin to register")
    assert (row["version"], row["pattern"], row["external"]) == ("v0.0.1", "fixed/**", True)
    assert row["storage"] == f"external, connected by pid {plugin.pid}"
    resolves_hello()
    got = docker_pass("get", "fixed/hello", "--plugin", "fixed-plugin", "--json")
    assert json.loads(got.stdout) == {
        "id": "fixed/hello",
        "provider": "fixed-plugin",
        "metadata": {"origin": "upstream-sdk"},
        "version": "v1",  # fixed-plugin's envelope says Version: "v1"
    }
    assert engine.stop() == 0
    assert plugin.wait(timeout=30) == 0
    assert plugin.stderr is not None
    assert b"fixed-plugin: Run returned nil (clean shutdown)" in plugin.stderr.read()


def test_manual_launch_that_is_killed_is_removed(
    engine: RunningEngine, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    plugin = spawn([str(fixed_plugin()), "-socket", str(engine.socket)])
    wait_for(running_fixed, "fixed-plugin to register")
    plugin.send_signal(signal.SIGKILL)
    wait_for(lambda: "fixed-plugin" not in statuses(), "fixed-plugin to be removed")
    assert docker_pass(*PRINT_X, env={"X": "se://fixed/hello"}).returncode == 1


def test_a_refused_registration_is_what_the_sdk_prints(
    engine: RunningEngine, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    """The name of an installed plugin is refused; the SDK prints why (``Run`` fails: the
    program exits 3)."""
    taken = [str(fixed_plugin()), "-socket", str(engine.socket), "-name", "docker-pass"]
    plugin = spawn(taken, stderr=subprocess.PIPE)
    assert plugin.wait(timeout=30) == 3
    assert plugin.stderr is not None
    assert (
        "fixed-plugin: Run: failed to register plugin docker-pass: failed to register with "
        "secrets engine: already_exists: plugin docker-pass is already registered"
    ) in plugin.stderr.read().decode()
    assert statuses()["docker-pass"]["external"] is False
    resolves_nothing_new = docker_pass(*PRINT_X, env={"X": "se://fixed/hello"})
    assert resolves_nothing_new.returncode == 1


def _private_network() -> bool:
    """Whether the daemon and the plugin can share a network namespace of their own (then the
    default abstract address is free there, whatever runs on this machine)."""
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("nsenter")):
        return False
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, check=False)
    return probe.returncode == 0


def test_manual_launch_on_the_abstract_socket(
    tmp_path: Path,
    socket_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    spawn: Callable[..., subprocess.Popen[Any]],
) -> None:
    binary = fixed_plugin()
    monkeypatch.delenv("DOCKER_PASS_ENGINE_ABSTRACT_SOCKET")  # Docker's default address
    private = _private_network()
    prefix = ["unshare", "--net", "--"] if private else []
    running = start_engine(tmp_path / "engine.log", prefix=prefix)
    try:
        if f"and {default_address()}" not in running.log():
            pytest.skip(f"{default_address()} is taken by another process on this machine")
        enter = ["nsenter", f"--net=/proc/{running.pid}/ns/net", "--"] if private else []
        plugin = spawn([*enter, str(binary)], stderr=subprocess.PIPE)  # no -socket: the default
        wait_for(running_fixed, "fixed-plugin to register on the abstract socket")
        resolves_hello()
        assert running.stop() == 0
        assert plugin.wait(timeout=30) == 0
        assert plugin.stderr is not None
        assert b"Run returned nil (clean shutdown)" in plugin.stderr.read()
    finally:
        running.kill()


def test_engine_launch_from_the_plugins_directory(
    tmp_path: Path,
    socket_path: Path,
    plugins_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installed = plugins_dir / "fixed-plugin"
    shutil.copy(fixed_plugin(), installed)
    monkeypatch.setenv("DOCKER_PASS_PLUGIN_BACKOFF", "1.5")  # long enough to see "crashed"
    running = start_engine(tmp_path / "engine.log")
    try:
        row = statuses()["fixed-plugin"]  # launched plugins register before clients connect
        assert (row["status"], row["pattern"], row["external"]) == ("running", "fixed/**", True)
        assert row["storage"] == f"external, launched from {installed}"
        resolves_hello()
        with UpstreamWireClient(str(socket_path)) as client:
            (envelope,) = client.get_secrets("fixed/hello").envelopes
            listed = {p["name"]: p for p in client.list_plugins()}
        assert (envelope.value, envelope.provider) == (b"world", "fixed-plugin")
        assert envelope.expires_at is not None
        assert envelope.expires_at.seconds == ZERO_TIME  # no expiry, as upstream sends it
        assert listed["fixed-plugin"]["external"] is True

        # Killed, it is crashed, then launched again.
        (first,) = running_from(installed)
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: state_of("fixed-plugin").status is RunStatus.CRASHED, "a crash")
        assert state_of("fixed-plugin").message.startswith("killed by signal SIGKILL")
        assert statuses()["fixed-plugin"]["status"] == "crashed"
        wait_for(running_fixed, "fixed-plugin to be back")
        assert running_from(installed) != [first]
        resolves_hello()

        disabled = docker_pass("plugins", "disable", "fixed-plugin")
        assert disabled.stdout == b"fixed-plugin: disabled\n"
        assert docker_pass(*PRINT_X, env={"X": "se://fixed/hello"}).returncode == 1
        enabled = docker_pass("plugins", "enable", "fixed-plugin")
        assert enabled.stdout == b"fixed-plugin: running\n"
        resolves_hello()

        assert running.stop() == 0
        assert "plugin fixed-plugin stopped (exit 0)" in running.log()
        assert running_from(installed) == []
    finally:
        running.kill()
