"""``docker pass plugins vault setup|purge`` and the secret verbs on the vault plugin, through
the real executable against a real OpenBao server; the keychain side is the file store."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.config import load_config
from docker_pass.core.ids import Pattern
from docker_pass.core.registry import create_plugin
from tests.support.helpers import docker_pass
from tests.support.vault_server import SCOPED_POLICY, BaoServer, bao_server, scoped_token, start_bao

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["bao_server"]


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


@pytest.fixture
def prefix() -> str:
    return f"c{secrets.token_hex(4)}"


@pytest.fixture
def token(bao_server: BaoServer, prefix: str) -> str:
    return scoped_token(bao_server, prefix)


def out(result: object) -> str:
    return result.stdout.decode()  # type: ignore[attr-defined,no-any-return]


def err(result: object) -> str:
    return result.stderr.decode()  # type: ignore[attr-defined,no-any-return]


def setup(server: BaoServer, prefix: str, secret: str, *extra: str) -> object:
    return docker_pass(
        "plugins",
        "vault",
        "setup",
        "--address",
        server.address,
        "--prefix",
        prefix,
        *extra,
        input=f"{secret}\n".encode(),
    )


def internal_ids() -> list[str]:
    keychain = create_plugin("docker-pass")
    try:
        return [i.id.value for i in keychain.list(Pattern("docker/secrets-engine/**"))]
    finally:
        keychain.stop()


def vault_row() -> list[str]:
    rows = out(docker_pass("plugins", "ls")).splitlines()
    return next(row.split(maxsplit=5) for row in rows if row.startswith("vault "))


def test_setup_checks_the_token_before_storing_it(
    bao_server: BaoServer, prefix: str, token: str
) -> None:
    refused = setup(bao_server, prefix, "not-a-real-token")
    assert refused.returncode == 1  # type: ignore[attr-defined]
    assert err(refused) == (
        f"Error: the vault at {bao_server.address} refused the token (revoked, expired or "
        "invalid)\n"
    )
    assert internal_ids() == []
    assert vault_row()[2] == "disabled"

    done = setup(bao_server, prefix, token)
    assert done.returncode == 0, err(done)  # type: ignore[attr-defined]
    lines = out(done).splitlines()
    assert lines[0].startswith("Stored the vault token with the docker-pass plugin: file store")
    assert lines[1] == (
        "Wrote plugins.vault.address, plugins.vault.mount, plugins.vault.prefix to the config file."
    )
    assert lines[2] == "vault: running"
    assert token not in out(done) + err(done)
    assert internal_ids() == ["docker/secrets-engine/plugins/vault/token"]
    section = load_config()["plugins"]["vault"]
    assert section == {
        "enabled": True,
        "address": bao_server.address,
        "mount": "secret",
        "prefix": prefix,
    }
    assert token not in json.dumps(load_config())
    name, _, status, configurable, pattern, storage = vault_row()
    assert (name, status, configurable, pattern) == ("vault", "running", "yes", "**")
    assert storage == f"{bao_server.address} mount secret prefix {prefix}"


def test_the_token_is_read_from_stdin_only(bao_server: BaoServer, prefix: str) -> None:
    result = docker_pass(
        "plugins", "vault", "setup", "--address", bao_server.address, "--token", "x"
    )
    assert result.returncode != 0
    empty = docker_pass("plugins", "vault", "setup", "--address", bao_server.address)
    assert empty.returncode == 1
    assert err(empty) == (
        "Error: no token given: pipe it on stdin, as in: "
        'echo "$VAULT_TOKEN" | docker pass plugins vault setup --address URL\n'
    )


def test_get_ls_set_rm_and_the_bao_cli_see_the_same_secrets(
    bao_server: BaoServer, prefix: str, token: str
) -> None:
    bao_server.put(f"{prefix}/db", user="alice", password="pw")
    bao_server.put(f"{prefix}/team/api", value="tok")
    assert setup(bao_server, prefix, token).returncode == 0  # type: ignore[attr-defined]

    assert out(docker_pass("get", "--plugin", "vault", "--reveal", "db/user")) == "alice"
    assert out(docker_pass("get", "--plugin", "vault", "--reveal", "team/api")) == "tok"
    several = docker_pass("get", "--plugin", "vault", "db")
    assert err(several) == (
        "Error: vault secret db holds 2 keys (password, user) and no 'value' key: name one, "
        "as in db/password\n"
    )
    assert out(docker_pass("ls", "--plugin", "vault")).splitlines() == ["db", "team/api"]

    saved = docker_pass(
        "set", "--plugin", "vault", "team/new", "--metadata", "owner=alice", input=b"fresh"
    )
    assert saved.returncode == 0, err(saved)
    answer = json.loads(
        bao_server.bao("kv", "get", "-format=json", "-mount=secret", f"{prefix}/team/new").stdout
    )["data"]
    assert answer["data"] == {"value": "fresh"}
    assert answer["metadata"]["custom_metadata"] == {"owner": "alice"}
    got = json.loads(out(docker_pass("get", "--plugin", "vault", "--json", "team/new")))
    assert got["provider"] == "vault"
    assert got["metadata"] == {"owner": "alice"}

    assert out(docker_pass("rm", "--plugin", "vault", "team/new")) == "RM: team/new\n"
    gone = json.loads(
        bao_server.bao("kv", "get", "-format=json", "-mount=secret", f"{prefix}/team/new").stdout
    )["data"]
    assert gone["data"] is None
    assert gone["metadata"]["deletion_time"] != ""  # the latest version is deleted
    metadata = bao_server.bao("kv", "metadata", "get", "-mount=secret", f"{prefix}/team/new")
    assert metadata.returncode == 0  # the history stays without --purge-versions
    purged = docker_pass("rm", "--plugin", "vault", "--purge-versions", "team/new")
    assert out(purged) == "RM: team/new\n"
    history = bao_server.bao(
        "kv", "metadata", "get", "-mount=secret", f"{prefix}/team/new", check=False
    )
    assert history.returncode != 0


def test_purge_versions_elsewhere_is_a_clear_error() -> None:
    result = docker_pass("rm", "--purge-versions", "some/id")
    assert result.returncode == 1
    assert err(result) == (
        "Error: plugin docker-pass keeps no older versions: --purge-versions is only for "
        "plugins that do (vault)\n"
    )


def test_ls_all_plugins_and_run_see_the_keychain_and_the_vault(
    bao_server: BaoServer, prefix: str, token: str
) -> None:
    bao_server.put(f"{prefix}/shared/token", value="from-vault")
    bao_server.put(f"{prefix}/only/vault", value="v")
    assert setup(bao_server, prefix, token).returncode == 0  # type: ignore[attr-defined]
    # A second holder on purpose (set warns and refuses it without --allow-duplicate).
    assert docker_pass("set", "--allow-duplicate", "shared/token=from-keychain").returncode == 0
    listed = out(docker_pass("ls", "--all-plugins", "--long")).splitlines()
    assert listed[1:] == [
        "only/vault    vault",
        "shared/token  docker-pass",
        "shared/token  vault",
    ]
    ran = docker_pass("run", "--", "sh", "-c", 'printf %s "$V"', env={"V": "se://only/vault"})
    assert out(ran) == "v"
    both = docker_pass("run", "--", "true", env={"V": "se://shared/token"})
    assert both.returncode == 1
    assert err(both) == "Error: resolving V: 2 secrets matched shared/token (docker-pass, vault)\n"


def test_a_revoked_token_crashes_the_plugin_and_setup_again_recovers(
    bao_server: BaoServer, prefix: str, token: str
) -> None:
    bao_server.put(f"{prefix}/k", value="v")
    assert setup(bao_server, prefix, token).returncode == 0  # type: ignore[attr-defined]
    bao_server.revoke(token)
    failed = docker_pass("get", "--plugin", "vault", "k")
    remedy = (
        f'run: echo "$VAULT_TOKEN" | docker pass plugins vault setup --address '
        f"{bao_server.address} --prefix {prefix}"
    )
    assert err(failed).splitlines()[0] == (
        f"Error: plugin vault is crashed: the vault at {bao_server.address} refused the token "
        f"(revoked, expired or invalid): {remedy}"
    )
    row = vault_row()
    assert row[2] == "crashed"
    assert remedy in row[5]
    again = docker_pass("get", "--plugin", "vault", "--reveal", "k")
    assert err(again).startswith("Error: plugin vault is crashed: the vault at")

    fresh = scoped_token(bao_server, prefix)
    assert setup(bao_server, prefix, fresh).returncode == 0  # type: ignore[attr-defined]
    assert vault_row()[2] == "running"
    assert out(docker_pass("get", "--plugin", "vault", "--reveal", "k")) == "v"


def test_a_denied_path_crashes_the_plugin_with_the_remedy(
    bao_server: BaoServer, prefix: str
) -> None:
    denied = f'path "secret/data/{prefix}/locked/*" {{ capabilities = ["deny"] }}\n'
    token = scoped_token(bao_server, prefix, extra=denied)
    bao_server.put(f"{prefix}/locked/x", value="no")
    assert setup(bao_server, prefix, token).returncode == 0  # type: ignore[attr-defined]
    result = docker_pass("get", "--plugin", "vault", "locked/x")
    assert result.returncode == 1
    assert err(result).splitlines()[0] == (
        f"Error: the vault at {bao_server.address} denied reading secret/{prefix}/locked/x "
        "(the token's policies do not allow it): once its policy allows it, run: docker pass "
        "plugins enable vault; or narrow plugins.vault.pattern, or set up a token that may: "
        f'echo "$VAULT_TOKEN" | docker pass plugins vault setup --address {bao_server.address} '
        f"--prefix {prefix}"
    )
    assert "Hint:" not in err(result)
    assert vault_row()[2] == "crashed"
    bao_server.policy(
        next(p for p in token_policies(bao_server, token) if p.startswith("scoped-")),
        SCOPED_POLICY.format(prefix=prefix),
    )  # the admin lifts the deny
    enabled = docker_pass("plugins", "enable", "vault")
    assert out(enabled) == "vault: running\n"
    assert out(docker_pass("get", "--plugin", "vault", "--reveal", "locked/x")) == "no"


def token_policies(server: BaoServer, token: str) -> list[str]:
    answer = json.loads(server.bao("token", "lookup", "-format=json", token=token).stdout)
    return [str(p) for p in answer["data"]["policies"]]


@pytest.fixture
def own_server() -> Iterator[BaoServer]:
    root = Path(tempfile.mkdtemp(prefix="bao-"))
    server = start_bao(root)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def test_a_server_stopped_mid_session_fails_each_request_without_crashing(
    own_server: BaoServer,
) -> None:
    own_server.put("app/key", value="v1")
    assert setup(own_server, "", own_server.root_token).returncode == 0  # type: ignore[attr-defined]
    assert out(docker_pass("get", "--plugin", "vault", "--reveal", "app/key")) == "v1"
    own_server.stop()
    failed = docker_pass("get", "--plugin", "vault", "app/key")
    assert failed.returncode == 1
    assert (
        err(failed)
        == f"Error: cannot reach the vault at {own_server.address} (connection refused)\n"
    )
    assert vault_row()[2] == "running"  # not crashed: the next request tries again
    listing = docker_pass("ls", "--all-plugins")
    assert f"Warning: plugin vault: cannot reach the vault at {own_server.address}" in err(listing)
    own_server.start()
    own_server.put("app/key", value="v2")
    assert out(docker_pass("get", "--plugin", "vault", "--reveal", "app/key")) == "v2"


def test_approle_setup_stores_the_secret_id_and_logs_in(bao_server: BaoServer, prefix: str) -> None:
    from tests.backends.test_vault import approle

    role_id, secret_id = approle(bao_server, prefix)
    bao_server.put(f"{prefix}/ci", value="from-ci")
    done = setup(bao_server, prefix, secret_id, "--role-id", role_id)
    assert done.returncode == 0, err(done)  # type: ignore[attr-defined]
    assert out(done).splitlines()[0].startswith("Stored the vault secret ID (AppRole)")
    assert internal_ids() == ["docker/secrets-engine/plugins/vault/secret_id"]
    assert load_config()["plugins"]["vault"]["role_id"] == role_id
    assert vault_row()[5].endswith("; AppRole")
    assert out(docker_pass("get", "--plugin", "vault", "--reveal", "ci")) == "from-ci"
    wrong = setup(bao_server, prefix, "wrong-secret-id", "--role-id", role_id)
    assert err(wrong) == (
        f"Error: the vault at {bao_server.address} refused the AppRole role ID and secret ID "
        "(revoked, expired or invalid)\n"
    )


def test_purge_disables_and_removes_the_token(
    bao_server: BaoServer, prefix: str, token: str
) -> None:
    assert setup(bao_server, prefix, token).returncode == 0  # type: ignore[attr-defined]
    purged = docker_pass("plugins", "vault", "purge")
    assert out(purged) == "vault: disabled\nRemoved the vault token.\n"
    assert internal_ids() == []
    assert vault_row()[2] == "disabled"
    assert out(docker_pass("plugins", "vault", "purge")).endswith("No vault token was stored.\n")


def test_plugins_setup_vault_and_purge_vault_are_the_same_commands(
    bao_server: BaoServer, prefix: str, token: str
) -> None:
    bao_server.put(f"{prefix}/k", value="v")
    done = docker_pass(
        "plugins",
        "setup",
        "vault",
        "--address",
        bao_server.address,
        "--prefix",
        prefix,
        input=f"{token}\n".encode(),
    )
    assert done.returncode == 0, err(done)
    lines = out(done).splitlines()
    assert lines[0].startswith("Stored the vault token with the docker-pass plugin: file store")
    assert lines[1:] == [
        "Wrote plugins.vault.address, plugins.vault.mount, plugins.vault.prefix to the config "
        "file.",
        "vault: running",
    ]
    assert internal_ids() == ["docker/secrets-engine/plugins/vault/token"]
    assert out(docker_pass("get", "--plugin", "vault", "--reveal", "k")) == "v"
    purged = docker_pass("plugins", "purge", "vault")
    assert out(purged) == "vault: disabled\nRemoved the vault token.\n"
    assert internal_ids() == []
    empty = docker_pass("plugins", "setup", "vault", "--address", bao_server.address)
    assert err(empty) == (
        "Error: no token given: pipe it on stdin, as in: "
        'echo "$VAULT_TOKEN" | docker pass plugins vault setup --address URL\n'
    )


def test_the_token_reaches_no_argv_and_no_file_but_the_keychain(
    bao_server: BaoServer, prefix: str, token: str, isolated_home: Path
) -> None:
    assert setup(bao_server, prefix, token).returncode == 0  # type: ignore[attr-defined]
    docker_pass("ls", "--all-plugins")
    for path in isolated_home.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path
    assert token not in " ".join(os.environ.values())


def test_setup_over_tls_needs_the_ca_and_says_which_check_failed(tmp_path: Path) -> None:
    server = start_bao(tmp_path / "bao", tls=True)
    try:
        server.put("k", value="tls")
        refused = setup(server, "", server.root_token)
        assert refused.returncode == 1  # type: ignore[attr-defined]
        assert err(refused).startswith(
            f"Error: vault {server.address}: TLS: certificate verify failed: "
        )
        assert internal_ids() == []
        done = setup(server, "", server.root_token, "--ca-cert", str(server.ca_cert))
        assert done.returncode == 0, err(done)  # type: ignore[attr-defined]
        assert load_config()["plugins"]["vault"]["ca_cert"] == str(server.ca_cert)
        assert out(docker_pass("get", "--plugin", "vault", "--reveal", "k")) == "tls"
        # A path field (the form says so) is made absolute: the daemon reads it from elsewhere.
        here = os.getcwd()
        os.chdir(server.ca_cert.parent)
        try:
            again = setup(server, "", server.root_token, "--ca-cert", server.ca_cert.name)
        finally:
            os.chdir(here)
        assert again.returncode == 0, err(again)  # type: ignore[attr-defined]
        assert load_config()["plugins"]["vault"]["ca_cert"] == str(server.ca_cert)
    finally:
        server.stop()


def test_setup_refuses_an_address_it_cannot_use_and_stores_nothing(token: str) -> None:
    from tests.support.vault_server import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    unreachable = docker_pass(
        "plugins", "vault", "setup", "--address", closed, input=f"{token}\n".encode()
    )
    assert err(unreachable) == f"Error: cannot reach the vault at {closed} (connection refused)\n"
    no_scheme = docker_pass(
        "plugins", "vault", "setup", "--address", "vault:8200", input=f"{token}\n".encode()
    )
    assert err(no_scheme) == (
        "Error: the address must be a URL that starts with http:// or https://\n"
    )
    missing_ca = docker_pass(
        "plugins",
        "vault",
        "setup",
        "--address",
        closed,
        "--ca-cert",
        "/nonexistent/ca.pem",
        input=f"{token}\n".encode(),
    )
    assert err(missing_ca) == "Error: no CA certificate file at /nonexistent/ca.pem\n"
    assert internal_ids() == []
    assert "vault" not in load_config().get("plugins", {})


def test_setup_with_a_namespace_the_vault_lacks_names_the_namespace_or_address(
    bao_server: BaoServer, prefix: str, token: str
) -> None:
    bad = setup(bao_server, prefix, token, "--namespace", "bad")
    assert bad.returncode == 1  # type: ignore[attr-defined]
    assert err(bad) == (
        f"Error: the vault at {bao_server.address} found no token check (lookup-self) in "
        "namespace bad (404: namespace not found): check the namespace or address (the vault's "
        "URL, as in https://vault.example.com:8200)\n"
    )
    assert internal_ids() == []
    assert "vault" not in load_config().get("plugins", {})
    wrong_path = docker_pass(
        "plugins",
        "vault",
        "setup",
        "--address",
        f"{bao_server.address}/not-the-api",
        input=f"{token}\n".encode(),
    )
    assert wrong_path.returncode == 1
    assert err(wrong_path).startswith(
        f"Error: the vault at {bao_server.address}/not-the-api found no token check "
        "(lookup-self) (404"
    )
    assert "check the namespace or address" in err(wrong_path)
