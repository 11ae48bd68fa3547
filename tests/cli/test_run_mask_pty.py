"""`run --mask` on a terminal of the test's own: the window size is passed on (and followed),
and the terminal's settings are put back when the command ends."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

from tests.support.helpers import EXECUTABLE, docker_pass

VALUE = "s3cr3t-value-0123456789"
MARKER = b"<concealed by docker-pass>"
DEADLINE = 30.0


@pytest.fixture(autouse=True)
def stored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    monkeypatch.delenv("DOCKER_PASS_MASK", raising=False)
    assert docker_pass("set", f"app/token={VALUE}").returncode == 0


def set_size(fd: int, rows: int, columns: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def read_until(fd: int, wanted: bytes, seen: bytearray) -> None:
    deadline = time.monotonic() + DEADLINE
    while wanted not in seen:
        assert time.monotonic() < deadline, bytes(seen)
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen.extend(os.read(fd, 4096))
            except OSError:  # EIO: the other side is closed
                assert wanted in seen, bytes(seen)


def controlling_terminal() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_window_size_passed_on_and_followed_and_terminal_restored() -> None:
    master, slave = os.openpty()
    set_size(slave, 30, 100)
    before = termios.tcgetattr(slave)
    # The command blocks SIGWINCH before it looks, then waits for one: it sees the new size
    # only when docker-pass has passed the change on to its pty (which signals it).
    child = (
        "import os, signal\n"
        "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGWINCH})\n"
        "print('size', os.get_terminal_size(1).lines, os.get_terminal_size(1).columns,"
        " os.environ['T'], flush=True)\n"
        "while True:\n"
        "    now = os.get_terminal_size(1)\n"
        "    if (now.lines, now.columns) != (30, 100):\n"
        "        break\n"
        f"    if signal.sigtimedwait({{signal.SIGWINCH}}, {DEADLINE}) is None:\n"
        "        break\n"
        "print('size', now.lines, now.columns, flush=True)\n"
    )
    env = dict(os.environ, T="se://app/token", TERM="xterm")
    proc = subprocess.Popen(
        [str(EXECUTABLE), "run", "--mask", "--", sys.executable, "-c", child],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        preexec_fn=controlling_terminal,  # noqa: PLW1509 - a terminal of its own, as a shell gives
    )
    seen = bytearray()
    try:
        read_until(master, b"size 30 100 " + MARKER, seen)
        during = termios.tcgetattr(slave)
        assert during[3] & termios.ECHO == 0  # raw while the command runs
        set_size(slave, 40, 120)  # the kernel signals SIGWINCH to the foreground group
        read_until(master, b"size 40 120", seen)
        assert proc.wait(timeout=DEADLINE) == 0
        assert termios.tcgetattr(slave) == before
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)
    assert VALUE.encode() not in seen
