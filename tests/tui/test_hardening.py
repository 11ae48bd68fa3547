"""The real ``docker-pass ui`` (in tmux) is not dumpable once it shows values' names."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.helpers import EXECUTABLE
from tests.support.proc_probe import (
    as_peer,
    core_limits,
    hard_core_limit,
    peer_can_inspect,
    user_core_limit,
)
from tests.tui.tmux_driver import DEADLINE, SESSION, Tmux

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(sys.platform != "linux", reason="prctl and /proc are Linux's"),
]


def test_the_ui_is_not_dumpable_and_has_no_core_limit(tmp_path: Path, isolated_home: Path) -> None:
    env = dict(os.environ)
    env.pop("TMUX", None)
    env["TERM"] = "xterm-256color"
    env["DOCKER_PASS_OP_PATH"] = str(tmp_path / "no-op-here")
    tmux = Tmux(tmp_path / "tmux.sock", env)
    ui = as_peer(
        [str(EXECUTABLE), "ui", "--demo", "--demo-dir", str(tmp_path / "demo")],
        user_core_limit(),
    )
    # exec: the pane's process is docker-pass itself (the launcher execs it too).
    tmux("new-session", "-d", "-s", SESSION, "-x", "100", "-y", "30", "exec " + shlex.join(ui))
    try:
        pid = int(tmux("display-message", "-p", "-t", SESSION, "#{pane_pid}"))
        tmux.wait_for(lambda s: "docker/ 7" in s, "the realm tree")  # the demo store was read
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert argv[1:3] == [str(EXECUTABLE).encode(), b"ui"]
        assert core_limits(pid) == (0, hard_core_limit())
        assert not peer_can_inspect(pid)
        tmux.keys("q")
        deadline = time.monotonic() + DEADLINE
        while Path(f"/proc/{pid}").exists():  # tmux reaps it when it quits
            assert time.monotonic() < deadline, "the UI did not quit"
            time.sleep(0.05)
    finally:
        subprocess.run([*tmux.base, "kill-server"], env=env, capture_output=True, check=False)
