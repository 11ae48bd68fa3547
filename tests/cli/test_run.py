"""`run` driven as a subprocess: references, env files, errors, exit codes, signals, terminals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import EXECUTABLE, docker_pass

if TYPE_CHECKING:
    from collections.abc import Callable

ID_RULE = "^[A-Za-z0-9._:-]+(?:/[A-Za-z0-9._:-]+)*$"
INVALID = "Error: resolving REF: invalid identifier: "
SHOW_ENV = (
    "import os, json; print(json.dumps({k: os.environ.get(k) for k in 'A B C DB MULTI'.split()}))"
)


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def test_reference_resolved_into_the_child() -> None:
    assert docker_pass("set", "gh-token=abc123").returncode == 0
    result = docker_pass(
        "run",
        "--",
        "sh",
        "-c",
        'printf "%s|%s" "$GH" "$PLAIN"',
        env={"GH": "se://gh-token", "PLAIN": "postgres://u:se://x@h"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"abc123|postgres://u:se://x@h"


def test_exit_codes_pass_through() -> None:
    assert docker_pass("run", "--", "true").returncode == 0
    assert docker_pass("run", "--", "sh", "-c", "exit 3").returncode == 3
    assert docker_pass("run", "--", "sh", "-c", "kill -TERM $$").returncode == 143


def test_errors_stop_the_child_from_running(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    cmd = ["run", "--", "sh", "-c", f"touch {marker}"]
    cases = {
        "se://missing": "Error: resolving REF: secret not found: missing\n",
        "se://docker/*": f'{INVALID}"docker/*" must match {ID_RULE} '
        "(* at position 8 is a wildcard: an ID names one secret)\n",
        "se://a//b": f'{INVALID}"a//b" must match {ID_RULE} (component 2 is empty)\n',
    }
    for value, message in cases.items():
        result = docker_pass(*cmd, env={"REF": value})
        assert result.returncode == 1
        assert result.stderr.decode() == message
        assert not marker.exists()


def test_command_that_cannot_start() -> None:
    result = docker_pass("run", "--", "no-such-command-here")
    assert result.returncode == 1
    assert (
        result.stderr == b"Error: starting child: no-such-command-here: No such file or directory\n"
    )


def test_run_needs_a_command() -> None:
    result = docker_pass("run")
    assert result.returncode == 1
    assert b"run needs a command" in result.stderr


def test_env_files_in_order_later_wins(tmp_path: Path) -> None:
    docker_pass("set", "db/password=from-keychain")
    first = tmp_path / "first.env"
    first.write_text("A=one\nB=one\n# a comment\nexport C='quoted value'\n")
    second = tmp_path / "second.env"
    second.write_text('B=two\nDB=se://db/password\nMULTI="x\\ny"\n')
    result = docker_pass(
        "run",
        "--env-file",
        str(first),
        "--env-file",
        str(second),
        "--",
        sys.executable,
        "-c",
        SHOW_ENV,
        env={"A": "from-process"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "A": "one",
        "B": "two",
        "C": "quoted value",
        "DB": "from-keychain",
        "MULTI": "x\ny",
    }


def test_bad_env_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.env"
    result = docker_pass("run", "--env-file", str(missing), "--", "true")
    assert result.returncode == 1
    assert (
        result.stderr == f"Error: reading env-file {missing}: No such file or directory\n".encode()
    )
    broken = tmp_path / "broken.env"
    broken.write_text("GOOD=1\nthis is = not valid\n")
    result = docker_pass("run", "--env-file", str(broken), "--", "true")
    assert result.returncode == 1
    assert result.stderr == f"Error: reading env-file {broken}: cannot parse line 2\n".encode()


def test_binary_value_reaches_the_child_intact() -> None:
    value = bytes(range(1, 256))
    docker_pass("set", "bin/value", input=value)
    result = docker_pass(
        "run",
        "--",
        sys.executable,
        "-c",
        "import os, sys; sys.stdout.buffer.write(os.environb[b'BIN'])",
        env={"BIN": "se://bin/value"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == value


def test_value_with_nul_is_refused() -> None:
    docker_pass("set", "nul/value", input=b"a\0b")
    result = docker_pass("run", "--", "true", env={"N": "se://nul/value"})
    assert result.returncode == 1
    assert b"holds a NUL byte" in result.stderr
    assert b"a\0b" not in result.stderr


def test_two_plugins_answering_the_same_id(memory_plugin: Path) -> None:
    docker_pass("set", "shared/token=from-keychain")
    memory_plugin.write_text(json.dumps({"shared/token": "from-memory", "only/mem": "m"}))
    listed = json.loads(docker_pass("plugins", "ls", "--json").stdout)
    statuses = {p["name"]: p["status"] for p in listed}
    assert statuses["docker-pass"] == statuses["memory"] == "running"
    clash = docker_pass("run", "--", "true", env={"T": "se://shared/token"})
    assert clash.returncode == 1
    assert (
        clash.stderr
        == b"Error: resolving T: 2 secrets matched shared/token (docker-pass, memory)\n"
    )
    ok = docker_pass("run", "--", "sh", "-c", 'printf %s "$M"', env={"M": "se://only/mem"})
    assert ok.stdout == b"m"
    explain = docker_pass("run", "--explain", env={"M": "se://only/mem"})
    assert explain.returncode == 0
    assert explain.stderr == (
        b"M: se://only/mem -> provider memory (asked: docker-pass, memory; "
        b"answered: docker-pass, memory)\n"
    )
    assert b"m" not in explain.stdout


def test_signals_are_forwarded_to_the_childs_group(
    tmp_path: Path, spawn: Callable[..., subprocess.Popen[bytes]]
) -> None:
    pidfile = tmp_path / "child.pid"
    # sh forks sleep (it has work after it), so sleep is docker-pass's grandchild.  The whole
    # tree is reaped at teardown, should an assertion below fail.
    proc = spawn(
        [str(EXECUTABLE), "run", "--", "sh", "-c", f"echo $$ > {pidfile}; sleep 100; echo after"],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    grandchild = None
    while grandchild is None:
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.05)
        if pidfile.exists() and pidfile.read_text().strip():
            sh = pidfile.read_text().strip()
            children = Path(f"/proc/{sh}/task/{sh}/children").read_text().split()
            grandchild = int(children[0]) if children else None
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 130
    assert proc.stdout is not None
    assert b"after" not in proc.stdout.read()
    deadline = time.monotonic() + 10
    while _alive(grandchild):
        assert time.monotonic() < deadline, "the grandchild (sleep) survived the forwarded signal"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = (
        Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}").exists() else "X"
    )
    return state not in ("Z", "X")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_interactive_child_reads_the_terminal(tmp_path: Path) -> None:
    """A child reading the terminal must not be stopped by SIGTTIN (it gets the foreground)."""
    out = tmp_path / "out"
    session = f"dp-run-{os.getpid()}"
    # Written aside, then renamed: the file appears only once it holds the whole line.
    child = f"read line; echo got:\\$line > {out}.part; mv {out}.part {out}"
    script = f'{EXECUTABLE} run -- sh -c "{child}"'
    env = dict(os.environ)
    subprocess.run(
        ["tmux", "-L", session, "new-session", "-d", "-x", "80", "-y", "10", script],
        env=env,
        check=True,
    )
    try:
        # The child has the terminal once it is the pane's foreground process (then it reads).
        deadline = time.monotonic() + 30
        while _pane_command(session) != "sh":
            assert time.monotonic() < deadline, "the child never got the terminal"
            time.sleep(0.05)
        subprocess.run(["tmux", "-L", session, "send-keys", "hello", "Enter"], check=True)
        deadline = time.monotonic() + 15
        while not out.exists():
            assert time.monotonic() < deadline, "the child never read the terminal (SIGTTIN?)"
            time.sleep(0.1)
        assert out.read_text().strip() == "got:hello"
    finally:
        subprocess.run(["tmux", "-L", session, "kill-server"], check=False)


def _pane_command(session: str) -> str:
    """The foreground command of the tmux pane (``""`` while the server is not up)."""
    shown = subprocess.run(
        ["tmux", "-L", session, "display-message", "-p", "#{pane_current_command}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return shown.stdout.strip()
