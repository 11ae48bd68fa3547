"""The executable ends its process as soon as a verb is done (no interpreter finalisation):
nothing it printed is lost, whatever reads it, and the exit status is the verb's."""

from __future__ import annotations

import json
import os
import subprocess
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.engine import Engine
from docker_pass.core.ids import ID
from docker_pass.core.names import KEYCHAIN_PLUGIN
from tests.support.helpers import EXECUTABLE, docker_pass

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def test_a_large_value_reaches_a_pipe_whole() -> None:
    value = os.urandom(3 << 20)  # 3 MiB: many pipe buffers, written before the process ends
    assert docker_pass("set", "big/blob", input=value).returncode == 0
    with subprocess.Popen(
        [str(EXECUTABLE), "get", "--reveal", "big/blob"], stdout=subprocess.PIPE
    ) as child:
        assert child.stdout is not None
        received = child.stdout.read()
    assert child.returncode == 0
    assert received == value


def test_a_long_listing_reaches_a_slow_reader_whole(tmp_path: Path) -> None:
    ids = sorted(f"many/realm{n // 10}/item{n:03d}" for n in range(150))
    note = "n" * 1_000
    with Engine.for_plugin(KEYCHAIN_PLUGIN) as engine:
        for id_ in ids:
            engine.save(ID(id_), b"v", {"note": note})
    # ~150 KB of JSON: more than a pipe holds, read only after a pause.
    out = tmp_path / "out"
    script = f'"{EXECUTABLE}" ls --json | (sleep 0.3; cat > "{out}")'
    done = subprocess.run(["sh", "-c", script], check=False)
    assert done.returncode == 0
    listed = json.loads(out.read_text())
    assert out.stat().st_size > 128 * 1024
    assert [entry["id"] for entry in listed] == ids


def test_the_exit_status_and_the_error_line_are_the_verbs() -> None:
    done = docker_pass("get", "no/such/secret")
    assert done.returncode == 1
    assert done.stderr.decode() == "Error: secret not found: no/such/secret\n"
    assert docker_pass("run", "--", "sh", "-c", "exit 7").returncode == 7


def test_a_reader_that_goes_away_early_is_not_an_error() -> None:
    with Engine.for_plugin(KEYCHAIN_PLUGIN) as engine:
        for n in range(50):
            engine.save(ID(f"head/item{n:02d}"), b"v", {})
    done = subprocess.run(
        ["sh", "-c", f'"{EXECUTABLE}" ls | head -n 1'], capture_output=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout == b"head/item00\n"
    assert done.stderr == b""
