"""Config and state files are refused when another user owns or can write them, as ssh does,
and the folders docker-pass creates for them are private, parents included."""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from pathlib import Path

OTHER_UID = 65534  # nobody


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def config_file(home: Path) -> Path:
    path = home / ".config" / "docker-pass" / "config.json"
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_text('{"plugins": {"1password-cli": {"enabled": true}}}')
    return path


def test_a_config_file_others_can_write_is_refused(isolated_home: Path) -> None:
    path = config_file(isolated_home)
    path.chmod(0o666)
    result = docker_pass("plugins", "ls")
    assert result.returncode == 1
    assert (
        result.stderr
        == (
            f"Error: {path} is writable by other users (mode 0666); refusing to use it "
            f"(chmod go-w {path})\n"
        ).encode()
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_config_file_of_another_user_is_refused(isolated_home: Path) -> None:
    path = config_file(isolated_home)
    os.chown(path, OTHER_UID, OTHER_UID)
    result = docker_pass("ls")
    assert result.returncode == 1
    assert f"Error: {path} belongs to another user (uid {OTHER_UID})".encode() in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_config_folder_of_another_user_is_refused(isolated_home: Path) -> None:
    path = config_file(isolated_home)
    os.chown(path.parent, OTHER_UID, OTHER_UID)
    result = docker_pass("plugins", "ls")
    assert result.returncode == 1
    assert f"Error: {path.parent} belongs to another user".encode() in result.stderr


def test_a_config_link_of_our_own_is_followed(isolated_home: Path, tmp_path: Path) -> None:
    # Dotfiles managers link config files; a link of ours to a file of ours is fine.
    real = tmp_path / "dotfiles-config.json"
    real.write_text('{"storage": "file"}')
    link = isolated_home / ".config" / "docker-pass" / "config.json"
    link.parent.mkdir(parents=True, mode=0o700)
    link.symlink_to(real)
    result = docker_pass("ls")
    assert result.returncode == 0, result.stderr


def test_a_state_file_that_is_a_link_is_refused(isolated_home: Path, tmp_path: Path) -> None:
    assert docker_pass("set", "a=1").returncode == 0
    state = isolated_home / ".local" / "state" / "docker-pass" / "plugins.json"
    target = tmp_path / "elsewhere.json"
    target.write_text(state.read_text())
    state.unlink()
    state.symlink_to(target)
    result = docker_pass("get", "a")
    assert result.returncode == 1
    assert f"Error: {state} is a symbolic link".encode() in result.stderr


def test_state_and_config_folders_are_made_private_parents_included(isolated_home: Path) -> None:
    old = os.umask(0o022)
    try:
        assert docker_pass("set", "a=1").returncode == 0
        assert docker_pass("plugins", "disable", "1password-cli").returncode == 0
    finally:
        os.umask(old)
    for made in (
        isolated_home / ".local",
        isolated_home / ".local" / "state",
        isolated_home / ".local" / "state" / "docker-pass",
        isolated_home / ".config",
        isolated_home / ".config" / "docker-pass",
    ):
        assert stat.S_IMODE(made.stat().st_mode) == 0o700, made
