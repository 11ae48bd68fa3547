"""The vault plugin's versions against a real OpenBao server: blind writes, writes that name
the version they read, create-only writes, and versioned deletes.

Each test works under its own random prefix of the one session server, with a token whose
policy allows that prefix only.  "Someone else" is the ``bao`` CLI, as in the issue.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from docker_pass.backends.vault import writes
from docker_pass.backends.vault.errors import VaultSettings
from docker_pass.backends.vault.plugin import VaultPlugin
from docker_pass.core.engine import Engine
from docker_pass.core.errors import SecretNotFoundError, VersionConflictError
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.results import Removal
from docker_pass.core.versions import NO_SECRET, is_versioned
from tests.backends.test_vault import kv_get, make_plugin, plugin, prefix, token
from tests.support.vault_server import BaoServer, bao_server

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["bao_server", "plugin", "prefix", "token"]


def value_in(server: BaoServer, path: str) -> object:
    data = kv_get(server, path)["data"]
    assert isinstance(data, dict)
    return data.get("value")


def test_the_plugin_declares_versions_and_reads_carry_the_kv_version(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    assert is_versioned(plugin)
    assert plugin.save(ID("app/key"), b"one", {}) == "1"
    assert plugin.save(ID("app/key"), b"two", {}) == "2"
    bao_server.put(f"{prefix}/app/key", value="three")
    assert plugin.get(ID("app/key")).version == "3"
    (info,) = plugin.list(Pattern("app/key"))
    assert info.version == "3"
    (walked,) = plugin.list(Pattern("app/**"))
    assert walked.version == "3"
    assert walked.updated_at is not None


def test_a_blind_write_overwrites_an_outside_change_every_time(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    plugin.save(ID("shared"), b"uival", {})
    assert plugin.get(ID("shared")).value == b"uival"  # read: nothing is remembered of it
    for round_ in (1, 2):
        bao_server.put(f"{prefix}/shared", value=f"other-{round_}")
        written = plugin.save(ID("shared"), f"mine-{round_}".encode(), {})
        assert value_in(bao_server, f"{prefix}/shared") == f"mine-{round_}"
        assert written == str(2 * round_ + 1)


def test_a_blind_write_that_another_writer_gets_in_before_keeps_their_other_key(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    bao_server.put(f"{prefix}/db", value="old", user="alice")
    client = plugin.client
    assert client is not None
    real_write = client.write
    calls: list[int] = []

    def interleaved(path: str, data: dict[str, Any], cas: int) -> int:
        calls.append(cas)
        if len(calls) == 1:  # between this write's read and its write, another writer
            bao_server.put(f"{prefix}/db", value="theirs", user="bob")
        return real_write(path, data, cas)

    client.write = interleaved  # type: ignore[method-assign]
    plugin.save(ID("db"), b"mine", {})
    assert calls == [1, 2]  # refused once (version 2 got in), then written over version 2
    assert kv_get(bao_server, f"{prefix}/db")["data"] == {"value": "mine", "user": "bob"}


def test_a_write_naming_a_stale_version_is_refused_and_the_outside_value_stays(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    plugin.save(ID("editor/item"), b"uival", {"owner": "me"})
    opened = plugin.get(ID("editor/item")).version
    before = time.time()
    bao_server.put(f"{prefix}/editor/item", value="other-3")
    with pytest.raises(VersionConflictError) as caught:
        plugin.save(ID("editor/item"), b"uival2", {"owner": "me"}, expected_version=opened)
    conflict = caught.value
    assert (conflict.id, conflict.provider) == ("editor/item", "vault")
    assert (conflict.expected, conflict.found) == ("1", "2")
    assert conflict.changed_at is not None
    assert before - 5 <= conflict.changed_at <= time.time() + 5
    assert str(conflict) == (
        "vault: editor/item changed since it was read (version 1 was read, version 2 is there "
        "now): nothing was written"
    )
    assert "uival" not in str(conflict)
    assert "other-3" not in str(conflict)
    assert value_in(bao_server, f"{prefix}/editor/item") == "other-3"
    assert plugin.save(ID("editor/item"), b"uival2", {}, expected_version="2") == "3"
    assert value_in(bao_server, f"{prefix}/editor/item") == "uival2"


def test_the_vault_itself_refuses_a_version_written_between_the_check_and_the_write(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    plugin.save(ID("raced"), b"first", {})
    client = plugin.client
    assert client is not None
    real_write = client.write

    def late(path: str, data: dict[str, Any], cas: int) -> int:
        bao_server.put(f"{prefix}/raced", value="got in")  # after the check, before the write
        return real_write(path, data, cas)

    client.write = late  # type: ignore[method-assign]
    with pytest.raises(VersionConflictError) as caught:
        plugin.save(ID("raced"), b"mine", {}, expected_version="1")
    assert caught.value.found == "2"
    assert value_in(bao_server, f"{prefix}/raced") == "got in"


def test_a_token_that_is_no_kv_version_is_a_conflict(plugin: VaultPlugin) -> None:
    plugin.save(ID("odd"), b"v", {})
    with pytest.raises(VersionConflictError) as caught:
        plugin.save(ID("odd"), b"w", {}, expected_version="mtime:1700000000")
    assert caught.value.found == "1"


def test_no_secret_expected_creates_only(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    assert plugin.save(ID("fresh"), b"new", {}, expected_version=NO_SECRET) == "1"
    with pytest.raises(VersionConflictError) as caught:
        plugin.save(ID("fresh"), b"again", {}, expected_version=NO_SECRET)
    assert caught.value.found == "1"
    assert str(caught.value) == "vault: fresh already exists (version 1): nothing was written"
    assert value_in(bao_server, f"{prefix}/fresh") == "new"
    # A deleted secret is no secret: creating it again names its current (deleted) version.
    assert plugin.delete(ID("fresh")) is True
    assert plugin.save(ID("fresh"), b"reborn", {}, expected_version=NO_SECRET) == "2"
    assert plugin.get(ID("fresh")).value == b"reborn"


def test_a_write_expecting_a_version_of_a_deleted_secret_is_refused(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    plugin.save(ID("gone/soon"), b"v1", {})
    bao_server.bao("kv", "delete", "-mount=secret", f"{prefix}/gone/soon")
    with pytest.raises(VersionConflictError) as caught:
        plugin.save(ID("gone/soon"), b"v2", {}, expected_version="1")
    assert caught.value.found == NO_SECRET
    assert caught.value.changed_at is not None  # when it was deleted
    assert "was deleted since it was read" in str(caught.value)
    with pytest.raises(SecretNotFoundError):
        plugin.get(ID("gone/soon"))


def test_a_key_of_a_secret_has_that_secrets_version(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    bao_server.put(f"{prefix}/db", user="alice", password="pw")
    read = plugin.get(ID("db/user"))
    assert read.version == "1"
    bao_server.put(f"{prefix}/db", user="alice", password="changed")
    with pytest.raises(VersionConflictError):
        plugin.save(ID("db/user"), b"bob", {}, expected_version=read.version)
    assert kv_get(bao_server, f"{prefix}/db")["data"] == {"user": "alice", "password": "changed"}
    assert plugin.save(ID("db/user"), b"bob", {}, expected_version="2") == "3"
    with pytest.raises(VersionConflictError):
        plugin.save(ID("db/user"), b"carol", {}, expected_version=NO_SECRET)


# -- deletes ----------------------------------------------------------------------------------


def test_a_delete_naming_a_stale_version_is_refused_and_the_secret_stays(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    plugin.save(ID("kept"), b"mine", {})
    bao_server.put(f"{prefix}/kept", value="theirs")
    with pytest.raises(VersionConflictError) as caught:
        plugin.delete(ID("kept"), expected_version="1")
    assert caught.value.found == "2"
    assert plugin.get(ID("kept")).value == b"theirs"
    assert plugin.delete(ID("kept"), expected_version="2") is True
    assert plugin.list(Pattern("kept")) == []
    assert plugin.delete(ID("kept"), expected_version="2") is False  # nothing live to delete


def test_a_versioned_delete_never_deletes_a_version_written_after_its_check(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    plugin.save(ID("narrow"), b"mine", {})
    bao_server.put(f"{prefix}/narrow", value="theirs")  # as if after the check of version 1
    client = plugin.client
    assert client is not None
    path = f"{prefix}/narrow"
    with pytest.raises(VersionConflictError):
        writes._delete_version(client, ID("narrow"), path, 1, "1")
    assert plugin.get(ID("narrow")).value == b"theirs"
    old = bao_server.bao("kv", "get", "-mount=secret", "-version=1", "-field=value", path)
    assert old.stdout.strip() == "mine"  # the older version was put back as it was


def test_a_deleted_secret_is_no_live_secret_until_it_is_undeleted(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    plugin.save(ID("team/db"), b"v1", {"owner": "alice"})
    plugin.save(ID("team/db"), b"v2", {"owner": "alice"})
    plugin.save(ID("team/api"), b"api", {})
    assert [i.id.value for i in plugin.list(Pattern("team/**"))] == ["team/api", "team/db"]
    assert plugin.delete(ID("team/db")) is True

    assert [i.id.value for i in plugin.list(Pattern("team/**"))] == ["team/api"]
    assert plugin.list(Pattern("team/db")) == []
    with pytest.raises(SecretNotFoundError):
        plugin.get(ID("team/db"))
    assert [e.id.value for e in plugin.resolve(Pattern("team/*"))] == ["team/api"]
    assert plugin.resolve(Pattern("team/db")) == []

    walked = plugin.list(Pattern("team/**"), deleted=True)
    assert [(i.id.value, i.deleted) for i in walked] == [("team/api", False), ("team/db", True)]
    (exact,) = plugin.list(Pattern("team/db"), deleted=True)
    assert (exact.deleted, exact.version, dict(exact.metadata)) == (True, "2", {"owner": "alice"})
    assert exact.updated_at is not None

    assert plugin.undelete(ID("team/db")) is True
    assert plugin.get(ID("team/db")).value == b"v2"
    assert [i.id.value for i in plugin.list(Pattern("team/**"))] == ["team/api", "team/db"]


def test_undelete_says_when_there_is_nothing_to_restore(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    assert plugin.undelete(ID("never/was")) is False
    plugin.save(ID("alive"), b"v", {})
    with pytest.raises(Exception, match=r"vault: alive is not deleted \(version 1 is live\)"):
        plugin.undelete(ID("alive"))
    plugin.save(ID("burnt"), b"v", {})
    bao_server.bao("kv", "destroy", "-mount=secret", "-versions=1", f"{prefix}/burnt")
    with pytest.raises(Exception, match=r"burnt: its latest version \(1\) was destroyed"):
        plugin.undelete(ID("burnt"))
    assert [(i.id.value, i.deleted) for i in plugin.list(Pattern("burnt"), deleted=True)] == [
        ("burnt", True)
    ]
    assert plugin.list(Pattern("burnt")) == []


def test_purge_removes_a_deleted_secret_from_every_listing(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    plugin.save(ID("old/one"), b"v", {})
    assert plugin.delete(ID("old/one")) is True
    assert [i.id.value for i in plugin.list(Pattern("old/**"), deleted=True)] == ["old/one"]
    assert plugin.purge(ID("old/one")) is True
    assert plugin.list(Pattern("old/**"), deleted=True) == []
    assert plugin.list(Pattern("old/one"), deleted=True) == []
    assert plugin.undelete(ID("old/one")) is False
    gone = bao_server.bao(
        "kv", "metadata", "get", "-mount=secret", f"{prefix}/old/one", check=False
    )
    assert gone.returncode != 0


def test_a_purge_naming_a_stale_version_is_refused(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    plugin.save(ID("p"), b"v", {})
    bao_server.put(f"{prefix}/p", value="w")
    with pytest.raises(VersionConflictError):
        plugin.purge(ID("p"), expected_version="1")
    assert plugin.get(ID("p")).value == b"w"
    assert plugin.purge(ID("p"), expected_version="2") is True


def test_an_outside_delete_is_seen_by_a_listing_once_its_cache_expires(
    bao_server: BaoServer, prefix: str, token: str
) -> None:
    uncached = make_plugin(bao_server, prefix, token, cache_ttl=0)
    try:
        bao_server.put(f"{prefix}/x/a", value="1")
        bao_server.put(f"{prefix}/x/b", value="2")
        assert [i.id.value for i in uncached.list(Pattern("x/*"))] == ["x/a", "x/b"]
        bao_server.bao("kv", "delete", "-mount=secret", f"{prefix}/x/a")
        assert [i.id.value for i in uncached.list(Pattern("x/*"))] == ["x/b"]
    finally:
        uncached.stop()


def test_a_blind_write_works_on_a_mount_that_requires_check_and_set(
    bao_server: BaoServer, prefix: str
) -> None:
    mount = f"cas{prefix}"
    bao_server.bao("secrets", "enable", f"-path={mount}", "kv-v2")
    bao_server.bao("write", f"{mount}/config", "cas_required=true")
    strict = make_plugin(bao_server, "", bao_server.root_token, mount=mount)
    try:
        assert strict.save(ID("k"), b"one", {}) == "1"
        assert strict.save(ID("k"), b"two", {}) == "2"
        assert strict.get(ID("k")).value == b"two"
        assert strict.delete(ID("k"), expected_version="2") is True
    finally:
        strict.stop()


# -- through the engine -----------------------------------------------------------------------


@pytest.fixture
def engine(bao_server: BaoServer, prefix: str, token: str) -> Iterator[Engine]:
    """An engine holding only the vault plugin on ``prefix``, enabled."""

    class OnThisPrefix(VaultPlugin):
        def __init__(self) -> None:
            settings = VaultSettings(bao_server.address, prefix=prefix)
            super().__init__(settings, read_secret={"token": token}.get)

    made = Engine(factories={"vault": OnThisPrefix})
    made.enable("vault")
    try:
        yield made
    finally:
        made.close()


def test_the_engine_saves_blind_or_with_the_version_it_is_given(
    bao_server: BaoServer, prefix: str, engine: Engine
) -> None:
    first = engine.save(ID("e/k"), b"one", {}, plugin="vault")
    assert (first.replaced, first.version) == (False, "1")
    bao_server.put(f"{prefix}/e/k", value="outside")
    blind = engine.save(ID("e/k"), b"two", {}, plugin="vault")
    assert (blind.replaced, blind.version) == (True, "3")
    with pytest.raises(VersionConflictError) as caught:
        engine.save(ID("e/k"), b"three", {}, plugin="vault", expected_version="1")
    assert caught.value.found == "3"
    assert engine.get(ID("e/k"), plugin="vault").value == b"two"
    assert engine.save(ID("e/k"), b"three", {}, plugin="vault", expected_version="3").version == "4"


def test_the_engine_lists_undeletes_and_purges_a_deleted_secret(
    bao_server: BaoServer, prefix: str, engine: Engine
) -> None:
    engine.save(ID("z/a"), b"a", {}, plugin="vault")
    engine.save(ID("z/b"), b"b", {}, plugin="vault")
    stale = engine.remove([ID("z/b")], plugin="vault", expected_versions={ID("z/b"): "9"})
    assert stale.failed
    assert "changed since it was read" in stale.outcomes[0][1]
    removed = engine.remove([ID("z/b")], plugin="vault", expected_versions={ID("z/b"): "1"})
    assert removed.outcomes == ((ID("z/b"), Removal.REMOVED),)

    everything = Pattern("z/**")
    assert [i.id.value for i in engine.list_secrets(everything).infos] == ["z/a"]
    listed = engine.list_secrets(everything, plugin="vault", deleted=True).infos
    assert [(i.id.value, i.deleted, i.version) for i in listed] == [
        ("z/a", False, "1"),
        ("z/b", True, "1"),
    ]
    with pytest.raises(SecretNotFoundError):
        engine.get(ID("z/b"), plugin="vault")
    assert [e.id.value for e in engine.resolve(everything).envelopes] == ["z/a"]

    restored = engine.undelete([ID("z/b"), ID("z/none")], plugin="vault")
    assert restored.outcomes == ((ID("z/b"), Removal.RESTORED), (ID("z/none"), Removal.MISSING))
    assert engine.get(ID("z/b"), plugin="vault").value == b"b"

    engine.remove([ID("z/b")], plugin="vault")
    purged = engine.remove([ID("z/b")], plugin="vault", purge_versions=True)
    assert purged.outcomes == ((ID("z/b"), Removal.REMOVED),)
    assert [i.id.value for i in engine.list_secrets(everything, deleted=True).infos] == ["z/a"]


def test_blind_writers_at_once_all_succeed_and_keep_the_other_keys(
    bao_server: BaoServer, prefix: str, token: str
) -> None:
    writers = 8
    bao_server.put(f"{prefix}/busy", value="start", user="alice")
    instances = [make_plugin(bao_server, prefix, token) for _ in range(writers)]
    start = threading.Barrier(writers)

    def write(number: int) -> str:
        start.wait()
        return instances[number].save(ID("busy"), b"writer-%d" % number, {})

    try:
        with ThreadPoolExecutor(max_workers=writers) as pool:
            versions = list(pool.map(write, range(writers)))
    finally:
        for instance in instances:
            instance.stop()
    assert sorted(versions, key=int) == [str(n) for n in range(2, 2 + writers)]
    data = kv_get(bao_server, f"{prefix}/busy")["data"]
    last = versions.index(str(1 + writers))
    assert data == {"value": f"writer-{last}", "user": "alice"}


def test_a_key_above_a_deleted_path_is_what_get_list_and_delete_see(
    bao_server: BaoServer, prefix: str, plugin: VaultPlugin
) -> None:
    bao_server.put(f"{prefix}/db", user="alice", password="pw")
    bao_server.put(f"{prefix}/db/user", value="a path wins")
    assert plugin.get(ID("db/user")).value == b"a path wins"
    bao_server.bao("kv", "delete", "-mount=secret", f"{prefix}/db/user")
    assert plugin.get(ID("db/user")).value == b"alice"  # the path is deleted: the key shows
    (info,) = plugin.list(Pattern("db/user"), deleted=True)
    assert (info.deleted, info.version) == (False, "1")
    assert plugin.delete(ID("db/user"), expected_version="1") is True
    assert kv_get(bao_server, f"{prefix}/db")["data"] == {"password": "pw"}
    assert plugin.delete(ID("db/user")) is False
