"""Files made by a second user, for tests of what docker-pass refuses to trust.

``setpriv --reuid 65534 --regid 65534 --clear-groups`` runs a command as ``nobody``; that needs
root (CAP_SETUID) and util-linux's ``setpriv``.  Tests that need it call :func:`require_other_user`
first, which skips them with the reason otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

OTHER_UID = 65534  # nobody
SETPRIV = ("setpriv", "--reuid", str(OTHER_UID), "--regid", str(OTHER_UID), "--clear-groups")


def require_other_user() -> None:
    """Skip the test unless this process may run commands as a second uid with setpriv."""
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to act as a second user; it is not installed")
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to a second uid with setpriv; running unprivileged")


def make_as_other_user(
    dest: Path, *, content: bytes = b"", directory: bool = False, link_to: Path | None = None
) -> Path:
    """Create ``dest`` as uid 65534: a file holding ``content`` (mode 0600), a directory (mode
    0700), or a symbolic link to ``link_to``.  It is made by ``nobody`` in a staging directory
    under the system temp dir (the test's own tmp_path is not reachable for ``nobody``) and
    renamed into place, which keeps its owner."""
    require_other_user()
    staging = Path(tempfile.mkdtemp(prefix="docker-pass-other-user-"))
    try:
        staging.chmod(0o777)  # nobody must be able to create its file here
        made = staging / "made"
        if link_to is not None:
            script = f"ln -s {link_to} {made}"
        elif directory:
            script = f"umask 077; mkdir {made}"
        else:
            script = f"umask 077; cat > {made}"
        subprocess.run(
            [*SETPRIV, "sh", "-c", script], input=content, check=True, capture_output=True
        )
        assert made.lstat().st_uid == OTHER_UID
        os.rename(made, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest
