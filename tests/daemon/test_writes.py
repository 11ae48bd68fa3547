"""Writes through the daemon: `set` and `rm` from the CLI, consistent for every later read."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from docker_pass.core import ID
from docker_pass.core.remote.client import DaemonError
from docker_pass.core.remote.front import DaemonOrEmbedded
from docker_pass.core.remote.wire import UNIMPLEMENTED
from tests.daemon.upstream_wire import UpstreamWireClient
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from tests.daemon.engines import RunningEngine

SAVE_SECRET = "/dockerpass.v1.SecretsService/SaveSecret"
REMOVE_SECRETS = "/dockerpass.v1.SecretsService/RemoveSecrets"


def requests(engine: RunningEngine) -> dict[str, int]:
    with engine.client() as client:
        return client.info().requests


def test_set_and_rm_go_through_the_daemon(engine: RunningEngine, address: str) -> None:
    result = docker_pass("set", "team/db=pw-0451", "--metadata", "owner=alice")
    assert result.returncode == 0, result.stderr
    assert requests(engine).get(SAVE_SECRET) == 1
    # The next read from any client sees it, with its metadata: upstream's client here.
    with UpstreamWireClient(address) as upstream:
        (env,) = upstream.get_secrets("team/db").envelopes
        assert (env.value, env.provider, dict(env.metadata)) == (
            b"pw-0451",
            "docker-pass",
            {"owner": "alice"},
        )
        listed = json.loads(docker_pass("ls", "--json").stdout)
        assert {"team/db"} <= {s["id"] for s in listed}
        removed = docker_pass("rm", "team/db")
        assert removed.returncode == 0, removed.stderr
        assert requests(engine).get(REMOVE_SECRETS) == 1
        with pytest.raises(Exception, match="not_found"):
            upstream.get_secrets("team/db")
    log = engine.log()
    assert "saved team/db in docker-pass" in log
    assert "remove team/db from docker-pass: removed" in log
    assert "pw-0451" not in log


def test_errors_through_the_daemon_read_as_without_it(engine: RunningEngine) -> None:
    via_daemon = docker_pass("set", "app/x=v", "--plugin", "snapshot")
    embedded = docker_pass("--no-daemon", "set", "app/x=v", "--plugin", "snapshot")
    assert via_daemon.returncode == embedded.returncode == 1
    assert b"read-only" in via_daemon.stderr
    assert via_daemon.stderr == embedded.stderr
    assert requests(engine).get(SAVE_SECRET) == 1


@pytest.fixture
def address() -> str:
    import os

    return os.environ["DOCKER_PASS_ENGINE_ABSTRACT_SOCKET"]


class _OldDaemon:
    """A daemon from before the write RPCs: writes answer ``unimplemented``."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def save(self, *args: object, **kwargs: object) -> object:
        self.calls.append("save")
        raise DaemonError(UNIMPLEMENTED, "no such service")

    def close(self) -> None:
        pass


def test_an_older_daemon_leaves_writes_to_an_embedded_engine() -> None:
    old = _OldDaemon()
    front = DaemonOrEmbedded(old)  # type: ignore[arg-type]
    try:
        saved = front.save(ID("old/daemon"), b"v", {})
        assert (saved.provider, saved.replaced) == ("docker-pass", False)
        front.save(ID("old/daemon"), b"w", {})
        assert old.calls == ["save"]  # asked once, then remembered
    finally:
        front.close()
    from docker_pass.core.engine import Engine

    with Engine.for_plugin("docker-pass") as engine:
        assert engine.get(ID("old/daemon")).value == b"w"
