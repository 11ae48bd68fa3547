"""What the rollout tests share: reading containers straight from the private dockerd, making
Compose project folders and busybox containers through the proxy."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path

    from tests.containers.conftest import Proxy


def ok(done: subprocess.CompletedProcess[bytes]) -> str:
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    return done.stdout.decode()


def id_of(proxy: Proxy, name: str) -> str:
    return ok(proxy.dockerd.docker("inspect", "-f", "{{.Id}}", name)).strip()


def printenv(proxy: Proxy, name: str, var: str) -> str:
    # The test image's busybox has no printenv link; its env applet prints the same lines.
    lines = ok(proxy.dockerd.docker("exec", name, "env")).splitlines()
    found = [line.partition("=")[2] for line in lines if line.startswith(f"{var}=")]
    assert len(found) == 1, f"{var} in {name}: {len(found)} entries"
    return found[0]


def inspected(proxy: Proxy, name: str) -> dict[str, object]:
    found = json.loads(ok(proxy.dockerd.docker("inspect", name)))
    assert isinstance(found, list)
    doc = found[0]
    assert isinstance(doc, dict)
    return doc


def names(proxy: Proxy) -> list[str]:
    return sorted(ok(proxy.dockerd.docker("ps", "-a", "--format", "{{.Names}}")).split())


def project(tmp_path: Path, name: str, compose: str, **files: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "compose.yaml").write_text(compose)
    for file, text in files.items():
        (folder / file).write_text(text)
    return folder


def sleeper(proxy: Proxy, name: str, *options: str) -> str:
    """A running busybox container made through the proxy (``options`` before the image:
    ``-e K=se://…``, ``-v``…); its ID."""
    return ok(
        proxy.docker(
            "run", "-d", "--name", name, "--network", "none", *options, "busybox", "sleep", "600"
        )
    ).strip()
