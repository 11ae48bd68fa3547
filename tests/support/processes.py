"""Processes a test starts, and their whole trees reaped when it ends, passed or failed.

A process started with :func:`spawned` (or the :func:`spawn` fixture) leads a session of its
own; everything it starts stays in that session unless it makes one itself (``run``'s child
takes a process group of its own, not a session).  At the end every process of the session is
killed and waited for, so a failing assertion never leaves a ``run … sleep 100`` behind, and
the suite can run in the background (``scripts/test &``) without holding anything up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

#: How long reaping may take before the test says a process would not die.
REAP_TIMEOUT = 20.0


def session_members(sid: int) -> list[int]:
    """The live processes (not zombies) whose session is ``sid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # pid (comm) state ppid pgrp session …: comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def kill_session(sid: int, timeout: float = REAP_TIMEOUT, *, leader_waited: bool = False) -> None:
    """SIGKILL every process of session ``sid`` until none is left (``timeout``: then fail).

    ``leader_waited``: the session's leader was waited for already, so its pid may have been
    given to another process since; if that one leads a session of its own (``setsid``: a
    daemon, a container's process), it is not ours, and nothing is killed.  (While any member
    of our session lives, the kernel gives its number to no new process.)
    """
    deadline = time.monotonic() + timeout
    if leader_waited and sid in session_members(sid):
        return
    while members := session_members(sid):
        for pid in members:
            with suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise AssertionError(f"processes of session {sid} would not die: {members}")
        time.sleep(0.01)  # waiting for the kernel to end them, with a deadline


def reap(proc: subprocess.Popen[Any], timeout: float = REAP_TIMEOUT) -> None:
    """Kill ``proc``'s session (it leads one: :func:`spawned`), wait for ``proc``, close its
    pipes."""
    # Until Python waits for it, the leader (alive or a zombie) holds its pid: no reuse.
    kill_session(proc.pid, timeout, leader_waited=proc.returncode is not None)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with suppress(OSError):
                stream.close()


@contextmanager
def spawned(argv: Sequence[str], **popen: Any) -> Iterator[subprocess.Popen[Any]]:
    """``subprocess.Popen(argv, **popen)`` in a session of its own, reaped (with everything it
    started) when the block ends, however it ends."""
    proc = subprocess.Popen(list(argv), start_new_session=True, **popen)
    try:
        yield proc
    finally:
        reap(proc)


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[Any]]]:
    """A ``Popen`` for the test: each process leads its own session, and every session is
    reaped at teardown (a failing test leaves nothing running)."""
    started: list[subprocess.Popen[Any]] = []

    def start(argv: Sequence[str], **popen: Any) -> subprocess.Popen[Any]:
        proc = subprocess.Popen(list(argv), start_new_session=True, **popen)
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            reap(proc)
