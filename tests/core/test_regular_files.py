"""read_regular_file: only a regular file, only up to its limit, never a hang."""

from __future__ import annotations

import os
import socket
import threading
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.regular_files import (
    FILE_LIMIT,
    FileReadError,
    describe_size,
    read_open_file,
    read_regular_file,
)

if TYPE_CHECKING:
    from pathlib import Path

#: How long a read may take here before it counts as a hang (a loaded machine, not our speed).
HANG = 10.0


def read_in_thread(path: Path, **kwargs: object) -> BaseException | bytes:
    """What reading ``path`` gave, from a thread; fails the test if it does not end (a hang)."""
    outcome: list[BaseException | bytes] = []

    def read() -> None:
        try:
            outcome.append(read_regular_file(path, "env-file", **kwargs))  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(HANG)
    if worker.is_alive():
        # Unblock it (a writer opens the FIFO) so no thread is left behind, then fail.
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        worker.join(HANG)
        pytest.fail(f"reading {path} blocked")
    return outcome[0]


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "a.env"
    path.write_bytes(b"A=1\n" * 1000)
    assert read_regular_file(path) == b"A=1\n" * 1000


def test_a_file_at_the_limit_is_read_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_regular_file(path, limit=100) == b"x" * 100
    path.write_bytes(b"x" * 101)
    with pytest.raises(FileReadError) as caught:
        read_regular_file(path, "env-file", limit=100)
    assert str(caught.value) == (
        f"reading env-file {path}: is larger than 100 bytes, the limit for an env-file"
    )


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.env"
    os.mkfifo(fifo)
    outcome = read_in_thread(fifo)
    assert isinstance(outcome, FileReadError)
    assert str(outcome) == f"reading env-file {fifo}: is a FIFO (named pipe), not a regular file"
    assert not outcome.missing


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_link_to_a_device_is_refused_without_reading(tmp_path: Path, device: str) -> None:
    link = tmp_path / ".env"
    link.symlink_to(device)
    outcome = read_in_thread(link)
    assert isinstance(outcome, FileReadError)
    assert outcome.reason == "is a character device, not a regular file"


def test_a_directory_and_a_socket_say_what_they_are(tmp_path: Path) -> None:
    with pytest.raises(FileReadError, match=r": is a directory$"):
        read_regular_file(tmp_path)
    where = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(where))
        with pytest.raises(FileReadError, match=r": is a socket, not a regular file$"):
            read_regular_file(where)
    finally:
        server.close()


def test_a_huge_file_is_refused_before_a_byte_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "compose.yaml"
    with huge.open("wb") as handle:
        handle.truncate(120 << 20)  # sparse: 120 MiB that cost no disk
    with pytest.raises(FileReadError) as caught:
        read_regular_file(huge, "Compose file")
    assert caught.value.reason == "is larger than 8 MiB, the limit for a Compose file"
    assert FILE_LIMIT == 8 << 20


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileReadError) as caught:
        read_regular_file(tmp_path / "nope.env", "env-file")
    assert caught.value.missing
    missing = tmp_path / "nope.env"
    assert str(caught.value) == f"reading env-file {missing}: No such file or directory"


def test_without_following_links_a_link_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_text("x")
    link = tmp_path / "link"
    link.symlink_to(real)
    assert read_regular_file(link) == b"x"
    with pytest.raises(FileReadError, match="is a symbolic link"):
        read_regular_file(link, follow_links=False)


def test_an_open_file_that_says_it_is_empty_is_still_bounded(tmp_path: Path) -> None:
    """/proc files report size 0; what is read is bounded all the same."""
    fd = os.open("/proc/self/status", os.O_RDONLY)
    try:
        assert b"Pid:" in read_open_file(fd, "/proc/self/status", "status")
    finally:
        os.close(fd)
    fd = os.open("/proc/self/status", os.O_RDONLY)
    try:
        with pytest.raises(FileReadError, match="is larger than 10 bytes"):
            read_open_file(fd, "/proc/self/status", "status", limit=10)
    finally:
        os.close(fd)


def test_sizes_are_named_in_words() -> None:
    assert [describe_size(n) for n in (8 << 20, 64 << 10, 1 << 30, 100, 1500)] == [
        "8 MiB",
        "64 KiB",
        "1 GiB",
        "100 bytes",
        "1500 bytes",
    ]
