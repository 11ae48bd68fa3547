"""Reading a file we parse: only a regular file, only up to a size limit — the one gate.

Every file docker-pass reads and parses (env files, Compose files, the config file, the plugin
state, the storage choice, the file store's records and identity, the daemon's lock) comes from
a path someone else may have chosen.  A FIFO there blocks a plain ``open`` forever; a link to
``/dev/zero`` or ``/dev/urandom`` never ends; a 120 MiB file fills memory before a parser says
a word.  :func:`read_regular_file` refuses each with one :class:`FileReadError` that names the
path and what it found (a directory, a FIFO, a device, a socket) or the limit:

- the path is ``stat``-ed first, so a device or FIFO is refused without being opened;
- it is then opened with ``O_NONBLOCK`` (a FIFO swapped in meanwhile cannot block the open) and
  ``fstat``-ed, and refused unless it is a regular file no larger than ``limit``;
- at most ``limit + 1`` bytes are read (a file that grows while we read is refused too).

Standard library only, and nothing imported that ``get`` would not load anyway.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["FILE_LIMIT", "FileReadError", "describe_size", "file_kind", "read_regular_file"]

#: The largest file docker-pass parses unless a reader says otherwise: far more than any env
#: file, Compose file or setting a person writes, far less than what would strain memory.
FILE_LIMIT = 8 * 1024 * 1024

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CHUNK = 1 << 16


class FileReadError(DockerPassError):
    """Raised when a file to read is missing, is not a regular file (a directory, a FIFO, a
    device, a socket), is larger than its limit, or cannot be read.

    The message is ``reading WHAT PATH: REASON``; ``reason`` alone (``is a directory``,
    ``is a FIFO (named pipe), not a regular file``, ``is larger than 8 MiB, the limit for an
    env-file``, ``No such file or directory``) lets a caller phrase its own, and ``missing``
    tells "nothing there" from every other problem.
    """

    def __init__(self, path: str | Path, what: str, reason: str, *, missing: bool = False):
        self.path = os.fspath(path)
        self.what = what
        self.reason = reason
        self.missing = missing
        super().__init__(f"reading {what} {self.path}: {reason}")


def file_kind(mode: int) -> str:
    """What a ``st_mode`` that is not a regular file is, in words (``a FIFO (named pipe)``)."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file" if not stat.S_ISREG(mode) else "a regular file"


def describe_size(size: int) -> str:
    """``8 MiB``, ``64 KiB``, ``100 bytes``: a limit as a message names it."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def _not_regular(mode: int) -> str:
    kind = file_kind(mode)
    if kind == "a directory":
        return "is a directory"
    return f"is {kind}, not a regular file" if kind.startswith("a") else f"is {kind}"


def _too_large(limit: int, what: str) -> str:
    article = "an" if what[:1].lower() in "aeiou" else "a"
    return f"is larger than {describe_size(limit)}, the limit for {article} {what}"


def read_regular_file(
    path: str | Path,
    what: str = "file",
    *,
    limit: int = FILE_LIMIT,
    follow_links: bool = True,
) -> bytes:
    """The bytes of ``path`` when it is a regular file of at most ``limit`` bytes.

    ``what`` names the file in messages (``env-file``, ``Compose file``, ``config``).  Without
    ``follow_links`` a symbolic link in the last component is refused (``O_NOFOLLOW``).
    Raises :class:`FileReadError` for anything else, never blocks on a FIFO and never reads
    more than ``limit + 1`` bytes.
    """
    where = os.fspath(path)
    try:
        info = os.stat(where) if follow_links else os.lstat(where)
    except FileNotFoundError as exc:
        raise FileReadError(where, what, exc.strerror or "not found", missing=True) from None
    except OSError as exc:
        raise FileReadError(where, what, exc.strerror or type(exc).__name__) from None
    _check(info, where, what, limit)
    flags = os.O_RDONLY | os.O_CLOEXEC | _NONBLOCK | (0 if follow_links else _NOFOLLOW)
    try:
        fd = os.open(where, flags)
    except FileNotFoundError as exc:  # removed since the stat
        raise FileReadError(where, what, exc.strerror or "not found", missing=True) from None
    except OSError as exc:
        raise FileReadError(where, what, exc.strerror or type(exc).__name__) from None
    try:
        return read_open_file(fd, where, what, limit=limit)
    finally:
        os.close(fd)


def read_open_file(fd: int, path: str | Path, what: str, *, limit: int = FILE_LIMIT) -> bytes:
    """The bytes of the open file ``fd`` (named ``path`` in messages), by the rules of
    :func:`read_regular_file`; for a caller that opened it itself (``open_private``)."""
    where = os.fspath(path)
    try:
        info = os.fstat(fd)
        _check(info, where, what, limit)
        if _NONBLOCK and not os.get_blocking(fd):
            os.set_blocking(fd, True)  # a regular file: blocking reads are what we want
        # One read for a file that is not growing (its size and one byte more, which a short
        # read proves is the end); /proc-like files that say 0 are read on in chunks.
        chunks: list[bytes] = []
        total = 0
        want = min(info.st_size, limit) + 1
        while total <= limit:
            chunk = os.read(fd, want)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            want = min(_CHUNK, limit + 1 - total)
    except OSError as exc:
        raise FileReadError(where, what, exc.strerror or type(exc).__name__) from None
    if total > limit:
        raise FileReadError(where, what, _too_large(limit, what))  # it grew while we read
    return b"".join(chunks)


def _check(info: os.stat_result, where: str, what: str, limit: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise FileReadError(where, what, _not_regular(info.st_mode))
    if info.st_size > limit:
        raise FileReadError(where, what, _too_large(limit, what))
