"""Deleted vault secrets and blind writes through the real executable, against a real OpenBao
server (no daemon: the embedded engine; the keychain side is the file store).

- ``set`` is a blind write, every time, whatever another writer did (``bao kv put``);
- ``rm`` deletes the latest version: the secret is no live secret any more (not listed, not
  read, no reference resolves it); ``ls --deleted`` shows it, ``undelete`` restores it,
  ``rm --purge-versions`` removes it for good.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.cli.test_vault_cli import err, file_store, out, prefix, setup, token
from tests.support.helpers import docker_pass
from tests.support.vault_server import BaoServer, bao_server

if TYPE_CHECKING:
    import subprocess

__all__ = ["bao_server", "file_store", "prefix", "token"]


@pytest.fixture
def vault(bao_server: BaoServer, prefix: str, token: str) -> BaoServer:
    """The vault plugin set up on ``prefix`` of the session server."""
    done = setup(bao_server, prefix, token)
    assert done.returncode == 0, err(done)  # type: ignore[attr-defined]
    return bao_server


def on_vault(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    verb, *rest = args
    return docker_pass(verb, "--plugin", "vault", *rest, input=input)


def value_in(server: BaoServer, path: str) -> str:
    answer = server.bao("kv", "get", "-mount=secret", "-field=value", path)
    return answer.stdout.strip()


def test_set_overwrites_an_outside_change_every_time(vault: BaoServer, prefix: str) -> None:
    assert on_vault("set", "app/token", input=b"uival").returncode == 0
    assert out(on_vault("get", "--reveal", "app/token")) == "uival"
    for round_ in (1, 2):
        vault.put(f"{prefix}/app/token", value=f"other-{round_}")
        saved = on_vault("set", "app/token", input=f"mine-{round_}".encode())
        assert saved.returncode == 0, err(saved)
        assert value_in(vault, f"{prefix}/app/token") == f"mine-{round_}"


def test_a_deleted_secret_is_listed_only_with_deleted_and_resolves_nowhere(
    vault: BaoServer, prefix: str
) -> None:
    vault.put(f"{prefix}/team/api", value="live")
    vault.put(f"{prefix}/team/old", value="was")
    assert out(on_vault("rm", "team/old")) == "RM: team/old\n"

    assert out(on_vault("ls")) == "team/api\n"
    assert out(on_vault("ls", "team/old")) == ""
    assert out(on_vault("ls", "--deleted")) == "team/api\nteam/old (deleted)\n"
    assert out(on_vault("ls", "--deleted", "team/old")) == "team/old (deleted)\n"
    long = out(on_vault("ls", "--deleted", "--long")).splitlines()
    assert long == [
        "ID                  PROVIDER     METADATA",
        "team/api            vault",
        "team/old (deleted)  vault",
    ]
    plain = json.loads(out(on_vault("ls", "--json")))
    version = out(on_vault("get", "--version", "team/api")).strip()
    assert plain == [{"id": "team/api", "provider": "vault", "metadata": {}, "version": version}]
    entries = json.loads(out(on_vault("ls", "--json", "--deleted")))
    assert [(e["id"], e["deleted"]) for e in entries] == [
        ("team/api", False),
        ("team/old", True),
    ]
    everywhere = out(docker_pass("ls", "--all-plugins", "--deleted")).splitlines()
    assert "team/old (deleted)" in everywhere
    assert "team/old" not in out(docker_pass("ls", "--all-plugins")).splitlines()

    missing = on_vault("get", "team/old")
    assert missing.returncode == 1
    assert err(missing).startswith("Error: secret not found")
    ran = docker_pass("run", "--", "true", env={"V": "se://team/old"})
    assert ran.returncode == 1
    assert "secret not found" in err(ran)
    assert out(on_vault("rm", "team/old")) == ""  # nothing live to delete


def test_undelete_restores_the_latest_version(vault: BaoServer, prefix: str) -> None:
    assert on_vault("set", "db/prod", "--metadata", "owner=alice", input=b"v1").returncode == 0
    assert on_vault("set", "db/prod", input=b"v2").returncode == 0
    assert out(on_vault("rm", "db/prod")) == "RM: db/prod\n"

    restored = on_vault("undelete", "db/prod")
    assert (restored.returncode, out(restored), err(restored)) == (0, "RESTORED: db/prod\n", "")
    assert out(on_vault("get", "--reveal", "db/prod")) == "v2"
    assert out(on_vault("ls")) == "db/prod\n"
    ran = docker_pass("run", "--", "sh", "-c", 'printf %s "$V"', env={"V": "se://db/prod"})
    assert out(ran) == "v2"

    again = on_vault("undelete", "db/prod", "nothing/here")
    assert again.returncode == 1
    assert (
        out(again)
        == "ERR: db/prod: vault: db/prod is not deleted (version 2 is live): nothing to restore\n"
    )
    assert err(again) == (
        "nothing/here: no deleted secret to restore\n"
        "Error: 1 of 2 secrets could not be restored (ERR: lines)\n"
    )
    none = on_vault("undelete", "nothing/here")
    assert (none.returncode, out(none)) == (0, "")


def test_undelete_elsewhere_is_a_clear_error() -> None:
    result = docker_pass("undelete", "some/id")
    assert result.returncode == 1
    assert err(result) == (
        "Error: plugin docker-pass keeps no deleted secrets: undelete is only for plugins "
        "that do (vault)\n"
    )
    assert docker_pass("undelete").returncode != 0  # an ID is needed
    usage = " ".join(out(docker_pass("undelete", "--help")).split())
    assert "'ls --deleted' lists the deleted secrets" in usage


def test_purge_removes_deleted_secrets_too(vault: BaoServer, prefix: str) -> None:
    vault.put(f"{prefix}/keep", value="k")
    vault.put(f"{prefix}/one", value="1")
    vault.put(f"{prefix}/two", value="2")
    assert out(on_vault("rm", "one", "two")) == "RM: one\nRM: two\n"
    assert out(on_vault("rm", "--purge-versions", "one")) == "RM: one\n"
    assert out(on_vault("ls", "--deleted")) == "keep\ntwo (deleted)\n"
    assert on_vault("undelete", "one").returncode == 0  # purged: nothing to restore
    everything = on_vault("rm", "--all", "--purge-versions", "--yes")
    assert out(everything) == "RM: keep\nRM: two\n"
    assert out(on_vault("ls", "--deleted")) == ""
    for path in ("keep", "one", "two"):
        gone = vault.bao("kv", "metadata", "get", "-mount=secret", f"{prefix}/{path}", check=False)
        assert gone.returncode != 0
