"""The vault client against a vault that misbehaves (:mod:`tests.support.hostile_vault`, a
real HTTP server on loopback): every request ends by its deadline, reads at most the cap,
follows no redirect to another host (and sends the token to none), and says what went wrong
naming the address, with nothing of the server's text that a terminal would act on.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING

import pytest

from docker_pass.backends.vault.errors import (
    AnswerTooLargeError,
    DeadlineError,
    NotVaultAnswerError,
    RedirectRefusedError,
    VaultSettings,
    WalkCutError,
    WrongPlaceError,
)
from docker_pass.backends.vault.plugin import VaultPlugin
from docker_pass.backends.vault.walk import MAX_WALK_DEPTH
from docker_pass.core.errors import PluginError
from docker_pass.core.ids import ID, Pattern
from tests.support.hostile_vault import (
    DripListener,
    Handler,
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
from tests.support.vault_server import BaoServer, bao_server, scoped_token

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["bao_server"]

TOKEN = f"hvs.{secrets.token_hex(12)}"
#: The plugin's ``timeout`` in these tests (seconds one request may take in all).
TIMEOUT = 1.0
#: A bound on how long a request may go on past its deadline (a start, a thread's wake-up).
SLACK = 4.0
ESC = "\x1b"
HOSTILE_TEXT = "\x1b]0;pwned\x07\x1b[2Jbad\x1b[31m thing\u202e"


@pytest.fixture
def vault() -> Iterator[HostileVault]:
    yield from hostile_vault()


@pytest.fixture
def elsewhere() -> Iterator[HostileVault]:
    """Another host (127.0.0.2): where a redirect would take the token."""
    yield from hostile_vault("127.0.0.2")


@pytest.fixture
def plugin(vault: HostileVault) -> Iterator[VaultPlugin]:
    plugin = started(vault.address)
    yield plugin
    plugin.stop()


def started(address: str, **tuning: float) -> VaultPlugin:
    plugin = VaultPlugin(
        VaultSettings(address),
        read_secret={"token": TOKEN}.get,
        cache_ttl=0,
        timeout=tuning.pop("timeout", TIMEOUT),
        walk_budget=int(tuning.pop("walk_budget", 0)) or None,
    )
    plugin.start()
    return plugin


def failure(call: object, *args: object) -> tuple[PluginError, float]:
    """The error ``call(*args)`` raises, and how long it took to."""
    began = time.monotonic()
    with pytest.raises(PluginError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value, time.monotonic() - began


# -- the deadline -------------------------------------------------------------------------------


@pytest.mark.parametrize("in_headers", [False, True], ids=["body", "headers"])
def test_a_dripping_answer_ends_at_the_deadline(
    vault: HostileVault, plugin: VaultPlugin, in_headers: bool
) -> None:
    vault.behaviour = drip(0.2, in_headers=in_headers)  # 100000 bytes: hours, not seconds
    error, took = failure(plugin.get, ID("app/key"))
    assert isinstance(error, DeadlineError)
    assert str(error) == (
        f"vault {vault.address}: reading secret/app/key: no complete answer within 1 s "
        "(plugins.vault.timeout)"
    )
    assert took < TIMEOUT + SLACK
    # The next request is bounded the same way, on a fresh connection.
    error, took = failure(plugin.list, Pattern("**"))
    assert isinstance(error, DeadlineError)
    assert "listing secret/" in str(error)
    assert took < TIMEOUT + SLACK


def test_a_silent_server_and_a_dripped_tls_handshake_end_at_the_deadline() -> None:
    silent = DripListener(first=b"", interval=600)  # accepts, then says nothing
    dripping = DripListener()  # a TLS record that never completes
    try:
        for address in (f"http://127.0.0.1:{silent.port}", f"https://127.0.0.1:{dripping.port}"):
            plugin = started(address)  # the token check fails too: the plugin starts anyway
            try:
                error, took = failure(plugin.get, ID("k"))
            finally:
                plugin.stop()
            assert isinstance(error, DeadlineError), error
            assert str(error) == (
                f"vault {address}: checking the token: no complete answer within 1 s "
                "(plugins.vault.timeout)"
            )
            assert took < TIMEOUT + SLACK
    finally:
        silent.stop()
        dripping.stop()


def test_a_request_after_a_cut_one_works(vault: HostileVault, plugin: VaultPlugin) -> None:
    vault.behaviour = drip(0.2)
    failure(plugin.get, ID("k"))
    vault.behaviour = answering(200, secret("fine"))
    assert plugin.get(ID("k")).value == b"fine"


# -- the cap ------------------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_an_answer_over_the_cap_is_refused(
    vault: HostileVault, plugin: VaultPlugin, declared: bool
) -> None:
    vault.behaviour = flood(2 << 30, declared=declared)  # 2 GiB
    error, took = failure(plugin.get, ID("big"))
    assert isinstance(error, AnswerTooLargeError)
    assert str(error) == (
        f"vault {vault.address}: reading secret/big: the answer is larger than 8 MiB: not read"
    )
    error, _ = failure(plugin.list, Pattern("**"))
    assert isinstance(error, AnswerTooLargeError)
    assert took < TIMEOUT + SLACK  # cut at the cap, not read to the end and not timed out


def test_an_answer_under_the_cap_is_read(vault: HostileVault, plugin: VaultPlugin) -> None:
    value = "v" * (4 << 20)  # 4 MiB: a large secret, still under the cap
    vault.behaviour = answering(200, secret(value))
    assert plugin.get(ID("large")).value == value.encode()


# -- redirects ----------------------------------------------------------------------------------


def test_a_redirect_to_another_host_is_not_followed_and_gets_no_token(
    vault: HostileVault, elsewhere: HostileVault, plugin: VaultPlugin
) -> None:
    elsewhere.behaviour = answering(200, secret("from elsewhere"))
    vault.behaviour = redirect(f"{elsewhere.address}/v1/secret/data/app/key")
    error, _ = failure(plugin.get, ID("app/key"))
    assert isinstance(error, RedirectRefusedError)
    assert str(error) == (
        f"vault {vault.address}: reading secret/app/key: the server redirected to "
        f"{elsewhere.address}, another scheme, host or port: not followed (the token goes to "
        "the configured address only); set up the vault's own address"
    )
    error, _ = failure(plugin.list, Pattern("**"))
    assert isinstance(error, RedirectRefusedError)
    assert elsewhere.requests() == []  # nothing reached the other host, so no token either
    assert all(s.headers.get("x-vault-token") == TOKEN for s in vault.requests())


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1:{other}/v1/x", "https://127.0.0.1:{port}/v1/x", "//127.0.0.2:{port}/v1/x"],
    ids=["another-port", "another-scheme", "scheme-relative-host"],
)
def test_a_redirect_to_another_port_or_scheme_is_not_followed(
    vault: HostileVault, elsewhere: HostileVault, plugin: VaultPlugin, target: str
) -> None:
    vault.behaviour = redirect(target.format(port=vault.port, other=elsewhere.port))
    error, _ = failure(plugin.get, ID("app/key"))
    assert isinstance(error, RedirectRefusedError)
    assert "another scheme, host or port: not followed" in str(error)
    assert elsewhere.requests() == []
    assert len(vault.calls("GET")) == 1  # the redirect, and nothing after it


def test_a_redirect_on_the_same_server_is_followed_a_few_times(
    vault: HostileVault, plugin: VaultPlugin
) -> None:
    def moved(handler: Handler, _vault: HostileVault) -> None:
        if handler.path.startswith("/v1/moved/"):
            answering(200, secret("moved"))(handler, _vault)
        else:
            redirect(f"/v1/moved{handler.path[3:]}")(handler, _vault)

    vault.behaviour = moved
    assert plugin.get(ID("app/key")).value == b"moved"
    assert [s.path for s in vault.calls("GET")] == [
        "/v1/secret/data/app/key",
        "/v1/moved/secret/data/app/key",
    ]
    vault.behaviour = redirect("/v1/again")  # a loop on the same server
    before = len(vault.calls("GET"))
    error, took = failure(plugin.get, ID("loop"))
    assert isinstance(error, RedirectRefusedError)
    assert "more than 5 redirects" in str(error)
    assert len(vault.calls("GET")) - before == 6
    assert took < TIMEOUT + SLACK


def test_a_redirect_s_body_is_not_read(
    vault: HostileVault, elsewhere: HostileVault, plugin: VaultPlugin
) -> None:
    vault.behaviour = redirect(f"{elsewhere.address}/v1/x", flooded=True)  # 2 GiB each
    error, took = failure(plugin.get, ID("k"))
    assert isinstance(error, RedirectRefusedError)
    vault.behaviour = redirect("/v1/again", flooded=True)
    error, took = failure(plugin.get, ID("k"))
    assert "more than 5 redirects" in str(error)
    assert took < TIMEOUT + SLACK  # six 2 GiB bodies were not read
    assert elsewhere.requests() == []


# -- answers that are not Vault's ---------------------------------------------------------------


def test_an_html_page_is_an_error_naming_the_address_not_an_empty_listing(
    vault: HostileVault, plugin: VaultPlugin
) -> None:
    vault.behaviour = raw(200, b"<html><body>Welcome to nginx!</body></html>", "text/html")
    error, _ = failure(plugin.list, Pattern("**"))
    assert isinstance(error, NotVaultAnswerError)
    assert str(error) == (
        f"vault {vault.address}: listing secret/: the answer (200, text/html) is not Vault's "
        "JSON: '<html><body>Welcome to nginx!</body></html>'; is this the vault's API address?"
    )
    error, _ = failure(plugin.get, ID("k"))
    assert isinstance(error, NotVaultAnswerError)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, b""),
        (200, b"[1, 2]"),
        (200, b"[" * 100000),  # nested deeper than a parser recurses
        (404, b"<h1>Not Found</h1>"),
        (502, b"<html>Bad Gateway</html>"),
        (200, b'{"data": {"keys": "not a list"}}'),
        (200, b'{"data": null}'),
    ],
    ids=["empty", "array", "deep", "html-404", "html-502", "keys-not-list", "no-data"],
)
def test_a_listing_from_anything_but_vault_is_an_error(
    vault: HostileVault, plugin: VaultPlugin, status: int, body: bytes
) -> None:
    vault.behaviour = raw(status, body, "application/json")
    error, _ = failure(plugin.list, Pattern("**"))
    assert isinstance(error, NotVaultAnswerError), error
    assert str(error).startswith(f"vault {vault.address}: listing secret/: ")


@pytest.mark.parametrize(
    "body",
    [b"", b'"text"', b'{"data": null}', b'{"errors": []}'],
    ids=["empty", "string", "null", "no-data"],
)
def test_a_read_from_anything_but_vault_is_an_error(
    vault: HostileVault, plugin: VaultPlugin, body: bytes
) -> None:
    vault.behaviour = raw(200, body, "application/json")
    error, _ = failure(plugin.get, ID("k"))
    assert isinstance(error, NotVaultAnswerError), error
    assert str(error).startswith(f"vault {vault.address}: reading secret/k: ")


def test_server_text_reaches_messages_without_escapes(
    vault: HostileVault, plugin: VaultPlugin
) -> None:
    vault.behaviour = answering(500, {"errors": [HOSTILE_TEXT]})
    error, _ = failure(plugin.get, ID("k"))
    assert str(error) == (
        f"vault {vault.address}: reading secret/k: the server answered 500: bad thing"
    )
    vault.behaviour = raw(200, HOSTILE_TEXT.encode(), "text/html")
    error, _ = failure(plugin.list, Pattern("**"))
    assert ESC not in str(error)
    assert "'bad thing'" in str(error)
    vault.behaviour = redirect(f"http://127.0.0.2\x1b[2J:{vault.port}/")
    error, _ = failure(plugin.get, ID("k"))
    assert ESC not in str(error)
    assert isinstance(error, RedirectRefusedError)


# -- the walk -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "keys",
    [["loop/"], ["a/", "b/", "s"], ["./", "../", "/", "", "loop/", "loop/"]],
    ids=["itself", "two-and-a-secret", "dots-and-empties"],
)
def test_a_folder_that_lists_itself_is_walked_once(
    vault: HostileVault, plugin: VaultPlugin, keys: list[str]
) -> None:
    vault.behaviour = listing(lambda _path: keys)
    began = time.monotonic()
    found = [i.id.value for i in plugin.list(Pattern("**"))]
    assert found == (["s"] if "s" in keys else [])
    folders = sum(k.endswith("/") and k.strip("./") != "" for k in set(keys))
    # The top, then each of its folders once: each lists what the top did, so it is the top.
    assert len(vault.calls("LIST")) == 1 + folders
    assert time.monotonic() - began < TIMEOUT + SLACK


def test_a_walk_that_never_ends_is_cut_by_its_budget(vault: HostileVault) -> None:
    counter = iter(range(10**9))
    # Every folder holds four new folders: an endless tree no repetition gives away.
    vault.behaviour = listing(lambda _path: [f"f{next(counter)}/" for _ in range(4)])
    plugin = started(vault.address, walk_budget=500)
    try:
        error, _ = failure(plugin.list, Pattern("**"))
    finally:
        plugin.stop()
    assert isinstance(error, WalkCutError)
    assert str(error) == (
        f"vault {vault.address}: listing **: the walk was cut after visiting more than 500 "
        "folders and keys (plugins.vault.walk_budget is 500): narrow the pattern (as in "
        "team/**) or raise plugins.vault.walk_budget"
    )
    assert len(vault.calls("LIST")) <= 500


def test_a_walk_down_an_endless_chain_is_cut_at_a_depth_no_id_has(vault: HostileVault) -> None:
    counter = iter(range(10**9))
    vault.behaviour = listing(lambda _path: [f"d{next(counter)}/"])
    plugin = started(vault.address)
    try:
        error, _ = failure(plugin.list, Pattern("**"))
    finally:
        plugin.stop()
    assert isinstance(error, WalkCutError)
    assert f"folders nest deeper than {MAX_WALK_DEPTH}" in str(error)
    assert len(vault.calls("LIST")) == MAX_WALK_DEPTH + 1


# -- addresses ----------------------------------------------------------------------------------


def test_an_address_with_credentials_is_shown_without_them(vault: HostileVault) -> None:
    from tests.support.vault_server import free_port

    closed = free_port()
    plugin = started(f"http://user:PASS@127.0.0.1:{closed}")
    try:
        error, _ = failure(plugin.get, ID("k"))
        assert (
            str(error)
            == f"cannot reach the vault at http://127.0.0.1:{closed} (connection refused)"
        )
        assert "PASS" not in plugin.storage()
    finally:
        plugin.stop()
    with_credentials = vault.address.replace("http://", "http://user:PASS@")
    plugin = started(with_credentials)
    try:
        vault.behaviour = raw(200, b"<html/>", "text/html")
        error, _ = failure(plugin.get, ID("k"))
        assert "PASS" not in str(error)
        assert str(error).startswith(f"vault {vault.address}: reading secret/k: ")
        assert plugin.storage() == f"{vault.address} mount secret (no prefix)"
    finally:
        plugin.stop()


# -- the token check, against the real OpenBao ---------------------------------------------------


def test_a_namespace_the_vault_lacks_crashes_the_plugin_naming_it(bao_server: BaoServer) -> None:
    prefix = f"n{secrets.token_hex(4)}"
    token = scoped_token(bao_server, prefix)
    plugin = VaultPlugin(
        VaultSettings(bao_server.address, prefix=prefix, namespace="bad"),
        read_secret={"token": token}.get,
    )
    with pytest.raises(WrongPlaceError) as caught:
        plugin.start()
    assert str(caught.value) == (
        f"the vault at {bao_server.address} found no token check (lookup-self) in namespace bad "
        "(404: namespace not found): check the namespace or address (the vault's URL, as in "
        'https://vault.example.com:8200), then run: echo "$VAULT_TOKEN" | docker pass plugins '
        f"vault setup --address {bao_server.address} --prefix {prefix} --namespace bad"
    )
    assert token not in str(caught.value)
