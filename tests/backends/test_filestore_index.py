"""The file store's listing index (``.index/listing.json``): used when current, rebuilt when not.

The store writes an index only when its directory has been left alone for a while (a coarse
file-system clock could hide a change made in the same tick); these tests use a store that does
not wait, and set the directory's modification time explicitly wherever a test changes the
store behind the store's back, so no test depends on the clock's granularity.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from typing import TYPE_CHECKING

import pytest

from docker_pass.backends.keychain.filestore import FileStore
from docker_pass.backends.keychain.filestore import index as filestore_index
from docker_pass.core import ID, Pattern
from tests.backends.contract import StoreContract
from tests.support.store_damage import damage

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from docker_pass.core.envelope import SecretInfo
    from docker_pass.core.store import SecretStore

EVERYTHING = Pattern.parse("**")


class EagerIndexStore(FileStore):
    """A file store that writes its index as soon as it may (no settling time)."""

    _index_settle_ns = 0


def make_store(tmp_path: Path, warnings: list[str] | None = None) -> EagerIndexStore:
    sink = warnings.append if warnings is not None else (lambda _message: None)
    return EagerIndexStore(
        root=tmp_path / "store", identity_path=tmp_path / "identity.txt", warn=sink
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FileStore]:
    s = make_store(tmp_path)
    yield s
    s.close()


class TestIndexedFileStore(StoreContract):
    """The whole store contract holds with the index in use (every listing may write it)."""

    def value_reads(self, store: SecretStore) -> int:
        assert isinstance(store, FileStore)
        return store.values_read

    def twin(self, store: SecretStore) -> SecretStore:
        assert isinstance(store, FileStore)
        return EagerIndexStore(root=store.root, identity_path=store.identity_path)

    def spec(self, store: SecretStore) -> dict[str, str]:
        assert isinstance(store, FileStore)
        return {"kind": "file", "root": str(store.root), "identity": str(store.identity_path)}


def index_path(store: FileStore) -> Path:
    return store.root / ".index" / "listing.json"


def record_of(store: FileStore, raw_id: str) -> Path:
    return store.root / f"{hashlib.sha256(raw_id.encode()).hexdigest()}.json"


def set_dir_time(store: FileStore, seconds: int) -> None:
    """Give the store directory a modification time of our choosing (a distinct stamp)."""
    os.utime(store.root, ns=(seconds * 10**9, seconds * 10**9))


def with_index(store: FileStore) -> list[tuple[str, dict[str, str]]]:
    """List until the index is written (the first listing makes its directory); the listing."""
    store.list(EVERYTHING)
    listed = [(i.id.value, dict(i.metadata)) for i in store.list(EVERYTHING)]
    assert index_path(store).is_file()
    return listed


def no_record_reads(store: FileStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, reading the records fails the test: listing must come from the index."""

    def refuse(*_args: object) -> object:
        raise AssertionError("listing read the records although the index is current")

    # A listing reads records to rebuild the index; resolving, to decrypt: both refused.
    monkeypatch.setattr(store, "_listing_from_records", refuse)
    monkeypatch.setattr(store, "_scan_all", refuse)


def fill(store: FileStore) -> None:
    store.save(ID.parse("b/two"), b"value-two", {"k": "2"})
    store.save(ID.parse("a/one"), b"value-one", {"k": "1"})
    store.save(ID.parse("c/three"), b"value-three", {})


def test_the_index_is_private_holds_no_value_and_serves_the_listing(
    store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(store)
    listed = with_index(store)
    assert listed == [("a/one", {"k": "1"}), ("b/two", {"k": "2"}), ("c/three", {})]
    path = index_path(store)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    raw = path.read_bytes()
    assert b"value-" not in raw  # IDs and metadata only
    assert b"a/one" in raw
    no_record_reads(store, monkeypatch)
    fresh = make_store(store.root.parent)
    monkeypatch.setattr(fresh, "_listing_from_records", store._listing_from_records)
    monkeypatch.setattr(fresh, "_scan_all", store._scan_all)
    assert [(i.id.value, dict(i.metadata)) for i in fresh.list(EVERYTHING)] == listed
    assert [i.id.value for i in fresh.list(Pattern.parse("b/**"))] == ["b/two"]
    assert fresh.values_read == 0


def test_listing_fills_updated_at_from_the_record_files_time(store: FileStore) -> None:
    fill(store)
    record = record_of(store, "a/one")
    os.utime(record, (1_700_000_000.75, 1_700_000_000.75))
    set_dir_time(store, 1_600_000_000)  # the store changed (as the utime of a save would)
    from_records = {i.id.value: i.updated_at for i in store.list(EVERYTHING)}
    assert from_records["a/one"] == 1_700_000_000
    from_index = {i.id.value: i.updated_at for i in store.list(EVERYTHING)}
    assert index_path(store).is_file()
    assert from_index == from_records
    assert all(isinstance(t, int) for t in from_index.values())


def rebuilt(store: FileStore) -> bytes:
    """The index a full rebuild writes for the store as it is now."""
    index_path(store).unlink()
    set_dir_time(store, 1_500_000_000)
    store.list(EVERYTHING)
    return index_path(store).read_bytes()


def test_saving_and_deleting_patch_a_current_index(
    store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(store)
    with_index(store)
    store.save(ID.parse("b/between"), b"new", {"k": "new"})
    store.save(ID.parse("a/one"), b"changed", {"k": "2"})  # replaced: metadata shared with b/two
    assert store.delete(ID.parse("c/three")) is True
    assert store.delete(ID.parse("never/was")) is False
    patched = index_path(store).read_bytes()
    with monkeypatch.context() as patch:
        no_record_reads(store, patch)
        listed = [(i.id.value, dict(i.metadata), i.updated_at) for i in store.list(EVERYTHING)]
    assert [(i, m) for i, m, _ in listed] == [
        ("a/one", {"k": "2"}),
        ("b/between", {"k": "new"}),
        ("b/two", {"k": "2"}),
    ]
    record_time = record_of(store, "b/between").stat().st_mtime_ns // 10**9
    assert dict((i, t) for i, _, t in listed)["b/between"] == record_time
    # What a rebuild finds is what the patches made (the listing, stamp aside).
    again = json.loads(rebuilt(store))
    mine = json.loads(patched)
    assert again["ids"] == mine["ids"]
    assert [again["metadata"][m] for m in again["metadata_of"]] == [
        mine["metadata"][m] for m in mine["metadata_of"]
    ]
    assert again["updated"] == mine["updated"]


def test_a_burst_of_saves_drops_the_index_for_the_next_listing_to_rebuild(
    tmp_path: Path,
) -> None:
    store = FileStore(root=tmp_path / "store", identity_path=tmp_path / "identity.txt")
    fill(store)
    store.list(EVERYTHING)  # makes the index directory
    set_dir_time(store, 1_600_000_000)
    store.list(EVERYTHING)
    assert index_path(store).is_file()
    store.save(ID.parse("d/four"), b"4", {})  # the store had settled: patched
    assert index_path(store).is_file()
    store.save(ID.parse("d/five"), b"5", {})  # right after another change: dropped
    assert not index_path(store).exists()
    assert [i.id.value for i in store.list(EVERYTHING)][-2:] == ["d/five", "d/four"]


def test_an_index_remembering_a_damaged_record_is_dropped_not_patched(tmp_path: Path) -> None:
    warnings: list[str] = []
    store = make_store(tmp_path, warnings)
    fill(store)
    damage(record_of(store, "b/two"), "truncated", tmp_path)
    set_dir_time(store, 1_600_000_000)
    with_index(store)
    assert len(warnings) == 1
    store.save(ID.parse("b/two"), b"repaired", {"k": "2"})  # the warning no longer holds
    assert not index_path(store).exists()
    fresh_warnings: list[str] = []
    fresh = make_store(tmp_path, fresh_warnings)
    assert [i.id.value for i in fresh.list(EVERYTHING)] == ["a/one", "b/two", "c/three"]
    assert fresh_warnings == []


def test_a_change_behind_the_stores_back_makes_the_index_stale(store: FileStore) -> None:
    fill(store)
    set_dir_time(store, 1_600_000_000)
    with_index(store)
    # A person removes a record by hand; the directory's time changes (set here explicitly).
    record_of(store, "b/two").unlink()
    set_dir_time(store, 1_600_000_001)
    assert [i.id.value for i in store.list(EVERYTHING)] == ["a/one", "c/three"]
    index = json.loads(index_path(store).read_bytes())
    assert index["store"][2] == 1_600_000_001 * 10**9  # rebuilt for the new stamp
    assert index["ids"] == "a/one\nc/three"


def test_no_index_is_written_while_the_store_has_just_changed(tmp_path: Path) -> None:
    store = FileStore(root=tmp_path / "store", identity_path=tmp_path / "identity.txt")
    assert store._index_settle_ns == filestore_index.SETTLE_NS > 0
    fill(store)
    store.list(EVERYTHING)
    store.list(EVERYTHING)
    assert not index_path(store).exists()  # saved a moment ago: its time may hide a change
    set_dir_time(store, 1_600_000_000)  # long ago
    store.list(EVERYTHING)
    assert index_path(store).is_file()


INDEX_DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda raw: raw[: len(raw) // 2],
    "not JSON": lambda _raw: b"\x00\xff binary",
    "not an index": lambda _raw: b'{"hello": "world"}',
    "unsorted": lambda raw: raw.replace(b'"a/one\\nb/two', b'"b/two\\na/one'),
    "invalid ID": lambda raw: raw.replace(b'"a/one\\n', b'"a//one\\n'),
    "short column": lambda raw: raw.replace(b'"metadata_of":[0,', b'"metadata_of":['),
    "bad metadata": lambda raw: raw.replace(b'"metadata":[{"k":"1"}', b'"metadata":[{"k":1}'),
}


@pytest.mark.parametrize("kind", sorted(INDEX_DAMAGE))
def test_a_damaged_index_is_ignored_with_a_warning_and_rebuilt(tmp_path: Path, kind: str) -> None:
    warnings: list[str] = []
    store = make_store(tmp_path, warnings)
    fill(store)
    expected = with_index(store)
    path = index_path(store)
    raw = path.read_bytes()
    spoilt = INDEX_DAMAGE[kind](raw)
    assert spoilt != raw
    path.write_bytes(spoilt)
    assert [(i.id.value, dict(i.metadata)) for i in store.list(EVERYTHING)] == expected
    (warning,) = warnings
    assert warning.startswith(f"file store: ignored the listing index {path} (")
    assert "\n" not in warning
    assert path.read_bytes() == raw  # rebuilt: the same index again


def test_an_index_of_another_format_is_rebuilt_silently(tmp_path: Path) -> None:
    warnings: list[str] = []
    store = make_store(tmp_path, warnings)
    fill(store)
    with_index(store)
    index_path(store).write_text('{"format": 99}')
    assert [i.id.value for i in store.list(EVERYTHING)] == ["a/one", "b/two", "c/three"]
    assert warnings == []
    assert json.loads(index_path(store).read_bytes())["format"] == filestore_index.FORMAT


@pytest.mark.parametrize("kind", ["symlink", "other-user"])
def test_an_index_that_is_not_ours_is_refused_and_replaced(tmp_path: Path, kind: str) -> None:
    warnings: list[str] = []
    store = make_store(tmp_path, warnings)
    fill(store)
    expected = with_index(store)
    path = index_path(store)
    damage(path, kind, tmp_path)
    assert [(i.id.value, dict(i.metadata)) for i in store.list(EVERYTHING)] == expected
    (warning,) = warnings
    assert warning.startswith(f"file store: ignored the listing index {path} (")
    assert not path.is_symlink()
    assert path.stat().st_uid == os.geteuid()


def test_a_damaged_record_is_still_warned_about_when_listing_from_the_index(
    tmp_path: Path,
) -> None:
    store = make_store(tmp_path)
    fill(store)
    damage(record_of(store, "b/two"), "truncated", tmp_path)
    set_dir_time(store, 1_600_000_000)
    with_index(store)
    warnings: list[str] = []
    fresh = make_store(tmp_path, warnings)
    assert [i.id.value for i in fresh.list(EVERYTHING)] == ["a/one", "c/three"]
    (warning,) = warnings
    assert warning.startswith("file store: skipped: ")
    assert str(record_of(store, "b/two")) in warning


def test_temp_files_left_in_the_index_directory_are_swept(store: FileStore) -> None:
    fill(store)
    with_index(store)
    leftover = store.root / ".index" / ".tmp-0123456789abcdef"
    leftover.write_bytes(b"partial")
    fresh = make_store(store.root.parent)
    fresh.save(ID.parse("e/five"), b"5", {})
    assert not leftover.exists()


def test_the_docker_pass_plugin_lists_the_file_store_with_times_and_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from docker_pass.core.engine import Engine

    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    monkeypatch.delenv("DOCKER_PASS_FILE_PASSPHRASE", raising=False)
    engine = Engine()
    engine.save(ID.parse("team/db"), b"pw", {"env": "prod"}, plugin="docker-pass")
    (entry,) = engine.list_secrets(EVERYTHING, plugin="docker-pass").infos
    assert (entry.id.value, entry.provider, dict(entry.metadata)) == (
        "team/db",
        "docker-pass",
        {"env": "prod"},
    )
    assert isinstance(entry.updated_at, int)
    assert entry.updated_at > 1_600_000_000


def test_a_listing_rebuilt_from_the_records_is_the_indexed_one_sharing_equal_metadata(
    store: FileStore,
) -> None:
    """The rebuild keeps of each record what a listing shows (IDs, metadata, times, versions),
    in ID order, with one map for equal metadata (memory at 100,000 records)."""
    fill(store)
    store.save(ID.parse("a/zero"), b"0", {"k": "1"})
    store.list(EVERYTHING)  # makes the index directory (which changes the store's stamp)
    set_dir_time(store, 1_600_000_000)
    rebuilt = store.list(EVERYTHING)  # no index yet: from the records (and the index written)
    assert index_path(store).is_file()
    indexed = make_store(store.root.parent).list(EVERYTHING)

    def shown(infos: list[SecretInfo]) -> list[tuple[object, ...]]:
        return [(i.id.value, dict(i.metadata), i.updated_at, i.version) for i in infos]

    assert shown(rebuilt) == shown(indexed)
    assert [i.id.value for i in rebuilt] == ["a/one", "a/zero", "b/two", "c/three"]
    assert all(i.version and i.updated_at for i in rebuilt)
    assert rebuilt[0].metadata is rebuilt[1].metadata  # {"k": "1"} twice: one map
