"""The daemon's change watch (inotify): what counts as a change of the files it answers from,
what disarms it, and that polling never waits.  Each change is made, then polled at once: the
kernel queues the event inside the call that made the change."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

import pytest

from docker_pass.daemon import changes
from docker_pass.daemon.changes import ChangeWatch

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify: Linux")


class Paths:
    """A config file (its directory not made yet), a store directory, under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root / "config" / "docker-pass" / "config.json"
        self.store = root / "data" / "docker-pass" / "store"
        self.store.mkdir(parents=True)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(tmp_path)


@pytest.fixture
def watch(paths: Paths) -> Iterator[ChangeWatch]:
    watching = ChangeWatch()
    assert watching.available
    assert watching.arm(files=[str(paths.config)], directories=[str(paths.store)])
    yield watching
    watching.close()


def test_every_path_asked_for_is_armed_and_nothing_changed_yet(
    watch: ChangeWatch, paths: Paths
) -> None:
    assert watch.armed() == {str(paths.config), str(paths.store)}
    assert watch.poll() == watch.poll() == 0


def test_a_secret_written_removed_or_renamed_over_in_the_store_is_a_change(
    watch: ChangeWatch, paths: Paths
) -> None:
    record = paths.store / "abc.json"
    record.write_text("{}")
    assert watch.poll() == 1
    (paths.store / "abc.json.tmp").write_text("{ }")
    os.replace(paths.store / "abc.json.tmp", record)
    assert watch.poll() == 2
    record.unlink()
    assert watch.poll() == 3
    assert watch.armed() == {str(paths.config), str(paths.store)}  # the watches still hold


def test_a_record_written_in_place_or_its_mode_changed_is_a_change(
    watch: ChangeWatch, paths: Paths
) -> None:
    record = paths.store / "abc.json"
    record.write_text("{}")
    seen = watch.poll()
    with record.open("a") as handle:
        handle.write(" ")
    assert watch.poll() == seen + 1
    record.chmod(0o600)
    assert watch.poll() == seen + 2


def test_a_file_opened_for_writing_and_closed_unwritten_is_no_change(
    watch: ChangeWatch, paths: Paths
) -> None:
    """The file store opens its lock file so on every read: that must not drop routes."""
    lock = paths.store / ".lock"
    lock.write_text("")
    seen = watch.poll()
    os.close(os.open(lock, os.O_RDWR | os.O_CREAT, 0o600))
    assert watch.poll() == seen


def test_a_neighbour_of_a_watched_file_or_of_a_directory_on_the_way_is_no_change(
    watch: ChangeWatch, paths: Paths
) -> None:
    (paths.root / "data" / "docker-pass" / "identity.txt").write_text("x")
    (paths.root / "data" / "elsewhere").mkdir()
    (paths.root / "unrelated.txt").write_text("x")
    assert watch.poll() == 0
    assert watch.armed()


def test_a_missing_directory_on_the_way_appearing_is_a_change_that_disarms(
    watch: ChangeWatch, paths: Paths
) -> None:
    paths.config.parent.mkdir(parents=True)
    assert watch.poll() == 1
    assert watch.armed() == frozenset()  # what is watched below it must be armed again
    assert watch.arm(files=[str(paths.config)])
    paths.config.write_text("{}")
    assert watch.poll() == 2
    (paths.config.parent / "other.json").write_text("{}")
    assert watch.poll() == 2


def test_a_parent_renamed_away_and_replaced_is_seen_and_then_watched_afresh(
    watch: ChangeWatch, paths: Paths
) -> None:
    data = paths.root / "data"
    os.rename(data, paths.root / "data.old")
    assert watch.poll() == 1
    assert watch.armed() == frozenset()
    paths.store.mkdir(parents=True)
    assert watch.arm()  # the same paths: the new directories
    seen = watch.poll()
    (paths.store / "new.json").write_text("{}")
    assert watch.poll() == seen + 1
    (paths.root / "data.old" / "docker-pass" / "store" / "old.json").write_text("{}")
    assert watch.poll() == seen + 1  # the old store is nothing to us any more


def test_the_store_directory_removed_is_seen(watch: ChangeWatch, paths: Paths) -> None:
    paths.store.rmdir()
    assert watch.poll() >= 1
    assert watch.armed() == frozenset()


def test_polling_an_empty_queue_returns_at_once(watch: ChangeWatch) -> None:
    start = time.perf_counter()
    for _ in range(1000):
        watch.poll()
    assert watch.poll() == 0
    assert time.perf_counter() - start < 5  # a bound on a hang, not a speed figure


def test_a_network_file_system_is_never_armed(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(changes, "LOCAL_FILE_SYSTEMS", frozenset())
    watching = ChangeWatch()
    try:
        assert not watching.arm(directories=[str(paths.store)])
        assert watching.armed() == frozenset()
        assert not watching.arm(directories=[str(paths.store)])  # refused again, at once
    finally:
        watching.close()


def test_a_watch_that_is_off_arms_nothing(paths: Paths) -> None:
    off = ChangeWatch(enabled=False)
    assert not off.available
    assert not off.arm(directories=[str(paths.store)])
    assert off.armed() == frozenset()
    assert off.poll() == 0


def test_a_closed_watch_arms_nothing_and_reports_no_change_as_none(watch: ChangeWatch) -> None:
    watch.close()
    assert watch.armed() == frozenset()
    assert not watch.arm()
