"""The real stores for the TUI's version tests: our CLI in another process, a running engine
daemon (the TUI then goes through it), and the keychain-only engine."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from docker_pass.core.engine import Engine
from docker_pass.core.registry import BUILTIN_PLUGINS
from docker_pass.core.remote.front import open_engine
from docker_pass.tui.app import DockerPassApp
from tests.daemon.engines import start_engine
from tests.support.helpers import EXECUTABLE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pytest

    from docker_pass.core.remote.front import EngineFront


def cli(*args: str, value: bytes = b"") -> str:
    """Our CLI in another process (a value on stdin, never in argv); its stdout."""
    done = subprocess.run(
        [str(EXECUTABLE), "--no-daemon", *args],
        input=value,
        env=dict(os.environ),
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def stored(id_: str, plugin: str = "docker-pass") -> str:
    """The value ``docker-pass get`` reads now (another process)."""
    return cli("get", "--reveal", "--plugin", plugin, id_).rstrip("\n")


@contextmanager
def daemon(log: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A running engine daemon on a short socket path of its own, for the test's duration."""
    root = Path(tempfile.mkdtemp(prefix="dpt-", dir="/tmp"))
    monkeypatch.setenv("DOCKER_PASS_ENGINE_SOCKET", str(root / "engine.sock"))
    engine = start_engine(log)
    try:
        yield
    finally:
        engine.kill()
        shutil.rmtree(root, ignore_errors=True)


def app_over(names: tuple[str, ...], *, through_daemon: bool) -> DockerPassApp:
    """The app over the built-in plugins ``names`` (embedded), or over the daemon's engine."""
    specs = {name: BUILTIN_PLUGINS[name] for name in names}
    factory: Callable[[], EngineFront] = (
        open_engine if through_daemon else (lambda: Engine(specs=specs))
    )
    app = DockerPassApp(factory, poll_seconds=None, cursor_blink=False)
    app.animation_level = "none"
    return app
