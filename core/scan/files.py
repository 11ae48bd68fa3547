"""Files a scan reads: paths given (a directory is walked), else the current project's Compose
file, its ``.env`` and the env files its services name.

Every file is streamed in chunks through the matcher (bounded memory, any size).  Only regular
files are read: a FIFO, a device (``/dev/zero``), a socket is refused with a line and never
opened for reading (``stat`` first, then ``open`` with ``O_NONBLOCK`` and ``fstat`` again, so a
FIFO swapped in meanwhile cannot block).  A walk follows no symbolic link (a link is either
inside the tree, where its target is read anyway, or leads out of it) and skips version-control
folders (``.git``, ``.hg``, ``.svn``: their objects are compressed, so a value there is not
found as written; scan the working tree instead).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError
from docker_pass.core.regular_files import file_kind

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from docker_pass.core.scan.matcher import Matcher
    from docker_pass.core.scan.report import ScanReport

#: Bytes read per chunk of a file.
CHUNK = 1 << 20
#: Folders a walk does not enter.
SKIPPED_FOLDERS = frozenset({".git", ".hg", ".svn"})

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class ScanInterruptedError(DockerPassError):
    """Raised inside a scan when the person stopped it (the partial report stands)."""


def project_files(directory: Path, report: ScanReport) -> list[Path]:
    """The files ``docker compose`` would read in ``directory``: its Compose files (with the
    override file), every env file their services name, and its ``.env`` (problems reading a
    Compose file are noted in ``report``; none existing is no problem)."""
    from docker_pass.core.docker.compose import (
        ComposeFileError,
        compose_document,
        compose_files,
        env_file_paths,
        project_env_file,
        read_compose_text,
    )

    composes = compose_files(directory)
    found: list[Path] = list(composes)
    for path in composes:
        if not path.is_file():
            continue  # missing, a FIFO, a device: searching it says so, once
        try:
            document = compose_document(path, read_compose_text(path, "Compose file")) or {}
            services = document.get("services")
            for name, service in services.items() if isinstance(services, dict) else ():
                if isinstance(service, dict):
                    where = f"reading Compose file {path}: service {name}"
                    found.extend(env_file_paths(path, service.get("env_file"), where))
        except ComposeFileError as exc:
            report.problems.append(str(exc))
    env_file = project_env_file(directory, composes)
    if env_file is not None:
        found.append(env_file)
    unique: dict[str, Path] = {}
    for path in found:
        unique.setdefault(os.path.normpath(path), path)
    return list(unique.values())


def scan_paths(
    paths: Sequence[Path],
    matcher: Matcher,
    report: ScanReport,
    *,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Search every path (a file, or a directory walked) and add what is found to ``report``."""
    for path in paths:
        try:
            info = os.stat(path)
        except OSError as exc:
            report.problems.append(f"{path}: {exc.strerror or type(exc).__name__}")
            continue
        if stat.S_ISDIR(info.st_mode):
            for file in _walk(path, report):
                scan_file(file, matcher, report, progress=progress)
        else:
            scan_file(path, matcher, report, progress=progress)


def _walk(root: Path, report: ScanReport) -> Iterator[Path]:
    """The regular files under ``root``, in name order; links and special files are noted."""
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(name for name in dirs if name not in SKIPPED_FOLDERS)
        for name in sorted(files):
            path = Path(folder, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue  # gone since the listing
            if stat.S_ISREG(info.st_mode):
                yield path
            elif stat.S_ISLNK(info.st_mode):
                report.count("links not followed")
            else:
                report.notes.append(f"{path}: not searched: {file_kind(info.st_mode)}")


def scan_file(
    path: Path,
    matcher: Matcher,
    report: ScanReport,
    *,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Search one file in chunks, noting findings (with line numbers) in ``report``.

    Anything but a regular file is refused with a line in ``report.problems``."""
    where = os.fspath(path)
    try:
        info = os.stat(where)
        if not stat.S_ISREG(info.st_mode):
            report.problems.append(f"{where}: not searched: {file_kind(info.st_mode)}")
            return
        fd = os.open(where, os.O_RDONLY | os.O_CLOEXEC | _NONBLOCK)
    except OSError as exc:
        report.problems.append(f"{where}: {exc.strerror or type(exc).__name__}")
        return
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # swapped since the stat
            report.problems.append(f"{where}: not searched: {file_kind(opened.st_mode)}")
            return
        os.set_blocking(fd, True)
        chunks = iter(lambda: os.read(fd, CHUNK), b"")
        report.search_lines(chunks, matcher, "file", where, progress=progress)
    except OSError as exc:
        report.problems.append(f"{where}: {exc.strerror or type(exc).__name__}")
    else:
        report.count("file")
    finally:
        os.close(fd)
