"""`import` keeps what each container gets: a Compose project is run straight on dockerd, its
.env and Compose file are imported, and the project run again through the proxy gives every
variable the value it had, with "$" in every spelling Compose reads (real dockerd, real
Compose)."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from pathlib import Path

    from tests.containers.conftest import Proxy

pytestmark = pytest.mark.integration

COMPOSE = """\
services:
  show:
    image: busybox
    network_mode: none
    env_file: app.env
    environment:
      C_ESCAPED: "pa$$word-compose-1"
      C_PLAIN: plain-compose-value-2
      C_INTERP: "${MEANING_UNSET:-fallback}-x"
      C_LONE: "a$-b-lone-dollar"
    command: env
"""
ENV = """\
UQ_DOLLAR=pa$$word-env-3
DQ_DOLLAR="dq$$word-env-4"
DQ_ESCAPED="dq\\$word-env-5"
SQ_DOLLAR='sq$$lit$HOME-6'
PLAIN_ENV=plain-env-value-7
"""
KEYS = (
    "C_ESCAPED", "C_PLAIN", "C_INTERP", "C_LONE",
    "UQ_DOLLAR", "DQ_DOLLAR", "DQ_ESCAPED", "SQ_DOLLAR", "PLAIN_ENV",
)  # fmt: skip


def _env_of(done: subprocess.CompletedProcess[bytes]) -> dict[str, str]:
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    found = {}
    for line in done.stdout.decode().splitlines():
        key, _, value = line.partition("=")
        if key in KEYS:
            found[key] = value
    assert sorted(found) == sorted(KEYS), done.stdout.decode()
    return found


def _up(proxy: Proxy, folder: Path, host: str) -> dict[str, str]:
    args = ["docker", "compose", "up", "--no-color", "--no-log-prefix", "--force-recreate"]
    return _env_of(
        subprocess.run(
            args,
            capture_output=True,
            env=proxy.env(DOCKER_HOST=host),
            cwd=folder,
            timeout=300,
            check=False,
        )
    )


def test_imported_files_give_every_container_what_it_had(proxy: Proxy, tmp_path: Path) -> None:
    folder = tmp_path / "meaning"
    folder.mkdir()
    (folder / "compose.yaml").write_text(COMPOSE)
    (folder / "app.env").write_text(ENV)
    before = _up(proxy, folder, proxy.dockerd.host)  # straight: no reference anywhere yet
    # What Compose itself made of each spelling (the rules import follows).
    assert before["C_ESCAPED"] == "pa$word-compose-1"
    assert before["UQ_DOLLAR"] == "pa$word-env-3"
    assert before["SQ_DOLLAR"] == "sq$$lit$HOME-6"

    dotenv = docker_pass("import", str(folder / "app.env"), "--json")
    assert dotenv.returncode == 0, dotenv.stderr.decode()
    compose = docker_pass("import", "--format", "compose", str(folder / "compose.yaml"))
    assert compose.returncode == 0, compose.stderr.decode()

    env_text = (folder / "app.env").read_text()
    compose_text = (folder / "compose.yaml").read_text()
    # Stored (now references): what means the same everywhere.
    assert "SQ_DOLLAR='se://meaning/sq_dollar'" in env_text
    assert "PLAIN_ENV=se://meaning/plain_env" in env_text
    assert 'C_ESCAPED: "se://meaning/c_escaped"' in compose_text
    assert "C_PLAIN: se://meaning/c_plain" in compose_text
    # Left as written: Compose interpolates them.
    for line in ("UQ_DOLLAR=pa$$word-env-3", 'DQ_DOLLAR="dq$$word-env-4"'):
        assert line in env_text
    assert 'C_INTERP: "${MEANING_UNSET:-fallback}-x"' in compose_text
    stored = docker_pass("get", "--reveal", "meaning/c_escaped")
    assert stored.stdout == b"pa$word-compose-1"

    after = _up(proxy, folder, proxy.host)  # through the proxy: references resolved
    assert after == before
