"""`scan` driven as a subprocess against the real file store, on files (the engine's surfaces
are in tests/containers/test_scan.py): findings, JSON, exit codes, min length, help, errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    import subprocess

SECRET = "sk-live-0123456789abcdef"
SHORT = "pin-42"
URLISH = "p@ss word/with+plus"


@pytest.fixture(autouse=True)
def store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    # an engine that is not there: a scan that asks it must say so
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    for key, value in (("api/key", SECRET), ("pin", SHORT), ("db/url-pw", URLISH)):
        done = docker_pass("set", key, input=value.encode())
        assert done.returncode == 0, done.stderr.decode()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "compose.yaml").write_text(
        "services:\n  api:\n    image: busybox\n    env_file: [api.env]\n"
        "    environment:\n      TOKEN: se://api/key\n"
    )
    (root / "api.env").write_text("# api\nMODE=prod\nKEY=" + SECRET + "\n")
    (root / ".env").write_text(
        "PIN=" + SHORT + "\nB64=" + base64.b64encode(SECRET.encode()).decode() + "\n"
    )
    return root


def all_output(done: subprocess.CompletedProcess[bytes]) -> str:
    return done.stdout.decode() + done.stderr.decode()


def test_a_project_with_values_in_its_env_files_fails_and_says_where(project: Path) -> None:
    done = docker_pass("scan", "--no-engine", cwd=project)
    assert done.returncode == 1, done.stderr.decode()
    lines = done.stdout.decode().splitlines()
    assert lines[0].split() == ["SECRET", "PLUGIN", "ENCODING", "WHERE"]
    assert lines[1].split() == ["api/key", "docker-pass", "base64", "file", ".env:2"]
    assert lines[2].split() == ["api/key", "docker-pass", "raw", "file", "api.env:3"]
    assert "2 findings" in lines[-1]
    assert "1 value not searched: shorter than 8 bytes" in lines[-1]
    assert SECRET not in all_output(done)
    assert base64.b64encode(SECRET.encode()).decode()[:12] not in all_output(done)


def test_json_is_one_document_with_every_field_and_never_a_value(project: Path) -> None:
    done = docker_pass("scan", "--no-engine", "--json", cwd=project)
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert [(f["secret"], f["encoding"], f["target"], f["line"]) for f in doc["findings"]] == [
        ("api/key", "base64", ".env", 2),
        ("api/key", "raw", "api.env", 3),
    ]
    assert doc["findings"][1] == {
        "secret": "api/key",
        "plugin": "docker-pass",
        "encoding": "raw",
        "kind": "file",
        "target": "api.env",
        "location": "",
        "line": 3,
        "expected": False,
    }
    assert doc["min_length"] == 8
    assert doc["values_searched"] == 2
    assert doc["skipped"] == [
        {"secret": "pin", "plugin": "docker-pass", "reason": "shorter than 8 bytes"}
    ]
    assert doc["leaks"] == 2
    assert SECRET not in done.stdout.decode()


def test_a_clean_folder_exits_0(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / ".env").write_text("TOKEN=se://api/key\nMODE=dev\n")
    done = docker_pass("scan", "--no-engine", cwd=clean)
    assert done.returncode == 0, all_output(done)
    assert done.stdout.decode().startswith("no value found; searched 2 values")


def test_min_length_and_pattern_choose_what_is_searched(project: Path) -> None:
    done = docker_pass("scan", "--no-engine", "--min-length", "4", "--json", cwd=project)
    doc = json.loads(done.stdout)
    assert ("pin", ".env") in {(f["secret"], f["target"]) for f in doc["findings"]}
    assert doc["skipped"] == []
    done = docker_pass("scan", "--no-engine", "--pattern", "db/**", "--json", cwd=project)
    assert done.returncode == 0
    assert json.loads(done.stdout)["values_searched"] == 1


def test_paths_given_are_searched_instead_and_url_encoding_is_named(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "conf.ini").write_text("url=postgres://u:p%40ss%20word%2Fwith%2Bplus@h\n")
    done = docker_pass("scan", "--no-engine", "--json", str(tmp_path / "dir"))
    findings = json.loads(done.stdout)["findings"]
    assert [(f["secret"], f["encoding"], f["line"]) for f in findings] == [("db/url-pw", "url", 1)]


def test_a_multi_line_key_and_a_dollar_are_found_as_env_and_compose_files_write_them(
    tmp_path: Path,
) -> None:
    key = "-----BEGIN KEY-----\nMIIBOgIBAAJBAK\n-----END KEY-----"
    assert docker_pass("set", "tls/key", input=key.encode()).returncode == 0
    assert docker_pass("set", "db/dollar", input=b"pa$word-9f2c").returncode == 0
    (tmp_path / ".env").write_text('# keys\nPRIVATE_KEY="' + key.replace("\n", "\\n") + '"\n')
    (tmp_path / "compose.yaml").write_text(
        'services:\n  db:\n    environment:\n      PASSWORD: "pa$$word-9f2c"\n'
    )
    done = docker_pass("scan", "--no-engine", "--json", cwd=tmp_path)
    assert done.returncode == 1, all_output(done)
    places = {
        (f["secret"], f["encoding"], Path(f["target"]).name, f["line"])
        for f in json.loads(done.stdout)["findings"]
    }
    assert places == {
        ("tls/key", "escaped", ".env", 2),
        ("db/dollar", "compose", "compose.yaml", 4),
    }
    assert b"MIIBOgIBAAJBAK" not in done.stdout + done.stderr
    assert b"pa$word" not in done.stdout + done.stderr


def test_a_fifo_and_dev_zero_given_are_refused_with_a_line_never_a_hang(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "pipe")
    done = docker_pass("scan", "--no-engine", str(tmp_path / "pipe"), "/dev/zero", timeout=30)
    assert done.returncode == 1
    assert done.stderr.decode().splitlines() == [
        f"Error: {tmp_path / 'pipe'}: not searched: a FIFO (named pipe)",
        "Error: /dev/zero: not searched: a character device",
    ]
    assert done.stdout.decode().startswith("no value found")


def test_an_engine_that_is_not_there_is_one_line_and_exit_1(tmp_path: Path) -> None:
    done = docker_pass("scan", cwd=tmp_path)
    assert done.returncode == 1
    err = done.stderr.decode()
    assert "Error: the Docker engine was not searched completely: cannot reach" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--min-length", "0"], "must be 1 or more"),
        (["--min-length", "x\x1b[2J"], "not a whole number"),
        (["--pattern", "a//b"], "invalid pattern"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_1(args: list[str], message: str) -> None:
    done = docker_pass("scan", "--no-engine", *args)
    assert done.returncode != 0
    assert message in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()
    assert "\x1b" not in done.stderr.decode()


def test_help_has_examples_and_says_what_is_not_searched() -> None:
    done = docker_pass("scan", "--help")
    text = done.stdout.decode()
    assert done.returncode == 0
    for words in ("examples:", "--layers", "--logs", "Not searched:", "Exit status:", "base64"):
        assert words in text


def _position_in(pid: int, path: Path) -> int:
    """How far process ``pid`` has read into ``path`` (0 while it has not opened it)."""
    import os

    fds = f"/proc/{pid}/fd"
    try:
        for fd in os.listdir(fds):
            try:
                if os.readlink(f"{fds}/{fd}") == str(path):
                    with open(f"/proc/{pid}/fdinfo/{fd}") as info:
                        return int(info.readline().split()[1])
            except OSError:
                continue
    except OSError:
        return 0
    return 0


def test_ctrl_c_stops_cleanly_with_exit_130_and_the_findings_so_far(tmp_path: Path) -> None:
    import signal
    import subprocess
    import time

    from tests.support.helpers import EXECUTABLE

    leak = tmp_path / "a-leak.env"
    leak.write_text("KEY=" + SECRET + "\n")
    huge = tmp_path / "b-huge.img"
    with huge.open("wb") as handle:
        handle.truncate(1 << 40)  # sparse: a terabyte of zeros, far more than a test reads
    proc = subprocess.Popen(
        [str(EXECUTABLE), "scan", "--no-engine", str(leak), str(huge)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while _position_in(proc.pid, huge) == 0:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the scan never reached the huge file"
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err.decode()
    assert "Traceback" not in err.decode()
    assert "Error: interrupted; the findings above are those made so far" in err.decode()
    lines = out.decode().splitlines()
    assert lines[1].split() == ["api/key", "docker-pass", "raw", "file", f"{leak}:1"]


def test_the_progress_bar_draws_on_a_terminal_after_a_while_and_never_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io
    import sys

    from docker_pass.cli import scan_render

    monkeypatch.setattr(scan_render, "PROGRESS_AFTER", 0.0)
    quiet = scan_render.TerminalProgress(enabled=False)
    with quiet:
        quiet.start("files", None)
        quiet.advance(100)
    assert quiet._bar is None
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stderr", terminal)
    shown = scan_render.TerminalProgress(enabled=True)
    with shown:
        shown.start("layers", 1000)
        shown.advance(500)
        assert shown._bar is not None
        assert shown._bar.tasks[0].completed == 500
        shown.start("files", None)
        assert [task.description for task in shown._bar.tasks] == ["layers", "files"]
    assert not shown._bar.live.is_started


def test_a_value_on_every_line_lists_the_first_hundred_and_counts_the_rest(
    tmp_path: Path,
) -> None:
    noisy = tmp_path / "noisy.log"
    noisy.write_text(("token=" + SECRET + "\n") * 5000)
    done = docker_pass("scan", "--no-engine", "--json", str(noisy))
    doc = json.loads(done.stdout)
    assert done.returncode == 1
    assert [f["line"] for f in doc["findings"]] == list(range(1, 101))
    assert doc["unlisted"] == 4900
    text = docker_pass("scan", "--no-engine", str(noisy)).stdout.decode()
    assert "; 4900 more in the same places not listed (the first 100 of each are)" in text
