"""What the external plugin tests share: the plugins they run, the plugins directory, and
waiting for the engine to see what a plugin did.

Two plugins: Docker's own ``fixed-plugin`` (built with the upstream SDK; found through
``$DOCKER_PASS_TEST_FIXED_PLUGIN``, default ``/work/shared/upstream-sdk/fixed-plugin``; its
tests skip, saying so, where it is absent) and ``tests/support/sdk_plugin.py``, our Python
program speaking the same protocol (rightly, or wrongly on purpose), so CI without Go runs
registration, GetSecrets and launch end to end.

Tests wait for conditions (:func:`wait_for`), never for time.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from docker_pass.core.state import RunState, load_run_states
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from collections.abc import Callable

FIXED_ENV = "DOCKER_PASS_TEST_FIXED_PLUGIN"
FIXED_DEFAULT = "/work/shared/upstream-sdk/fixed-plugin"
SDK_PLUGIN = Path(__file__).resolve().parents[2] / "support" / "sdk_plugin.py"
#: A bound on waiting for a condition (a hang fails the test), not a speed figure.
WAIT_BOUND = 30.0


def fixed_plugin() -> Path:
    """Docker's ``fixed-plugin``, or skip the test, saying where it was looked for."""
    path = Path(os.environ.get(FIXED_ENV) or FIXED_DEFAULT)
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.skip(
            f"fixed-plugin (built with Docker's plugin SDK) is not at {path}: set ${FIXED_ENV}"
        )
    return path


def sdk_plugin(*args: str) -> list[str]:
    """The command line of our Python plugin."""
    return [sys.executable, str(SDK_PLUGIN), *args]


def install_program(directory: Path, name: str, script: str) -> Path:
    """A program ``name`` in the plugins directory: a shell script, executable."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def install_sdk_plugin(directory: Path, name: str, *args: str) -> Path:
    """Our Python plugin in the plugins directory as ``name`` (a launcher script)."""
    return install_program(directory, name, f'exec {shlex.join(sdk_plugin(*args))} "$@"\n')


def wait_for(condition: Callable[[], Any], what: str, bound: float = WAIT_BOUND) -> Any:
    """Wait until ``condition()`` is truthy (its value); fail naming ``what`` past ``bound``."""
    deadline = time.monotonic() + bound
    while not (value := condition()):
        assert time.monotonic() < deadline, f"waited {bound:g} s for {what}"
        time.sleep(0.02)
    return value


def statuses(*flags: str) -> dict[str, dict[str, Any]]:
    """``plugins ls --json`` by plugin name (through the daemon when one runs)."""
    listed = docker_pass(*flags, "plugins", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    return {p["name"]: p for p in json.loads(listed.stdout)}


def state_of(name: str) -> RunState:
    """Plugin ``name``'s recorded run state (the file the daemon writes)."""
    return load_run_states().get(name, RunState())


def read_pids(path: Path) -> list[int]:
    """The pids a plugin wrote to ``path`` (``--pid-file``), in order."""
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def running_from(path: Path) -> list[int]:
    """Live processes whose program is ``path`` (not zombies)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            exe = os.readlink(entry / "exe")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if exe == str(path) and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


@pytest.fixture
def plugins_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty plugins directory for the daemon, and a short first pause before relaunching
    a plugin (the tests set their own where they watch the pause)."""
    directory = tmp_path / "plugins"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_PASS_PLUGINS_DIR", str(directory))
    monkeypatch.setenv("DOCKER_PASS_PLUGIN_BACKOFF", "0.05")
    return directory
