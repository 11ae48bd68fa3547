"""``docker pass import --plugin vault``: a team's .env moves into a real OpenBao server (the
vault plugin), the file is left with references, and the values come back from the vault."""

from __future__ import annotations

import json
import secrets
import sys
from typing import TYPE_CHECKING

import pytest

from tests.support.helpers import docker_pass
from tests.support.vault_server import BaoServer, bao_server, scoped_token

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["bao_server"]

VALUES = {"DB_PASSWORD": "team-db-pw-7c1e09", "API_TOKEN": "team-api-4b8d22"}
ENV_TEXT = (
    "# the team's settings\n"
    'DB_PASSWORD="team-db-pw-7c1e09"\n'
    "export API_TOKEN=team-api-4b8d22  # rotated monthly\n"
    "EMPTY=\n"
)


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def test_import_into_the_vault_plugin_round_trips(bao_server: BaoServer, tmp_path: Path) -> None:
    prefix = f"i{secrets.token_hex(4)}"
    token = scoped_token(bao_server, prefix)
    done = docker_pass(
        "plugins", "vault", "setup", "--address", bao_server.address, "--prefix", prefix,
        input=f"{token}\n".encode(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    folder = tmp_path / "team"
    folder.mkdir()
    env = folder / ".env"
    env.write_text(ENV_TEXT)

    result = docker_pass("import", str(env), "--plugin", "vault", "--prefix", "team")
    assert result.returncode == 0, result.stderr.decode()
    for value in VALUES.values():
        assert value.encode() not in result.stdout + result.stderr
    assert env.read_text() == (
        "# the team's settings\n"
        'DB_PASSWORD="se://team/db_password"\n'
        "export API_TOKEN=se://team/api_token  # rotated monthly\n"
        "EMPTY=\n"
    )
    listed = docker_pass("ls", "--json", "--all-plugins", "team/**")
    assert listed.returncode == 0, listed.stderr.decode()
    providers = {entry["id"]: entry.get("provider") for entry in json.loads(listed.stdout)}
    assert providers == {"team/api_token": "vault", "team/db_password": "vault"}
    assert json.loads(docker_pass("ls", "--json", "team/**").stdout) == []  # not the keychain
    names = ("DB_PASSWORD", "API_TOKEN")
    show = f"import os, json; print(json.dumps({{k: os.environ[k] for k in {names!r}}}))"
    ran = docker_pass("run", "--env-file", str(env), "--", sys.executable, "-c", show)
    assert ran.returncode == 0, ran.stderr.decode()
    assert json.loads(ran.stdout) == VALUES
    checked = docker_pass("check", str(env))
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
