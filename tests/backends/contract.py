"""The contract every store behind the ``docker-pass`` plugin keeps.

A store's test module subclasses :class:`StoreContract` and provides two things:
the ``store`` fixture (a fresh, empty store) and ``value_reads(store)``, the number of secret
values the store has read or decrypted so far (by whatever instrumentation suits it), which lets
the contract check that listing never reads values.  The contract includes the versions every
store keeps (:class:`~tests.backends.version_contract.StoreVersionContract`), whose races want
two more: ``twin(store)`` and ``spec(store)``.

The plugins themselves (the ``docker-pass`` plugin over each store, and every other built-in
plugin) keep the plugin contract of ``tests/plugins/contract.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import pytest

from docker_pass.core import ID, Pattern, SecretNotFoundError
from tests.backends.version_contract import StoreVersionContract

if TYPE_CHECKING:
    from docker_pass.core.store import SecretStore

ALL_BYTES = bytes(range(256))
ODD_IDS = [
    "a",
    "docker/auth/hub/alice",
    "host:5000/token",
    "a:b:c/d",
    "..",
    "../../x",
    "a/../../b",
    ".hidden/-dash/_under",
    "UPPER/lower/123",
    "x" * 200,
]


class StoreContract(StoreVersionContract, ABC):
    """Shared tests; subclasses supply the ``store`` fixture and :meth:`value_reads`."""

    @abstractmethod
    def value_reads(self, store: SecretStore) -> int:
        """How many secret values ``store`` has read so far."""

    def test_round_trip(self, store: SecretStore) -> None:
        id_ = ID.parse("docker/auth/hub/alice")
        store.save(id_, b"s3cr3t", {})
        env = store.get(id_)
        assert env.id == id_
        assert env.value == b"s3cr3t"

    def test_empty_value(self, store: SecretStore) -> None:
        store.save(ID.parse("empty"), b"", {})
        assert store.get(ID.parse("empty")).value == b""

    def test_binary_value_of_every_byte(self, store: SecretStore) -> None:
        value = ALL_BYTES + ALL_BYTES[::-1]
        store.save(ID.parse("bin/all-bytes"), value, {})
        assert store.get(ID.parse("bin/all-bytes")).value == value

    def test_one_mebibyte_value(self, store: SecretStore) -> None:
        value = bytes(i * 7 % 251 for i in range(1024 * 1024))
        store.save(ID.parse("big"), value, {})
        assert store.get(ID.parse("big")).value == value

    def test_unicode_value_and_metadata(self, store: SecretStore) -> None:
        value = "päss wörd ☃ 🔑".encode()
        store.save(ID.parse("uni"), value, {"note": "für Jörg ☃"})
        env = store.get(ID.parse("uni"))
        assert env.value == value
        assert env.metadata == {"note": "für Jörg ☃"}

    @pytest.mark.parametrize("raw_id", ODD_IDS)
    def test_odd_ids_round_trip_and_list(self, store: SecretStore, raw_id: str) -> None:
        id_ = ID.parse(raw_id)
        store.save(id_, raw_id.encode(), {})
        assert store.get(id_).value == raw_id.encode()
        assert [info.id for info in store.list(Pattern.parse("**"))] == [id_]

    def test_colon_ids_are_distinct(self, store: SecretStore) -> None:
        store.save(ID.parse("a:b"), b"1", {})
        store.save(ID.parse("a/b"), b"2", {})
        store.save(ID.parse("a_b"), b"3", {})
        assert store.get(ID.parse("a:b")).value == b"1"
        assert store.get(ID.parse("a/b")).value == b"2"
        assert store.get(ID.parse("a_b")).value == b"3"

    def test_overwrite_replaces_in_place(self, store: SecretStore) -> None:
        id_ = ID.parse("dup")
        store.save(id_, b"one", {"v": "1"})
        store.save(id_, b"two", {"v": "2"})
        assert store.get(id_).value == b"two"
        assert store.get(id_).metadata == {"v": "2"}
        assert [info.id for info in store.list(Pattern.parse("**"))] == [id_]

    def test_list_by_pattern_is_sorted_and_filtered(self, store: SecretStore) -> None:
        for raw in ("docker/auth/hub/bob", "docker/auth/hub/alice", "docker/db/prod", "other"):
            store.save(ID.parse(raw), b"v", {})
        listed = [info.id.value for info in store.list(Pattern.parse("docker/auth/**"))]
        assert listed == ["docker/auth/hub/alice", "docker/auth/hub/bob"]
        everything = [info.id.value for info in store.list(Pattern.parse("**"))]
        assert everything == sorted(everything)
        assert len(everything) == 4
        assert store.list(Pattern.parse("nothing/*")) == []

    def test_resolve_returns_values_for_matches(self, store: SecretStore) -> None:
        store.save(ID.parse("app/a"), b"A", {"k": "1"})
        store.save(ID.parse("app/b"), b"B", {})
        store.save(ID.parse("other"), b"O", {})
        envs = store.resolve(Pattern.parse("app/*"))
        assert [(e.id.value, e.value) for e in envs] == [("app/a", b"A"), ("app/b", b"B")]
        assert envs[0].metadata == {"k": "1"}

    def test_get_missing_raises_not_found(self, store: SecretStore) -> None:
        with pytest.raises(SecretNotFoundError):
            store.get(ID.parse("missing"))

    def test_delete(self, store: SecretStore) -> None:
        store.save(ID.parse("gone"), b"x", {})
        assert store.delete(ID.parse("gone")) is True
        with pytest.raises(SecretNotFoundError):
            store.get(ID.parse("gone"))
        assert store.list(Pattern.parse("**")) == []

    def test_delete_missing_is_not_an_error(self, store: SecretStore) -> None:
        assert store.delete(ID.parse("never/was")) is False

    def test_metadata_round_trip(self, store: SecretStore) -> None:
        meta = {"owner": "alice", "env": "prod", "created-by": "ci", "a.b_c": "x=y"}
        store.save(ID.parse("meta"), b"v", meta)
        assert dict(store.get(ID.parse("meta")).metadata) == meta
        (info,) = store.list(Pattern.parse("meta"))
        assert dict(info.metadata) == meta

    def test_listing_reads_metadata_without_values(self, store: SecretStore) -> None:
        for i in range(5):
            store.save(ID.parse(f"listed/{i}"), f"value-{i}".encode(), {"n": str(i)})
        before = self.value_reads(store)
        infos = store.list(Pattern.parse("**"))
        assert [dict(i.metadata) for i in infos] == [{"n": str(i)} for i in range(5)]
        assert self.value_reads(store) == before
        store.get(ID.parse("listed/0"))
        assert self.value_reads(store) > before  # the instrumentation does count reads

    def test_location_and_kind_are_described(self, store: SecretStore) -> None:
        assert store.kind in ("secret-service", "file", "keyring")
        assert store.location()
