"""Keep secret values out of core dumps and away from other processes of the same user.

``run``, ``ui`` and the engine daemon call :func:`make_non_dumpable` before they read any value.
Two switches, because each covers what the other misses:

- ``RLIMIT_CORE`` soft limit 0: no core file where ``core_pattern`` names a file, and the
  coredump handlers that honour the limit (systemd-coredump, apport) skip the process. It is
  the only switch macOS and the BSDs offer.
- ``prctl(PR_SET_DUMPABLE, 0)`` (Linux): the kernel writes no core at all, not even through a
  ``|handler`` core_pattern (which ignores RLIMIT_CORE), and other processes of the same user
  can no longer ptrace it or open its ``/proc/PID/mem``, ``environ`` and ``maps`` (its
  ``/proc/PID`` entries become root's). That is the larger gain: ``run`` holds resolved values in
  memory, and the daemon holds every value it has served.

Only the soft core limit is lowered, never the hard one: an unprivileged process cannot raise
its hard limit again, so ``(0, 0)`` would leave ``run``'s child (the user's own command) with no
way back to the limits the user chose. With the hard limit kept, the child restores the soft
limit between fork and exec (:meth:`DumpState.restore_core_limit`). Dumpability needs no
restoring: ``execve`` makes a process dumpable again (unless it gains privileges, as a setuid
program does, or its file is execute-only; the kernel keeps such programs non-dumpable itself).

Where a switch does not exist (Windows has no ``resource`` module; prctl is Linux's) or the
system refuses it, the other still applies and nothing fails: hardening is best effort and must
never stop a command from running.
"""

from __future__ import annotations

import sys
from contextlib import suppress

try:
    import resource
except ImportError:  # Windows: no rlimits, no core files to limit
    resource = None  # type: ignore[assignment]

from docker_pass.core.value import FrozenValue

# <linux/prctl.h>
PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4


class DumpState(FrozenValue):
    """What :func:`make_non_dumpable` found before it changed anything.

    ``core_soft``/``core_hard`` are the ``RLIMIT_CORE`` limits (``None`` where they could not be
    read), ``dumpable`` the ``PR_GET_DUMPABLE`` flag (``None`` off Linux or when prctl failed).
    """

    __slots__ = ("core_hard", "core_soft", "dumpable")
    core_soft: int | None
    core_hard: int | None
    dumpable: bool | None

    def __init__(self, core_soft: int | None, core_hard: int | None, dumpable: bool | None) -> None:
        self._set("core_soft", core_soft)
        self._set("core_hard", core_hard)
        self._set("dumpable", dumpable)

    def __repr__(self) -> str:
        return (
            f"DumpState(core_soft={self.core_soft}, core_hard={self.core_hard}, "
            f"dumpable={self.dumpable})"
        )

    def restore_core_limit(self) -> None:
        """Give the soft core limit back (in a child between fork and exec); never raises.

        Allowed without privileges because the hard limit was left where it was.
        """
        if resource is None or self.core_soft is None or self.core_hard is None:
            return
        try:
            resource.setrlimit(resource.RLIMIT_CORE, (self.core_soft, self.core_hard))
        except (OSError, ValueError):
            return  # the child then runs with no core dumps: safe, only less convenient


_before: DumpState | None = None


def make_non_dumpable() -> DumpState:
    """Turn core dumps off for this process (and ptrace/``/proc`` access by other processes).

    Returns the state from before the first call, so a child can get the user's limits back;
    calling it again changes nothing and returns that same state.
    """
    global _before  # noqa: PLW0603 - once per process: a second call must not record our own 0
    if _before is None:
        soft, hard = _lower_core_limit()
        dumpable = _clear_dumpable() if sys.platform.startswith("linux") else None
        _before = DumpState(soft, hard, dumpable)
    return _before


def _lower_core_limit() -> tuple[int | None, int | None]:
    if resource is None:
        return None, None
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    except (OSError, ValueError):
        return None, None
    # Soft only (see the module's doc). If refused, still report the limits: restoring them in
    # a child is then a no-op.
    with suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    return soft, hard


def _clear_dumpable() -> bool | None:
    # ctypes costs ~3.5 ms of imports (python -X importtime: ctypes, struct, ctypes._endian), of
    # the ~150 ms that `run` with one reference takes. The standard library has no other way to
    # call prctl(2), and the flag is what keeps a `|handler` core_pattern and same-user ptrace
    # away from the values, so `run` pays it.
    try:
        import ctypes

        prctl = ctypes.CDLL(None).prctl
    except (ImportError, OSError, AttributeError):  # a Python without ctypes, an odd libc:
        return None  # the rlimit still holds
    prctl.restype = ctypes.c_int
    prctl.argtypes = [ctypes.c_int, *[ctypes.c_ulong] * 4]
    before: int = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0)
    if before < 0:
        return None
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # cannot fail for 0 on Linux; nothing to do if it did
    return before != 0
