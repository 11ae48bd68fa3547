"""The vault plugin in the engine daemon: ``run`` resolves through its warm session, a write
through the daemon is seen by the daemon's next listing at once (its cached tree forgets the
folder), and importing the plugin costs the other verbs nothing."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.daemon.engines import start_engine
from tests.support.helpers import docker_pass
from tests.support.vault_server import BaoServer, bao_server, scoped_token

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["bao_server"]


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


@pytest.fixture
def socket_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="dpv-", dir="/tmp"))
    path = root / "engine.sock"
    monkeypatch.setenv("DOCKER_PASS_ENGINE_SOCKET", str(path))
    yield path
    shutil.rmtree(root, ignore_errors=True)


def test_run_and_writes_go_through_the_daemon(
    bao_server: BaoServer, socket_path: Path, tmp_path: Path
) -> None:
    prefix = f"d{secrets.token_hex(4)}"
    token = scoped_token(bao_server, prefix)
    bao_server.put(f"{prefix}/app/db", value="db-pass")
    done = docker_pass(
        "plugins",
        "vault",
        "setup",
        "--address",
        bao_server.address,
        "--prefix",
        prefix,
        input=f"{token}\n".encode(),
    )
    assert done.returncode == 0, done.stderr
    engine = start_engine(tmp_path / "engine.log")
    try:
        ran = docker_pass(
            "--debug", "run", "--", "sh", "-c", 'printf %s "$DB"', env={"DB": "se://app/db"}
        )
        assert ran.stdout == b"db-pass", ran.stderr
        assert b"using the embedded engine" not in ran.stderr
        listed = docker_pass("ls", "--all-plugins", "app/**")
        assert listed.stdout.decode().splitlines() == ["app/db"]
        saved = docker_pass("set", "--plugin", "vault", "app/api", input=b"api-key")
        assert saved.returncode == 0, saved.stderr
        listed = docker_pass("ls", "--all-plugins", "app/**")
        assert listed.stdout.decode().splitlines() == ["app/api", "app/db"]
        answer = json.loads(
            bao_server.bao("kv", "get", "-format=json", "-mount=secret", f"{prefix}/app/api").stdout
        )["data"]
        assert answer["data"] == {"value": "api-key"}
        removed = docker_pass("rm", "--plugin", "vault", "app/api")
        assert removed.stdout == b"RM: app/api\n"
        gone = docker_pass("run", "--", "true", env={"K": "se://app/api"})
        assert gone.returncode == 1
        assert b"secret not found" in gone.stderr
        assert token.encode() not in Path(tmp_path / "engine.log").read_bytes()
    finally:
        engine.stop()


def test_the_plugin_module_and_its_setup_form_import_no_hvac() -> None:
    probe = (
        "import sys\n"
        "from docker_pass.backends.vault.plugin import VaultPlugin\n"
        "form = VaultPlugin.setup_form()\n"
        "print(sorted(m for m in ('hvac', 'requests', 'urllib3') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
