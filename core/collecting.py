"""Automatic garbage collection held off while a listing's objects are made.

A listing of 100,000 secrets makes 200,000 small objects (an ``ID`` and a ``SecretInfo`` each),
none of them in a reference cycle: reference counting alone frees them.  With automatic
collection on, making them runs some 300 young-generation passes and a few full ones over every
object the process holds (at 100,000 secrets: ~60 ms of a listing's ~150 ms, more in a Textual
app, whose own objects every full pass walks again).  Holding collection off while they are
made saves that; the objects then sit in the young generation, and the first collection after
costs one pass over all of them (~25 ms at 100,000 secrets) — unless they are frozen first
(``freeze``): objects that live as long as the process does, or die by reference counting,
need no collector.

Holds nest and may come from several threads (each plugin lists in its own worker): collection
resumes when the last hold ends, and only if it was on when the first began.  The cost of a
long hold (a plugin slow to answer: at most its call's deadline, which the engine sets) is
garbage in cycles waiting a little longer; that of a freeze, the cyclic garbage that exists
at that moment staying for good — so a freeze is for rare moments: at most once in a process
for each reason (start-up, the first listing), never for every refresh, nor for each of the
apps a test process runs one after another (each would keep the last one's garbage).

Standard library only, and ``_thread`` rather than ``threading`` (about 1 ms on the CLI's fast
path, which the file store's listing index is on).
"""

from __future__ import annotations

import _thread
import gc
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


class _Holds:
    """The holds in force, and whether collection was on when the first of them began."""

    __slots__ = ("count", "frozen", "lock", "resume")

    def __init__(self) -> None:
        self.lock = _thread.allocate_lock()
        self.count = 0
        self.resume = False
        #: What has frozen so far (each reason once in a process: :func:`freeze_once`).
        self.frozen: set[str] = set()


_HOLDS = _Holds()


@contextmanager
def collection_held(*, freeze: bool = False) -> Iterator[None]:
    """Hold automatic collection off for the ``with`` block (nested holds: until the last ends).

    ``freeze``: when the block ends, move every object the collector tracks into the permanent
    generation (:func:`gc.freeze`, which costs nothing) so that no later collection walks them —
    for objects made in the block that live long and hold no cycle.  Only the first such hold
    in the process freezes (:func:`freeze_once`); later ones end as plain holds.
    """
    state = _HOLDS
    with state.lock:
        if state.count == 0:
            state.resume = gc.isenabled()
            gc.disable()
        state.count += 1
    try:
        yield
    finally:
        with state.lock:
            if freeze:
                _freeze_once(state, "listing")
            state.count -= 1
            if state.count == 0 and state.resume:
                gc.enable()


def freeze_once(reason: str) -> bool:
    """Freeze every object the collector tracks now (:func:`gc.freeze`) unless something froze
    for ``reason`` already in this process; whether it froze.

    For moments after which what exists lives as long as the process: start-up's modules,
    classes and functions (``"start-up"``), walked by every full collection otherwise.
    """
    with _HOLDS.lock:
        return _freeze_once(_HOLDS, reason)


def _freeze_once(state: _Holds, reason: str) -> bool:
    if reason in state.frozen:
        return False
    state.frozen.add(reason)
    gc.freeze()
    return True


def holds() -> int:
    """How many holds are in force (tests check that every hold ends)."""
    return _HOLDS.count
