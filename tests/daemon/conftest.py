"""Fixtures of the engine daemon tests: file store, a short socket path, a stateful plugin."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.daemon.engines import RunningEngine, install_snapshot_plugin, start_engine

if TYPE_CHECKING:
    from collections.abc import Iterator

SNAPSHOT = {"app/db": "db-secret-1", "app/api": "api-secret-2", "shared/x": "snapshot-x"}


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


@pytest.fixture
def socket_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short socket path (``sun_path`` holds 107 bytes; curl cannot go through /proc)."""
    root = Path(tempfile.mkdtemp(prefix="dpe-", dir="/tmp"))
    path = root / "engine.sock"
    monkeypatch.setenv("DOCKER_PASS_ENGINE_SOCKET", str(path))
    yield path
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def snapshot_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install the ``snapshot`` plugin for this test's processes; returns its data file."""
    for key, value in install_snapshot_plugin(tmp_path / "snapshot", SNAPSHOT).items():
        monkeypatch.setenv(key, value)
    return tmp_path / "snapshot" / "snapshot.json"


@pytest.fixture
def engine(tmp_path: Path, socket_path: Path, snapshot_data: Path) -> Iterator[RunningEngine]:
    """A running daemon with the ``docker-pass`` (file store) and ``snapshot`` plugins."""
    running = start_engine(tmp_path / "engine.log")
    yield running
    running.kill()
