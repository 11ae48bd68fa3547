"""The age file store: the shared contract, plus modes, traversal, interop, keys and crashes."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyrage
import pytest

from docker_pass.backends.filestore import PASSPHRASE_ENV, FileStore
from docker_pass.core import ID, Pattern, SecretNotFoundError
from docker_pass.core.errors import StoreError
from docker_pass.core.store import SecretStore, xdg_dir
from tests.backends.contract import ALL_BYTES, StoreContract

# Every name the store may leave in its directory.
STORE_NAME = re.compile(r"\.lock|[0-9a-f]{64}\.(json|[ab]\.age)")
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FileStore]:
    """A fresh identity-keyed store under ``tmp_path``."""
    s = FileStore(root=tmp_path / "store", identity_path=tmp_path / "keys" / "identity.txt")
    yield s
    s.close()


class TestFileStore(StoreContract):
    """The shared contract, for the file store."""

    def value_reads(self, store: SecretStore) -> int:
        assert isinstance(store, FileStore)
        return store.values_read


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_is_a_secret_store(store: FileStore) -> None:
    typed: SecretStore = store
    assert isinstance(typed, SecretStore)
    assert store.kind == "file"
    assert str(store.root) in store.location()


def test_defaults_live_under_the_xdg_data_dir() -> None:
    s = FileStore()
    s.save(ID.parse("a"), b"v", {})
    assert s.root == xdg_dir("data") / "store"
    assert s.identity_path == xdg_dir("data") / "identity.txt"
    assert s.identity_path.is_file()
    assert s.get(ID.parse("a")).value == b"v"


# -- modes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_files_0600_and_dirs_0700_are_created_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: int
) -> None:
    """Modes come from os.open/mkdir themselves: a permissive umask changes nothing, and no
    chmod is ever called (it would fail here)."""

    def no_chmod(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the store must create files with their mode, not chmod them")

    monkeypatch.setattr(os, "chmod", no_chmod)
    monkeypatch.setattr(os, "fchmod", no_chmod)
    base = tmp_path / "fresh"
    s = FileStore(root=base / "deep" / "store", identity_path=base / "keys" / "identity.txt")
    old = os.umask(umask)
    try:
        s.save(ID.parse("docker/auth/hub/alice"), b"secret", {"k": "v"})
        s.save(ID.parse("docker/auth/hub/alice"), b"secret2", {"k": "v"})
    finally:
        os.umask(old)
    dirs = [p for p in base.rglob("*") if p.is_dir()] + [base]
    files = files_under(base)
    assert {p.name for p in files} >= {".lock", "identity.txt"}
    assert len(files) == 4  # lock, identity, record, one value slot
    for d in dirs:
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


# -- ID to file name --------------------------------------------------------------------------

TRAVERSAL_IDS = ["../../x", "a/../../b", "..", ".", "./.", "../..", "../../../../../../tmp/x"]


def test_no_id_names_a_file_outside_the_store(tmp_path: Path) -> None:
    jail = tmp_path / "jail"
    root = jail / "inner" / "store"
    identity = jail / "identity.txt"
    s = FileStore(root=root, identity_path=identity)
    before = files_under(tmp_path)
    for raw in TRAVERSAL_IDS:
        s.save(ID.parse(raw), raw.encode(), {"id": raw})
    new = files_under(tmp_path) - before
    assert new - {identity} == files_under(root)
    assert all(STORE_NAME.fullmatch(p.name) for p in files_under(root))
    assert [p for p in root.iterdir() if p.is_dir()] == []
    listed = [i.id.value for i in s.list(Pattern.parse("**"))]
    assert listed == sorted(TRAVERSAL_IDS)
    for raw in TRAVERSAL_IDS:
        assert s.get(ID.parse(raw)).value == raw.encode()
        assert s.delete(ID.parse(raw)) is True
    assert {p.name for p in files_under(root)} == {".lock"}


def test_ids_differing_only_in_case_get_distinct_files(store: FileStore) -> None:
    # macOS and Windows file systems fold case; the digests keep such IDs apart anyway.
    store.save(ID.parse("Token"), b"upper", {})
    store.save(ID.parse("token"), b"lower", {})
    assert store.get(ID.parse("Token")).value == b"upper"
    assert store.get(ID.parse("token")).value == b"lower"


def test_a_record_pointing_outside_the_store_is_damaged_not_followed(store: FileStore) -> None:
    id_ = ID.parse("victim")
    store.save(id_, b"v", {})
    (record,) = store.root.glob("*.json")
    record.write_text(record.read_text().replace(record.stem + ".a.age", "../../etc/passwd"))
    with pytest.raises(StoreError, match="names no valid value file"):
        store.get(id_)
    with pytest.raises(StoreError, match="damaged"):
        store.list(Pattern.parse("**"))


def test_a_damaged_record_is_a_store_error_naming_the_file(store: FileStore) -> None:
    store.save(ID.parse("x"), b"v", {})
    (record,) = store.root.glob("*.json")
    record.write_text("{not json")
    with pytest.raises(StoreError, match=record.name):
        store.get(ID.parse("x"))
    # ... and saving over it repairs it.
    store.save(ID.parse("x"), b"w", {})
    assert store.get(ID.parse("x")).value == b"w"


# -- interop with the age CLI and key material ------------------------------------------------

needs_age = pytest.mark.skipif(
    shutil.which("age") is None, reason="the age CLI is not installed (apt install age)"
)


@pytest.mark.integration
@needs_age
def test_age_cli_decrypts_a_value_with_the_identity_file(store: FileStore) -> None:
    value = ALL_BYTES + b"\n\x00tail"
    id_ = ID.parse("interop/age")
    store.save(id_, value, {"who": "age"})
    out = subprocess.run(
        ["age", "--decrypt", "-i", str(store.identity_path), str(store.value_path(id_))],
        capture_output=True,
        check=True,
    )
    assert out.stdout == value


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("age-keygen") is None, reason="age-keygen is not installed")
def test_identity_file_is_in_age_keygen_format(store: FileStore) -> None:
    store.save(ID.parse("a"), b"v", {})
    text = store.identity_path.read_text()
    assert stat.S_IMODE(store.identity_path.stat().st_mode) == 0o600
    lines = text.splitlines()
    assert lines[0].startswith("# created: ")
    assert lines[1].startswith("# public key: age1")
    assert lines[2].startswith("AGE-SECRET-KEY-1")
    public = subprocess.run(
        ["age-keygen", "-y", str(store.identity_path)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert lines[1] == f"# public key: {public}"


def test_an_existing_age_keygen_identity_is_used_not_replaced(tmp_path: Path) -> None:
    identity = pyrage.x25519.Identity.generate()
    path = tmp_path / "my-key.txt"
    path.write_text(f"# my own key\n\n{identity}\n")
    s = FileStore(root=tmp_path / "store", identity_path=path)
    s.save(ID.parse("a"), b"mine", {})
    assert path.read_text() == f"# my own key\n\n{identity}\n"
    assert pyrage.decrypt(s.value_path(ID.parse("a")).read_bytes(), [identity]) == b"mine"


def test_a_different_identity_cannot_decrypt_and_says_so(tmp_path: Path) -> None:
    root = tmp_path / "store"
    FileStore(root=root, identity_path=tmp_path / "one.txt").save(ID.parse("a"), b"v", {})
    other = pyrage.x25519.Identity.generate()
    (tmp_path / "two.txt").write_text(f"{other}\n")
    with pytest.raises(StoreError, match="does not match"):
        FileStore(root=root, identity_path=tmp_path / "two.txt").get(ID.parse("a"))


def test_a_lost_identity_is_reported_and_never_silently_replaced(store: FileStore) -> None:
    store.save(ID.parse("a"), b"v", {"k": "1"})
    store.identity_path.unlink()
    fresh = FileStore(root=store.root, identity_path=store.identity_path)
    # Listing needs no key material at all.
    assert [dict(i.metadata) for i in fresh.list(Pattern.parse("**"))] == [{"k": "1"}]
    with pytest.raises(StoreError, match=r"identity .* is missing"):
        fresh.get(ID.parse("a"))
    with pytest.raises(StoreError, match="restore the identity"):
        fresh.save(ID.parse("b"), b"w", {})
    assert not store.identity_path.exists()


def test_identity_file_errors_never_quote_the_key(tmp_path: Path) -> None:
    bad = "AGE-SECRET-KEY-1NOTAKEYATALL"
    path = tmp_path / "identity.txt"
    path.write_text(f"# comment\n{bad}\n")
    s = FileStore(root=tmp_path / "store", identity_path=path)
    with pytest.raises(StoreError, match="line 2") as info:
        s.save(ID.parse("a"), b"v", {})
    assert bad not in str(info.value)


def test_passphrase_mode_round_trips_and_pyrage_decrypts(tmp_path: Path) -> None:
    s = FileStore(root=tmp_path / "store", identity_path=tmp_path / "id.txt", passphrase=PASSPHRASE)
    assert s.key_mode == "passphrase"
    id_ = ID.parse("pp/secret")
    s.save(id_, ALL_BYTES, {"mode": "passphrase"})
    assert s.get(id_).value == ALL_BYTES
    assert pyrage.passphrase.decrypt(s.value_path(id_).read_bytes(), PASSPHRASE) == ALL_BYTES
    assert not (tmp_path / "id.txt").exists()  # no identity file in passphrase mode
    assert PASSPHRASE not in repr(s)
    assert PASSPHRASE not in s.location()


def test_key_mode_mismatch_and_wrong_passphrase_are_clear_store_errors(tmp_path: Path) -> None:
    root = tmp_path / "store"
    identity = tmp_path / "id.txt"
    by_identity = FileStore(root=root, identity_path=identity)
    by_passphrase = FileStore(root=root, identity_path=identity, passphrase=PASSPHRASE)
    by_identity.save(ID.parse("keyed/identity"), b"i", {})
    by_passphrase.save(ID.parse("keyed/passphrase"), b"p", {})

    with pytest.raises(StoreError, match=f"set {PASSPHRASE_ENV}"):
        by_identity.get(ID.parse("keyed/passphrase"))
    with pytest.raises(StoreError, match=f"unset {PASSPHRASE_ENV}"):
        by_passphrase.get(ID.parse("keyed/identity"))
    wrong = FileStore(root=root, identity_path=identity, passphrase="not it")
    with pytest.raises(StoreError, match="wrong passphrase") as info:
        wrong.get(ID.parse("keyed/passphrase"))
    assert PASSPHRASE not in str(info.value)
    assert "not it" not in str(info.value)


def test_from_environment_picks_the_key_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    assert FileStore.from_environment().key_mode == "passphrase"
    monkeypatch.setenv(PASSPHRASE_ENV, "")
    assert FileStore.from_environment().key_mode == "identity"
    monkeypatch.delenv(PASSPHRASE_ENV)
    assert FileStore.from_environment().key_mode == "identity"
    assert FileStore.from_environment(environ={PASSPHRASE_ENV: "x"}).key_mode == "passphrase"


def test_an_empty_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="empty"):
        FileStore(root=tmp_path, passphrase="")


# -- atomicity --------------------------------------------------------------------------------


def test_a_crash_before_the_value_is_in_place_keeps_the_old_secret(
    store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    id_ = ID.parse("atomic")
    store.save(id_, b"old value", {"v": "1"})
    before = {p.name for p in files_under(store.root)}

    def crash(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(StoreError, match="No space left") as info:
        store.save(id_, b"new value", {"v": "2"})
    assert "new value" not in str(info.value)
    monkeypatch.undo()
    env = store.get(id_)
    assert (env.value, dict(env.metadata)) == (b"old value", {"v": "1"})
    assert {p.name for p in files_under(store.root)} == before  # no temp file left


def test_a_crash_before_the_record_commits_keeps_the_old_secret_whole(
    store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    id_ = ID.parse("atomic")
    store.save(id_, b"old value", {"v": "1"})
    real_replace = os.replace
    calls: list[str] = []

    def replace_then_crash(src: str | Path, dst: str | Path) -> None:
        calls.append(str(dst))
        if str(dst).endswith(".json"):
            raise OSError(5, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_then_crash)
    with pytest.raises(StoreError):
        store.save(id_, b"new value", {"v": "2"})
    monkeypatch.undo()
    assert calls[0].endswith(".b.age")  # the new value went to the other slot
    env = store.get(id_)
    assert (env.value, dict(env.metadata)) == (b"old value", {"v": "1"})
    assert not [p for p in files_under(store.root) if p.name.startswith(".tmp-")]
    # The next save succeeds and leaves exactly one value file.
    store.save(id_, b"newest", {"v": "3"})
    assert store.get(id_).value == b"newest"
    assert len(list(store.root.glob("*.age"))) == 1


def test_temp_files_of_a_crashed_writer_are_swept(store: FileStore) -> None:
    store.save(ID.parse("a"), b"v", {})
    stale = store.root / ".tmp-0123456789abcdef"
    stale.write_bytes(b"half an age file")
    FileStore(root=store.root, identity_path=store.identity_path).save(ID.parse("b"), b"w", {})
    assert not stale.exists()


# -- concurrency across processes -------------------------------------------------------------

WRITER = """
import sys
from pathlib import Path
from docker_pass.backends.filestore import FileStore
from docker_pass.core import ID

root, identity, worker = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
store = FileStore(root=root, identity_path=identity)
for i in range(25):
    store.save(ID.parse(f"w{worker}/{i}"), f"{worker}-{i}".encode(), {"worker": worker})
    store.save(ID.parse("shared"), f"{worker}-{i}".encode(), {"last": worker})
"""


def test_concurrent_writer_processes_lose_no_update(tmp_path: Path) -> None:
    """Four processes race to create the store and its identity, then save 25 IDs each while
    all rewriting one shared ID; every ID is there afterwards, readable with one identity."""
    root, identity = tmp_path / "store", tmp_path / "identity.txt"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(identity), str(n)])
        for n in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    store = FileStore(root=root, identity_path=identity)
    listed = [i.id.value for i in store.list(Pattern.parse("**"))]
    expected = sorted([f"w{n}/{i}" for n in range(4) for i in range(25)] + ["shared"])
    assert listed == expected
    for env in store.resolve(Pattern.parse("*/*")):
        worker = env.id.components[0][1:]
        assert env.value == f"{worker}-{env.id.components[1]}".encode()
    shared = store.get(ID.parse("shared"))
    assert shared.value == f"{shared.metadata['last']}-24".encode()
    names = {p.name for p in files_under(root)}
    assert all(STORE_NAME.fullmatch(n) for n in names)  # no temp files, nothing else
    assert len([n for n in names if n.endswith(".age")]) == 101  # one value file per secret


def test_a_writer_waits_for_the_lock(store: FileStore) -> None:
    store.save(ID.parse("first"), b"1", {})
    script = WRITER.replace("range(25)", "range(1)")
    fd = os.open(store.root / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        proc = subprocess.Popen(
            [sys.executable, "-c", script, str(store.root), str(store.identity_path), "9"]
        )
        # While we hold the lock the writer cannot finish (it may only encrypt).
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=2)
    finally:
        os.close(fd)
    assert proc.wait(timeout=60) == 0
    assert [i.id.value for i in store.list(Pattern.parse("w9/*"))] == ["w9/0"]


def test_missing_store_reads_as_empty(tmp_path: Path) -> None:
    s = FileStore(root=tmp_path / "nowhere", identity_path=tmp_path / "id.txt")
    assert s.list(Pattern.parse("**")) == []
    assert s.resolve(Pattern.parse("**")) == []
    assert s.delete(ID.parse("a")) is False
    with pytest.raises(SecretNotFoundError):
        s.get(ID.parse("a"))
    assert not (tmp_path / "nowhere").exists()
