"""The writers' turn of the Secret Service store: a ``flock`` that docker-pass processes (and
threads) writing to the keychain take in turn (:mod:`.secretservice` says why).

A module of its own only to keep the store's file readable.
"""

from __future__ import annotations

import contextlib
import os
import stat
from typing import TYPE_CHECKING

from docker_pass.backends.keychain.secretservice_wire import _describe_os_error
from docker_pass.core.errors import StoreError, UnsafePathError
from docker_pass.core.names import PROGRAM
from docker_pass.core.private_files import ensure_private_dir, open_private
from docker_pass.core.store import xdg_path

if TYPE_CHECKING:
    from collections.abc import Iterator

#: The file in :func:`writer_lock_dir` that writers of this store ``flock`` in turn.
WRITER_LOCK_NAME = "secret-service.lock"


def writer_lock_dir() -> str:
    """The private directory of the writer lock: ``$XDG_RUNTIME_DIR/docker-pass`` when
    ``XDG_RUNTIME_DIR`` is set to an absolute path of a directory we own (the session's own
    tmpfs, gone at logout), else the state directory (``$XDG_STATE_HOME/docker-pass``)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if os.path.isabs(runtime):
        try:
            info = os.stat(runtime)
        except OSError:
            info = None
        if info is not None and stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid():
            return os.path.join(runtime, PROGRAM)
    return xdg_path("state")


@contextlib.contextmanager
def _writers_turn() -> Iterator[None]:
    """Hold the cross-process writer lock (``flock``, exclusive) for the ``with`` block.

    The wait has no time limit of its own: the holder's every step is bounded (calls by the
    call timeout, prompts by the prompt timeout), and the kernel releases the lock of a
    process that dies.  A fresh descriptor per turn, so threads take turns too.
    """
    directory = writer_lock_dir()
    path = os.path.join(directory, WRITER_LOCK_NAME)
    try:
        ensure_private_dir(directory)
        fd = open_private(path, os.O_RDWR | os.O_CREAT, 0o600)
    except UnsafePathError as exc:
        raise UnsafePathError(f"Secret Service writer lock: {exc}") from None
    except OSError as exc:
        raise StoreError(
            f"cannot open the Secret Service writer lock {path}: {_describe_os_error(exc)}"
        ) from None
    try:
        import fcntl  # writers only: a read takes no lock

        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
