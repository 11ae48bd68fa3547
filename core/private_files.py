"""Files and directories only the person running docker-pass may touch, opened without traps.

docker-pass keeps secrets, keys, locks, settings and state in files under the XDG directories.
A file there that is a symbolic link, that belongs to another user, or that other users can
write is a trap: it can send a write somewhere else, or feed us data (or, for the config, a
command to run) that someone else chose.  These helpers refuse such files with a one-line
:class:`~docker_pass.core.errors.UnsafePathError` that names the path, as ssh refuses a
``~/.ssh/config`` with bad owner or permissions:

- :func:`ensure_private_dir`: create a directory (and its missing parents) 0700, or check an
  existing one is ours and private, tightening it (with a warning) or refusing it.
- :func:`open_private`: ``os.open`` that never follows a symbolic link and refuses anything but
  a regular file of ours that nobody else can write.
- :func:`check_owned_by_user`: the ssh rule for a path: owned by us (or root), writable by
  nobody else.

Standard library only: the store and the config are on every command's path.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from typing import TYPE_CHECKING, Literal

from docker_pass.core.errors import UnsafePathError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

__all__ = [
    "check_owned_by_user",
    "ensure_private_dir",
    "open_private",
    "print_warning",
]

# O_NONBLOCK: opening a FIFO someone left in our place must not hang the command; the check
# after opening refuses it.  It changes nothing for regular files and is cleared again.
_ALWAYS = os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
# Errors ``open(O_NOFOLLOW)`` gives for a symbolic link: ELOOP on Linux, EMLINK on FreeBSD.
_LINK_ERRNOS = frozenset({errno.ELOOP, errno.EMLINK})


def print_warning(message: str) -> None:
    """Tell the person about a problem that does not stop the command: ``Warning: …`` on stderr.

    The default destination of the ``warn`` callbacks of this module and of the file store.
    (Under the TUI, Textual captures stderr; fronts that want to show warnings pass their own.)
    """
    print(f"Warning: {message}", file=sys.stderr, flush=True)


def ensure_private_dir(
    path: str | Path,
    *,
    group_or_world: Literal["tighten", "refuse"] = "tighten",
    warn: Callable[[str], None] = print_warning,
) -> None:
    """Make ``path`` a directory of ours that no other user can enter.

    - Missing: it is created, and so is every missing parent, each with mode 0700 (``mkdir``
      applies the mode itself; the umask can only narrow it).  Parents that exist already are
      left as they are.
    - Existing: it must be a directory owned by us; a symbolic link to one is followed only
      when the link itself is ours (or root's).  If group or others have any access, it is
      made ``u``-only (through the open directory, so no link can be swapped in) and ``warn``
      is told, or with ``group_or_world="refuse"`` it is refused.

    Raises :class:`UnsafePathError` for a directory of another user, a foreign link, or (when
    refusing) an open mode; ``NotADirectoryError`` and other ``OSError`` as ``os`` raises them.
    """
    where = os.fspath(path)
    _make_missing(where)
    link = os.lstat(where)
    _check_link_owner(where, link)
    fd = os.open(where, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid():
            raise UnsafePathError(
                f"{where} belongs to another user (uid {info.st_uid}); docker-pass keeps its "
                "files only in directories of your own"
            )
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            if group_or_world == "refuse":
                raise UnsafePathError(
                    f"{where} is open to other users (mode {mode:04o}); "
                    f"make it private with: chmod 700 {where}"
                )
            os.fchmod(fd, mode & 0o700)
            warn(f"{where} was open to other users (mode {mode:04o}); made it {mode & 0o700:04o}")
    finally:
        os.close(fd)


def open_private(path: str | Path, flags: int, mode: int = 0o600) -> int:
    """``os.open(path, flags, mode)`` for a private file: the file descriptor, or a refusal.

    Adds ``O_NOFOLLOW`` and ``O_CLOEXEC`` (no ``run`` child inherits the descriptor).  Refuses,
    with :class:`UnsafePathError` naming the path, a symbolic link in the last component, and
    anything that is not a regular file owned by us (or root) that group and others cannot
    write.  A file ``O_CREAT`` makes is created with ``mode`` from the start, never ``chmod``ed.
    Other failures raise ``OSError`` (``FileNotFoundError`` for a missing file).
    """
    try:
        fd = os.open(path, flags | _ALWAYS, mode)
    except OSError as exc:
        if exc.errno in _LINK_ERRNOS and _is_link(path):
            raise UnsafePathError(
                f"{os.fspath(path)} is a symbolic link; docker-pass does not follow links to "
                "its private files (replace the link with the file itself)"
            ) from None
        raise
    try:
        _check_regular_file(os.fspath(path), os.fstat(fd))
        if not flags & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_owned_by_user(path: str | Path) -> os.stat_result:
    """Refuse ``path`` (a file or a directory) unless we may trust what it holds, as ssh does.

    It must be owned by us or by root, and group and others must not be able to write it.  A
    symbolic link is judged by its target, and only followed when the link itself belongs to
    us or to root.  Returns the target's ``stat``; raises :class:`UnsafePathError` naming the
    path, or ``FileNotFoundError`` when there is nothing there.

    Check the file and the directory holding it: a directory others can write lets them
    replace the file.
    """
    where = os.fspath(path)
    info = os.lstat(where)
    if stat.S_ISLNK(info.st_mode):
        _check_link_owner(where, info)
        info = os.stat(where)
    _check_owner_and_mode(where, info)
    return info


# -- helpers ----------------------------------------------------------------------------------


def _trusted_owners() -> frozenset[int]:
    # Like ssh: files of root are trusted too (root could change ours anyway).
    return frozenset({os.geteuid(), 0})


def _check_link_owner(where: str, info: os.stat_result) -> None:
    """Refuse a symbolic link (``lstat`` in ``info``) that is neither ours nor root's."""
    if stat.S_ISLNK(info.st_mode) and info.st_uid not in _trusted_owners():
        raise UnsafePathError(
            f"{where} is a symbolic link of another user (uid {info.st_uid}); refusing to follow it"
        )


def _check_regular_file(where: str, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        from docker_pass.core.regular_files import file_kind

        raise UnsafePathError(
            f"{where} is {file_kind(info.st_mode)}, not a regular file; refusing to use it"
        )
    _check_owner_and_mode(where, info)


def _check_owner_and_mode(where: str, info: os.stat_result) -> None:
    if info.st_uid not in _trusted_owners():
        raise UnsafePathError(
            f"{where} belongs to another user (uid {info.st_uid}); refusing to use it"
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        raise UnsafePathError(
            f"{where} is writable by other users (mode {mode:04o}); refusing to use it "
            f"(chmod go-w {where})"
        )


def _make_missing(where: str) -> None:
    """Create ``where`` and each missing parent with mode 0700, top-down."""
    missing: list[str] = []
    current = where
    while not os.path.lexists(current):
        missing.append(current)
        parent = os.path.dirname(current.rstrip(os.sep)) or os.curdir
        if parent == current:
            break
        current = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            continue  # another process made it meanwhile; the checks below still apply
    if not os.path.isdir(where):
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", where)


def _is_link(path: str | Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False
