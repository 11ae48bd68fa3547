"""What ``GetVersion`` says of the build besides the version: its commit and that commit's date.

Docker's daemon fills ``date`` and ``commit_hash`` from its build; its client reads them as
plain strings (``api.DaemonVersion``), any text accepted.  docker-pass has no build step that
could stamp them, so the daemon asks git once, at start, when it runs from a git checkout (an
editable install, as ``scripts/install`` makes): the commit of ``HEAD`` and its committer date
(RFC 3339), the commit marked ``-dirty`` when tracked files have changed.  Installed from a
wheel there is no checkout, and both are :data:`UNKNOWN`, a stated value rather than an empty
one.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

#: What ``date`` and ``commit_hash`` say when the build cannot be told.
UNKNOWN = "unknown"
#: Seconds git gets to answer (it reads a few files).
_GIT_TIMEOUT = 2.0


def build_info() -> tuple[str, str]:
    """``(date, commit)`` of the checkout this module runs from, or :data:`UNKNOWN` twice."""
    here = Path(__file__).resolve()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_OPTIONAL_LOCKS"] = "0"  # a status must not take the index lock of a checkout

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(here.parent), *args],
                capture_output=True,
                text=True,
                timeout=_GIT_TIMEOUT,
                env=env,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    # This very file must be tracked: a wheel installed into a venv inside some checkout is
    # not that checkout's build.
    if git("ls-files", "--error-unmatch", here.name) is None:
        return UNKNOWN, UNKNOWN
    head = git("log", "-1", "--format=%H %cI")
    if not head or " " not in head:
        return UNKNOWN, UNKNOWN
    commit, date = head.split(" ", 1)
    changed = git("status", "--porcelain", "--untracked-files=no")
    return date, commit + ("-dirty" if changed else "")
