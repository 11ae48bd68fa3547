"""Generations: calls finish on the generation they started on, and its last call closes it."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.generations import Generations, GenerationsClosedError, file_signature

if TYPE_CHECKING:
    from pathlib import Path


class Item:
    """Something built and closed, numbered in the order built."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = 0


class Built:
    """The build and close functions of a :class:`Generations`, and what they did."""

    def __init__(self) -> None:
        self.items: list[Item] = []

    def build(self) -> Item:
        item = Item(len(self.items))
        self.items.append(item)
        return item

    @staticmethod
    def close(item: Item) -> None:
        item.closed += 1


@pytest.fixture
def built() -> Built:
    return Built()


def test_calls_share_the_current_generation_until_it_is_retired(built: Built) -> None:
    generations = Generations(built.build, built.close)
    first, fresh = generations.enter()
    again, fresh_again = generations.enter()
    assert (first is again, fresh, fresh_again) == (True, True, False)
    generations.leave(first)
    generations.leave(again)
    assert first.users == 0
    assert built.items[0].closed == 0  # the current one stays open between calls

    assert generations.retire() is True
    assert built.items[0].closed == 1  # idle: closed at once
    second, fresh = generations.enter()
    assert (second.item.number, fresh) == (1, True)
    generations.leave(second)


def test_a_retired_generation_is_closed_by_its_last_call(built: Built) -> None:
    generations = Generations(built.build, built.close)
    busy, _ = generations.enter()
    also, _ = generations.enter()
    generations.retire()
    newer, _ = generations.enter()
    assert newer is not busy  # new calls never join a retired generation
    generations.leave(busy)
    assert busy.item.closed == 0  # one call still runs on it
    generations.leave(also)
    assert busy.item.closed == 1
    generations.leave(newer)
    assert newer.item.closed == 0


def test_retire_without_a_generation_says_so(built: Built) -> None:
    generations = Generations(built.build, built.close)
    assert generations.retire() is False
    assert built.items == []


def test_after_close_no_generation_is_built(built: Built) -> None:
    generations = Generations(built.build, built.close)
    busy, _ = generations.enter()
    generations.close()
    with pytest.raises(GenerationsClosedError):
        generations.enter()
    assert len(built.items) == 1
    generations.leave(busy)
    assert busy.item.closed == 1


def test_an_item_built_while_closing_is_closed_again(built: Built) -> None:
    generations: Generations[Item]

    def build_then_close() -> Item:
        item = built.build()
        generations.close()  # the UI closes while its front is being built
        return item

    generations = Generations(build_then_close, built.close)
    with pytest.raises(GenerationsClosedError):
        generations.enter()
    assert built.items[0].closed == 1


def test_one_build_for_calls_that_arrive_together(built: Built) -> None:
    release = threading.Event()
    started = threading.Event()

    def slow_build() -> Item:
        started.set()
        assert release.wait(10)
        return built.build()

    generations = Generations(slow_build, built.close)
    entered: list[object] = []
    threads = [
        threading.Thread(target=lambda: entered.append(generations.enter()[0])) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    assert started.wait(10)
    release.set()
    for thread in threads:
        thread.join(10)
    assert len(built.items) == 1
    assert len(entered) == 4
    assert all(generation is entered[0] for generation in entered)


def test_file_signature_changes_with_any_write_replace_or_removal(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    missing = file_signature(path)
    assert missing == (None,)
    path.write_text("{}")
    written = file_signature(path)
    assert written != missing
    os.utime(path, ns=(0, 0))
    stamped = file_signature(path)
    replacement = tmp_path / "config.json.new"
    replacement.write_text("{}")
    os.utime(replacement, ns=(0, 0))
    replacement.replace(path)  # same size and times: only the inode tells
    assert file_signature(path) != stamped
    assert file_signature(path, tmp_path / "other") == (file_signature(path)[0], None)
