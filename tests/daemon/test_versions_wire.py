"""The daemon wire of issue 23: versions on reads and listings, expected versions on writes and
removals, the typed conflict, deleted entries, undelete and moves — each message as protobuf
writes it and our standard-library client reads it, and each call through the real daemon
answering as the embedded engine does."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from docker_pass.core import ID, Pattern
from docker_pass.core.engine import Engine
from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.errors import SecretNotFoundError, VersionConflictError
from docker_pass.core.moves import Moved, RealmMoved
from docker_pass.core.remote.client import DaemonError
from docker_pass.core.remote.front import DaemonOrEmbedded
from docker_pass.core.remote.wire import (
    ABORTED,
    CONFLICT_HEADER,
    SAVE_SECRET,
    UNIMPLEMENTED,
    VERSIONS_FEATURE,
    conflict_from_json,
    moved_from_json,
    realm_moved_from_json,
    secret_info_from_json,
)
from docker_pass.core.results import Removal, Resolution
from docker_pass.core.versions import NO_SECRET
from docker_pass.daemon.protocol import (
    conflict_message,
    connect_error,
    info_message,
    move_message,
    realm_move_message,
)
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from tests.daemon.engines import RunningEngine


def as_json(message: object) -> dict[str, object]:
    doc: dict[str, object] = json.loads(message.to_json())  # type: ignore[attr-defined]
    return doc


# -- each message, written by protobuf and read by the client --------------------------------------


def test_listing_entries_carry_version_and_the_deleted_mark() -> None:
    info = SecretInfo(ID("a/b"), "vault", {"k": "v"}, 1700000000.5, "7", deleted=True)
    back = secret_info_from_json(as_json(info_message(info)))
    assert (back.id, back.provider, dict(back.metadata)) == (ID("a/b"), "vault", {"k": "v"})
    assert (back.version, back.deleted, back.updated_at) == ("7", True, 1700000000.5)
    live = secret_info_from_json(as_json(info_message(SecretInfo(ID("a/c"), "x"))))
    assert (live.version, live.deleted) == ("", False)


def test_a_conflict_carries_its_fields() -> None:
    exc = VersionConflictError(
        "a/b changed",
        id_="a/b",
        provider="vault",
        expected="3",
        found="4",
        changed_at=1700000000.25,
        changed_by="bao (token alice)",
    )
    back = conflict_from_json("a/b changed", as_json(conflict_message(exc)))
    fields = ("id", "provider", "expected", "found", "changed_at", "changed_by")
    assert [getattr(back, f) for f in fields] == [getattr(exc, f) for f in fields]
    assert str(back) == "a/b changed"
    error = connect_error(exc)
    assert error.code.value == ABORTED
    assert str(error.message) == "a/b changed"
    gone = VersionConflictError("gone", id_="a/b", expected="3", found=NO_SECRET)
    assert conflict_from_json("gone", as_json(conflict_message(gone))).changed_at is None


def test_moves_read_back_as_they_were() -> None:
    moved = Moved(ID("a/b"), ID("c/d"), "docker-pass", "vault", Moved.MOVED, version="2")
    kept = Moved(
        ID("a/e"),
        ID("c/e"),
        "docker-pass",
        "vault",
        Moved.BOTH_KEPT,
        message="copied to vault:c/e but docker-pass:a/e changed meanwhile: both kept",
        checked=False,
    )
    assert moved_from_json(as_json(move_message(moved))) == moved
    assert moved_from_json(as_json(move_message(kept))) == kept
    realm = RealmMoved(ID("a"), ID("c"), "docker-pass", "vault", (moved, kept))
    back = realm_moved_from_json(as_json(realm_move_message(realm)))
    assert back == realm
    assert (back.complete, len(back.moved), len(back.kept)) == (False, 1, 1)


# -- through the running daemon ------------------------------------------------------------------


def test_get_save_list_and_remove_carry_versions(engine: RunningEngine) -> None:
    with engine.client() as client, Engine.for_plugin("docker-pass") as embedded:
        saved = client.save(ID("v/one"), b"1", {"k": "v"})
        assert saved.version
        got = client.get(ID("v/one"))
        assert (got.value, got.version, got.provider) == (b"1", saved.version, "docker-pass")
        assert embedded.get(ID("v/one")).version == saved.version
        (info,) = client.list_secrets(Pattern("v/**"), plugin="docker-pass").infos
        assert info.version in ("", saved.version)
        with pytest.raises(SecretNotFoundError, match="secret not found: v/none"):
            client.get(ID("v/none"))
        stale = client.remove([ID("v/one")], expected_versions={ID("v/one"): "0-0"})
        ((_, outcome),) = stale.outcomes
        assert outcome not in (Removal.REMOVED, Removal.MISSING)
        assert embedded.get(ID("v/one")).value == b"1"
        right = client.remove([ID("v/one")], expected_versions={ID("v/one"): saved.version})
        assert right.outcomes == ((ID("v/one"), Removal.REMOVED),)


def test_the_conflict_answer_on_the_wire(engine: RunningEngine) -> None:
    with engine.client() as client:
        client.save(ID("v/two"), b"1", {})
        with pytest.raises(VersionConflictError) as caught:
            client.save(ID("v/two"), b"2", {}, expected_version=NO_SECRET)
        assert (caught.value.id, caught.value.expected) == ("v/two", NO_SECRET)
        assert caught.value.found == client.get(ID("v/two")).version
        # Underneath: Connect's `aborted` (HTTP 409), and the fields in their header.
        body = {"id": "v/two", "value": "Mg==", "plugin": "docker-pass", "expectedVersion": "x"}
        answer = client._transport.post(
            SAVE_SECRET,
            {"Content-Type": "application/json", "Connect-Protocol-Version": "1"},
            json.dumps(body).encode(),
            30,
        )
        assert answer.status == 409
        assert json.loads(answer.body)["code"] == ABORTED
        header = json.loads(answer.headers[CONFLICT_HEADER])
        assert (header["id"], header["expected"], header["found"]) == (
            "v/two",
            "x",
            caught.value.found,
        )
        assert "Mg==" not in answer.headers[CONFLICT_HEADER]


def test_an_engine_without_versions_is_never_sent_an_expected_version(
    engine: RunningEngine,
) -> None:
    """A daemon ignores a request field it does not know (this one does too), so an older one
    would write blind: the client asks only an engine that lists the ``versions`` feature,
    and the front writes through an embedded engine instead, still checking the version."""
    with engine.client() as client:
        assert VERSIONS_FEATURE in client.info().features
        body = {"id": "v/three", "value": "MQ==", "plugin": "docker-pass", "expectedVersio": "1"}
        client.call(SAVE_SECRET, body)  # the unknown field is ignored: a blind write
        assert client.get(ID("v/three")).value == b"1"
        client._features = frozenset()  # as an older engine answers GetVersion
        with pytest.raises(DaemonError) as refused:
            client.save(ID("v/three"), b"2", {}, expected_version=NO_SECRET)
        assert refused.value.code == UNIMPLEMENTED
        with pytest.raises(DaemonError):
            client.remove([ID("v/three")], expected_versions={ID("v/three"): "1"})
    older = engine.client()
    older._features = frozenset()
    front = DaemonOrEmbedded(older)
    try:
        with pytest.raises(VersionConflictError):
            front.save(ID("v/three"), b"2", {}, expected_version=NO_SECRET)
        assert front.get(ID("v/three")).value == b"1"
    finally:
        front.close()
    assert engine.client().info().requests.get(SAVE_SECRET) == 1


def test_undelete_and_purge_through_the_daemon_say_who_can(engine: RunningEngine) -> None:
    with engine.client() as client:
        client.save(ID("v/four"), b"1", {})
        with pytest.raises(DaemonError, match="keeps no deleted secrets"):
            client.undelete([ID("v/four")], plugin="docker-pass")
        with pytest.raises(DaemonError, match="keeps no older versions"):
            client.remove([ID("v/four")], purge_versions=True)
        assert client.get(ID("v/four")).value == b"1"
        assert client.list_secrets(Pattern("v/**"), deleted=True).infos[0].deleted is False


def test_moves_through_the_daemon(engine: RunningEngine) -> None:
    with engine.client() as client, Engine.for_plugin("docker-pass") as embedded:
        client.save(ID("m/a"), b"a", {"k": "1"})
        client.save(ID("m/r/x"), b"x", {})
        client.save(ID("m/r/y"), b"y", {})
        moved = client.move(ID("m/a"), ID("n/a"), plugin="docker-pass")
        assert (moved.outcome, moved.checked, moved.message) == (Moved.MOVED, True, "")
        assert moved.version == embedded.get(ID("n/a")).version
        assert embedded.get(ID("n/a")).metadata == {"k": "1"}
        with pytest.raises(SecretNotFoundError):
            embedded.get(ID("m/a"))
        with pytest.raises(VersionConflictError, match="exists already"):
            client.move(ID("n/a"), ID("m/r/x"), plugin="docker-pass")
        with pytest.raises(SecretNotFoundError, match="docker-pass:m/none"):
            client.move(ID("m/none"), ID("n/none"), plugin="docker-pass")
        realm = client.move_realm(ID("m/r"), ID("n/r"), plugin="docker-pass")
        assert [(m.old.value, m.new.value, m.outcome) for m in realm.moves] == [
            ("m/r/x", "n/r/x", Moved.MOVED),
            ("m/r/y", "n/r/y", Moved.MOVED),
        ]
    log = engine.log()
    assert "move docker-pass:m/a to docker-pass:n/a: moved" in log
    assert "move docker-pass:m/r/y to docker-pass:n/r/y: moved" in log


class _OldDaemon:
    """A daemon from before GetSecret: it resolves, but answers GetSecret ``unimplemented``."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def get(self, id_: ID, *, plugin: str = "docker-pass") -> Envelope:
        self.calls.append("get")
        raise DaemonError(UNIMPLEMENTED, "no such method")

    def resolve(self, pattern: Pattern) -> Resolution:
        self.calls.append("resolve")
        env = Envelope(ID(pattern.value), b"resolved", "docker-pass")
        return Resolution(pattern, [env], ["docker-pass"], ["docker-pass"])

    def close(self) -> None:
        pass


def test_an_older_daemon_still_gets_by_resolving() -> None:
    old = _OldDaemon()
    front = DaemonOrEmbedded(old)  # type: ignore[arg-type]
    try:
        assert front.get(ID("old/one")).value == b"resolved"
        assert front.get(ID("old/two")).value == b"resolved"
        assert old.calls == ["get", "resolve", "resolve"]  # asked once, then remembered
    finally:
        front.close()


def test_set_and_mv_from_the_cli_go_through_the_daemon(engine: RunningEngine) -> None:
    assert docker_pass("set", "c/one=1").returncode == 0
    moved = docker_pass("mv", "c/one", "c/two")
    assert moved.returncode == 0, moved.stderr
    with engine.client() as client:
        counts = client.info().requests
        assert counts.get(SAVE_SECRET) == 1
        assert counts.get("/dockerpass.v1.SecretsService/MoveSecret") == 1
        assert client.get(ID("c/two")).value == b"1"
