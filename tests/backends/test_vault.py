"""The vault plugin against a real OpenBao server (``bao server -dev``, KV v2 at ``secret/``).

Each test works under its own random prefix of the one session server, with a token whose
policy allows that prefix only, as a team's token would.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING

import pytest

from docker_pass.backends.vault.errors import PermissionDeniedError, VaultSettings
from docker_pass.backends.vault.kv import SeveralKeysError
from docker_pass.backends.vault.plugin import VaultPlugin
from docker_pass.core.errors import (
    FatalPluginError,
    PluginError,
    SecretNotFoundError,
    VersionConflictError,
)
from docker_pass.core.ids import ID, Pattern
from tests.support.vault_server import BaoServer, bao_server, scoped_token, start_bao

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = ["bao_server"]


@pytest.fixture
def prefix() -> str:
    return f"t{secrets.token_hex(4)}"


@pytest.fixture
def token(bao_server: BaoServer, prefix: str) -> str:
    return scoped_token(bao_server, prefix)


def make_plugin(
    server: BaoServer, prefix: str, token: str, *, cache_ttl: float = 30.0, **settings: str
) -> VaultPlugin:
    secrets_by_field = {"token": token}
    plugin = VaultPlugin(
        VaultSettings(server.address, prefix=prefix, **settings),
        read_secret=secrets_by_field.get,
        cache_ttl=cache_ttl,
    )
    plugin.start()
    return plugin


@pytest.fixture
def plugin(bao_server: BaoServer, prefix: str, token: str) -> Iterator[VaultPlugin]:
    plugin = make_plugin(bao_server, prefix, token)
    yield plugin
    plugin.stop()


def kv_get(server: BaoServer, path: str) -> dict[str, object]:
    """``bao kv get -format=json`` of a path (as a person would check)."""
    out = server.bao("kv", "get", "-format=json", "-mount=secret", path).stdout
    answer: dict[str, object] = json.loads(out)["data"]
    return answer


# -- mapping -------------------------------------------------------------------------------


def test_the_value_key_and_the_only_key_are_the_value(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    bao_server.put(f"{prefix}/api", value="tok", note="kept")
    bao_server.put(f"{prefix}/gh", password="ghp")
    assert plugin.get(ID("api")).value == b"tok"
    assert plugin.get(ID("gh")).value == b"ghp"
    envelope = plugin.get(ID("api"))
    assert envelope.provider == "vault"
    assert envelope.version == "1"


def test_a_named_key_resolves_when_it_is_not_a_path(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    bao_server.put(f"{prefix}/db", user="alice", password="pw")
    assert plugin.get(ID("db/user")).value == b"alice"
    assert plugin.get(ID("db/password")).value == b"pw"
    bao_server.put(f"{prefix}/db/user", value="a path wins")
    assert plugin.get(ID("db/user")).value == b"a path wins"
    with pytest.raises(SecretNotFoundError):
        plugin.get(ID("db/nokey"))


def test_several_keys_without_value_is_an_error_naming_the_keys_never_a_value(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    bao_server.put(f"{prefix}/db", user="alice", password="hunter2")
    with pytest.raises(SeveralKeysError) as caught:
        plugin.get(ID("db"))
    message = str(caught.value)
    assert "password, user" in message
    assert "db/password" in message
    assert "hunter2" not in message
    assert "alice" not in message


def test_a_pattern_resolves_each_key_of_a_secret_without_value(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    bao_server.put(f"{prefix}/db", user="alice", password="pw")
    bao_server.put(f"{prefix}/app/key", value="k")
    found = {e.id.value: e.value for e in plugin.resolve(Pattern("**"))}
    assert found == {"db/password": b"pw", "db/user": b"alice", "app/key": b"k"}


def test_metadata_version_and_times_come_from_kv(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    plugin.save(ID("svc/token"), b"v1", {"owner": "alice"})
    plugin.save(ID("svc/token"), b"v2", {"owner": "bob"})
    envelope = plugin.get(ID("svc/token"))
    assert envelope.value == b"v2"
    assert envelope.version == "2"
    assert dict(envelope.metadata) == {"owner": "bob"}
    assert envelope.created_at is not None
    metadata = json.loads(
        bao_server.bao(
            "kv", "metadata", "get", "-format=json", "-mount=secret", f"{prefix}/svc/token"
        ).stdout
    )["data"]
    assert metadata["custom_metadata"] == {"owner": "bob"}
    assert metadata["current_version"] == 2
    (info,) = plugin.list(Pattern("svc/token"))
    assert dict(info.metadata) == {"owner": "bob"}
    assert info.updated_at is not None


def test_dot_components_never_leave_the_prefix(plugin: VaultPlugin) -> None:
    with pytest.raises(PluginError, match=r"cannot hold a \. or \.\. component"):
        plugin.get(ID("../other/secret"))
    with pytest.raises(PluginError, match="component"):
        plugin.save(ID("a/../../b"), b"x", {})


def test_a_value_that_is_not_text_is_refused(plugin: VaultPlugin) -> None:
    with pytest.raises(PluginError, match="not UTF-8 text"):
        plugin.save(ID("bin"), b"\xff\xfe", {})


# -- writes ---------------------------------------------------------------------------------


def test_save_writes_what_bao_reads_and_keeps_other_keys(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    plugin.save(ID("new/one"), b"first", {})
    assert kv_get(bao_server, f"{prefix}/new/one")["data"] == {"value": "first"}
    bao_server.put(f"{prefix}/db", value="old", user="alice")
    plugin.save(ID("db"), b"new", {})
    assert kv_get(bao_server, f"{prefix}/db")["data"] == {"value": "new", "user": "alice"}
    plugin.save(ID("db/user"), b"bob", {})
    assert kv_get(bao_server, f"{prefix}/db")["data"] == {"value": "new", "user": "bob"}


def test_a_concurrent_change_is_not_overwritten_by_a_write_naming_the_version_it_read(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    plugin.save(ID("shared"), b"mine", {})
    read = plugin.get(ID("shared")).version  # this plugin read version 1
    bao_server.put(f"{prefix}/shared", value="theirs")  # someone else writes version 2
    with pytest.raises(VersionConflictError, match="changed since it was read") as caught:
        plugin.save(ID("shared"), b"mine again", {}, expected_version=read)
    assert "nothing was written" in str(caught.value)
    assert kv_get(bao_server, f"{prefix}/shared")["data"] == {"value": "theirs"}
    again = plugin.get(ID("shared"))  # read again, then save
    assert again.value == b"theirs"
    plugin.save(ID("shared"), b"mine again", {}, expected_version=again.version)
    assert kv_get(bao_server, f"{prefix}/shared")["data"] == {"value": "mine again"}


def test_delete_removes_the_latest_version_and_purge_every_version(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    plugin.save(ID("gone"), b"v1", {})
    plugin.save(ID("gone"), b"v2", {})
    assert plugin.delete(ID("gone")) is True
    with pytest.raises(SecretNotFoundError):
        plugin.get(ID("gone"))
    assert plugin.list(Pattern("gone")) == []
    assert plugin.delete(ID("gone")) is False
    versions = bao_server.bao("kv", "get", "-mount=secret", "-version=1", f"{prefix}/gone")
    assert "v1" in versions.stdout  # older versions stay
    plugin.save(ID("gone"), b"v3", {})  # a new version over the deleted one
    assert plugin.get(ID("gone")).version == "3"
    assert plugin.purge(ID("gone")) is True
    missing = bao_server.bao(
        "kv", "metadata", "get", "-mount=secret", f"{prefix}/gone", check=False
    )
    assert missing.returncode != 0
    assert plugin.purge(ID("gone")) is False


def test_deleting_a_named_key_keeps_the_others(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    bao_server.put(f"{prefix}/db", user="alice", password="pw")
    assert plugin.delete(ID("db/password")) is True
    assert kv_get(bao_server, f"{prefix}/db")["data"] == {"user": "alice"}


# -- listing -------------------------------------------------------------------------------


def test_listing_walks_the_prefix(bao_server: BaoServer, prefix: str, plugin: VaultPlugin) -> None:
    for path in ("a", "b/c", "b/d/e", "x/y/z"):
        bao_server.put(f"{prefix}/{path}", value="v")
    assert [i.id.value for i in plugin.list(Pattern("**"))] == ["a", "b/c", "b/d/e", "x/y/z"]
    assert [i.id.value for i in plugin.list(Pattern("b/**"))] == ["b/c", "b/d/e"]
    assert [i.id.value for i in plugin.list(Pattern("*/*"))] == ["b/c"]
    assert all(i.provider == "vault" for i in plugin.list(Pattern("**")))


def test_the_walk_descends_only_where_the_pattern_can_match(
    bao_server: BaoServer, prefix: str, token: str
) -> None:
    for team in ("team", "other"):
        for folder in range(3):
            for leaf in range(2):
                bao_server.put(f"{prefix}/{team}/f{folder}/deep/s{leaf}", value="v")
            bao_server.put(f"{prefix}/{team}/f{folder}/db", value="v")
    plugin = make_plugin(bao_server, prefix, token, cache_ttl=0)
    try:
        before = len(bao_server.audit_operations("list"))
        ids = [i.id.value for i in plugin.list(Pattern("team/*/db"))]
        lists = bao_server.audit_operations("list")[before:]
        assert ids == ["team/f0/db", "team/f1/db", "team/f2/db"]
        # team/ and its three folders; never other/, never the deep/ folders below the match.
        assert sorted(lists) == sorted(
            [f"secret/metadata/{prefix}/team/"]
            + [f"secret/metadata/{prefix}/team/f{n}/" for n in range(3)]
        )
        before = len(bao_server.audit_operations("list"))
        assert [i.id.value for i in plugin.list(Pattern("team/f1/deep/s0"))] == ["team/f1/deep/s0"]
        assert bao_server.audit_operations("list")[before:] == []  # an exact ID: no walk
        assert plugin.client is not None
        assert plugin.client.calls.get("list", 0) == 4
    finally:
        plugin.stop()


def test_the_tree_is_cached_and_forgotten_on_write(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    bao_server.put(f"{prefix}/k/one", value="1")
    assert [i.id.value for i in plugin.list(Pattern("k/**"))] == ["k/one"]
    before = len(bao_server.audit_operations("list"))
    assert [i.id.value for i in plugin.list(Pattern("k/**"))] == ["k/one"]
    assert bao_server.audit_operations("list")[before:] == []  # from the cache
    plugin.save(ID("k/two"), b"2", {})
    assert [i.id.value for i in plugin.list(Pattern("k/**"))] == ["k/one", "k/two"]


# -- failures ------------------------------------------------------------------------------


def test_a_policy_that_denies_a_path_crashes_with_the_remedy(
    bao_server: BaoServer, prefix: str
) -> None:
    denied = f'path "secret/data/{prefix}/locked/*" {{ capabilities = ["deny"] }}\n'
    token = scoped_token(bao_server, prefix, extra=denied)
    bao_server.put(f"{prefix}/locked/x", value="secret")
    bao_server.put(f"{prefix}/open", value="fine")
    plugin = make_plugin(bao_server, prefix, token)
    try:
        assert plugin.get(ID("open")).value == b"fine"
        with pytest.raises(PermissionDeniedError) as caught:
            plugin.get(ID("locked/x"))
        message = str(caught.value)
        assert f"denied reading secret/{prefix}/locked/x" in message
        assert "docker pass plugins vault setup --address" in message
        assert token not in message
    finally:
        plugin.stop()


def test_a_revoked_token_is_fatal_at_start_and_on_a_request(
    bao_server: BaoServer, prefix: str, token: str
) -> None:
    plugin = make_plugin(bao_server, prefix, token)
    bao_server.revoke(token)
    with pytest.raises(FatalPluginError, match="refused the token") as caught:
        plugin.get(ID("anything"))
    assert token not in str(caught.value)
    plugin.stop()
    with pytest.raises(FatalPluginError, match="refused the token"):
        make_plugin(bao_server, prefix, token)


def test_no_token_stored_says_how_to_set_up(bao_server: BaoServer) -> None:
    plugin = VaultPlugin(VaultSettings(bao_server.address), read_secret=lambda _f: None)
    with pytest.raises(FatalPluginError, match=r"no vault token is stored: run: echo"):
        plugin.start()


def test_a_server_that_cannot_be_reached_fails_the_request_only(tmp_path: Path) -> None:
    server = start_bao(tmp_path / "bao")
    try:
        server.put("k", value="v")
        plugin = make_plugin(server, "", server.root_token)
        assert plugin.get(ID("k")).value == b"v"
    finally:
        server.stop()
    with pytest.raises(PluginError) as caught:
        plugin.get(ID("k"))
    assert not isinstance(caught.value, FatalPluginError)
    assert str(caught.value) == f"cannot reach the vault at {server.address} (connection refused)"
    server.start()  # the same port and root token; dev servers start empty
    server.put("k", value="back")
    assert plugin.get(ID("k")).value == b"back"  # tried again, and it answers
    plugin.stop()
    server.stop()


def test_a_plugin_started_while_the_server_is_down_comes_up_when_it_answers(
    tmp_path: Path,
) -> None:
    server = start_bao(tmp_path / "bao")
    server.stop()
    plugin = make_plugin(server, "", server.root_token)  # no crash: nothing is known yet
    try:
        assert "cannot reach" in plugin.storage()
        with pytest.raises(PluginError, match="cannot reach the vault"):
            plugin.get(ID("k"))
        server.start()
        server.put("k", value="v")
        assert plugin.get(ID("k")).value == b"v"
    finally:
        plugin.stop()
        server.stop()


def test_tls_errors_say_which_check_failed(tmp_path: Path) -> None:
    server = start_bao(tmp_path / "bao", tls=True)
    try:
        server.put("k", value="over tls")
        untrusting = make_plugin(server, "", server.root_token)
        with pytest.raises(PluginError) as caught:
            untrusting.get(ID("k"))
        untrusting.stop()
        message = str(caught.value)
        assert message.startswith(f"vault {server.address}: TLS: certificate verify failed: ")
        assert "--ca-cert FILE" in message
        plugin = make_plugin(server, "", server.root_token, ca_cert=str(server.ca_cert))
        assert plugin.get(ID("k")).value == b"over tls"
        plugin.stop()
    finally:
        server.stop()


def test_a_sealed_server_crashes_the_plugin(tmp_path: Path) -> None:
    server = start_bao(tmp_path / "bao")
    try:
        plugin = make_plugin(server, "", server.root_token)
        server.bao("operator", "seal")
        with pytest.raises(FatalPluginError, match="is sealed or unavailable: unseal it"):
            plugin.get(ID("k"))
        plugin.stop()
    finally:
        server.stop()


# -- auth ----------------------------------------------------------------------------------


def approle(server: BaoServer, prefix: str, ttl: str = "1h") -> tuple[str, str]:
    """An AppRole whose tokens may use ``prefix``: (role ID, secret ID)."""
    if "approle/" not in server.bao("auth", "list").stdout:
        server.bao("auth", "enable", "approle")
    token = scoped_token(server, prefix)  # creates the policy; its name is what we need
    policies = json.loads(server.bao("token", "lookup", "-format=json", token=token).stdout)
    policy = next(p for p in policies["data"]["policies"] if p.startswith("scoped-"))
    role = f"ci-{prefix}"
    server.bao("write", f"auth/approle/role/{role}", f"token_policies={policy}", f"token_ttl={ttl}")
    role_id = json.loads(
        server.bao("read", "-format=json", f"auth/approle/role/{role}/role-id").stdout
    )["data"]["role_id"]
    secret_id = json.loads(
        server.bao("write", "-f", "-format=json", f"auth/approle/role/{role}/secret-id").stdout
    )["data"]["secret_id"]
    return str(role_id), str(secret_id)


def test_approle_logs_in_and_logs_in_again_when_the_token_cannot_be_renewed(
    bao_server: BaoServer, prefix: str
) -> None:
    role_id, secret_id = approle(bao_server, prefix)
    bao_server.put(f"{prefix}/ci/key", value="from approle")
    plugin = VaultPlugin(
        VaultSettings(bao_server.address, prefix=prefix, role_id=role_id),
        read_secret={"secret_id": secret_id}.get,
    )
    plugin.start()
    try:
        assert plugin.get(ID("ci/key")).value == b"from approle"
        keeper = plugin._keeper
        assert keeper is not None
        assert keeper.logins == 1
        first = plugin.client.token if plugin.client else ""
        keeper.renew_now()  # an AppRole token is renewable
        assert keeper.renewals == 1
        keeper.renewable = False  # as if its max TTL were reached
        keeper.renew_now()
        assert keeper.logins == 2
        assert plugin.client is not None
        assert plugin.client.token != first
        assert plugin.get(ID("ci/key")).value == b"from approle"
        assert "AppRole" in plugin.storage()
    finally:
        plugin.stop()


def test_a_renewable_token_is_renewed_before_it_expires(bao_server: BaoServer, prefix: str) -> None:
    token = scoped_token(bao_server, prefix, ttl="60s")
    plugin = make_plugin(bao_server, prefix, token)
    try:
        keeper = plugin._keeper
        assert keeper is not None
        assert 0 < keeper.ttl <= 60
        assert keeper.next_wait() <= 41  # at two thirds of its time to live
        keeper.ttl = 1.0  # pretend it is nearly over
        keeper.renew_now()
        assert keeper.renewals == 1
        assert keeper.ttl > 30  # renewed to the token's period again
        assert keeper.last_problem == ""
    finally:
        plugin.stop()


def test_the_renewal_thread_runs_while_the_plugin_runs(bao_server: BaoServer, prefix: str) -> None:
    import time

    token = scoped_token(bao_server, prefix, ttl="3s")
    plugin = make_plugin(bao_server, prefix, token)
    try:
        keeper = plugin._keeper
        assert keeper is not None
        deadline = time.monotonic() + 20
        while keeper.renewals < 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # polling a background thread's progress, with a deadline
        assert keeper.renewals >= 2
        assert keeper.last_problem == ""
        bao_server.put(f"{prefix}/still", value="valid")
        assert plugin.get(ID("still")).value == b"valid"  # past its first 3 s
    finally:
        plugin.stop()


def test_a_namespace_is_sent_with_every_call(bao_server: BaoServer, prefix: str) -> None:
    namespace = f"ns{prefix}"
    bao_server.bao("namespace", "create", namespace)
    bao_server.bao("secrets", "enable", f"-ns={namespace}", "-path=secret", "kv-v2")
    payload = json.dumps({"value": "in the namespace"}).encode()
    bao_server.bao("kv", "put", f"-ns={namespace}", "-mount=secret", "app/key", "-", input=payload)
    plugin = make_plugin(bao_server, "", bao_server.root_token, namespace=namespace)
    try:
        assert plugin.get(ID("app/key")).value == b"in the namespace"
        assert [i.id.value for i in plugin.list(Pattern("**"))] == ["app/key"]
        assert f"namespace {namespace}" in plugin.storage()
    finally:
        plugin.stop()
    outside = make_plugin(bao_server, "", bao_server.root_token)
    try:
        with pytest.raises(SecretNotFoundError):
            outside.get(ID("app/key"))
    finally:
        outside.stop()
