"""The real ``docker-pass ui`` in tmux follows the daemon's change feed (issue 24, item 1).

A daemon runs on a private socket; the UI, at 80x24 and 120x35, says ``daemon`` in its header;
another process writes the store directly (no daemon for it to talk to), then through the
daemon; each secret appears in the tree without a key pressed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.daemon.engines import start_engine
from tests.support.helpers import EXECUTABLE
from tests.tui.tmux_driver import SIZES, launch_ui, requires_tmux, size_id

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = requires_tmux


@pytest.fixture
def private_socket(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The daemon's socket in a short private folder (``sun_path`` is short), no abstract
    socket (other tests' daemons may hold the user's)."""
    root = Path(tempfile.mkdtemp(prefix="dpt-", dir="/tmp"))
    monkeypatch.setenv("DOCKER_PASS_ENGINE_SOCKET", str(root / "engine.sock"))
    monkeypatch.setenv("DOCKER_PASS_ENGINE_ABSTRACT_SOCKET", "off")
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    yield root / "engine.sock"
    shutil.rmtree(root, ignore_errors=True)


def cli(*args: str, socket: Path | None) -> None:
    """``docker-pass`` in another process: through the daemon at ``socket``, or (``None``)
    writing the store itself."""
    env = dict(os.environ)
    if socket is None:
        env["DOCKER_PASS_ENGINE_SOCKET"] = "/nonexistent/engine.sock"
    subprocess.run(
        [str(EXECUTABLE), *args],
        input=b"typed elsewhere",
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_the_ui_with_the_daemon_shows_another_process_write(
    tmp_path: Path, private_socket: Path, size: tuple[int, int]
) -> None:
    cli("set", "keep", socket=None)
    engine = start_engine(tmp_path / "engine.log")
    try:
        with launch_ui(tmp_path, size=size, arguments=["ui"], env=dict(os.environ)) as tmux:
            tmux.wait_for(lambda s: "daemon" in s and "keep" in s, "the tree through the daemon")
            cli("set", "daemon1", socket=None)
            tmux.wait_for(lambda s: "daemon1" in s, "the direct write in the tree")
            cli("set", "daemon2", socket=private_socket)
            screen = tmux.wait_for(lambda s: "daemon2" in s, "the daemon's write in the tree")
            assert "may be stale" not in screen
            assert "typed elsewhere" not in screen
    finally:
        engine.kill()
    assert "typed elsewhere" not in engine.log()
