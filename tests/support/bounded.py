"""Run the real ``docker-pass`` and measure the bounds a hostile input must not break.

:func:`run_bounded` runs it in a session of its own (reaped, whatever happens), with a deadline
(a hang fails the test instead of holding the suite), and reports the peak memory of the
process (``wait4``'s ``ru_maxrss``, taken by a small launcher: see :data:`LAUNCHER`).
:func:`assert_plain` checks that what it printed holds no escape sequence or control byte a
terminal would act on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING

from tests.support.helpers import EXECUTABLE
from tests.support.processes import reap

if TYPE_CHECKING:
    from collections.abc import Mapping

#: How long a command that must fail at once may take on a loaded machine before it counts as
#: hanging (a bound on hanging, not a speed figure).
HANG_LIMIT = 30.0

# A small launcher between the test and docker-pass: Linux counts the memory of the process a
# child was forked from in its peak (the copied address space's high-water mark survives exec),
# and a long pytest session is large.  Forked from this small process instead, docker-pass's
# own peak is what wait4 reports; the launcher writes it to the file named first.
LAUNCHER = """\
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
sys.exit(128 - code if code < 0 else code)
"""


class BoundedRun:
    """What a bounded run gave: exit code, output, and peak memory in KiB."""

    def __init__(self, returncode: int, stdout: bytes, stderr: bytes, max_rss_kib: int) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.max_rss_kib = max_rss_kib

    def __repr__(self) -> str:
        return (
            f"BoundedRun({self.returncode}, stdout={self.stdout[:300]!r}, "
            f"stderr={self.stderr[:300]!r}, max_rss={self.max_rss_kib} KiB)"
        )


def run_bounded(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    input: bytes = b"",
    timeout: float = HANG_LIMIT,
) -> BoundedRun:
    """``docker-pass ARGS``, failing the test if it has not ended after ``timeout`` seconds."""
    full_env = {**os.environ, **(env or {})}
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as peak,
    ):
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, peak.name, str(EXECUTABLE), *args],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            assert proc.stdin is not None
            proc.stdin.write(input)
            proc.stdin.close()
            deadline = time.monotonic() + timeout
            while proc.poll() is None:
                assert time.monotonic() < deadline, f"docker-pass {args[:3]} hung"
                time.sleep(0.01)  # polling the child's end, with a deadline
        finally:
            reap(proc)  # the launcher and docker-pass share its session
        out.seek(0)
        err.seek(0)
        return BoundedRun(proc.returncode, out.read(), err.read(), int(peak.read() or 0))


def assert_plain(*outputs: bytes) -> None:
    """No escape sequence or control byte (but newline) a terminal would act on."""
    for output in outputs:
        text = output.decode("utf-8", "replace")
        bad = [c for c in text if c != "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F)]
        assert not bad, f"control characters {bad[:5]!r} in {output[:300]!r}"
        for mark in ("\u202e", "\u2066", "\u2067", "\u2068", "\u202d"):
            assert mark not in text, f"a bidi override in {output[:300]!r}"
