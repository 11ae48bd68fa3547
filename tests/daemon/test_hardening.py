"""The daemon holds every value it serves: no core dump of it, no peeking at it from outside."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import pytest

from docker_pass.core import Pattern
from tests.daemon.engines import start_engine
from tests.support.proc_probe import (
    as_peer,
    core_limits,
    hard_core_limit,
    peer_can_inspect,
    user_core_limit,
)

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="prctl and /proc are Linux's")


def test_the_daemon_is_not_dumpable_and_has_no_core_limit(
    tmp_path: Path, socket_path: Path, snapshot_data: Path
) -> None:
    # Started as a user with a core limit of their own (and no privileges: see proc_probe).
    running = start_engine(tmp_path / "engine.log", prefix=as_peer([], user_core_limit()))
    try:
        with running.client() as client:
            served = client.resolve(Pattern.parse("app/db")).envelopes
        assert [e.value for e in served] == [b"db-secret-1"]  # it still serves, value in memory
        assert core_limits(running.pid) == (0, hard_core_limit())
        assert not peer_can_inspect(running.pid)
        assert running.stop() == 0
    finally:
        running.kill()
