"""The age file store: the shared contract, plus modes, traversal, interop, keys and crashes."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from typing import TYPE_CHECKING

import pyrage
import pytest

from docker_pass.backends.keychain.filestore import PASSPHRASE_ENV, FileStore
from docker_pass.core import ID, Pattern, SecretNotFoundError
from docker_pass.core.errors import StoreError, UnsafePathError
from docker_pass.core.store import SecretStore, xdg_dir
from tests.backends.contract import ALL_BYTES, StoreContract
from tests.support.other_user import make_as_other_user
from tests.support.store_damage import damage

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    Spawn = Callable[..., subprocess.Popen[bytes]]
    from pathlib import Path

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

    def twin(self, store: SecretStore) -> SecretStore:
        assert isinstance(store, FileStore)
        return FileStore(root=store.root, identity_path=store.identity_path)

    def spec(self, store: SecretStore) -> dict[str, str]:
        assert isinstance(store, FileStore)
        return {"kind": "file", "root": str(store.root), "identity": str(store.identity_path)}


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
    # Listing goes on without it (hardening item 10), and says which secret it skipped.
    assert store.list(Pattern.parse("**")) == []
    (warning,) = store.warnings
    assert "victim" in warning
    assert "damaged" in warning
    assert "names no valid value file" in warning


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


def test_a_first_save_racing_another_writers_first_save_uses_its_identity(
    store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two writers on a new store: this one looks and finds no identity; the other then
    # creates it and saves a value encrypted to it before this one goes on.  The identity is
    # not lost (it is there now): this save uses it, and both values read back.
    other = FileStore(root=store.root, identity_path=store.identity_path)
    real = os.path.lexists
    looked: list[str] = []

    def first_look_before_the_other_writer(path: object) -> bool:
        if str(path) == str(store.identity_path) and not looked:
            looked.append(str(path))
            other.save(ID.parse("theirs"), b"their value", {})
            return False  # what this writer saw a moment before
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os.path, "lexists", first_look_before_the_other_writer)
    store.save(ID.parse("ours"), b"our value", {})
    monkeypatch.setattr(os.path, "lexists", real)
    assert looked == [str(store.identity_path)]
    fresh = FileStore(root=store.root, identity_path=store.identity_path)
    assert fresh.get(ID.parse("ours")).value == b"our value"
    assert fresh.get(ID.parse("theirs")).value == b"their value"


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
from docker_pass.backends.keychain.filestore import FileStore
from docker_pass.core import ID

root, identity, worker = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
store = FileStore(root=root, identity_path=identity)
for i in range(25):
    store.save(ID.parse(f"w{worker}/{i}"), f"{worker}-{i}".encode(), {"worker": worker})
    store.save(ID.parse("shared"), f"{worker}-{i}".encode(), {"last": worker})
"""


def test_concurrent_writer_processes_lose_no_update(tmp_path: Path, spawn: Spawn) -> None:
    """Four processes race to create the store and its identity, then save 25 IDs each while
    all rewriting one shared ID; every ID is there afterwards, readable with one identity."""
    root, identity = tmp_path / "store", tmp_path / "identity.txt"
    procs = [
        spawn([sys.executable, "-c", WRITER, str(root), str(identity), str(n)]) for n in range(4)
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


def test_a_writer_waits_for_the_lock(store: FileStore, spawn: Spawn) -> None:
    store.save(ID.parse("first"), b"1", {})
    script = WRITER.replace("range(25)", "range(1)")
    fd = os.open(store.root / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        proc = spawn([sys.executable, "-c", script, str(store.root), str(store.identity_path), "9"])
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


# -- damaged records (hardening item 10) ------------------------------------------------------


def record_of(store: FileStore, raw_id: str) -> Path:
    return store.root / f"{hashlib.sha256(raw_id.encode()).hexdigest()}.json"


def files_of(store: FileStore, raw_id: str) -> list[Path]:
    stem = hashlib.sha256(raw_id.encode()).hexdigest()
    return [p for p in store.root.iterdir() if p.name.startswith(stem) or p.is_symlink()]


@pytest.fixture
def damaged_store(tmp_path: Path) -> FileStore:
    warnings: list[str] = []
    s = FileStore(
        root=tmp_path / "store", identity_path=tmp_path / "identity.txt", warn=warnings.append
    )
    s.save(ID.parse("good"), b"fine", {"k": "good"})
    s.save(ID.parse("bad"), b"spoilt", {"k": "bad"})
    assert s.warnings == warnings == []
    return s


RECORD_DAMAGE = ["empty", "truncated", "foreign", "binary", "symlink", "other-user"]
VALUE_DAMAGE = ["empty", "truncated", "foreign", "symlink", "other-user", "missing"]


@pytest.mark.parametrize("kind", RECORD_DAMAGE)
def test_a_damaged_record_is_skipped_with_a_warning_and_removable(
    damaged_store: FileStore, tmp_path: Path, kind: str
) -> None:
    store = damaged_store
    record = record_of(store, "bad")
    damage(record, kind, tmp_path)
    # Listing and resolving a pattern go on without it, and say which file they skipped.
    assert [i.id.value for i in store.list(Pattern.parse("**"))] == ["good"]
    assert [(e.id.value, e.value) for e in store.resolve(Pattern.parse("**"))] == [
        ("good", b"fine")
    ]
    (warning,) = store.warnings  # once, though listed and resolved
    assert warning.startswith("file store: skipped: ")
    assert str(record) in warning
    assert "\n" not in warning
    # Asking for it by ID is a one-line error naming the file.
    with pytest.raises(StoreError) as info:
        store.get(ID.parse("bad"))
    assert str(record) in str(info.value)
    assert "\n" not in str(info.value)
    with pytest.raises(StoreError):
        store.resolve(Pattern.parse("bad"))
    assert store.get(ID.parse("good")).value == b"fine"
    # Deleting its ID removes every file of it (a link, not what it points to).
    assert store.delete(ID.parse("bad")) is True
    assert files_of(store, "bad") == []
    with pytest.raises(SecretNotFoundError):
        store.get(ID.parse("bad"))
    if kind == "symlink":
        assert (tmp_path / f"outside-{record.name}").is_file()


@pytest.mark.parametrize("kind", RECORD_DAMAGE)
def test_saving_over_a_damaged_record_repairs_it(
    damaged_store: FileStore, tmp_path: Path, kind: str
) -> None:
    store = damaged_store
    record = record_of(store, "bad")
    damage(record, kind, tmp_path)
    store.save(ID.parse("bad"), b"new", {"k": "again"})
    env = store.get(ID.parse("bad"))
    assert (env.value, dict(env.metadata)) == (b"new", {"k": "again"})
    assert not record.is_symlink()
    assert record.stat().st_uid == os.geteuid()


def test_a_damaged_record_that_still_names_its_id_is_named_by_id(
    damaged_store: FileStore,
) -> None:
    store = damaged_store
    record = record_of(store, "bad")
    doc = json.loads(record.read_text())
    doc["metadata"] = ["not", "a", "map"]
    record.write_text(json.dumps(doc))
    assert [i.id.value for i in store.list(Pattern.parse("**"))] == ["good"]
    (warning,) = store.warnings
    assert warning == (
        f"file store: skipped: the record of bad ({record}) is damaged (metadata is not a map "
        "of strings); docker pass rm bad removes it"
    )


@pytest.mark.parametrize("kind", VALUE_DAMAGE)
def test_a_damaged_value_file_is_skipped_by_resolve_and_named_by_id(
    damaged_store: FileStore, tmp_path: Path, kind: str
) -> None:
    store = damaged_store
    value_file = store.value_path(ID.parse("bad"))
    damage(value_file, kind, tmp_path)
    # Listing reads records only: the secret is still there to see (and to remove).
    assert [i.id.value for i in store.list(Pattern.parse("**"))] == ["bad", "good"]
    assert store.warnings == []
    assert [e.id.value for e in store.resolve(Pattern.parse("**"))] == ["good"]
    (warning,) = store.warnings
    assert warning.startswith("file store: skipped: ")
    assert "bad" in warning
    assert str(value_file) in warning
    with pytest.raises(StoreError) as info:
        store.get(ID.parse("bad"))
    assert "bad" in str(info.value)
    assert "\n" not in str(info.value)
    assert "spoilt" not in str(info.value)
    assert store.delete(ID.parse("bad")) is True
    assert files_of(store, "bad") == []
    assert [i.id.value for i in store.list(Pattern.parse("**"))] == ["good"]


def test_resolving_only_damaged_secrets_is_an_error_not_an_empty_answer(
    damaged_store: FileStore, tmp_path: Path
) -> None:
    store = damaged_store
    damage(store.value_path(ID.parse("bad")), "foreign", tmp_path)
    store.delete(ID.parse("good"))
    with pytest.raises(StoreError, match=r"value file of bad .* is damaged \(not an age file\)"):
        store.resolve(Pattern.parse("**"))
    assert store.warnings == []  # said once, as the error


def test_a_damaged_record_elsewhere_does_not_concern_a_lookup_by_id(
    damaged_store: FileStore, tmp_path: Path
) -> None:
    store = damaged_store
    damage(record_of(store, "bad"), "truncated", tmp_path)
    assert [e.value for e in store.resolve(Pattern.parse("good"))] == [b"fine"]
    assert store.resolve(Pattern.parse("absent")) == []
    assert store.warnings == []  # a literal ID reads its own record only


def test_the_default_warning_is_one_stderr_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = FileStore(root=tmp_path / "store", identity_path=tmp_path / "identity.txt")
    store.save(ID.parse("a"), b"v", {})
    record = record_of(store, "a")
    record.write_bytes(b"")
    assert store.list(Pattern.parse("**")) == []
    assert capsys.readouterr().err == (
        f"Warning: file store: skipped: {record} is damaged (empty)\n"
    )


# -- no traps in the store (hardening item 5) -------------------------------------------------


def test_an_open_store_dir_is_tightened_with_a_warning(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    root.chmod(0o755)
    warnings: list[str] = []
    s = FileStore(root=root, identity_path=tmp_path / "identity.txt", warn=warnings.append)
    s.save(ID.parse("a"), b"v", {})
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert warnings == [f"{root} was open to other users (mode 0755); made it 0700"]
    assert s.get(ID.parse("a")).value == b"v"


def test_a_store_dir_of_another_user_is_refused(tmp_path: Path) -> None:
    root = make_as_other_user(tmp_path / "store", directory=True)
    s = FileStore(root=root, identity_path=tmp_path / "identity.txt", warn=pytest.fail)
    for attempt in (
        lambda: s.save(ID.parse("a"), b"v", {}),
        lambda: s.list(Pattern.parse("**")),
        lambda: s.get(ID.parse("a")),
    ):
        with pytest.raises(UnsafePathError, match=rf"file store: {re.escape(str(root))} belongs"):
            attempt()


def test_a_symlinked_lock_file_is_refused(store: FileStore, tmp_path: Path) -> None:
    store.save(ID.parse("a"), b"v", {})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"")
    (store.root / ".lock").unlink()
    (store.root / ".lock").symlink_to(elsewhere)
    with pytest.raises(UnsafePathError, match=r"\.lock is a symbolic link"):
        store.save(ID.parse("a"), b"w", {})
    with pytest.raises(UnsafePathError, match=r"\.lock is a symbolic link"):
        store.list(Pattern.parse("**"))


def test_a_symlinked_identity_file_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real-identity.txt"
    FileStore(root=tmp_path / "store", identity_path=real).save(ID.parse("a"), b"v", {})
    link = tmp_path / "identity.txt"
    link.symlink_to(real)
    s = FileStore(root=tmp_path / "store", identity_path=link)
    with pytest.raises(StoreError, match=r"refusing the age identity: .* is a symbolic link"):
        s.get(ID.parse("a"))
    with pytest.raises(StoreError, match="is a symbolic link"):
        s.save(ID.parse("b"), b"w", {})
    # A dangling link where the identity would be made is refused too, never written through.
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "would-be-written")
    fresh = FileStore(root=tmp_path / "fresh", identity_path=dangling)
    with pytest.raises(StoreError, match="is a symbolic link"):
        fresh.save(ID.parse("a"), b"v", {})
    assert not (tmp_path / "would-be-written").exists()


def test_an_identity_file_of_another_user_is_refused(tmp_path: Path) -> None:
    identity = pyrage.x25519.Identity.generate()
    path = make_as_other_user(tmp_path / "identity.txt", content=f"{identity}\n".encode())
    s = FileStore(root=tmp_path / "store", identity_path=path)
    with pytest.raises(StoreError, match=rf"{re.escape(str(path))} belongs to another user"):
        s.save(ID.parse("a"), b"v", {})
    assert not list((tmp_path / "store").glob("*.json"))


def test_an_identity_others_can_write_is_refused_and_one_they_can_read_warned(
    tmp_path: Path,
) -> None:
    identity = pyrage.x25519.Identity.generate()
    path = tmp_path / "identity.txt"
    path.write_text(f"{identity}\n")
    path.chmod(0o666)
    warnings: list[str] = []
    s = FileStore(root=tmp_path / "store", identity_path=path, warn=warnings.append)
    with pytest.raises(StoreError, match="writable by other users"):
        s.save(ID.parse("a"), b"v", {})
    path.chmod(0o644)
    s.save(ID.parse("a"), b"v", {})
    assert warnings == [
        f"file store: the age identity {path} is readable by other users (mode 0644); "
        f"make it private with: chmod 600 {path}"
    ]


def test_every_save_is_a_new_version_and_the_creation_time_stays(store: FileStore) -> None:
    from datetime import UTC, datetime, timedelta

    before = datetime.now(UTC) - timedelta(seconds=2)
    saved = store.save(ID("app/token"), b"one", {})
    first = store.get(ID("app/token"))
    # The count, and a digest of the record: a secret removed and made again is told apart.
    assert first.version == saved
    assert first.version.startswith("1-")
    assert first.created_at is not None
    assert before <= first.created_at <= datetime.now(UTC) + timedelta(seconds=2)
    store.save(ID("app/token"), b"two", {"k": "v"})
    (second,) = store.resolve(Pattern("app/token"))
    assert (second.value, second.version.split("-")[0]) == (b"two", "2")
    assert second.created_at == first.created_at


def test_a_record_from_before_versions_counts_as_the_first(store: FileStore) -> None:
    import json

    store.save(ID("old/one"), b"v", {})
    (record,) = store.root.glob("*.json")
    data = json.loads(record.read_text())
    del data["version"]
    record.write_text(json.dumps(data))
    old = store.get(ID("old/one")).version
    assert old.startswith("0-")  # no count, yet a version a write can expect
    store.save(ID("old/one"), b"w", {}, expected_version=old)
    assert store.get(ID("old/one")).version.startswith("2-")


def test_a_version_that_is_not_a_count_is_a_damaged_record(store: FileStore) -> None:
    import json

    store.save(ID("bad/version"), b"v", {})
    (record,) = store.root.glob("*.json")
    data = json.loads(record.read_text())
    data["version"] = "seven"
    record.write_text(json.dumps(data))
    with pytest.raises(StoreError, match="version is not a count"):
        store.get(ID("bad/version"))


def test_warm_values_are_served_only_while_the_record_is_the_same(tmp_path: Path) -> None:
    store = FileStore(root=tmp_path / "store", identity_path=tmp_path / "identity.txt")
    other = FileStore(root=tmp_path / "store", identity_path=tmp_path / "identity.txt")
    store.keep_values_warm()
    store.save(ID("warm/a"), b"first", {"k": "1"})
    assert store.get(ID("warm/a")).value == b"first"
    decrypted = store.values_read
    for _ in range(3):  # served warm: no value file is read or decrypted again
        assert store.get(ID("warm/a")).value == b"first"
        assert [e.value for e in store.resolve(Pattern("warm/a"))] == [b"first"]
    assert store.values_read == decrypted
    # Another process (another store object) replaces it: the next read sees the new value.
    version = other.save(ID("warm/a"), b"second", {"k": "2"})
    got = store.get(ID("warm/a"))
    assert (got.value, dict(got.metadata), got.version) == (b"second", {"k": "2"}, version)
    assert version.startswith("2-")
    assert store.values_read == decrypted + 1
    # ... and removes it: not found, never the kept value.
    assert other.delete(ID("warm/a"))
    with pytest.raises(SecretNotFoundError):
        store.get(ID("warm/a"))
    assert store.resolve(Pattern("warm/a")) == []


def test_values_are_not_kept_unless_asked(store: FileStore) -> None:
    store.save(ID("cold/a"), b"v", {})
    store.get(ID("cold/a"))
    store.get(ID("cold/a"))
    assert store.values_read == 2
