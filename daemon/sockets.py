"""The daemon's sockets and its lock: one engine per user, listening where only its user can.

- One engine per user: a lock in ``$XDG_STATE_HOME/docker-pass/engine.lock`` (holding the pid
  and the sockets, for ``engine status``) is taken before anything else (:class:`EngineLock`).
- A socket file left by a killed engine is removed; one that still answers is never touched
  (:func:`clear_stale_socket`).
- The socket's directory is 0700 and each socket is created 0600 (umask at bind time, never
  chmod'ed afterwards); the abstract socket has no file modes, so there every connection's
  peer check (:mod:`.peers`) is the only guard.
- Listening sockets pause accepting when descriptors run out (:class:`~.limits.PacedListener`).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import stat
import time
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from docker_pass.core.errors import DockerPassError
from docker_pass.core.remote.endpoint import (
    SOCKET_DIR_NAME,
    abstract_address,
    addressable,
    connect_unix,
)
from docker_pass.daemon.limits import PacedListener

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger("docker_pass.engine")

#: Pending connections the kernel queues: many clients may start at once (``docker compose up``).
BACKLOG = 1024


class EngineAlreadyRunningError(DockerPassError):
    """Raised by ``engine run`` when this user's engine is already running (or the socket
    path is served by another program); the message says which and where."""


class EngineLock:
    """This user's engine lock, held (flock) for the daemon's lifetime, naming pid and sockets."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._doc: dict[str, object] = {}

    def acquire(self) -> None:
        """Take the lock; raise :class:`EngineAlreadyRunningError` if an engine holds it."""
        import fcntl

        from docker_pass.core.private_files import ensure_private_dir, open_private

        ensure_private_dir(self.path.parent)
        fd = open_private(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = _read_lock(self.path)
            where = f" (pid {holder.get('pid')}, socket {holder.get('socket')})" if holder else ""
            raise EngineAlreadyRunningError(f"an engine is already running{where}") from None
        self._fd = fd
        self._doc = {"pid": os.getpid(), "started_at": time.time()}

    def record(self, **fields: str | bool) -> None:
        """Add ``fields`` to what the lock says of its holder (``socket``, ``abstract_socket``,
        the Docker proxy's socket and upstream once it listens), for ``engine status`` and a
        refused second start."""
        assert self._fd is not None  # noqa: S101 - acquire() comes first
        self._doc.update(fields)
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, json.dumps(self._doc).encode(), 0)

    def release(self) -> None:
        """Clear and release the lock."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def _read_lock(path: Path) -> dict[str, Any]:
    from docker_pass.core.regular_files import FileReadError, read_regular_file

    try:
        # A regular file of a few fields: nothing else there is worth waiting for or reading.
        doc = json.loads(read_regular_file(path, "engine lock", limit=64 * 1024) or b"{}")
    except (FileReadError, ValueError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def prepare_directory(directory: Path) -> None:
    """Create the socket's directory 0700; tighten our default one if something loosened it."""
    from docker_pass.core.private_files import ensure_private_dir

    created = not directory.exists()
    if created:
        ensure_private_dir(directory)  # missing parents are made 0700 too
    st = directory.stat()
    if st.st_uid != os.getuid() and st.st_uid != 0:
        raise DockerPassError(f"socket directory {directory} belongs to another user")
    if (created or directory.name == SOCKET_DIR_NAME) and st.st_uid == os.getuid():
        if stat.S_IMODE(st.st_mode) != 0o700:
            os.chmod(directory, 0o700)  # a directory, not a secret: tightening it is safe
    elif stat.S_IMODE(st.st_mode) & 0o022 and not st.st_mode & stat.S_ISVTX:
        log.warning("socket directory %s is writable by others", directory)


def clear_stale_socket(path: Path) -> None:
    """Remove a socket file no engine answers on; refuse if one does or if it is not a socket."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise DockerPassError(f"{path} exists and is not a socket; move it away first")
    try:
        probe = connect_unix(path, timeout=1.0)
    except ConnectionRefusedError:
        log.info("removing stale socket %s", path)
        path.unlink(missing_ok=True)
        return
    except OSError as exc:
        raise DockerPassError(f"cannot check socket {path}: {exc.strerror or exc}") from None
    probe.close()
    raise EngineAlreadyRunningError(f"another program is serving {path}")


class PathSocket:
    """A listening Unix socket at ``path``, created 0600 (umask at bind time, no chmod).

    Closing it (or leaving its ``with`` block) removes the file only if it is still the one
    bound here: a newer engine may have replaced it meanwhile.
    """

    def __init__(self, path: Path) -> None:
        sock = PacedListener(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            with addressable(path) as address:
                sock.bind(address)
            self._inode = path.lstat().st_ino
        except BaseException:
            sock.close()
            raise
        finally:
            os.umask(old_umask)
        sock.listen(BACKLOG)
        sock.setblocking(False)
        self.path = path
        self.sock: socket.socket = sock

    def __enter__(self) -> PathSocket:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop listening and remove the socket file, if it is still ours."""
        self.sock.close()
        with suppress(OSError):
            if self.path.lstat().st_ino == self._inode:
                self.path.unlink()


def bind_abstract_socket(name: str) -> socket.socket | None:
    """A listening socket on abstract address ``name`` (``@…``), or ``None`` when another
    process holds that name (said in the log: Docker's clients that use the default address
    then reach that process, not this engine).

    The abstract namespace has no file modes: every connection's peer is checked with
    SO_PEERCRED, as on the path socket (:mod:`.peers`).
    """
    sock = PacedListener(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(abstract_address(name))
    except OSError as exc:
        sock.close()
        if exc.errno != errno.EADDRINUSE:
            raise DockerPassError(f"cannot listen on {name}: {exc.strerror or exc}") from None
        log.warning(
            "another process already listens on %s: clients that use Docker's default "
            "address reach it, not this engine (set engine.abstract_socket to choose another)",
            name,
        )
        return None
    sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock
