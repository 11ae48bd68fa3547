"""`run` is not dumpable while it holds values; its child gets the user's core limit back.

``run`` spawns its child (it does not exec), so while the child runs, ``docker-pass`` itself is
alive and can be looked at from outside (tests/support/proc_probe.py says how).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import EXECUTABLE, docker_pass
from tests.support.proc_probe import (
    as_peer,
    core_limits,
    hard_core_limit,
    peer_can_inspect,
    user_core_limit,
)

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="prctl and /proc are Linux's")

# The child reports on itself: its core limit, its dumpable flag, and that it got the value.
SELF_REPORT = """\
import ctypes, json, os
line = next(l for l in open("/proc/self/limits") if l.startswith("Max core file size"))
print(json.dumps({
    "limits": line.split()[-3:-1],
    "dumpable": ctypes.CDLL(None).prctl(3, 0, 0, 0, 0),
    "got_value": os.environ.get("TOKEN") == "s3cret-value",
}))
"""


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def _limit_text(limit: int) -> str:
    return "unlimited" if limit == -1 else str(limit)


def test_the_child_gets_the_users_core_limit_and_is_dumpable() -> None:
    assert docker_pass("set", "token=s3cret-value").returncode == 0
    soft, hard = user_core_limit(), hard_core_limit()
    done = subprocess.run(
        as_peer([str(EXECUTABLE), "run", "--", sys.executable, "-c", SELF_REPORT], soft),
        env={**os.environ, "TOKEN": "se://token"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["got_value"] is True
    # The user's soft limit, not run's 0 nor the hard limit; and exec made it dumpable again.
    assert report["limits"] == [_limit_text(soft), _limit_text(hard)]
    assert report["dumpable"] == 1


def test_core_dumps_the_user_turned_off_stay_off_in_the_child() -> None:
    done = subprocess.run(
        as_peer([str(EXECUTABLE), "run", "--", sys.executable, "-c", SELF_REPORT], 0),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["limits"] == ["0", _limit_text(hard_core_limit())]


def test_run_is_not_dumpable_while_its_child_runs(
    tmp_path: Path, spawn: Callable[..., subprocess.Popen[bytes]]
) -> None:
    assert docker_pass("set", "token=s3cret-value").returncode == 0
    soft, hard = user_core_limit(), hard_core_limit()
    pidfile = tmp_path / "child.pid"
    # The child writes its pid, then waits for a line on stdin (run passes its stdin on).  The
    # tree (run and its sh) is reaped at teardown, should an assertion fail.
    proc = spawn(
        as_peer(
            [str(EXECUTABLE), "run", "--", "sh", "-c", f"echo $$ > {pidfile}; read line"], soft
        ),
        env={**os.environ, "TOKEN": "se://token"},
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not (pidfile.exists() and pidfile.read_text().endswith("\n")):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.05)
    child = int(pidfile.read_text())
    # docker-pass (the launcher exec'd it, so proc.pid is its pid) holds the value now.
    assert Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")[1:3] == [
        str(EXECUTABLE).encode(),
        b"run",
    ]
    assert core_limits(proc.pid) == (0, hard)
    assert not peer_can_inspect(proc.pid)
    if os.getuid() != 0:
        # A non-dumpable process's /proc entries are root's (as root, that says nothing).
        assert os.stat(f"/proc/{proc.pid}").st_uid == 0
    # The same probe sees the child: dumpable, with the user's own core limit.
    assert peer_can_inspect(child)
    assert core_limits(child) == (soft, hard)
    assert proc.stdin is not None
    proc.stdin.write(b"go\n")
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
