"""Reading the file ``import`` rewrites, its backup, and the atomic replace.

The file is read through the one gate (:func:`~docker_pass.core.regular_files.read_regular_file`:
a regular file, not a FIFO or device, under the size limit) and a symbolic link is refused:
replacing it would replace the link, not the file it points to.  The backup holds the old,
plain values: it is created 0600 from the start, beside the file, never over an existing file.
The new text replaces the file atomically (a temporary file in the same folder, fsync,
``rename``), with the file's mode; if the file changed since it was read, nothing is written.
Both the backup and the new file keep the file's owner and group where we may set them (root
importing a user's file leaves it, and its backup, that user's).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["BACKUP_SUFFIX", "ImportFileError", "read_text", "replace_file", "write_backup"]

#: The backup is ``FILE.docker-pass-backup``, or ``…-backup.1``, ``.2`` … when that exists.
BACKUP_SUFFIX = ".docker-pass-backup"
_MAX_BACKUPS = 1000


class ImportFileError(DockerPassError):
    """Raised when the file to import cannot be read, backed up or replaced (the message names
    the path and says whether it was changed)."""


def read_text(path: Path, what: str) -> bytes:
    """The bytes of ``path``, a regular file that is not a symbolic link."""
    from docker_pass.core.regular_files import FileReadError, read_regular_file

    if path.is_symlink():
        raise ImportFileError(
            f"{path} is a symbolic link: import the file it points to ({os.path.realpath(path)}),"
            " so the link stays a link"
        )
    try:
        return read_regular_file(path, what, follow_links=False)
    except FileReadError as exc:
        raise ImportFileError(str(exc)) from None


def write_backup(path: Path, old: bytes) -> Path:
    """Back ``old`` (what ``path`` holds) up beside it, 0600; the backup's path.

    Made before anything is stored, so a folder that cannot take it stops the import at once.
    Refuses when ``path`` no longer holds ``old``."""
    _unchanged(path, old)
    backup = _write_new(path, BACKUP_SUFFIX, old, 0o600)
    _same_owner(backup, os.stat(path, follow_symlinks=False))
    return backup


def replace_file(path: Path, old: bytes, new: bytes) -> None:
    """Put ``new`` in the place of ``path`` atomically, with its mode; refuses, changing
    nothing, when ``path`` no longer holds ``old``."""
    _unchanged(path, old)
    status = os.stat(path, follow_symlinks=False)
    mode = status.st_mode & 0o7777
    temporary = _write_new(path, f".docker-pass-{os.getpid()}.tmp", new, mode)
    try:
        _same_owner(temporary, status)
        os.chmod(temporary, mode)  # the file's own mode, whatever the umask (or chown) took
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ImportFileError(f"replacing {path}: {exc.strerror}; it is unchanged") from None


def _same_owner(made: Path, status: os.stat_result) -> None:
    """Give ``made`` the owner and group of the file it stands beside, when we may."""
    if (status.st_uid, status.st_gid) == (os.geteuid(), os.getegid()):
        return
    try:
        os.chown(made, status.st_uid, status.st_gid, follow_symlinks=False)
    except OSError:  # not root (or an ID this system cannot set): the file is ours, as any
        return  # editor's rewrite would be


def _unchanged(path: Path, old: bytes) -> None:
    if read_text(path, "file") != old:
        raise ImportFileError(f"{path} changed while it was imported: it was not rewritten")


def _write_new(path: Path, suffix: str, data: bytes, mode: int) -> Path:
    """A new file beside ``path`` named ``path`` + ``suffix`` (then ``.1``, ``.2`` …) holding
    ``data``, created with ``mode`` and never over an existing file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    for number in range(_MAX_BACKUPS):
        target = path.with_name(path.name + suffix + (f".{number}" if number else ""))
        try:
            fd = os.open(target, flags, mode)
        except FileExistsError:
            continue
        except OSError as exc:
            raise ImportFileError(
                f"writing {target}: {exc.strerror}; {path} is unchanged"
            ) from None
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            target.unlink(missing_ok=True)
            raise ImportFileError(
                f"writing {target}: {exc.strerror}; {path} is unchanged"
            ) from None
        os.close(fd)
        return target
    raise ImportFileError(f"{path}{suffix}: too many backups beside it; {path} is unchanged")
