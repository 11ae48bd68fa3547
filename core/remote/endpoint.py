"""Where the engine daemon listens, and reaching it safely: the Unix socket and its peers.

Standard library only, so every command can ask "is an engine running?" without importing
protobuf or Connect.  The socket's path comes, first to last, from ``$DOCKER_PASS_ENGINE_SOCKET``,
the config file's ``engine.socket``, or ``<user cache dir>/docker-secrets-engine/engine.sock``
(where Docker's own secrets engine puts it), and :func:`socket_location` reports which won.
"""

from __future__ import annotations

import os
import socket
import struct
from contextlib import contextmanager
from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError
from docker_pass.core.value import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SOCKET_ENV = "DOCKER_PASS_ENGINE_SOCKET"
#: The abstract socket's name (``@…``), or ``off``; Docker's clients default to ``@`` + this.
ABSTRACT_ENV = "DOCKER_PASS_ENGINE_ABSTRACT_SOCKET"
LOCK_FILE = "engine.lock"
SOCKET_DIR_NAME = "docker-secrets-engine"
SOCKET_NAME = "engine.sock"
#: ``sockaddr_un.sun_path`` holds 108 bytes with its NUL; longer paths go through /proc.
_MAX_SUN_PATH = 107
_PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


class SocketLocation(FrozenValue):
    """The engine socket's path and which setting chose it (``env``, ``config`` or ``default``).

    It keeps the path as text (``text``): ``run`` asks where the socket is on every start, and
    ``pathlib`` costs ~3.5 ms to import; :attr:`path` makes the ``Path`` when one is wanted.
    """

    __slots__ = ("source", "text")
    text: str
    source: str

    def __init__(self, path: Path | str, source: str) -> None:
        self._set("text", os.fspath(path))
        self._set("source", source)

    @property
    def path(self) -> Path:
        """The path, as a ``Path``."""
        from pathlib import Path

        return Path(self.text)

    def __repr__(self) -> str:
        return f"SocketLocation({self.text!r}, {self.source!r})"


class PeerCredentials(FrozenValue):
    """The process at the other end of a Unix socket, as the kernel reports it (SO_PEERCRED)."""

    __slots__ = ("gid", "pid", "uid")
    pid: int
    uid: int
    gid: int

    def __init__(self, pid: int, uid: int, gid: int) -> None:
        self._set("pid", pid)
        self._set("uid", uid)
        self._set("gid", gid)

    def __repr__(self) -> str:
        return f"PeerCredentials(pid={self.pid}, uid={self.uid}, gid={self.gid})"

    def trusted(self) -> bool:
        """Whether this peer is the same user as us, or root."""
        return self.uid in (os.getuid(), 0)


class PeerRefusedError(DockerPassError, ConnectionError):
    """Raised when the process at the other end of the socket is another (non-root) user."""


def default_socket_path() -> Path:
    """``$XDG_CACHE_HOME/docker-secrets-engine/engine.sock`` (``~/.cache/…`` without it)."""
    from pathlib import Path

    return Path(_default_socket_text())


def _default_socket_text() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, SOCKET_DIR_NAME, SOCKET_NAME)


def socket_location() -> SocketLocation:
    """The socket path by precedence: environment, then config file, then the default."""
    from_env = os.environ.get(SOCKET_ENV, "")
    if from_env:
        return SocketLocation(os.path.expanduser(from_env), "env")
    from docker_pass.core.config import config_path, load_config

    section = load_config().get("engine", {})
    if not isinstance(section, dict):
        raise DockerPassError(f"config {config_path()}: 'engine' must be an object")
    configured = section.get("socket")
    if configured:
        return SocketLocation(os.path.expanduser(str(configured)), "config")
    return SocketLocation(_default_socket_text(), "default")


def default_abstract_name() -> str:
    """``@docker-secrets-engine/<uid>/daemon.sock``: where Docker's secrets engine client and
    plugin SDK look on Linux (``x/api/defaults_linux.go``), namespaced by uid because the
    abstract namespace is shared by every user of the network namespace."""
    return f"@{SOCKET_DIR_NAME}/{os.getuid()}/daemon.sock"


def abstract_socket_name() -> str | None:
    """The abstract socket the engine also listens on (``@…``), or ``None`` when turned off.

    From ``$DOCKER_PASS_ENGINE_ABSTRACT_SOCKET``, then the config file's
    ``engine.abstract_socket``, then :func:`default_abstract_name`; ``off`` (or ``""`` in the
    config) turns it off.  A name without the leading ``@`` gets one.
    """
    raw: object = os.environ.get(ABSTRACT_ENV)
    if raw is None:
        from docker_pass.core.config import load_config

        section = load_config().get("engine", {})
        raw = section.get("abstract_socket") if isinstance(section, dict) else None
        if raw is None:
            return default_abstract_name()
    text = str(raw).strip()
    if text in ("", "off", "none"):
        return None
    return text if text.startswith("@") else "@" + text


def abstract_address(name: str) -> str:
    """The ``bind``/``connect`` address of abstract socket ``@name``: a leading NUL byte."""
    return "\0" + name.removeprefix("@")


def peer_credentials(sock: socket.socket) -> PeerCredentials:
    """Who is at the other end of a connected Unix socket (Linux SO_PEERCRED)."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
    pid, uid, gid = _PEERCRED.unpack(raw)
    return PeerCredentials(pid, uid, gid)


@contextmanager
def addressable(path: Path | str) -> Iterator[str]:
    """A path to ``bind``/``connect`` that fits in ``sun_path``.

    A deep ``$XDG_CACHE_HOME`` (pytest's temporary folders, home directories on network
    mounts) can make the real path longer than 107 bytes; then the socket's directory is
    opened and named through ``/proc/self/fd/N``, which the kernel resolves like any path.
    """
    text = os.fspath(path)
    if len(os.fsencode(text)) <= _MAX_SUN_PATH:
        yield text
        return
    folder, name = os.path.split(text)
    dir_fd = os.open(folder, os.O_PATH | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{dir_fd}/{name}"
    finally:
        os.close(dir_fd)


def connect_unix(path: Path | str, timeout: float | None) -> socket.socket:
    """A socket connected to the engine at ``path``, checked to be ours (same user or root).

    Raises ``OSError`` (``FileNotFoundError``, ``ConnectionRefusedError`` for a stale socket
    file, ``TimeoutError``) or :class:`PeerRefusedError`.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        with addressable(path) as address:
            sock.connect(address)
        peer = peer_credentials(sock)
    except BaseException:
        sock.close()
        raise
    if not peer.trusted():
        # Someone else's process owns this socket: never send it a request.
        sock.close()
        raise PeerRefusedError(f"the engine socket {path} belongs to another user (uid {peer.uid})")
    return sock


# -- the per-user engine lock ------------------------------------------------------------------


def lock_path() -> Path:
    """The lock a running engine holds (flock), naming its pid and socket: one engine per user."""
    from docker_pass.core.store import xdg_dir

    return xdg_dir("state") / LOCK_FILE


def lock_holder() -> dict[str, object] | None:
    """What the lock says about the engine holding it, or ``None`` when no engine holds it."""
    import fcntl
    import json
    import stat

    try:
        # O_NONBLOCK: a FIFO left in its place must not hang `engine status` (refused below).
        fd = os.open(lock_path(), os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None  # no engine writes its lock there
        os.set_blocking(fd, True)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # held: an engine runs
        else:
            return None
        try:
            doc = json.loads(os.read(fd, 65536) or b"{}")
        except ValueError:
            doc = {}
        return doc if isinstance(doc, dict) else {}
    finally:
        os.close(fd)
