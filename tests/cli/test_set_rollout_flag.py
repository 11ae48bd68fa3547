"""``set -y`` without ``--rollout`` is a usage error (nothing is written): ``-y`` answers the
rollout's question, and ``set`` alone never asks."""

from __future__ import annotations

import pytest

from tests.support.helpers import docker_pass


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


@pytest.mark.parametrize("flag", ["-y", "--yes"])
def test_yes_without_rollout_is_refused_and_nothing_is_written(flag: str) -> None:
    result = docker_pass("set", flag, "app/key", input=b"value-1")
    assert result.returncode == 1
    assert result.stderr.decode() == "Error: -y/--yes goes with --rollout (set itself never asks)\n"
    assert docker_pass("ls").stdout.decode() == ""
