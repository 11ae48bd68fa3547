"""core.private_files: private directories and files, opened without following traps."""

from __future__ import annotations

import os
import re
import stat
import threading
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.errors import DockerPassError, UnsafePathError
from docker_pass.core.private_files import check_owned_by_user, ensure_private_dir, open_private
from tests.support.other_user import OTHER_UID, make_as_other_user

if TYPE_CHECKING:
    from pathlib import Path


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- ensure_private_dir -----------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_missing_dir_and_missing_parents_are_made_0700(tmp_path: Path, umask: int) -> None:
    existing = tmp_path / "existing"
    existing.mkdir(mode=0o755)
    existing.chmod(0o755)
    target = existing / "a" / "b" / "c"
    old = os.umask(umask)
    try:
        ensure_private_dir(target, warn=pytest.fail)
    finally:
        os.umask(old)
    for made in (existing / "a", existing / "a" / "b", target):
        assert mode_of(made) == 0o700, made
    assert mode_of(existing) == 0o755  # a parent that existed is not ours to change


def test_an_open_existing_dir_is_tightened_with_a_warning(tmp_path: Path) -> None:
    target = tmp_path / "store"
    target.mkdir()
    target.chmod(0o755)
    warnings: list[str] = []
    ensure_private_dir(target, warn=warnings.append)
    assert mode_of(target) == 0o700
    assert warnings == [f"{target} was open to other users (mode 0755); made it 0700"]
    ensure_private_dir(target, warn=warnings.append)  # private now: nothing more to say
    assert len(warnings) == 1


def test_an_open_existing_dir_can_be_refused_instead(tmp_path: Path) -> None:
    target = tmp_path / "store"
    target.mkdir()
    target.chmod(0o770)
    with pytest.raises(UnsafePathError, match=r"open to other users \(mode 0770\)") as info:
        ensure_private_dir(target, group_or_world="refuse")
    assert str(target) in str(info.value)
    assert f"chmod 700 {target}" in str(info.value)
    assert mode_of(target) == 0o770  # refused, not changed


def test_the_default_warning_goes_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "store"
    target.mkdir()
    target.chmod(0o711)
    ensure_private_dir(target)
    assert capsys.readouterr().err == (
        f"Warning: {target} was open to other users (mode 0711); made it 0700\n"
    )


def test_a_file_in_the_way_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        ensure_private_dir(tmp_path / "file")
    with pytest.raises(NotADirectoryError):
        ensure_private_dir(tmp_path / "file" / "below")


def test_our_own_link_to_our_dir_is_followed(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    ensure_private_dir(tmp_path / "link", warn=pytest.fail)
    assert mode_of(real) == 0o700


def test_a_dir_of_another_user_is_refused(tmp_path: Path) -> None:
    target = make_as_other_user(tmp_path / "store", directory=True)
    with pytest.raises(UnsafePathError, match=rf"belongs to another user \(uid {OTHER_UID}\)"):
        ensure_private_dir(target, warn=pytest.fail)


def test_a_link_of_another_user_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = make_as_other_user(tmp_path / "link", link_to=real)
    with pytest.raises(UnsafePathError, match=r"symbolic link of another user"):
        ensure_private_dir(link, warn=pytest.fail)


def test_the_error_is_a_docker_pass_error() -> None:
    # The CLI prints it as one "Error: …" line like every error a user can cause.
    assert issubclass(UnsafePathError, DockerPassError)


# -- open_private -----------------------------------------------------------------------------


def test_creates_files_with_their_mode_and_no_inheritance(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        fd = open_private(tmp_path / "new", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    finally:
        os.umask(old)
    try:
        assert not os.get_inheritable(fd)  # O_CLOEXEC: no `run` child gets it
        assert os.get_blocking(fd)  # the O_NONBLOCK used while checking is cleared
    finally:
        os.close(fd)
    assert mode_of(tmp_path / "new") == 0o600


def test_a_symbolic_link_is_refused_naming_it(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("elsewhere")
    link = tmp_path / "link"
    link.symlink_to(target)
    for flags in (os.O_RDONLY, os.O_RDWR | os.O_CREAT):
        with pytest.raises(UnsafePathError, match="is a symbolic link") as info:
            open_private(link, flags)
        assert str(link) in str(info.value)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(UnsafePathError, match="is a symbolic link"):
        open_private(dangling, os.O_WRONLY | os.O_CREAT)
    assert not (tmp_path / "nowhere").exists()  # nothing was written through the link
    assert target.read_text() == "elsewhere"


def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            open_private(fifo, os.O_RDONLY)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "opening a FIFO blocked"
    (error,) = outcome
    assert isinstance(error, UnsafePathError)
    assert "not a regular file" in str(error)


def test_a_file_others_can_write_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "shared"
    path.write_text("x")
    path.chmod(0o620)
    with pytest.raises(UnsafePathError, match=r"writable by other users \(mode 0620\)"):
        open_private(path, os.O_RDONLY)


def test_a_file_of_another_user_is_refused(tmp_path: Path) -> None:
    path = make_as_other_user(tmp_path / "theirs", content=b"planted")
    with pytest.raises(UnsafePathError, match=re.escape(f"{path} belongs to another user")):
        open_private(path, os.O_RDONLY)


def test_a_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_private(tmp_path / "missing", os.O_RDONLY)


# -- check_owned_by_user ----------------------------------------------------------------------


def test_our_private_file_and_dir_pass(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{}")
    path.chmod(0o644)  # readable by others is fine, as for ssh's config
    assert check_owned_by_user(path).st_size == 2
    assert stat.S_ISDIR(check_owned_by_user(tmp_path).st_mode)


@pytest.mark.parametrize("mode", [0o666, 0o664, 0o646])
def test_writable_by_group_or_others_is_refused_like_ssh(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "config.json"
    path.write_text("{}")
    path.chmod(mode)
    with pytest.raises(UnsafePathError, match=f"mode {mode:04o}") as info:
        check_owned_by_user(path)
    assert f"chmod go-w {path}" in str(info.value)


def test_a_world_writable_dir_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(UnsafePathError, match="writable by other users"):
        check_owned_by_user(shared)


def test_a_file_and_a_dir_of_another_user_are_refused(tmp_path: Path) -> None:
    path = make_as_other_user(tmp_path / "config.json", content=b'{"op": "/tmp/evil"}')
    with pytest.raises(UnsafePathError, match=rf"belongs to another user \(uid {OTHER_UID}\)"):
        check_owned_by_user(path)
    directory = make_as_other_user(tmp_path / "config-dir", directory=True)
    with pytest.raises(UnsafePathError, match=re.escape(f"{directory} belongs to another user")):
        check_owned_by_user(directory)


def test_links_are_judged_by_their_owner_and_their_target(tmp_path: Path) -> None:
    ours = tmp_path / "real.json"
    ours.write_text("{}")
    (tmp_path / "our-link").symlink_to(ours)
    assert check_owned_by_user(tmp_path / "our-link").st_ino == ours.stat().st_ino
    link = make_as_other_user(tmp_path / "their-link", link_to=ours)
    with pytest.raises(UnsafePathError, match="symbolic link of another user"):
        check_owned_by_user(link)


def test_a_missing_path_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        check_owned_by_user(tmp_path / "missing")
