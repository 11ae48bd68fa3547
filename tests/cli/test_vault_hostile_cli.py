"""The real ``docker-pass`` executable against a vault that misbehaves (a loopback HTTP server
of the test, :mod:`tests.support.hostile_vault`): a flood costs the cap, not its size; a drip
ends at the plugin's ``timeout``; a redirect elsewhere gets nothing; escape sequences never
reach stderr; a URL's password is never shown."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.config import load_config, save_config
from tests.support.helpers import EXECUTABLE, docker_pass
from tests.support.hostile_vault import (
    HostileVault,
    answering,
    drip,
    flood,
    hostile_vault,
    listing,
    raw,
    redirect,
    secret,
)
from tests.support.peak_memory import run_measured

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TOKEN = f"hvs.{secrets.token_hex(12)}"
#: The flood: far more than the cap, and than the bound below.
FLOOD = 2 << 30
#: What ``get`` may take in memory at its peak (it takes ~35 MiB when all goes well).
PEAK_BOUND_MIB = 100
#: How long a command may go on past the plugin's 1 s deadline (starting Python, importing).
SLACK = 12.0
HOSTILE_TEXT = "\x1b]0;pwned\x07\x1b[2Jbad\x9b31m thing\u202e"


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


@pytest.fixture
def vault() -> Iterator[HostileVault]:
    yield from hostile_vault()


@pytest.fixture
def elsewhere() -> Iterator[HostileVault]:
    yield from hostile_vault("127.0.0.2")


def set_up(address: str) -> None:
    """``plugins vault setup`` (the token check answers), then ``timeout`` 1 s."""
    done = docker_pass(
        "plugins", "vault", "setup", "--address", address, input=f"{TOKEN}\n".encode()
    )
    assert done.returncode == 0, done.stderr
    config = load_config()
    config["plugins"]["vault"]["timeout"] = 1
    save_config(config)


def err(result: object) -> str:
    return result.stderr.decode()  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_a_flood_costs_the_cap_not_its_size(
    vault: HostileVault, tmp_path: Path, declared: bool
) -> None:
    set_up(vault.address)
    vault.behaviour = flood(FLOOD, declared=declared)
    result = run_measured([str(EXECUTABLE), "get", "--plugin", "vault", "k"], tmp_path)
    assert result.returncode == 1
    assert result.stderr.decode() == (
        f"Error: vault {vault.address}: reading secret/k: the answer is larger than 8 MiB: "
        "not read\n"
    )
    assert result.peak_mib < PEAK_BOUND_MIB, result


@pytest.mark.parametrize("in_headers", [False, True], ids=["body", "headers"])
def test_a_drip_ends_get_and_ls_at_the_timeout(vault: HostileVault, in_headers: bool) -> None:
    set_up(vault.address)
    vault.behaviour = drip(0.2, in_headers=in_headers)  # 100000 bytes: hours
    for argv, what in (
        (["get", "--plugin", "vault", "k"], "reading secret/k"),
        (["ls", "--plugin", "vault"], "listing secret/"),
    ):
        began = time.monotonic()
        result = docker_pass(*argv, timeout=60)
        took = time.monotonic() - began
        assert result.returncode == 1
        assert err(result) == (
            f"Error: vault {vault.address}: {what}: no complete answer within 1 s "
            "(plugins.vault.timeout)\n"
        )
        assert took < 1 + SLACK


def test_a_redirect_to_another_host_gets_no_request_and_no_token(
    vault: HostileVault, elsewhere: HostileVault
) -> None:
    set_up(vault.address)
    elsewhere.behaviour = answering(200, secret("stolen"))
    vault.behaviour = redirect(f"{elsewhere.address}/v1/secret/data/k")
    got = docker_pass("get", "--plugin", "vault", "--reveal", "k")
    assert got.returncode == 1
    assert err(got) == (
        f"Error: vault {vault.address}: reading secret/k: the server redirected to "
        f"{elsewhere.address}, another scheme, host or port: not followed (the token goes to the "
        "configured address only); set up the vault's own address\n"
    )
    assert docker_pass("ls", "--plugin", "vault").returncode == 1
    assert elsewhere.requests() == []
    assert {s.headers.get("x-vault-token") for s in vault.requests()} == {TOKEN}


def test_a_folder_that_lists_itself_ends_ls(vault: HostileVault) -> None:
    set_up(vault.address)
    vault.behaviour = listing(lambda _path: ["loop/", "./", "../", "", "s"])
    result = docker_pass("ls", "--plugin", "vault", "**", timeout=60)
    assert result.returncode == 0, err(result)
    assert result.stdout.decode() == "s\n"
    assert len(vault.calls("LIST")) == 2


def test_an_html_page_is_an_error_not_an_empty_listing(vault: HostileVault) -> None:
    set_up(vault.address)
    vault.behaviour = raw(200, b"<html><title>Sign in</title></html>", "text/html")
    result = docker_pass("ls", "--plugin", "vault")
    assert result.returncode == 1
    assert err(result) == (
        f"Error: vault {vault.address}: listing secret/: the answer (200, text/html) is not "
        "Vault's JSON: '<html><title>Sign in</title></html>'; is this the vault's API address?\n"
    )


@pytest.mark.parametrize(
    "argv",
    [["get", "--plugin", "vault", "k"], ["ls", "--plugin", "vault"], ["ls", "--all-plugins"]],
    ids=" ".join,
)
def test_escape_sequences_from_the_server_never_reach_stderr(
    vault: HostileVault, argv: list[str]
) -> None:
    set_up(vault.address)
    for behaviour in (
        answering(500, {"errors": [HOSTILE_TEXT]}),
        raw(200, HOSTILE_TEXT.encode(), "text/html"),
        raw(502, HOSTILE_TEXT.encode(), "text/html"),
        redirect(f"http://127.0.0.2\x1b[2J:{vault.port}/"),
        redirect(f"http://ho\x1b]0;x\x07st:{vault.port}/"),
    ):
        vault.behaviour = behaviour
        result = docker_pass(*argv)
        assert b"\x1b" not in result.stderr, result.stderr
        assert "\x9b" not in err(result)
        assert "\u202e" not in err(result)
        assert "vault" in err(result)


def test_setup_shows_no_escape_from_the_token_check(vault: HostileVault) -> None:
    vault.lookup_self = answering(500, {"errors": [HOSTILE_TEXT]})
    result = docker_pass(
        "plugins", "vault", "setup", "--address", vault.address, input=f"{TOKEN}\n".encode()
    )
    assert result.returncode == 1
    assert err(result) == (
        f"Error: vault {vault.address}: checking the token: the server answered 500: bad thing\n"
    )


def test_a_404_token_check_names_the_namespace_or_address(vault: HostileVault) -> None:
    vault.lookup_self = answering(404, {"errors": []})
    result = docker_pass(
        "plugins", "vault", "setup", "--address", vault.address, input=f"{TOKEN}\n".encode()
    )
    assert result.returncode == 1
    assert err(result) == (
        f"Error: the vault at {vault.address} found no token check (lookup-self) (404): check "
        "the namespace or address (the vault's URL, as in https://vault.example.com:8200)\n"
    )
    assert "vault" not in load_config().get("plugins", {})


def test_an_address_with_a_password_is_shown_without_it(vault: HostileVault) -> None:
    from tests.support.vault_server import free_port

    closed = free_port()
    unreachable = docker_pass(
        "plugins",
        "vault",
        "setup",
        "--address",
        f"http://user:Pw-s3cr3t@127.0.0.1:{closed}",
        input=f"{TOKEN}\n".encode(),
    )
    assert err(unreachable) == (
        f"Error: cannot reach the vault at http://127.0.0.1:{closed} (connection refused)\n"
    )
    set_up(vault.address.replace("http://", "http://user:Pw-s3cr3t@"))
    listed = docker_pass("plugins", "ls")
    row = next(r for r in listed.stdout.decode().splitlines() if r.startswith("vault "))
    assert row.split(maxsplit=5)[5] == f"{vault.address} mount secret (no prefix)"
    vault.behaviour = answering(500, {"errors": ["boom"]})
    failed = docker_pass("get", "--plugin", "vault", "k")
    assert err(failed) == (
        f"Error: vault {vault.address}: reading secret/k: the server answered 500: boom\n"
    )
    everything = listed.stdout + listed.stderr + failed.stdout + failed.stderr
    assert b"Pw-s3cr3t" not in everything
