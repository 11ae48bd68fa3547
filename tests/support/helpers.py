"""Helpers shared by tests that drive the real `docker-pass` executable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXECUTABLE = Path(sys.executable).parent / "docker-pass"


def docker_pass(
    *args: str,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run the installed ``docker-pass`` console script with the test's environment (in
    folder ``cwd`` when given)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [str(EXECUTABLE), *args],
        input=input if input is not None else b"",
        capture_output=True,
        env=full_env,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )


def docker_plugin_env(root: Path) -> dict[str, str]:
    """An environment whose DOCKER_CONFIG adds a plugin dir holding a link to docker-pass.

    The real docker client then runs this checkout's docker-pass for ``docker pass …``, through
    ``cliPluginsExtraDirs``, without touching the person's own ~/.docker.
    """
    import json

    plugins = root / "plugins"
    plugins.mkdir()
    (plugins / "docker-pass").symlink_to(EXECUTABLE)
    config = root / "docker-config"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"cliPluginsExtraDirs": [str(plugins)]}))
    env = dict(os.environ)
    env["DOCKER_CONFIG"] = str(config)
    return env
