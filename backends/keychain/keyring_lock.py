"""The lock file of the ``keyring`` store: ``flock`` on POSIX, a locked byte on Windows.

A module of its own only to keep the store's file readable (:mod:`.keyring_store` says what
the lock guards).
"""

from __future__ import annotations

import errno
import os
import sys
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from docker_pass.core.errors import StoreError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@contextmanager
def locked_file(path: Path, *, exclusive: bool) -> Iterator[None]:
    """Hold the lock file ``path`` (made 0600 in 0700 directories) for the ``with`` block:
    exclusive, or shared where the platform has shared locks.  A fresh descriptor each time,
    so threads take turns too; closing it releases the lock."""
    try:
        _make_private_dirs(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StoreError(f"keyring: cannot open the lock file: {exc}") from exc
    try:
        _acquire(fd, exclusive=exclusive)
        yield
    finally:
        os.close(fd)


def _make_private_dirs(path: Path) -> None:
    """Create ``path`` and each missing parent with mode 0700."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        with suppress(FileExistsError):
            directory.mkdir(mode=0o700)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _acquire(fd: int, *, exclusive: bool) -> None:
        """Lock the first byte of the lock file (Windows has no shared variant: exclusive)."""
        del exclusive
        os.lseek(fd, 0, os.SEEK_SET)
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
            except OSError as exc:
                # LK_LOCK gives up after ten one-second tries; keep waiting, as flock does.
                if exc.errno != errno.EDEADLOCK:
                    raise
            else:
                return

else:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - neither POSIX nor Windows
        fcntl = None  # type: ignore[assignment]

    def _acquire(fd: int, *, exclusive: bool) -> None:
        """``flock`` the lock file; without fcntl, run unlocked rather than not at all."""
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
