"""Versions of the keychain stores against changes made by other programs, on the real stores.

The shared part (every store, every write) is the store contract's
(:mod:`tests.backends.version_contract`).  Here: a change made between a read and a save by
another program — ``secret-tool`` and a second ``docker-pass`` process on gnome-keyring, a
second ``docker-pass set`` on the file store, Docker's own item write on the keyring store —
is a conflict that leaves the other program's value in place; and the key of the content
tokens (:mod:`docker_pass.backends.keychain.versioning`) is made once, privately.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from docker_pass.backends.keychain import versioning
from docker_pass.backends.keychain.filestore import FileStore
from docker_pass.backends.keychain.keyring_store import KeyringStore
from docker_pass.backends.keychain.secretservice import SecretServiceStore
from docker_pass.core import ID, Pattern
from docker_pass.core.errors import StoreError, UnsafePathError, VersionConflictError
from docker_pass.core.store import SERVICE_GROUP, SERVICE_NAME, xdg_dir
from docker_pass.core.versions import NO_SECRET
from tests.backends.test_keyring_store import plaintext_keyring
from tests.backends.test_secretservice import DOCKER_ATTRIBUTES, items_of, secret_tool
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable, Iterator

    from tests.support.keyring_session import PrivateBus

    Spawn = Callable[..., subprocess.Popen[bytes]]

ID_ = ID("shared/db/password")
MINE = b"typed-in-the-editor-5c2e"
THEIRS = b"set-in-another-shell-9a47"


def set_elsewhere(store: str, raw_id: str, value: bytes, *metadata: str) -> None:
    """``docker-pass set`` in a process of its own (the value on stdin, never in argv)."""
    flags = [arg for pair in metadata for arg in ("--metadata", pair)]
    done = docker_pass("set", raw_id, *flags, input=value, env={"DOCKER_PASS_STORE": store})
    assert done.returncode == 0, done.stderr.decode()


# -- the file store ---------------------------------------------------------------------------


@pytest.fixture
def file_store() -> Iterator[FileStore]:
    """The file store where ``docker-pass`` finds it (the test's data directory)."""
    store = FileStore()
    yield store
    store.close()


def test_a_second_docker_pass_set_between_read_and_save_is_a_conflict(
    file_store: FileStore,
) -> None:
    read = file_store.save(ID_, b"before", {"env": "prod"})
    set_elsewhere("file", ID_.value, THEIRS, "env=prod")
    with pytest.raises(VersionConflictError) as conflict:
        file_store.save(ID_, MINE, {"env": "prod"}, expected_version=read)
    error = conflict.value
    now = file_store.get(ID_)
    assert (now.value, error.expected, error.found) == (THEIRS, read, now.version)
    # Who and when, as the other writer's record says: another process of docker-pass.
    assert error.changed_by.startswith("docker-pass (pid ")
    assert f"pid {os.getpid()}" not in error.changed_by
    assert error.changed_by in str(error)
    (record,) = file_store.root.glob("*.json")
    assert error.changed_at == int(record.stat().st_mtime)
    for value in (MINE, THEIRS, b"before"):
        assert value.decode() not in str(error)


def test_the_listing_carries_the_version_a_read_does(tmp_path: Path) -> None:
    class EagerIndex(FileStore):
        _index_settle_ns = 0

    store = EagerIndex(root=tmp_path / "store", identity_path=tmp_path / "identity.txt")
    versions = {raw: store.save(ID(raw), raw.encode(), {"n": raw}) for raw in ("a", "b/c", "d")}
    index = store.root / ".index" / "listing.json"
    for _ in range(3):  # from the records (which make the index's folder, then the index)
        assert {i.id.value: i.version for i in store.list(Pattern("**"))} == versions
    assert index.is_file()
    assert json.loads(index.read_bytes())["versions"] == list(versions.values())
    # From the index alone (the records are not read): damage one, the listing is unchanged.
    (store.root / f"{hashlib.sha256(b'd').hexdigest()}.json").write_bytes(b"{}")
    assert {i.id.value: i.version for i in store.list(Pattern("**"))} == versions
    (store.root / f"{hashlib.sha256(b'd').hexdigest()}.json").unlink()
    versions.pop("d")
    versions["b/c"] = store.save(ID("b/c"), b"new", {})  # the index is patched with it
    assert {i.id.value: i.version for i in store.list(Pattern("**"))} == versions
    assert {e.id.value: e.version for e in store.resolve(Pattern("**"))} == versions


def test_records_only_gain_keys_older_docker_pass_ignores(file_store: FileStore) -> None:
    file_store.save(ID_, b"v", {"env": "prod"})
    (record,) = file_store.root.glob("*.json")
    data = json.loads(record.read_text())
    before_versions = {"format", "id", "metadata", "created", "updated", "version", "value"}
    assert set(data) == before_versions | {"revision", "writer"}
    assert data["format"] == 1
    # Written again with the same content, a record is new bytes: a new version.
    first = file_store.get(ID_).version
    assert file_store.save(ID_, b"v", {"env": "prod"}) != first


def test_a_damaged_record_is_a_conflict_for_a_checked_write_only(file_store: FileStore) -> None:
    read = file_store.save(ID_, b"v", {})
    (record,) = file_store.root.glob("*.json")
    record.write_bytes(b"{not json")
    with pytest.raises(VersionConflictError, match="damaged") as conflict:
        file_store.save(ID_, MINE, {}, expected_version=read)
    assert conflict.value.found == ""
    assert record.read_bytes() == b"{not json"
    with pytest.raises(VersionConflictError):
        file_store.delete(ID_, expected_version=read)
    assert file_store.save(ID_, MINE, {})  # a blind write replaces it, as before
    assert file_store.get(ID_).value == MINE


# -- the Secret Service -----------------------------------------------------------------------


@pytest.fixture
def keychain(keyring_address: str) -> Iterator[SecretServiceStore]:
    store = SecretServiceStore(keyring_address)
    yield store
    store.close()


def store_with_secret_tool(bus: PrivateBus, value: bytes, *attributes: str) -> None:
    secret_tool(
        bus,
        "store",
        f"--label={ID_.value}",
        *DOCKER_ATTRIBUTES,
        "id",
        ID_.value,
        *attributes,
        value=value,
    )


def test_secret_tool_storing_between_read_and_save_is_a_conflict(
    keychain: SecretServiceStore, keyring_bus: PrivateBus
) -> None:
    read = keychain.save(ID_, b"before", {})
    store_with_secret_tool(keyring_bus, THEIRS)  # the same attributes: replaced in place
    assert [item["secret"] for item in items_of(keyring_bus, ID_.value)] == [THEIRS.decode()]
    with pytest.raises(VersionConflictError) as conflict:
        keychain.save(ID_, MINE, {}, expected_version=read)
    error = conflict.value
    now = keychain.get(ID_)
    assert (now.value, error.found) == (THEIRS, now.version)
    assert error.changed_at is not None
    assert abs(error.changed_at - time.time()) < 24 * 3600  # the item's Modified time
    assert [item["secret"] for item in items_of(keyring_bus, ID_.value)] == [THEIRS.decode()]


def test_a_duplicate_item_another_tool_adds_is_a_conflict(
    keychain: SecretServiceStore, keyring_bus: PrivateBus
) -> None:
    read = keychain.save(ID_, b"before", {})
    store_with_secret_tool(keyring_bus, THEIRS, "x_via", "secret-tool")  # a second item
    with pytest.raises(VersionConflictError) as conflict:
        keychain.save(ID_, MINE, {}, expected_version=read)
    now = keychain.get(ID_)
    assert (now.value, dict(now.metadata)) == (THEIRS, {"via": "secret-tool"})  # the newer
    assert conflict.value.found == now.version
    assert sorted(item["secret"] for item in items_of(keyring_bus, ID_.value)) == sorted(
        ["before", THEIRS.decode()]
    )
    # Saved with the version read now, it replaces both items with one.
    keychain.save(ID_, MINE, {}, expected_version=now.version)
    assert [item["secret"] for item in items_of(keyring_bus, ID_.value)] == [MINE.decode()]


def test_metadata_changed_by_another_tool_is_a_conflict(
    keychain: SecretServiceStore, keyring_bus: PrivateBus
) -> None:
    read = keychain.save(ID_, b"same value", {"env": "prod"})
    # The same value, other metadata: a new item (attributes differ), the old one gone.
    store_with_secret_tool(keyring_bus, b"same value", "x_env", "staging")
    secret_tool(keyring_bus, "clear", *DOCKER_ATTRIBUTES, "id", ID_.value, "x_env", "prod")
    assert dict(keychain.get(ID_).metadata) == {"env": "staging"}
    with pytest.raises(VersionConflictError):
        keychain.save(ID_, b"same value", {"env": "prod"}, expected_version=read)
    with pytest.raises(VersionConflictError):
        keychain.delete(ID_, expected_version=read)
    assert dict(keychain.get(ID_).metadata) == {"env": "staging"}


def test_a_second_docker_pass_process_between_read_and_save_is_a_conflict(
    keychain: SecretServiceStore,
) -> None:
    read = keychain.save(ID_, b"before", {})
    set_elsewhere("secret-service", ID_.value, THEIRS)
    with pytest.raises(VersionConflictError) as conflict:
        keychain.save(ID_, MINE, {}, expected_version=read)
    # The other process computes the same token: the key is one per user, shared.
    assert conflict.value.found == keychain.get(ID_).version
    assert keychain.get(ID_).value == THEIRS


def test_a_secret_removed_by_another_tool_is_a_conflict_then_create_only_works(
    keychain: SecretServiceStore, keyring_bus: PrivateBus
) -> None:
    read = keychain.save(ID_, b"before", {})
    secret_tool(keyring_bus, "clear", "service:group", SERVICE_GROUP, "id", ID_.value)
    with pytest.raises(VersionConflictError, match="removed since") as conflict:
        keychain.save(ID_, MINE, {}, expected_version=read)
    assert conflict.value.found == NO_SECRET
    assert items_of(keyring_bus, ID_.value) == []
    keychain.save(ID_, MINE, {}, expected_version=NO_SECRET)
    assert keychain.get(ID_).value == MINE


# -- the keyring store ------------------------------------------------------------------------


def test_a_value_dockers_tool_writes_to_the_item_is_a_conflict(tmp_path: Path) -> None:
    backend = plaintext_keyring(tmp_path / "keyring.cfg")
    store = KeyringStore(backend, platform="darwin")
    read = store.save(ID_, b"before", {"env": "prod"})
    with pytest.raises(VersionConflictError) as ours:
        store.save(ID_, MINE, {"env": "prod"}, expected_version=NO_SECRET)
    assert ours.value.changed_at is not None  # our own last save: the index knows when
    # Docker's tool writes the item only, never our index.
    backend.set_password(SERVICE_NAME, ID_.value, THEIRS.decode())
    with pytest.raises(VersionConflictError) as conflict:
        store.save(ID_, MINE, {"env": "prod"}, expected_version=read)
    assert conflict.value.found == store.get(ID_).version
    assert conflict.value.changed_at is None  # the index's time is not this change's
    assert store.get(ID_).value == THEIRS


# -- the key of content tokens ----------------------------------------------------------------


@pytest.fixture
def fresh_key() -> Iterator[Path]:
    """The key's path, with no key loaded by this process yet."""
    versioning._keys.clear()
    yield Path(versioning.key_path())
    versioning._keys.clear()


def token_of(value: bytes) -> str:
    return versioning.content_token(ID_, [(value, {"env": "prod"})])


def test_the_key_is_made_once_privately(fresh_key: Path) -> None:
    assert not fresh_key.exists()
    token = token_of(MINE)
    assert fresh_key.parent == xdg_dir("state")
    assert stat.S_IMODE(fresh_key.stat().st_mode) == 0o600
    assert len(bytes.fromhex(fresh_key.read_text().strip())) == 32
    assert [p.name for p in fresh_key.parent.iterdir()] == [fresh_key.name]  # no temp file
    versioning._keys.clear()
    assert token_of(MINE) == token  # read again, the same key
    # Another key, another token: without the key a token says nothing about the value.
    fresh_key.unlink()
    versioning._keys.clear()
    assert token_of(MINE) != token


MAKE_A_TOKEN = """
import sys
from docker_pass.backends.keychain.versioning import content_token
from docker_pass.core import ID
print(content_token(ID("shared/db/password"), [(sys.stdin.buffer.read(), {})]))
"""


def test_processes_making_the_key_at_once_share_one(fresh_key: Path, spawn: Spawn) -> None:
    import subprocess

    procs = [
        spawn(
            [sys.executable, "-c", MAKE_A_TOKEN],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for _ in range(8)
    ]
    tokens = {proc.communicate(MINE, timeout=60)[0] for proc in procs}
    assert all(proc.returncode == 0 for proc in procs)
    assert len(tokens) == 1
    assert [p.name for p in fresh_key.parent.iterdir()] == [fresh_key.name]
    assert versioning.content_token(ID_, [(MINE, {})]) == tokens.pop().decode().strip()


def test_a_linked_or_damaged_key_is_refused_with_what_to_do(
    fresh_key: Path, tmp_path: Path
) -> None:
    fresh_key.parent.mkdir(parents=True, mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("00" * 32)
    fresh_key.symlink_to(elsewhere)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        token_of(MINE)
    fresh_key.unlink()
    fresh_key.write_text("not a key")
    fresh_key.chmod(0o600)
    with pytest.raises(StoreError, match="remove it"):
        token_of(MINE)


def test_tokens_of_equal_contents_match_and_of_any_change_differ(fresh_key: Path) -> None:
    base = versioning.content_token(ID_, [(MINE, {"a": "1"})])
    assert versioning.content_token(ID_, [(MINE, {"a": "1"})]) == base
    changed: list[Any] = [
        (ID_, [(THEIRS, {"a": "1"})]),
        (ID_, [(MINE, {"a": "2"})]),
        (ID_, [(MINE, {"b": "1"})]),
        (ID_, [(MINE, {})]),
        (ID("shared/db/other"), [(MINE, {"a": "1"})]),
        (ID_, [(MINE, {"a": "1"}), (MINE, {"a": "1"})]),  # a duplicate item
        (ID_, [(MINE + b"a", {}), (b"", {})]),  # where one value ends is part of it
        (ID_, [(MINE, {}), (b"a", {})]),
    ]
    tokens = {versioning.content_token(*case) for case in changed}
    assert base not in tokens
    assert len(tokens) == len(changed)
