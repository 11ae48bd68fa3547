"""Automatic collection held off while listings are made (:mod:`docker_pass.core.collecting`)."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading

import pytest

from docker_pass.core.collecting import collection_held, holds


@pytest.fixture(autouse=True)
def _collection_on() -> None:
    gc.enable()


def test_a_hold_turns_collection_off_and_back_on() -> None:
    with collection_held():
        assert not gc.isenabled()
        assert holds() == 1
    assert gc.isenabled()
    assert holds() == 0


def test_nested_holds_resume_only_when_the_last_ends() -> None:
    with collection_held():
        with collection_held():
            assert holds() == 2
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_hold_leaves_collection_off_when_it_was_off() -> None:
    gc.disable()
    try:
        with collection_held():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_hold_ends_when_its_block_raises() -> None:
    with pytest.raises(RuntimeError), collection_held():
        raise RuntimeError("the plugin failed")
    assert gc.isenabled()
    assert holds() == 0


def test_holds_from_threads_that_overlap_resume_after_the_last() -> None:
    inside = threading.Barrier(2)
    leave = threading.Event()

    def hold_until_told() -> None:
        with collection_held():
            inside.wait()
            leave.wait(10)

    other = threading.Thread(target=hold_until_told)
    other.start()
    with collection_held():
        inside.wait()
    assert not gc.isenabled()  # the other thread's hold is still in force
    leave.set()
    other.join(10)
    assert gc.isenabled()


def test_only_the_first_freezing_hold_of_a_process_freezes() -> None:
    """A freeze keeps the garbage of its moment for good: once in a process (its first
    listing), not for every listing, nor for every app a test process runs."""
    code = textwrap.dedent(
        """
        import gc
        from docker_pass.core.collecting import collection_held
        with collection_held(freeze=True):
            made = [[i] for i in range(1000)]
        first = gc.get_freeze_count()
        gc.unfreeze()
        with collection_held(freeze=True):
            more = [[i] for i in range(1000)]
        print(first >= len(made), gc.get_freeze_count(), gc.isenabled())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["True", "0", "True"]


def test_each_reason_freezes_once_in_a_process() -> None:
    code = textwrap.dedent(
        """
        import gc
        from docker_pass.core.collecting import collection_held, freeze_once
        print(freeze_once("start-up"), freeze_once("start-up"), gc.get_freeze_count() > 0)
        gc.unfreeze()
        with collection_held(freeze=True):  # the listing's own once
            pass
        print(gc.get_freeze_count() > 0)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["True", "False", "True", "True"]
