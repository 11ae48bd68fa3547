"""The vault plugin's walk and tree cache over an in-memory folder tree (the real server's
walk is in test_vault.py): pruning, the bound on calls in flight, failures, the cache."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from docker_pass.backends.vault.errors import WalkCutError
from docker_pass.backends.vault.walk import TreeCache, start_folder, walk
from docker_pass.core.errors import PluginError
from docker_pass.core.ids import Pattern

TREE: dict[tuple[str, ...], list[str]] = {
    (): ["team/", "other/", "top"],
    ("team",): ["a/", "b/", "x"],
    ("team", "a"): ["db", "deep/"],
    ("team", "a", "deep"): ["s"],
    ("team", "b"): ["db", "bad key", ".."],
    ("other",): ["db"],
}


class Recorder:
    def __init__(self) -> None:
        self.asked: list[tuple[str, ...]] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0

    def __call__(self, folder: tuple[str, ...]) -> list[str]:
        with self.lock:
            self.asked.append(folder)
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            return TREE.get(folder, [])
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.fixture
def pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=4)


def test_the_walk_starts_at_the_head_and_prunes(pool: ThreadPoolExecutor) -> None:
    recorder = Recorder()
    found = walk(Pattern("team/*/db"), recorder, pool)
    assert sorted(found) == [("team", "a", "db"), ("team", "b", "db")]
    assert sorted(recorder.asked) == [("team",), ("team", "a"), ("team", "b")]


def test_everything_skips_keys_no_id_can_name(pool: ThreadPoolExecutor) -> None:
    found = walk(Pattern("**"), Recorder(), pool)
    assert sorted("/".join(f) for f in found) == [
        "other/db",
        "team/a/db",
        "team/a/deep/s",
        "team/b/db",
        "team/x",
        "top",
    ]


def test_no_more_calls_in_flight_than_the_bound(pool: ThreadPoolExecutor) -> None:
    recorder = Recorder()
    walk(Pattern("**"), recorder, pool, bound=1)
    assert recorder.most == 1
    assert len(recorder.asked) == 6


def test_a_failing_folder_fails_the_walk(pool: ThreadPoolExecutor) -> None:
    def failing(folder: tuple[str, ...]) -> list[str]:
        if folder == ("team", "b"):
            raise PluginError("cannot reach the vault at http://x (connection refused)")
        return TREE.get(folder, [])

    with pytest.raises(PluginError, match="cannot reach"):
        walk(Pattern("**"), failing, pool)


def test_start_folder() -> None:
    assert start_folder(Pattern("**")) == ()
    assert start_folder(Pattern("team/**")) == ("team",)


def test_the_cache_keeps_folders_for_its_ttl_and_forgets_written_paths() -> None:
    now = [0.0]
    cache = TreeCache(10, clock=lambda: now[0])
    cache.put((), ["a/"])
    cache.put(("a",), ["b/"])
    cache.put(("a", "b"), ["c"])
    cache.put(("z",), ["y"])
    assert cache.get(("a",)) == ["b/"]
    cache.forget_path(("a", "b", "new"))
    assert cache.get(()) is None
    assert cache.get(("a",)) is None
    assert cache.get(("a", "b")) is None
    assert cache.get(("z",)) == ["y"]
    now[0] = 10.0
    assert cache.get(("z",)) is None
    off = TreeCache(0)
    off.put((), ["a"])
    assert off.get(()) is None


def test_a_folder_named_twice_in_a_listing_is_walked_once(pool: ThreadPoolExecutor) -> None:
    tree = {(): ["a/", "a/", "a", "./", "../", "/", ""], ("a",): ["s"]}
    asked: list[tuple[str, ...]] = []

    def list_folder(folder: tuple[str, ...]) -> list[str]:
        asked.append(folder)
        return tree.get(folder, [])

    assert sorted(walk(Pattern("**"), list_folder, pool)) == [("a",), ("a", "s")]
    assert sorted(asked) == [(), ("a",)]


def test_a_folder_listing_what_one_above_it_listed_is_that_folder_again(
    pool: ThreadPoolExecutor,
) -> None:
    # A server that ignores what follows team/: every folder below lists team/'s keys.
    def list_folder(folder: tuple[str, ...]) -> list[str]:
        return ["x/", "y/", "s"] if folder[:1] == ("team",) else ["team/"]

    found = walk(Pattern("team/**"), list_folder, pool, budget=1000)
    assert sorted(found) == [("team", "s")]


def test_the_budget_counts_folders_and_keys(pool: ThreadPoolExecutor) -> None:
    # TREE: 6 folders and 13 keys.
    assert len(walk(Pattern("**"), Recorder(), pool, budget=19)) == 6
    with pytest.raises(WalkCutError, match=r"cut after visiting more than 18 folders and keys"):
        walk(Pattern("**"), Recorder(), pool, budget=18)
    recorder = Recorder()
    with pytest.raises(WalkCutError, match=r"raise plugins\.vault\.walk_budget"):
        walk(Pattern("**"), recorder, pool, budget=3)
    assert len(recorder.asked) <= 3
