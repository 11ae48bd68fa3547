"""`run` started the way shells start background jobs: SIGINT ignored (``cmd &`` in a script).

A non-interactive shell starts a background command with SIGINT and SIGQUIT ignored, and an
ignored signal stays ignored across exec.  `run` still forwards SIGINT (and SIGTERM) to its
command, which starts with both at their default; SIGHUP ignored by ``nohup`` stays ignored.
Every tree these tests start is reaped at teardown, passed or failed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import EXECUTABLE

if TYPE_CHECKING:
    from collections.abc import Callable

    Spawn = Callable[..., subprocess.Popen[bytes]]

#: How long a start or an ending may take here (a loaded machine), never how long ours does.
DEADLINE = 30.0


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def wait_for_text(path: Path, what: str) -> str:
    deadline = time.monotonic() + DEADLINE
    while not (path.exists() and path.read_text().endswith("\n")):
        assert time.monotonic() < deadline, f"{what} never showed up"
        time.sleep(0.02)
    return path.read_text().strip()


def ignored_signals(pid: int) -> int:
    """The mask of signals process ``pid`` ignores (``SigIgn`` in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return int(line.split()[1], 16)
    raise AssertionError(f"no SigIgn for {pid}")


def bit(sig: signal.Signals) -> int:
    return 1 << (sig - 1)


def background_run(tmp_path: Path, spawn: Spawn, prefix: str = "") -> tuple[int, int, Path]:
    """``docker-pass run -- sh -c …`` started with ``&`` by a non-interactive sh (which then
    waits and writes its exit status): the pids of run and of its child, and the status file."""
    child_pid = tmp_path / "child.pid"
    run_pid = tmp_path / "run.pid"
    status = tmp_path / "status"
    inner = f"echo $$ > {child_pid}; sleep 100 & wait"
    script = (
        f"{prefix}'{EXECUTABLE}' run -- sh -c '{inner}' & echo $! > {run_pid}; "
        f"wait $!; echo $? > {status}"
    )
    spawn(["sh", "-c", script], env=dict(os.environ), stdin=subprocess.DEVNULL)
    run = int(wait_for_text(run_pid, "run's pid"))
    child = int(wait_for_text(child_pid, "the child's pid"))
    return run, child, status


def test_run_in_the_background_forwards_sigint(tmp_path: Path, spawn: Spawn) -> None:
    run, child, status = background_run(tmp_path, spawn)
    # As a shell left it: run itself was started with SIGINT ignored...
    assert ignored_signals(run) & bit(signal.SIGINT) == 0, "run installs its forwarder"
    # ...and its command starts with SIGINT at its default, so the forwarded one ends it.
    assert ignored_signals(child) & bit(signal.SIGINT) == 0
    os.kill(run, signal.SIGINT)
    assert wait_for_text(status, "run's exit status") == "130"


def test_run_in_the_background_forwards_sigterm(tmp_path: Path, spawn: Spawn) -> None:
    run, _child, status = background_run(tmp_path, spawn)
    os.kill(run, signal.SIGTERM)
    assert wait_for_text(status, "run's exit status") == str(128 + signal.SIGTERM)


def test_sighup_ignored_by_nohup_stays_ignored_for_the_command(
    tmp_path: Path, spawn: Spawn
) -> None:
    run, child, status = background_run(tmp_path, spawn, prefix="trap '' HUP; ")
    assert ignored_signals(child) & bit(signal.SIGHUP), "the command keeps nohup's choice"
    os.kill(run, signal.SIGHUP)  # ignored by run too: nothing happens
    os.kill(run, signal.SIGINT)
    assert wait_for_text(status, "run's exit status") == "130"
