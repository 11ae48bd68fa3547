"""Load and faults: many clients at once, and the daemon killed in the middle of them."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docker_pass.core import ID, Pattern
from docker_pass.core.engine import Engine
from tests.daemon.conftest import SNAPSHOT
from tests.daemon.engines import RunningEngine, start_engine
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from collections.abc import Callable

    Spawn = Callable[..., subprocess.Popen[str]]

ROOT = Path(__file__).resolve().parents[2]
KEYCHAIN = {f"kc/item{i:02d}": f"keychain-value-{i}" for i in range(10)}


def write_ids(path: Path, secrets: dict[str, str]) -> Path:
    """The workers' expectations: IDs with the SHA-256 of their values (no values in argv)."""
    path.write_text(
        json.dumps([[k, hashlib.sha256(v.encode()).hexdigest()] for k, v in secrets.items()])
    )
    return path


def store_keychain_secrets() -> None:
    with Engine.for_plugin("docker-pass") as engine:
        for id_, value in KEYCHAIN.items():
            engine.save(ID.parse(id_), value.encode(), {})


def workers(
    spawn: Spawn,
    mode: str,
    count: int,
    threads: int,
    calls: int,
    ids: Path,
    pause: float = 0.0,
) -> list[subprocess.Popen[str]]:
    """``count`` load workers, each reaped at teardown (the ``spawn`` fixture)."""
    return [
        spawn(
            [
                sys.executable,
                "-m",
                "tests.daemon.load_worker",
                f"--mode={mode}",
                f"--threads={threads}",
                f"--calls={calls}",
                f"--ids={ids}",
                f"--pause={pause}",
            ],
            cwd=ROOT,
            env=dict(os.environ),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]


def go(procs: list[subprocess.Popen[str]]) -> None:
    """Wait until every worker is set up, then start them all at once."""
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()


def results(procs: list[subprocess.Popen[str]], timeout: float = 120) -> list[dict[str, Any]]:
    out = []
    for proc in procs:
        stdout, _ = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, stdout
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def test_500_concurrent_get_secrets(engine: RunningEngine, tmp_path: Path, spawn: Spawn) -> None:
    store_keychain_secrets()
    ids = write_ids(tmp_path / "ids.json", {**KEYCHAIN, "app/db": SNAPSHOT["app/db"]})
    # 5 processes x 100 threads, every call in flight at once.
    procs = workers(spawn, "daemon", 5, threads=100, calls=1, ids=ids)
    go(procs)
    done = results(procs)
    assert [r["errors"] for r in done] == [{}] * 5
    assert [(r["ok"], r["wrong"]) for r in done] == [(100, 0)] * 5
    with engine.client() as client:
        served = client.info().requests["/resolver.v1.ResolverService/GetSecrets"]
    assert served == 500


def test_killed_mid_load_then_restarted(
    engine: RunningEngine, tmp_path: Path, isolated_home: Path, spawn: Spawn
) -> None:
    store_keychain_secrets()
    # A choice made through the daemon, to find again after the crash.
    assert docker_pass("plugins", "disable", "1password-cli").returncode == 0
    secrets = {**KEYCHAIN, "app/db": SNAPSHOT["app/db"], "app/api": SNAPSHOT["app/api"]}
    ids = write_ids(tmp_path / "ids.json", secrets)
    # Commands that fall back, and raw clients that must fail cleanly.
    falling_back = workers(spawn, "fallback", 3, threads=10, calls=12, ids=ids, pause=0.05)
    raw = workers(spawn, "daemon", 1, threads=10, calls=12, ids=ids, pause=0.05)
    go(falling_back + raw)
    time.sleep(0.3)
    engine.kill()
    fallback_results = results(falling_back)
    (raw_result,) = results(raw)

    # Every command got every value right, some through the daemon and some after it died.
    assert [r["errors"] for r in fallback_results] == [{}] * 3
    assert [(r["ok"], r["wrong"]) for r in fallback_results] == [(120, 0)] * 3
    assert sum(r["fell_back"] for r in fallback_results) > 0
    # The raw clients: right answers until the kill, then only clean "unavailable" errors.
    assert raw_result["wrong"] == 0
    assert raw_result["ok"] > 0
    assert set(raw_result["errors"]) == {"DaemonUnavailableError"}
    assert raw_result["ok"] + sum(raw_result["errors"].values()) == 120

    # Restart: nothing was lost, neither secrets nor plugin state.
    again = start_engine(tmp_path / "again.log")
    try:
        with again.client() as client:
            for id_, value in secrets.items():
                (envelope,) = client.resolve_all(Pattern.parse(id_))
                assert envelope.value == value.encode()
            statuses = {s.name: s.status for s in client.plugins()}
        assert statuses["docker-pass"] == "running"
        assert statuses["snapshot"] == "running"
        assert statuses["1password-cli"] == "disabled"
    finally:
        again.kill()
    config = json.loads((isolated_home / ".config/docker-pass/config.json").read_text())
    assert config["plugins"]["1password-cli"] == {"enabled": False}
    # The state file was never left half-written.
    json.loads((isolated_home / ".local/state/docker-pass/plugins.json").read_text())
