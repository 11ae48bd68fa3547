"""Running a command and learning its peak memory.

Linux counts into a process's peak (``ru_maxrss``) the memory of the process it was exec'd
from: a command started straight from a test process that has grown to a gigabyte would
report a gigabyte.  So the command runs under a small Python process (:data:`MEASURE`) that
starts it, waits for it, and writes the peak of its only child (``RUSAGE_CHILDREN``, in KiB on
Linux) to a file: what that adds is the small parent's few MiB.
"""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

#: argv: the report file, the timeout, then the command.  Exit code: the command's (or 124 when
#: it was killed at the timeout).
MEASURE = """\
import resource, subprocess, sys
try:
    code = subprocess.run(sys.argv[3:], timeout=float(sys.argv[2])).returncode
except subprocess.TimeoutExpired:
    code = 124
with open(sys.argv[1], "w") as report:
    report.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


class Measured:
    """How a command ended: exit code, output, and its peak resident memory in MiB."""

    __slots__ = ("peak_mib", "returncode", "stderr", "stdout")

    def __init__(self, returncode: int, stdout: bytes, stderr: bytes, peak_mib: float) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.peak_mib = peak_mib

    def __repr__(self) -> str:
        return f"Measured(returncode={self.returncode}, peak_mib={self.peak_mib:.0f})"


def run_measured(
    args: Sequence[str], work: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> Measured:
    """Run ``args`` (stdin empty) and measure its peak; killed past ``timeout`` seconds."""
    report = work / "peak-kib.txt"
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(report), str(timeout), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        timeout=timeout + 30,
        check=False,
    )
    peak_kib = int(report.read_text())
    return Measured(done.returncode, done.stdout, done.stderr, peak_kib / 1024)
