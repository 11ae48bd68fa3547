"""The file store's warm values read without waiting (:meth:`FileStore.peek_warm`) and filled
at a daemon's start (:meth:`FileStore.fill_warm`): a peek never reads, locks or decrypts, and
says nothing rather than something stale."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from docker_pass.backends.keychain.filestore import FileStore
from docker_pass.backends.keychain.filestore import warm as warm_module
from docker_pass.core import ID, Pattern

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def stores(tmp_path: Path) -> tuple[FileStore, FileStore]:
    """The daemon's store (values kept warm) and another process's, on the same files."""
    daemon = FileStore(root=tmp_path / "store", identity_path=tmp_path / "identity.txt")
    other = FileStore(root=tmp_path / "store", identity_path=tmp_path / "identity.txt")
    daemon.keep_values_warm()
    return daemon, other


def test_nothing_is_peeked_before_values_are_warm(tmp_path: Path) -> None:
    daemon, other = stores(tmp_path)
    other.save(ID("app/a"), b"one", {})
    assert daemon.peek_warm(Pattern("app/a")) is None
    cold = FileStore(root=tmp_path / "store", identity_path=tmp_path / "identity.txt")
    assert cold.fill_warm() == 0  # not kept warm: nothing read
    assert cold.values_read == 0
    assert cold.peek_warm(Pattern("app/a")) is None


def test_fill_then_peek_reads_nothing_more(tmp_path: Path) -> None:
    daemon, other = stores(tmp_path)
    for n in range(5):
        other.save(ID(f"app/s{n}"), f"v{n}".encode(), {"n": str(n)})
    assert daemon.fill_warm() == 5
    read = daemon.values_read
    found = daemon.peek_warm(Pattern("app/s3"))
    assert found is not None
    assert [(e.value, dict(e.metadata)) for e in found] == [(b"v3", {"n": "3"})]
    assert daemon.values_read == read
    assert daemon.peek_warm(Pattern("app/*")) is None  # only one ID's value, never a listing
    assert daemon.peek_warm(Pattern("app/none")) is None  # not held: the store says, not us


def test_a_change_or_removal_by_another_process_is_never_peeked(tmp_path: Path) -> None:
    daemon, other = stores(tmp_path)
    other.save(ID("app/a"), b"one", {})
    other.save(ID("app/b"), b"two", {})
    daemon.fill_warm()
    other.save(ID("app/a"), b"changed", {})
    assert other.delete(ID("app/b"))
    assert daemon.peek_warm(Pattern("app/a")) is None
    assert daemon.peek_warm(Pattern("app/b")) is None
    assert daemon.get(ID("app/a")).value == b"changed"


def test_a_damaged_secret_is_skipped_and_the_rest_is_filled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    daemon, other = stores(tmp_path)
    other.save(ID("app/good"), b"fine", {})
    other.save(ID("app/bad"), b"lost", {})
    bad = other.value_path(ID("app/bad"))
    bad.write_bytes(b"not age at all")
    assert daemon.fill_warm() == 1
    found = daemon.peek_warm(Pattern("app/good"))
    assert found is not None
    assert found[0].value == b"fine"
    assert daemon.peek_warm(Pattern("app/bad")) is None
    assert "lost" not in capsys.readouterr().err  # a warning names the secret, never a value


def test_a_value_file_that_is_a_fifo_never_blocks_the_fill(tmp_path: Path) -> None:
    daemon, other = stores(tmp_path)
    other.save(ID("app/good"), b"fine", {})
    other.save(ID("app/fifo"), b"gone", {})
    path = other.value_path(ID("app/fifo"))
    path.unlink()
    os.mkfifo(path)
    assert daemon.fill_warm() == 1


def test_a_store_larger_than_the_warm_limit_is_not_filled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warm_module, "WARM_VALUES", 3)
    from docker_pass.backends.keychain.filestore import store as store_module

    monkeypatch.setattr(store_module, "WARM_VALUES", 3)
    daemon, other = stores(tmp_path)
    for n in range(4):
        other.save(ID(f"app/s{n}"), b"v", {})
    assert daemon.fill_warm() == 0
    assert daemon.values_read == 0
