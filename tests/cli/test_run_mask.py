"""`run --mask` driven as a subprocess: values concealed in stdout and stderr, split writes,
exit codes, the DOCKER_PASS_MASK default."""

from __future__ import annotations

import base64
import os
import select
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import EXECUTABLE, docker_pass

if TYPE_CHECKING:
    from pathlib import Path

VALUE = "s3cr3t-value-0123456789"
MARKER = "<concealed by docker-pass>"
DEADLINE = 30.0


@pytest.fixture(autouse=True)
def stored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    monkeypatch.delenv("DOCKER_PASS_MASK", raising=False)
    assert docker_pass("set", f"app/token={VALUE}").returncode == 0


def test_values_and_their_base64_are_concealed_in_stdout_and_stderr() -> None:
    b64 = base64.b64encode(VALUE.encode()).decode()
    script = f'echo "out $T end"; echo "err $T" >&2; echo "{b64}"; echo plain'
    result = docker_pass("run", "--mask", "--", "sh", "-c", script, env={"T": "se://app/token"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == f"out {MARKER} end\n{MARKER}\nplain\n"
    assert result.stderr.decode() == f"err {MARKER}\n"


def test_without_mask_run_is_unchanged() -> None:
    result = docker_pass("run", "--", "sh", "-c", 'echo "$T"', env={"T": "se://app/token"})
    assert result.stdout.decode() == f"{VALUE}\n"


def test_the_environment_sets_the_default_and_the_flags_win() -> None:
    script = ["--", "sh", "-c", 'echo "$T"']
    env = {"T": "se://app/token", "DOCKER_PASS_MASK": "1"}
    assert docker_pass("run", *script, env=env).stdout.decode() == f"{MARKER}\n"
    assert docker_pass("run", "--no-mask", *script, env=env).stdout.decode() == f"{VALUE}\n"
    env["DOCKER_PASS_MASK"] = "0"
    assert docker_pass("run", *script, env=env).stdout.decode() == f"{VALUE}\n"
    assert docker_pass("run", "--mask", *script, env=env).stdout.decode() == f"{MARKER}\n"
    env["DOCKER_PASS_MASK"] = "maybe"
    refused = docker_pass("run", *script, env=env)
    assert refused.returncode == 1
    assert refused.stderr.decode().startswith("Error: DOCKER_PASS_MASK must be 1 or 0")
    assert b"maybe" not in refused.stdout


def test_exit_codes_and_signals_pass_through() -> None:
    env = {"T": "se://app/token"}
    assert docker_pass("run", "--mask", "--", "sh", "-c", "exit 7", env=env).returncode == 7
    killed = docker_pass("run", "--mask", "--", "sh", "-c", "kill -TERM $$", env=env)
    assert killed.returncode == 143


def test_a_value_printed_in_two_halves_with_a_pause_is_still_masked(tmp_path: Path) -> None:
    ready, go = tmp_path / "ready", tmp_path / "go"
    half = len(VALUE) // 2
    child = (
        "import os, sys, time\n"
        "v = os.environ['T']\n"
        f"sys.stdout.write('before ' + v[:{half}]); sys.stdout.flush()\n"
        f"open({str(ready)!r}, 'w').close()\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.01)\n"
        f"sys.stdout.write(v[{half}:] + ' after\\n'); sys.stdout.flush()\n"
    )
    env = dict(os.environ, T="se://app/token")
    with subprocess.Popen(
        [str(EXECUTABLE), "run", "--mask", "--", sys.executable, "-c", child],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as proc:
        assert proc.stdout is not None
        seen = b""
        deadline = time.monotonic() + DEADLINE
        # The text before the value comes out at once; the half that could begin it does not.
        while b"before " not in seen or not ready.exists():
            assert time.monotonic() < deadline, seen
            readable, _, _ = select.select([proc.stdout], [], [], 0.1)
            if readable:
                seen += os.read(proc.stdout.fileno(), 4096)
        assert seen == b"before "
        go.touch()
        rest = proc.stdout.read()
        assert proc.wait(timeout=DEADLINE) == 0
    assert (seen + rest).decode() == f"before {MARKER} after\n"


def test_a_closed_reader_does_not_hang_run() -> None:
    script = f'i=0; while [ $i -lt 20000 ]; do echo "$T {"x" * 40}"; i=$((i+1)); done'
    env = dict(os.environ, T="se://app/token")
    with subprocess.Popen(
        [str(EXECUTABLE), "run", "--mask", "--", "sh", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    ) as proc:
        assert proc.stdout is not None
        first = proc.stdout.read(100)
        proc.stdout.close()
        proc.wait(timeout=DEADLINE)
    assert VALUE.encode() not in first
    assert first.startswith(MARKER.encode())
