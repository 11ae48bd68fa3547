"""The embedded engine (no daemon): a plugin that hangs, drips or never starts costs a
command its deadline, and the other plugins' answers still arrive.

``laggard`` (:mod:`tests.support.laggard_plugin`, installed through its entry point) never
answers about ``…/hang/…`` and drips for ``…/drip/…``; the real vault plugin is pointed at a
server that sends one byte every 0.1 s for ever (the issue's case: ``get`` and ``ls --plugin
vault`` never ended).  Every plugin's deadline is :data:`DEADLINE`
(``$DOCKER_PASS_PLUGIN_TIMEOUT``).  Each test asserts its bound: no sooner than the deadline,
within it plus :data:`MARGIN`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from docker_pass.core.config import config_path
from docker_pass.core.engine import Engine
from docker_pass.core.plugin_calls import TIMEOUT_ENV
from docker_pass.core.setup import secret_id
from tests.support.helpers import docker_pass
from tests.support.laggard_plugin import DripServer, LaggardCalls, install_laggard_plugin

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Iterator

DEADLINE = 1.0
MARGIN = 4.0


def late(plugin: str) -> str:
    return f"plugin {plugin} did not answer within {DEADLINE:g} s"


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


@pytest.fixture
def drip() -> Iterator[DripServer]:
    server = DripServer()
    yield server
    server.close()


@pytest.fixture
def laggard(tmp_path: Path, drip: DripServer, monkeypatch: pytest.MonkeyPatch) -> LaggardCalls:
    env = install_laggard_plugin(tmp_path / "laggard", drip)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv(TIMEOUT_ENV, str(DEADLINE))
    return LaggardCalls(Path(env["LAGGARD_LOG"]))


def timed(*args: str, env: dict[str, str] | None = None) -> tuple[float, Any]:
    started = time.monotonic()
    done: subprocess.CompletedProcess[bytes] = docker_pass(*args, env=env, timeout=60)
    return time.monotonic() - started, done


def in_bound(elapsed: float) -> bool:
    return DEADLINE <= elapsed < DEADLINE + MARGIN


@pytest.mark.parametrize("kind", ["hang", "drip"])
def test_get_and_ls_of_a_slow_plugin_end_at_the_deadline(
    laggard: LaggardCalls, drip: DripServer, kind: str
) -> None:
    for verb in (["get", f"slow/{kind}/x"], ["ls", f"slow/{kind}/**"]):
        elapsed, done = timed(*verb, "--plugin", "laggard")
        assert in_bound(elapsed), (verb, elapsed)
        assert (done.returncode, done.stdout) == (1, b"")
        assert done.stderr.decode() == f"Error: {late('laggard')}\n"
    assert len(laggard.entered()) == 2  # each command asked it once
    if kind == "drip":
        assert drip.connections == 2  # and it was being answered, a byte at a time


def test_the_other_plugins_answer_while_one_hangs(laggard: LaggardCalls) -> None:
    assert docker_pass("set", "slow/hang/kept=keychain-value").returncode == 0
    elapsed, listed = timed("ls", "--all-plugins", "slow/hang/**")
    assert in_bound(elapsed), elapsed
    assert (listed.returncode, listed.stdout) == (0, b"slow/hang/kept\n")
    assert listed.stderr.decode() == f"Warning: plugin laggard: {late('laggard')}\n"

    # `run`: a reference the keychain answers works; one only the hung plugin serves fails.
    elapsed, ran = timed(
        "run", "--", "sh", "-c", 'printf %s "$K"', env={"K": "se://slow/hang/kept"}
    )
    assert in_bound(elapsed), elapsed
    assert (ran.returncode, ran.stdout) == (0, b"keychain-value"), ran.stderr
    elapsed, ran = timed("run", "--", "true", env={"K": "se://slow/hang/other"})
    assert in_bound(elapsed), elapsed
    assert ran.returncode == 1
    assert ran.stderr.decode() == f"Error: resolving K: laggard: {late('laggard')}\n"


def test_writes_to_a_hung_plugin_end_at_the_deadline(laggard: LaggardCalls) -> None:
    elapsed, saved = timed("set", "--plugin", "laggard", "slow/hang/x=value")
    assert in_bound(elapsed), elapsed
    assert saved.returncode == 1
    assert saved.stderr.decode() == f"Error: {late('laggard')}\n"
    assert b"value" not in saved.stderr
    elapsed, removed = timed("rm", "--plugin", "laggard", "slow/hang/x")
    assert in_bound(elapsed), elapsed
    assert removed.returncode == 1
    assert removed.stdout.decode() == f"ERR: slow/hang/x: {late('laggard')}\n"


def test_a_start_that_hangs_ends_at_the_deadline(laggard: LaggardCalls) -> None:
    elapsed, done = timed("get", "--plugin", "laggard", "slow/ok", env={"LAGGARD_START": "hang"})
    assert in_bound(elapsed), elapsed
    assert done.stderr.decode() == f"Error: {late('laggard')}\n"
    assert laggard.entered() == ["hang/start"]
    # Slow is not broken: nothing is recorded, and the next command starts it afresh.
    got = docker_pass("get", "--reveal", "--plugin", "laggard", "slow/ok")
    assert (got.returncode, got.stdout) == (0, b"laggard-ok"), got.stderr


def test_the_vault_plugin_against_a_server_that_drips(
    drip: DripServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, str(DEADLINE))
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"plugins": {"vault": {"address": drip.url, "enabled": True}}}))
    with Engine.for_plugin("docker-pass") as keychain:
        keychain.save(secret_id("vault", "token"), b"not-a-real-token", {})
    for verb in (["get", "app/db"], ["ls", "app/**"]):
        elapsed, done = timed(*verb, "--plugin", "vault")
        assert in_bound(elapsed), (verb, elapsed)
        assert done.returncode == 1
        assert done.stderr.decode() == f"Error: {late('vault')}\n"
        assert b"not-a-real-token" not in done.stderr
    assert drip.connections >= 2
