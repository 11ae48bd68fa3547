"""Hardening items 10 and 5 (store side) through the real executable, on the file store.

A damaged record blocks nothing: ``ls``, ``rm --all`` and ``run`` go on with a ``Warning: …``
line on stderr naming what they skipped; ``get`` of that ID is a one-line error; ``rm`` of that
ID removes it.  The store directory and its parents are private, and links or files of another
user in it are refused.
"""

from __future__ import annotations

import hashlib
import os
import stat
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import docker_pass
from tests.support.other_user import make_as_other_user
from tests.support.store_damage import damage

if TYPE_CHECKING:
    from pathlib import Path

CHILD_PRINTS = ("run", "--", "sh", "-c", 'printf "%s" "$REF"')


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    monkeypatch.delenv("DOCKER_PASS_FILE_PASSPHRASE", raising=False)


def store_dir(home: Path) -> Path:
    return home / ".local/share/docker-pass/store"


def record_path(home: Path, raw_id: str) -> Path:
    return store_dir(home) / f"{hashlib.sha256(raw_id.encode()).hexdigest()}.json"


def value_path(home: Path, raw_id: str) -> Path:
    (path,) = store_dir(home).glob(f"{hashlib.sha256(raw_id.encode()).hexdigest()}.*.age")
    return path


def ok(*args: str, env: dict[str, str] | None = None) -> tuple[bytes, bytes]:
    result = docker_pass(*args, env=env)
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    return result.stdout, result.stderr


def one_error_line(*args: str, env: dict[str, str] | None = None) -> str:
    result = docker_pass(*args, env=env)
    assert result.returncode == 1, (result.stdout, result.stderr)
    text = result.stderr.decode()
    assert text.startswith("Error: ")
    assert text.count("\n") == 1, text
    return text


def seed() -> None:
    for pair in ("good=fine", "bad=spoilt", "other/x=3"):
        ok("set", pair)


def files_of(home: Path, raw_id: str) -> list[Path]:
    stem = hashlib.sha256(raw_id.encode()).hexdigest()
    return [p for p in store_dir(home).iterdir() if p.name.startswith(stem)]


@pytest.mark.parametrize("kind", ["empty", "truncated", "foreign", "symlink", "other-user"])
def test_a_damaged_record_blocks_nothing(isolated_home: Path, tmp_path: Path, kind: str) -> None:
    seed()
    record = record_path(isolated_home, "bad")
    damage(record, kind, tmp_path)

    out, err = ok("ls")
    assert out == b"good\nother/x\n"
    warning = err.decode()
    assert warning.startswith(f"Warning: file store: skipped: {record}")
    assert warning.count("\n") == 1

    error = one_error_line("get", "bad")
    assert error.startswith("Error: file store: ")
    assert str(record) in error

    # run: a reference to a healthy secret resolves; one to the damaged secret fails the run.
    out, err = ok(*CHILD_PRINTS, env={"REF": "se://good"})
    assert (out, err) == (b"fine", b"")
    refused = docker_pass(*CHILD_PRINTS, env={"REF": "se://bad"})
    assert refused.returncode == 1
    assert refused.stdout == b""  # the child never ran
    assert str(record).encode() in refused.stderr

    out, err = ok("rm", "bad")
    assert out == b"RM: bad\n"
    assert files_of(isolated_home, "bad") == []
    assert ok("ls") == (b"good\nother/x\n", b"")


def test_rm_all_goes_on_past_a_damaged_record(isolated_home: Path, tmp_path: Path) -> None:
    seed()
    record = record_path(isolated_home, "bad")
    damage(record, "truncated", tmp_path)
    out, err = ok("rm", "--all", "-y")
    assert out == b"RM: good\nRM: other/x\n"
    assert err.decode().startswith(f"Warning: file store: skipped: {record} is damaged")
    # Its ID is unknown, so only `rm ID` can name it; then it is gone too.
    assert record.exists()
    assert ok("rm", "bad") == (b"RM: bad\n", b"")
    # Left: the lock, and the listing index's directory (the deletes dropped the index).
    assert {p.name for p in store_dir(isolated_home).iterdir()} == {".lock", ".index"}
    assert list((store_dir(isolated_home) / ".index").iterdir()) == []


@pytest.mark.parametrize("kind", ["empty", "truncated", "foreign", "symlink", "missing"])
def test_a_damaged_value_file_blocks_nothing(
    isolated_home: Path, tmp_path: Path, kind: str
) -> None:
    seed()
    value_file = value_path(isolated_home, "bad")
    damage(value_file, kind, tmp_path)

    assert ok("ls") == (b"bad\ngood\nother/x\n", b"")  # listing reads records only
    error = one_error_line("get", "--reveal", "bad")
    assert "bad" in error
    assert str(value_file) in error
    assert "spoilt" not in error

    out, err = ok(*CHILD_PRINTS, env={"REF": "se://other/x"})
    assert (out, err) == (b"3", b"")
    refused = docker_pass(*CHILD_PRINTS, env={"REF": "se://bad"})
    assert refused.returncode == 1
    assert refused.stdout == b""

    out, err = ok("rm", "--all", "-y")
    assert out == b"RM: bad\nRM: good\nRM: other/x\n"
    # Left: the lock, and the listing index's directory (the deletes dropped the index).
    assert {p.name for p in store_dir(isolated_home).iterdir()} == {".lock", ".index"}
    assert list((store_dir(isolated_home) / ".index").iterdir()) == []


def test_a_fresh_store_and_its_parents_are_private(isolated_home: Path) -> None:
    old = os.umask(0o022)
    try:
        ok("set", "a=1")
    finally:
        os.umask(old)
    data = isolated_home / ".local/share/docker-pass"
    for made in (isolated_home / ".local", isolated_home / ".local/share", data, data / "store"):
        assert stat.S_IMODE(made.stat().st_mode) == 0o700, made
    for made in (data / "identity.txt", *store_dir(isolated_home).iterdir()):
        assert stat.S_IMODE(made.stat().st_mode) == 0o600, made


def test_an_open_store_dir_is_tightened_with_a_warning(isolated_home: Path) -> None:
    root = store_dir(isolated_home)
    root.parent.mkdir(parents=True, mode=0o700)
    root.mkdir()
    root.chmod(0o755)
    _out, err = ok("set", "a=1")
    assert err == f"Warning: {root} was open to other users (mode 0755); made it 0700\n".encode()
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert ok("ls") == (b"a\n", b"")


def test_a_store_dir_of_another_user_is_refused(isolated_home: Path) -> None:
    root = store_dir(isolated_home)
    root.parent.mkdir(parents=True, mode=0o700)
    make_as_other_user(root, directory=True)
    error = one_error_line("set", "a=1")
    assert error == (
        f"Error: file store: {root} belongs to another user (uid 65534); docker-pass keeps its "
        "files only in directories of your own\n"
    )


def test_a_symlinked_identity_file_is_refused(isolated_home: Path, tmp_path: Path) -> None:
    ok("set", "a=1")
    identity = isolated_home / ".local/share/docker-pass/identity.txt"
    moved = tmp_path / "moved-identity.txt"
    identity.rename(moved)
    identity.symlink_to(moved)
    error = one_error_line("get", "--reveal", "a")
    assert error == (
        f"Error: file store: refusing the age identity: {identity} is a symbolic link; "
        "docker-pass does not follow links to its private files (replace the link with the "
        "file itself)\n"
    )


def test_an_identity_file_of_another_user_is_refused(isolated_home: Path) -> None:
    ok("set", "a=1")
    identity = isolated_home / ".local/share/docker-pass/identity.txt"
    content = identity.read_bytes()
    identity.unlink()
    make_as_other_user(identity, content=content)
    error = one_error_line("get", "--reveal", "a")
    assert f"{identity} belongs to another user (uid 65534)" in error
