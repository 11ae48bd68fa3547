"""Looking at another process from outside: its core limit, and whether it is dumpable.

A process cannot be asked for another's ``PR_GET_DUMPABLE``, so :func:`peer_can_inspect` checks
what the flag is for: whether another process of the same user may open its
``/proc/PID/environ`` (the kernel's ptrace read check, which refuses a non-dumpable process to
anyone without ``CAP_SYS_PTRACE``).  The ownership of ``/proc/PID`` (root's when non-dumpable)
says the same only when the tests do not run as root; here they do, and root passes that check
(and, with ``CAP_SYS_ADMIN``, on some kernels, the environ one).  So the process looked at and
the observer both start through :data:`LAUNCH`, which empties the capability bounding set
before exec: root without capabilities is, for these checks, a plain user.  For a non-root
user the drop is refused and not needed (it holds no capabilities).
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

# Drops every capability from the bounding set (prctl PR_CAPBSET_DROP=24), so that after exec
# even root holds none, sets the soft core limit given as its first argument, then execs the
# rest of its arguments.
LAUNCH = """\
import ctypes, os, resource, sys
prctl = ctypes.CDLL(None, use_errno=True).prctl
prctl.argtypes = [ctypes.c_int, *[ctypes.c_ulong] * 4]
with open("/proc/sys/kernel/cap_last_cap") as f:
    last = int(f.read())
for cap in range(last + 1):
    if prctl(24, cap, 0, 0, 0) != 0 and os.geteuid() == 0:
        sys.exit(f"cannot drop capability {cap}: " + os.strerror(ctypes.get_errno()))
hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
resource.setrlimit(resource.RLIMIT_CORE, (int(sys.argv[1]), hard))
os.execvp(sys.argv[2], sys.argv[2:])
"""

PEEK = """\
import sys
try:
    open(f"/proc/{sys.argv[1]}/environ", "rb").close()
except PermissionError:
    print("denied")
else:
    print("readable")
"""

MIB = 1 << 20


def hard_core_limit() -> int:
    """The hard RLIMIT_CORE the tests' processes inherit."""
    return resource.getrlimit(resource.RLIMIT_CORE)[1]


def user_core_limit() -> int:
    """A soft core limit a user might choose, told apart from 0 and from the hard limit."""
    hard = hard_core_limit()
    return MIB if hard == resource.RLIM_INFINITY or hard > MIB else hard // 2


def as_peer(command: list[str], core_soft: int) -> list[str]:
    """``command`` run without capabilities and with soft core limit ``core_soft``."""
    return [sys.executable, "-c", LAUNCH, str(core_soft), *command]


def core_limits(pid: int | str) -> tuple[int, int]:
    """``(soft, hard)`` RLIMIT_CORE of process ``pid``, from ``/proc/PID/limits``."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max core file size"):
            soft, hard = line.split()[-3:-1]
            return _limit(soft), _limit(hard)
    raise AssertionError(f"no core limit in /proc/{pid}/limits")


def _limit(text: str) -> int:
    return resource.RLIM_INFINITY if text == "unlimited" else int(text)


def peer_can_inspect(pid: int | str) -> bool:
    """Whether a process of the same user, without privileges, may read ``pid``'s environment.

    True for a dumpable process, False for a non-dumpable one.
    """
    done = subprocess.run(
        as_peer([sys.executable, "-c", PEEK, str(pid)], core_soft=0),
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    answer = done.stdout.strip()
    if done.returncode != 0 or answer not in ("denied", "readable"):
        raise AssertionError(f"the probe failed ({done.returncode}): {done.stderr}")
    return answer == "readable"
