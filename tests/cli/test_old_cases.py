"""The old cases of issue 22 that still failed, through the real executable.

A stale crash of the always-on keychain plugin, a state path that is a directory, an enabled
flag written as a string, a store directory that is a link, a record path that is a
directory, the order of lines when a command fails, and messages that misled.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.support.bounded import assert_plain, run_bounded
from tests.support.helpers import docker_pass


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def state_dir() -> Path:
    return Path(os.environ["XDG_STATE_HOME"]) / "docker-pass"


def config_file() -> Path:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "docker-pass" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def store_root() -> Path:
    return Path(os.environ["XDG_DATA_HOME"]) / "docker-pass" / "store"


def rows(stdout: bytes) -> dict[str, str]:
    return {line.split()[0]: line for line in stdout.decode().splitlines()[1:] if line[:1] != " "}


def last_line(stderr: bytes) -> str:
    return stderr.decode().splitlines()[-1]


# -- a stale crash of the keychain plugin ------------------------------------------------------


@pytest.mark.parametrize("status", ["crashed", "retries-exceeded"])
def test_a_stale_keychain_crash_does_not_block_get_and_run(status: str) -> None:
    assert docker_pass("set", "app/key=v1").returncode == 0
    stale = {"docker-pass": {"status": status, "message": "docker-pass: crashed", "failures": 3}}
    (state_dir() / "plugins.json").write_text(json.dumps(stale))
    # plugins ls shows what was observed, with the remedy...
    listed = docker_pass("plugins", "ls")
    assert status in rows(listed.stdout)["docker-pass"]
    assert "docker pass plugins enable docker-pass" in rows(listed.stdout)["docker-pass"]
    # ...while the verbs that need the keychain try it again, and it answers.
    got = docker_pass("get", "--reveal", "app/key")
    assert (got.returncode, got.stdout, got.stderr) == (0, b"v1", b"")
    ran = docker_pass("run", "--", "sh", "-c", 'printf %s "$K"', env={"K": "se://app/key"})
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, b"v1", b"")
    # The answer is the new observation: the crash is gone for everyone.
    assert "running" in rows(docker_pass("plugins", "ls").stdout)["docker-pass"]


def test_a_configurable_plugins_crash_still_stays_until_enabled(memory_plugin: Path) -> None:
    memory_plugin.write_text(json.dumps({"m/x": "1"}))
    crashed = {"memory": {"status": "crashed", "message": "memory broke", "failures": 0}}
    state_dir().mkdir(parents=True, exist_ok=True)
    (state_dir() / "plugins.json").write_text(json.dumps(crashed))
    got = docker_pass("get", "--plugin", "memory", "m/x")
    assert got.returncode == 1
    assert got.stderr.decode().splitlines() == [
        "Error: plugin memory is crashed: memory broke",
        "Hint: docker pass plugins enable memory",
    ]


# -- the state path ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_state_file_that_is_no_file_is_one_warning_and_run_goes_on(kind: str) -> None:
    assert docker_pass("set", "k=v").returncode == 0
    path = state_dir() / "plugins.json"
    path.unlink()
    if kind == "directory":
        path.mkdir()
        found = "a directory"
    else:
        os.mkfifo(path, 0o600)
        found = "a FIFO (named pipe)"
    ran = run_bounded("run", "--", "sh", "-c", 'printf %s "$K"', env={"K": "se://k"})
    assert (ran.returncode, ran.stdout) == (0, b"v"), ran
    assert ran.stderr.decode() == (
        f"Warning: plugin state ignored: {path} is {found}, not a file; remove it, and "
        "docker-pass records a new one\n"
    )
    got = run_bounded("get", "--reveal", "k")
    assert (got.returncode, got.stdout) == (0, b"v"), got
    if kind == "fifo":
        assert path.is_file()  # run recorded its state in place of the FIFO
        return
    # A failing command: the warning first, its Error: line last.
    missing = run_bounded("get", "no/such")
    assert missing.returncode == 1
    assert missing.stderr.decode().splitlines()[0].startswith("Warning: plugin state ignored")
    assert last_line(missing.stderr) == "Error: secret not found: no/such"


# -- "enabled" written as a string --------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "status"),
    [("false", "disabled"), ("FALSE", "disabled"), (" False ", "disabled"), ("true", "running")],
)
def test_enabled_as_a_string_is_read_as_the_flag(
    memory_plugin: Path, flag: str, status: str
) -> None:
    config_file().write_text(json.dumps({"plugins": {"memory": {"enabled": flag}}}))
    listed = docker_pass("plugins", "ls")
    assert listed.returncode == 0, listed.stderr
    assert rows(listed.stdout)["memory"].split()[2] == status
    doc = {p["name"]: p for p in json.loads(docker_pass("plugins", "ls", "--json").stdout)}
    assert doc["memory"]["enabled"] is (status != "disabled")


@pytest.mark.parametrize("flag", ['"yes"', '"0"', "1", "null"])
def test_another_enabled_value_is_refused_naming_the_fix(flag: str) -> None:
    config_file().write_text('{"plugins": {"vault": {"enabled": ' + flag + "}}}")
    result = docker_pass("ls")
    if flag == "null":  # null is "not set": the default holds
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 1
    line = result.stderr.decode()
    assert line.startswith(f"Error: config {config_file()}: plugins.vault.enabled must be ")
    if flag.startswith('"'):
        assert line.endswith('(write "enabled": true or "enabled": false, without quotes)\n')


# -- the file store's directory ------------------------------------------------------------------


def test_a_linked_store_directory_is_not_written_through(tmp_path: Path) -> None:
    assert docker_pass("set", "first=1").returncode == 0
    elsewhere = tmp_path / "elsewhere"
    store_root().rename(elsewhere)
    store_root().symlink_to(elsewhere)
    before = sorted(p.name for p in elsewhere.iterdir())
    result = docker_pass("set", "second=2")
    assert result.returncode == 1
    assert result.stderr.decode() == (
        f"Error: file store: {store_root()} is a symbolic link (to {elsewhere}); docker-pass "
        "does not write secrets through a link, so it cannot send them somewhere else unseen: "
        f"replace the link with the folder itself (rm {store_root()} && mv {elsewhere} "
        f"{store_root()})\n"
    )
    assert sorted(p.name for p in elsewhere.iterdir()) == before
    assert docker_pass("rm", "first").returncode == 1  # removing is writing too
    # Reading what is there still works; after the fix, writing does too.
    assert docker_pass("get", "--reveal", "first").stdout == b"1"
    store_root().unlink()
    elsewhere.rename(store_root())
    assert docker_pass("set", "second=2").returncode == 0


def record_path(raw_id: str) -> Path:
    return store_root() / f"{hashlib.sha256(raw_id.encode()).hexdigest()}.json"


def test_set_repairs_a_record_path_that_is_an_empty_directory() -> None:
    assert docker_pass("set", "warm=up").returncode == 0
    record_path("db/prod").mkdir()
    got = docker_pass("get", "db/prod")
    assert got.returncode == 1
    assert "is a directory, not a regular file" in got.stderr.decode()
    assert docker_pass("set", "db/prod=fixed").returncode == 0
    assert docker_pass("get", "--reveal", "db/prod").stdout == b"fixed"
    assert record_path("db/prod").is_file()


def test_set_names_a_record_directory_that_holds_files() -> None:
    assert docker_pass("set", "warm=up").returncode == 0
    (record_path("db/prod") / "keep").mkdir(parents=True)
    result = docker_pass("set", "db/prod=x")
    assert result.returncode == 1
    assert last_line(result.stderr) == (
        f"Error: file store: {record_path('db/prod')} is a directory where a file of the store "
        "belongs, and cannot be removed (Directory not empty); move it away, then save again"
    )
    assert (record_path("db/prod") / "keep").is_dir()  # nothing of the person's is removed


# -- the Error: line comes last ------------------------------------------------------------------


def test_a_failed_enable_ends_with_its_error_line(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = docker_pass(
        "plugins", "enable", "1password-cli", env={"PATH": f"{empty}:/usr/bin:/bin"}
    )
    assert result.returncode == 1
    assert result.stdout.startswith(b"1password-cli: crashed (")
    assert last_line(result.stderr) == "Error: plugin 1password-cli did not start: it is crashed"


def test_a_listing_that_nothing_answered_ends_with_its_error_line(memory_plugin: Path) -> None:
    memory_plugin.write_text("not json")  # the plugin fails every request
    result = docker_pass("ls", "--plugin", "memory")
    assert result.returncode == 1
    assert last_line(result.stderr).startswith("Error: ")


# -- messages that misled ------------------------------------------------------------------------


def test_a_read_only_plugin_names_only_writable_plugins_that_are_set_up(tmp_path: Path) -> None:
    fakes = Path(__file__).resolve().parents[1] / "support" / "fakes"
    env = {"DOCKER_PASS_OP_PATH": str(fakes / "op")}
    assert docker_pass("plugins", "enable", "1password-cli", env=env).returncode == 0
    result = docker_pass("set", "--plugin", "1password-cli", "a/b=x", env=env)
    assert result.returncode == 1
    assert result.stderr.decode() == (
        "Error: plugin 1password-cli is read-only: it cannot write secrets (writable plugins: "
        "docker-pass; vault after docker pass plugins setup vault)\n"
    )


def test_the_file_stores_storage_cell_is_words_at_80_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DOCKER_PASS_STORE")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    assert docker_pass("set", "a=1").returncode == 0  # auto decides and records its choice
    listed = docker_pass("plugins", "ls", env={"COLUMNS": "80"})
    assert listed.returncode == 0, listed.stderr
    text = listed.stdout.decode()
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("docker-pass "))
    cell = [lines[start]] + [
        line for line in lines[start + 1 :] if line.startswith(" ")
    ]  # the row and its continuation lines
    assert len(cell) > 1
    assert all(len(line) <= 80 for line in cell), cell
    words = " ".join(line.strip() for line in cell)
    assert "file store ~/.local/share/docker-pass/store" in words
    assert "kept from an earlier run" in words
    assert "recorded in" not in words
    assert_plain(listed.stdout)
