"""Running a command and learning its peak memory: ``os.wait4`` gives the resource usage of
that one child (its ``ru_maxrss``, in KiB on Linux), which ``RUSAGE_CHILDREN`` would mix with
every other child the test process has waited for (an OpenBao server, say)."""

from __future__ import annotations

import os
import subprocess
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import resource
    from collections.abc import Sequence
    from pathlib import Path


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
    """Run ``args`` (stdin empty, output to files in ``work``); kill it past ``timeout``."""
    out, err = work / "measured.out", work / "measured.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            list(args), stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=env
        )
    ended: list[tuple[int, int, resource.struct_rusage]] = []
    waiter = threading.Thread(target=lambda: ended.append(os.wait4(process.pid, 0)))
    waiter.start()
    waiter.join(timeout)
    if waiter.is_alive():
        process.kill()
        waiter.join()
    _, status, usage = ended[0]
    process.returncode = os.waitstatus_to_exitcode(status)  # waited for here, not by Popen
    return Measured(process.returncode, out.read_bytes(), err.read_bytes(), usage.ru_maxrss / 1024)
