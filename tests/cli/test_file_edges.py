"""`check`, `run --env-file` and every file we parse read only regular files under 8 MiB.

Driven through the real executable: a FIFO, a link to /dev/zero or /dev/urandom, a directory
or a 120 MiB file is one ``Error:`` line naming the path and what it found (or the limit), in
bounded time and memory, never a hang or ``internal error (MemoryError)``.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import pytest

from tests.support.bounded import assert_plain, run_bounded

if TYPE_CHECKING:
    from pathlib import Path

#: Far less than the 120 MiB file would take to read: the process never holds it.
MEMORY_BOUND_KIB = 100 * 1024
HUGE = 120 << 20


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


def sparse(path: Path, size: int = HUGE, head: bytes = b"") -> Path:
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(size)  # costs no disk
    return path


def one_error(result: object, expected: str) -> None:
    from tests.support.bounded import BoundedRun

    assert isinstance(result, BoundedRun)
    assert result.returncode == 1, result
    assert result.stderr.decode() == f"Error: {expected}\n", result
    assert result.max_rss_kib < MEMORY_BOUND_KIB, result
    assert_plain(result.stdout, result.stderr)


@pytest.mark.parametrize("verb", ["check", "run"])
def test_a_fifo_env_file_is_an_error_not_a_hang(project: Path, verb: str) -> None:
    os.mkfifo(project / "app.env")
    if verb == "check":
        result = run_bounded("check", "app.env")
        one_error(result, "reading app.env: is a FIFO (named pipe), not a regular file")
    else:
        result = run_bounded("run", "--env-file", "app.env", "--", "true")
        one_error(result, "reading env-file app.env: is a FIFO (named pipe), not a regular file")


def test_a_fifo_named_by_env_file_in_compose_is_an_error(project: Path) -> None:
    (project / "compose.yaml").write_text(
        "services:\n  api:\n    image: busybox\n    env_file: [secrets.env]\n"
    )
    os.mkfifo(project / "secrets.env")
    result = run_bounded("check")
    one_error(result, "reading secrets.env: is a FIFO (named pipe), not a regular file")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_dotenv_linked_to_a_device_is_an_error(project: Path, device: str) -> None:
    (project / ".env").symlink_to(device)
    # check's default files include .env: what is there is read, and says what it is.
    one_error(run_bounded("check"), "reading .env: is a character device, not a regular file")
    one_error(
        run_bounded("check", ".env"), "reading .env: is a character device, not a regular file"
    )
    one_error(
        run_bounded("run", "--env-file", ".env", "--", "true"),
        "reading env-file .env: is a character device, not a regular file",
    )


def test_a_120_mib_compose_file_names_the_limit(project: Path) -> None:
    sparse(project / "compose.yaml", head=b"services: {}\n")
    result = run_bounded("check")
    one_error(result, "reading compose.yaml: is larger than 8 MiB, the limit for a Compose file")
    sparse(project / "big.env", head=b"A=se://a\n")
    one_error(
        run_bounded("run", "--env-file", "big.env", "--", "true"),
        "reading env-file big.env: is larger than 8 MiB, the limit for an env-file",
    )
    one_error(
        run_bounded("check", "big.env"),
        "reading big.env: is larger than 8 MiB, the limit for an env-file",
    )


def test_a_file_under_the_limit_is_still_read(project: Path) -> None:
    (project / "ok.env").write_bytes(b"# " + b"x" * (7 << 20) + b"\nPLAIN=1\n")
    result = run_bounded("run", "--env-file", "ok.env", "--", "sh", "-c", 'printf %s "$PLAIN"')
    assert (result.returncode, result.stdout) == (0, b"1"), result


def test_a_directory_env_file_says_so(project: Path) -> None:
    (project / "conf.env").mkdir()
    one_error(
        run_bounded("run", "--env-file", "conf.env", "--", "true"),
        "reading env-file conf.env: is a directory",
    )


@pytest.mark.parametrize(
    "line",
    [b"'A=B'=x", b"'=A'=se://a", b"'A=B'", b"export 'A=B'=x"],
    ids=["quoted", "leading", "bare", "export"],
)
def test_a_name_with_an_equals_sign_is_one_error_line(project: Path, line: bytes) -> None:
    (project / "odd.env").write_bytes(b"OK=1\n" + line + b"\n")
    expected = (
        "reading env-file odd.env: line 2 names a variable with '=' in its name, "
        "which an environment variable cannot have"
    )
    one_error(run_bounded("run", "--env-file", "odd.env", "--", "true"), expected)
    one_error(run_bounded("check", "odd.env"), expected)


def test_a_config_file_that_is_a_fifo_is_an_error_not_a_hang(isolated_home: Path) -> None:
    config = isolated_home / ".config" / "docker-pass"
    config.mkdir(parents=True, mode=0o700)
    os.mkfifo(config / "config.json", 0o600)
    for verb in (("ls",), ("plugins", "ls"), ("run", "--", "true")):
        result = run_bounded(*verb, env={"K": "se://k"})
        one_error(
            result,
            f"reading config {config / 'config.json'}: is a FIFO (named pipe), not a regular file",
        )


def test_a_huge_config_file_names_the_limit(isolated_home: Path) -> None:
    config = isolated_home / ".config" / "docker-pass"
    config.mkdir(parents=True, mode=0o700)
    sparse(config / "config.json", head=b'{"storage": "file"}')
    one_error(
        run_bounded("ls"),
        f"reading config {config / 'config.json'}: is larger than 8 MiB, the limit for a config",
    )


@pytest.mark.parametrize("kind", ["fifo", "huge", "device"])
def test_a_storage_choice_that_is_no_file_is_decided_afresh(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.delenv("DOCKER_PASS_STORE")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    state = isolated_home / ".local" / "state" / "docker-pass"
    state.mkdir(parents=True, mode=0o700)
    choice = state / "storage-choice"
    if kind == "fifo":
        os.mkfifo(choice, 0o600)
    elif kind == "huge":
        sparse(choice, head=b"file\n")
    else:
        choice.symlink_to("/dev/zero")
    result = run_bounded("plugins", "ls", "--json")
    assert result.returncode == 0, result
    assert result.max_rss_kib < MEMORY_BOUND_KIB, result
    (keychain,) = [p for p in json.loads(result.stdout) if p["name"] == "docker-pass"]
    assert keychain["storage"].startswith("file store ")
