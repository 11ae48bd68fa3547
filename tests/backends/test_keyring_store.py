"""The keyring store, driven through real keyring backends that run here.

``keyrings.alt``'s PlaintextKeyring (a file in ``tmp_path``) stands in for the macOS Keychain and
the Windows Credential Manager; an in-memory double reproduces what keyring's Windows backend
does on overwrite.  Both platforms' naming is exercised with ``platform=``.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import keyring
import pytest
from keyring.errors import KeyringLocked, PasswordDeleteError
from keyrings.alt.file import PlaintextKeyring

from docker_pass.backends.keychain.keyring_store import (
    BINARY_MARKER,
    INDEX_SERVICE,
    INDEX_USER,
    KeyringStore,
    decode_value,
    encode_value,
)
from docker_pass.core import ID, Pattern, SecretNotFoundError
from docker_pass.core.errors import (
    PromptDismissedError,
    StoreError,
    StoreUnavailableError,
)
from docker_pass.core.store import SERVICE_NAME, SecretStore, item_label
from tests.backends.contract import ALL_BYTES, StoreContract

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    Spawn = Callable[..., subprocess.Popen[bytes]]

    from keyring.backend import KeyringBackend


def plaintext_keyring(path: Path) -> Any:
    """A keyrings.alt PlaintextKeyring whose file is ``path`` (not the user's data dir)."""
    backend = PlaintextKeyring()
    backend.file_path = str(path)  # an instance attribute overrides the class's default
    return backend


@pytest.fixture
def backend(tmp_path: Path) -> Any:
    return plaintext_keyring(tmp_path / "keyring_pass.cfg")


@pytest.fixture(params=["win32", "darwin"])
def store(request: pytest.FixtureRequest, backend: Any) -> Iterator[KeyringStore]:
    """A fresh store, with Windows' and with macOS' item naming."""
    s = KeyringStore(backend, platform=request.param)
    yield s
    s.close()


class TestKeyringStore(StoreContract):
    """The shared contract, for the keyring store."""

    def value_reads(self, store: SecretStore) -> int:
        assert isinstance(store, KeyringStore)
        return store.values_read

    def twin(self, store: SecretStore) -> SecretStore:
        assert isinstance(store, KeyringStore)
        return KeyringStore(plaintext_keyring(self._path(store)), platform=store.platform)

    def spec(self, store: SecretStore) -> dict[str, str]:
        assert isinstance(store, KeyringStore)
        return {"kind": "keyring", "path": str(self._path(store)), "platform": store.platform}

    @staticmethod
    def _path(store: KeyringStore) -> Path:
        """The file of the PlaintextKeyring behind ``store`` (the ``backend`` fixture's)."""
        return Path(cast("Any", store.backend).file_path)


def read_index(backend: Any) -> dict[str, Any]:
    """The index as the backend holds it (head item plus any parts)."""
    head = backend.get_password(INDEX_SERVICE, INDEX_USER)
    assert head is not None
    first_line, _, text = head.partition("\n")
    _tag, generation, parts = first_line.split(" ")
    for n in range(1, int(parts)):
        text += backend.get_password(f"{INDEX_SERVICE}.{generation}.{n}", INDEX_USER)
    return cast("dict[str, Any]", json.loads(text))


def test_is_a_secret_store(store: KeyringStore) -> None:
    typed: SecretStore = store
    assert isinstance(typed, SecretStore)
    assert store.kind == "keyring"
    assert store.location() == "keyring backend file.PlaintextKeyring"


# -- naming -----------------------------------------------------------------------------------


def test_windows_naming_is_dockers_target_and_user(backend: Any) -> None:
    s = KeyringStore(backend, platform="win32")
    id_ = ID.parse("docker/auth/hub/alice")
    s.save(id_, "pässword".encode(), {})
    assert s.item_key(id_) == (
        "com.docker.docker-pass:docker-pass-cli:docker/auth/hub/alice",
        id_.value,
    )
    assert backend.get_password(item_label(id_), id_.value) == "pässword"


def test_macos_naming_is_dockers_service_and_account(backend: Any) -> None:
    s = KeyringStore(backend, platform="darwin")
    id_ = ID.parse("docker/auth/hub/alice")
    s.save(id_, b"password", {})
    assert s.item_key(id_) == (SERVICE_NAME, id_.value)
    assert backend.get_password("docker-pass-cli", "docker/auth/hub/alice") == "password"


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_an_item_docker_wrote_is_read(backend: Any, platform: str) -> None:
    s = KeyringStore(backend, platform=platform)
    id_ = ID.parse("from/docker")
    backend.set_password(*s.item_key(id_), "written by docker pass")
    env = s.get(id_)
    assert env.value == b"written by docker pass"
    assert dict(env.metadata) == {}


def test_the_index_never_collides_with_a_secret(backend: Any) -> None:
    s = KeyringStore(backend, platform="win32")
    assert "#" in INDEX_SERVICE  # not an ID character, so no item_label() can equal it
    for raw in ("index", "docker-pass-index", "#index"[1:]):
        id_ = ID.parse(raw)
        assert INDEX_SERVICE not in s.item_key(id_)
        s.save(id_, b"v", {})
    assert sorted(read_index(backend)) == ["docker-pass-index", "index"]


# -- value encoding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [b"", b"plain", "ünïcødé ☃".encode(), ALL_BYTES, b"\xff", BINARY_MARKER.encode()],
)
def test_value_encoding_round_trips(value: bytes) -> None:
    assert decode_value(encode_value(value)) == value


def test_utf8_values_are_stored_as_text_docker_reads(store: KeyringStore, backend: Any) -> None:
    id_ = ID.parse("text")
    store.save(id_, "hello ☃".encode(), {})
    assert backend.get_password(*store.item_key(id_)) == "hello ☃"


def test_a_non_utf8_value_round_trips_as_marked_base64(store: KeyringStore, backend: Any) -> None:
    id_ = ID.parse("binary")
    value = b"\x00\xff\xfe" + ALL_BYTES
    store.save(id_, value, {})
    stored = backend.get_password(*store.item_key(id_))
    assert stored == BINARY_MARKER + base64.b64encode(value).decode()
    assert store.get(id_).value == value


def test_a_value_that_starts_with_the_marker_round_trips(store: KeyringStore, backend: Any) -> None:
    id_ = ID.parse("tricky")
    value = (BINARY_MARKER + "aGVsbG8=").encode()  # looks encoded, but is the literal value
    store.save(id_, value, {})
    assert backend.get_password(*store.item_key(id_)) != value.decode()
    assert store.get(id_).value == value


def test_marker_text_that_is_not_base64_reads_literally() -> None:
    # Another tool may store such text; it cannot have come from encode_value.
    assert decode_value(BINARY_MARKER + "not base64!") == (BINARY_MARKER + "not base64!").encode()


# -- the index --------------------------------------------------------------------------------


def test_the_index_item_follows_saves_and_deletes(store: KeyringStore, backend: Any) -> None:
    assert backend.get_password(INDEX_SERVICE, INDEX_USER) is None
    store.save(ID.parse("a"), b"1", {"owner": "alice"})
    store.save(ID.parse("b/c"), b"2", {})
    index = read_index(backend)
    assert sorted(index) == ["a", "b/c"]
    assert index["a"]["metadata"] == {"owner": "alice"}
    assert "1" not in json.dumps(index["a"]["metadata"])  # values never go into the index
    store.save(ID.parse("a"), b"3", {"owner": "bob"})
    assert read_index(backend)["a"]["metadata"] == {"owner": "bob"}
    assert store.delete(ID.parse("a")) is True
    assert sorted(read_index(backend)) == ["b/c"]
    assert backend.get_password(*store.item_key(ID.parse("a"))) is None


def test_a_large_index_is_split_over_items_and_old_parts_removed() -> None:
    vault = FakeWinVault()
    store = KeyringStore(cast("KeyringBackend", vault), platform="win32")
    store.index_chunk_chars = 64  # Windows really allows 1200: an item holds at most 2560 bytes
    ids = [f"team/service-{i:02d}/token" for i in range(20)]
    for raw in ids:
        store.save(ID.parse(raw), raw.encode(), {"note": f"entry {raw}"})
    head = vault.get_password(INDEX_SERVICE, INDEX_USER)
    assert head is not None
    _tag, generation, parts = head.partition("\n")[0].split(" ")
    assert int(parts) > 10
    assert len(head) <= 64 + 40
    assert [i.id.value for i in store.list(Pattern.parse("team/**"))] == ids
    for raw in ids[1:]:
        store.delete(ID.parse(raw))
    assert [i.id.value for i in store.list(Pattern.parse("**"))] == ids[:1]
    # Only the head, its current parts and the one value are left: old parts were removed.
    head = vault.get_password(INDEX_SERVICE, INDEX_USER)
    assert head is not None
    _tag, generation, parts = head.partition("\n")[0].split(" ")
    current = {INDEX_SERVICE} | {f"{INDEX_SERVICE}.{generation}.{n}" for n in range(1, int(parts))}
    assert set(vault.credentials) == current | {item_label(ID.parse(ids[0]))}


def test_a_failed_index_commit_keeps_the_old_index(backend: Any) -> None:
    s = KeyringStore(backend, platform="win32")
    s.index_chunk_chars = 32
    s.save(ID.parse("kept/one"), b"1", {"k": "v"})
    real_set = backend.set_password

    def failing_set(service: str, username: str, password: str) -> None:
        if service == INDEX_SERVICE:
            raise OSError("the keychain went away")
        real_set(service, username, password)

    backend.set_password = failing_set
    with pytest.raises(StoreError, match="cannot write the index"):
        s.save(ID.parse("kept/two"), b"2", {})
    backend.set_password = real_set
    assert [i.id.value for i in s.list(Pattern.parse("**"))] == ["kept/one"]
    # The value was stored first, so the next save of it re-indexes it.
    assert s.get(ID.parse("kept/two")).value == b"2"


def test_list_reads_no_value_items(store: KeyringStore, backend: Any) -> None:
    for i in range(3):
        store.save(ID.parse(f"s/{i}"), f"v{i}".encode(), {"n": str(i)})
    services: list[str] = []
    real_get = backend.get_password

    def spying_get(service: str, username: str) -> str | None:
        services.append(service)
        return cast("str | None", real_get(service, username))

    backend.get_password = spying_get
    assert len(store.list(Pattern.parse("**"))) == 3
    assert services
    assert all(s.startswith(INDEX_SERVICE) for s in services)


# -- Windows' overwrite behaviour -------------------------------------------------------------


class FakeWinVault:
    """keyring's WinVaultKeyring, in memory: one credential per target; overwriting a target
    first re-saves the old credential under ``<user>@<target>``, exactly as keyring does."""

    def __init__(self) -> None:
        self.credentials: dict[str, tuple[str, str]] = {}

    def get_password(self, service: str, username: str) -> str | None:
        cred = self.credentials.get(service)
        if cred is None or cred[0] != username:
            cred = self.credentials.get(f"{username}@{service}")
        return cred[1] if cred else None

    def set_password(self, service: str, username: str, password: str) -> None:
        existing = self.credentials.get(service)
        if existing:
            self.credentials[f"{existing[0]}@{service}"] = existing
        self.credentials[service] = (username, password)

    def delete_password(self, service: str, username: str) -> None:
        deleted = False
        for target in (service, f"{username}@{service}"):
            cred = self.credentials.get(target)
            if cred and cred[0] == username:
                del self.credentials[target]
                deleted = True
        if not deleted:
            raise PasswordDeleteError(service)


def test_overwriting_on_windows_leaves_no_stale_copy_of_the_old_value() -> None:
    vault = FakeWinVault()
    s = KeyringStore(cast("KeyringBackend", vault), platform="win32")
    id_ = ID.parse("rotated")
    s.save(id_, b"old secret", {})
    s.save(id_, b"new secret", {})
    s.save(ID.parse("other"), b"x", {})
    assert s.get(id_).value == b"new secret"
    stored = [password for _user, password in vault.credentials.values()]
    assert "old secret" not in stored
    assert not [t for t in vault.credentials if "@" in t]  # no compound targets left
    assert s.delete(id_) is True
    assert "new secret" not in [p for _u, p in vault.credentials.values()]


def test_the_fake_vault_does_leave_copies_without_the_cleanup() -> None:
    # Shows the double reproduces the behaviour the store works around.
    vault = FakeWinVault()
    vault.set_password("t", "u", "old")
    vault.set_password("t", "u", "new")
    assert vault.credentials["u@t"] == ("u", "old")


# -- errors -----------------------------------------------------------------------------------


def test_no_usable_backend_says_why() -> None:
    from keyring.backends import fail

    with pytest.raises(StoreUnavailableError, match="no usable backend"):
        KeyringStore(fail.Keyring())  # type: ignore[no-untyped-call]  # keyring leaves it untyped


def test_default_backend_is_keyrings_choice(monkeypatch: pytest.MonkeyPatch, backend: Any) -> None:
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    assert KeyringStore().location() == "keyring backend file.PlaintextKeyring"


def test_a_locked_keyring_is_a_dismissed_prompt(backend: Any) -> None:
    def locked(*_args: object) -> None:
        raise KeyringLocked("user cancelled")

    backend.get_password = locked
    with pytest.raises(PromptDismissedError):
        KeyringStore(backend).get(ID.parse("a"))


def test_backend_errors_are_store_errors_that_never_quote_the_value(backend: Any) -> None:
    def echoing_set(service: str, username: str, password: str) -> None:
        raise RuntimeError(f"refused to store {password!r}")

    backend.set_password = echoing_set
    with pytest.raises(StoreError, match="RuntimeError") as info:
        KeyringStore(backend).save(ID.parse("a"), b"hunter2-secret", {})
    assert "hunter2-secret" not in str(info.value)


def test_get_missing_and_delete_missing(store: KeyringStore) -> None:
    with pytest.raises(SecretNotFoundError):
        store.get(ID.parse("nope"))
    assert store.delete(ID.parse("nope")) is False


# -- processes and imports --------------------------------------------------------------------

WRITER = """
import sys
from keyrings.alt.file import PlaintextKeyring
from docker_pass.backends.keychain.keyring_store import KeyringStore
from docker_pass.core import ID

backend = PlaintextKeyring()
backend.file_path = sys.argv[1]
worker = sys.argv[2]
store = KeyringStore(backend, platform="darwin")
for i in range(25):
    store.save(ID.parse(f"w{worker}/{i}"), f"{worker}-{i}".encode(), {"worker": worker})
"""


def test_concurrent_writer_processes_lose_no_index_update(tmp_path: Path, spawn: Spawn) -> None:
    """Four processes each save 25 IDs, all updating the one index item: none is lost."""
    path = tmp_path / "shared-keyring.cfg"
    procs = [spawn([sys.executable, "-c", WRITER, str(path), str(n)]) for n in range(4)]
    assert [p.wait(timeout=180) for p in procs] == [0, 0, 0, 0]
    store = KeyringStore(plaintext_keyring(path), platform="darwin")
    listed = [i.id.value for i in store.list(Pattern.parse("**"))]
    assert listed == sorted(f"w{n}/{i}" for n in range(4) for i in range(25))
    for env in store.resolve(Pattern.parse("**")):
        assert env.value == f"{env.metadata['worker']}-{env.id.components[1]}".encode()


def test_importing_the_module_does_not_import_keyring() -> None:
    code = (
        "import sys\n"
        "import docker_pass.backends.keychain.keyring_store\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('keyring', 'keyrings')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
