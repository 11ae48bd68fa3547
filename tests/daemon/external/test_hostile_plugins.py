"""A plugin that speaks the protocol wrongly harms nothing else: the other plugins and every
client keep answering, within the deadlines.  The hostile plugin is our Python program
(``tests/support/sdk_plugin.py --misbehave …``); a well-behaved one (``good``) and the
``snapshot`` plugin are checked around each misdeed."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING, Any

import pytest

from tests.daemon.engines import start_engine
from tests.daemon.external.hosting import sdk_plugin, statuses, wait_for
from tests.support.helpers import EXECUTABLE, docker_pass

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from tests.daemon.engines import RunningEngine

PRINT_X = ("run", "--", "sh", "-c", 'printf %s "$X"')
GOOD = ("--name", "good", "--pattern", "good/**", "--secrets", '{"good/one": "good-value"}')


@pytest.fixture
def hosting(
    tmp_path: Path,
    socket_path: Path,
    snapshot_data: Path,
    monkeypatch: pytest.MonkeyPatch,
    spawn: Callable[..., subprocess.Popen[Any]],
) -> Iterator[RunningEngine]:
    """The daemon (plugin deadline 1 s) with the snapshot plugin and a good external one."""
    monkeypatch.setenv("DOCKER_PASS_PLUGIN_TIMEOUT", "1")
    running = start_engine(tmp_path / "engine.log")
    try:
        spawn(sdk_plugin("--socket", str(socket_path), *GOOD))
        wait_for(lambda: statuses().get("good", {}).get("status") == "running", "good")
        yield running
    finally:
        running.kill()


def everyone_answers(engine: RunningEngine) -> None:
    """The daemon's version, the good external plugin, and the snapshot plugin all answer."""
    assert engine.proc.poll() is None, "the daemon died"
    with engine.client() as client:
        assert client.version().startswith("v")
    good = docker_pass(*PRINT_X, env={"X": "se://good/one"})
    assert (good.returncode, good.stdout) == (0, b"good-value"), good.stderr
    snap = docker_pass(*PRINT_X, env={"X": "se://app/db"})
    assert (snap.returncode, snap.stdout) == (0, b"db-secret-1"), snap.stderr


def hostile(spawn: Callable[..., subprocess.Popen[Any]], engine: RunningEngine, *args: str) -> Any:
    return spawn(sdk_plugin("--socket", str(engine.socket), *args), stderr=subprocess.PIPE)


def test_bad_yamux_frames_end_that_connection_only(
    hosting: RunningEngine, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    plugin = hostile(spawn, hosting, "--misbehave", "bad-frames")
    assert plugin.wait(timeout=30) == 0
    assert b"connection closed by the engine" in plugin.stderr.read()
    assert "yamux: closing the session, the peer broke the protocol" in hosting.log()
    everyone_answers(hosting)


def test_a_10_gb_window_changes_nothing(
    hosting: RunningEngine, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    hostile(
        spawn,
        hosting,
        "--misbehave",
        "huge-window",
        "--name",
        "wide",
        "--pattern",
        "wide/**",
        "--secrets",
        '{"wide/x": "wide-value"}',
    )
    wait_for(lambda: statuses().get("wide", {}).get("status") == "running", "wide")
    for _ in range(3):  # each call's stream got the window; the answers still come whole
        wide = docker_pass(*PRINT_X, env={"X": "se://wide/x"})
        assert (wide.returncode, wide.stdout) == (0, b"wide-value"), wide.stderr
    everyone_answers(hosting)


def test_a_plugin_that_never_registers_is_closed_at_the_deadline(
    hosting: RunningEngine, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    plugin = hostile(spawn, hosting, "--misbehave", "no-register")
    everyone_answers(hosting)  # while it sits there
    assert plugin.wait(timeout=30) == 0  # the engine closed it (after 5 s)
    assert b"connection closed by the engine" in plugin.stderr.read()
    assert "the plugin did not register within 5 s" in hosting.log()
    everyone_answers(hosting)


def test_a_duplicate_name_is_refused_and_the_first_keeps_serving(
    hosting: RunningEngine, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    second = hostile(spawn, hosting, *GOOD)
    assert second.wait(timeout=30) == 2
    said = second.stderr.read().decode()
    assert "failed to register plugin good: 409" in said
    assert "plugin good is already registered" in said
    assert "already_exists" in said
    everyone_answers(hosting)


def test_a_hang_in_get_secrets_costs_its_own_callers_their_deadline(
    hosting: RunningEngine, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    hostile(spawn, hosting, "--misbehave", "hang", "--name", "hung", "--pattern", "hung/**")
    wait_for(lambda: statuses().get("hung", {}).get("status") == "running", "hung")
    stuck = spawn(
        [str(EXECUTABLE), *PRINT_X],
        env={**os.environ, "X": "se://hung/x"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    everyone_answers(hosting)  # while that call hangs in the plugin
    _, err = stuck.communicate(timeout=60)
    assert stuck.returncode == 1
    # It ended at the plugin's deadline (1 s here), not when the plugin would have answered.
    assert b"plugin hung did not answer within 1 s" in err
    everyone_answers(hosting)


def test_a_flood_of_streams_pings_and_data_harms_nothing_else(
    hosting: RunningEngine, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    flooder = hostile(
        spawn, hosting, "--misbehave", "flood", "--name", "flood", "--pattern", "flood/**"
    )
    wait_for(lambda: statuses().get("flood", {}).get("status") == "running", "flood")
    for _ in range(3):
        everyone_answers(hosting)
    assert flooder.poll() is None or flooder.returncode == 0


def test_engine_stop_is_not_held_up_by_a_plugin_that_hangs_in_shutdown(
    hosting: RunningEngine, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    plugin = hostile(
        spawn, hosting, "--misbehave", "shutdown-hang", "--name", "stubborn", "--pattern", "s/**"
    )
    wait_for(lambda: statuses().get("stubborn", {}).get("status") == "running", "stubborn")
    assert hosting.stop() == 0
    assert plugin.wait(timeout=30) == 0  # its connection was closed after the Shutdown timeout
    assert b"shutdown asked" in plugin.stderr.read()
