"""The suite passes when started in the background (``scripts/test &``), and leaves nothing.

A non-interactive shell starts a background job with SIGINT ignored and stdin from /dev/null;
the tests that start processes and signal them (run's forwarding) run here that way, in a
pytest of their own, and afterwards no process that run started is left.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[1]
#: The tests that start trees of processes and signal them.
PROCESS_TESTS = ("tests/cli/test_run.py", "tests/cli/test_run_signals.py")
DEADLINE = 300.0


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose environment or command line holds ``text`` (ours, not zombies)."""
    found = []
    needle = text.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                continue
            seen = (entry / "environ").read_bytes() + (entry / "cmdline").read_bytes()
        except OSError:
            continue  # gone, or not ours to read
        if needle in seen:
            found.append(int(entry.name))
    return found


def test_the_process_tests_pass_in_the_background_and_leave_nothing(
    tmp_path: Path, spawn: Callable[..., subprocess.Popen[bytes]]
) -> None:
    basetemp = tmp_path / "nested"
    status = tmp_path / "status"
    log = tmp_path / "log"
    pytest_argv = " ".join(
        [
            f"'{sys.executable}'",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp='{basetemp}'",
            *PROCESS_TESTS,
        ]
    )
    # As `scripts/test &` from a script: SIGINT ignored, stdin /dev/null, no terminal.
    script = f"{pytest_argv} > '{log}' 2>&1 & wait $!; echo $? > '{status}'"
    shell = spawn(["sh", "-c", script], cwd=ROOT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + DEADLINE
    while not (status.exists() and status.read_text().endswith("\n")):
        assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
        time.sleep(0.1)  # waiting for the nested run, with a deadline
    assert status.read_text().strip() == "0", log.read_text(errors="replace")[-3000:]
    assert shell.wait(timeout=60) == 0
    # Every process the nested tests started ran with HOME under their basetemp.
    deadline = time.monotonic() + 30
    while left := processes_mentioning(str(basetemp)):
        assert time.monotonic() < deadline, f"left behind: {left}"
        time.sleep(0.05)
