"""Generations of something rebuilt while calls still use it, and noticing files that changed.

The engine daemon rebuilds its engine when the config file changes behind its back; the UI
rebuilds its front on reload.  Either way, calls still running finish on the generation they
started on, and the last of them closes it, so a rebuild (or shutting down) never waits for a
busy plugin.  :class:`Generations` keeps that count, once, for both.

Both notice another process's change the same way: :func:`file_signature` of the files they
read, compared with the signature they noted after their own last write.

Standard library only: the daemon and the UI import it, and neither pays for the other.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

T = TypeVar("T")

#: How one file looks from outside: ``(mtime_ns, size, inode)``, or ``None`` when missing.
FileStamp = tuple[int, int, int] | None
#: How a list of files looks (:func:`file_signature`).
Signature = tuple[FileStamp, ...]


def file_signature(*paths: Path) -> Signature:
    """How ``paths`` look now: two signatures differ once any of them is written, replaced
    (an atomic write makes a new inode), created or removed.

    Two ``stat`` calls' worth of work, so it can be asked before every call; what the files
    *say* is the caller's to compare when the signature differs.
    """
    stamps: list[FileStamp] = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            stamps.append(None)
        else:
            stamps.append((st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(stamps)


class GenerationsClosedError(RuntimeError):
    """Raised by :meth:`Generations.enter` once :meth:`Generations.close` has run."""


class Generation(Generic[T]):
    """One generation: its ``item`` and how many calls use it now; once ``retired``, the
    last of them closes it."""

    __slots__ = ("item", "retired", "users")

    def __init__(self, item: T) -> None:
        self.item = item
        #: Calls running on this generation now.
        self.users = 0
        #: Replaced (or closed): no new call joins it.
        self.retired = False

    def __repr__(self) -> str:
        return f"Generation(users={self.users}, retired={self.retired})"


class Generations(Generic[T]):
    """The current generation of an item built by ``build``, and the calls using each one.

    A call starts with :meth:`enter` (joining the current generation, or building one when
    there is none) and ends with :meth:`leave`.  :meth:`retire` replaces the current
    generation: the next call builds a new one, and the old one is closed (``close(item)``)
    now if idle, else by its last call.  One build runs at a time, outside the bookkeeping
    lock, so a slow build (a daemon probe) never holds up calls that only leave.
    """

    def __init__(self, build: Callable[[], T], close: Callable[[T], None]) -> None:
        self._build = build
        self._close = close
        self._current: Generation[T] | None = None
        #: Guards the counts: held for a few assignments, never over a build, call or close.
        self._books = threading.Lock()
        #: Held while one generation is built.
        self._building = threading.Lock()
        self._closed = False

    def enter(self) -> tuple[Generation[T], bool]:
        """Count a call on the current generation, built first if there is none; the
        generation, and whether this call built it.

        Raises :class:`GenerationsClosedError` after :meth:`close` (an item built meanwhile is
        closed again).
        """
        with self._books:
            generation = self._joined()
        if generation is not None:
            return generation, False
        with self._building:
            with self._books:
                generation = self._joined()
            if generation is not None:
                return generation, False  # another thread built it while we waited
            item = self._build()
            with self._books:
                if not self._closed:
                    generation = self._current = Generation(item)
                    generation.users += 1
        if generation is None:
            self._close(item)
            raise GenerationsClosedError
        return generation, True

    def current(self) -> T | None:
        """The current generation's item, ``None`` when there is none: one attribute read,
        for a caller that must not wait (the daemon's event loop)."""
        generation = self._current
        return generation.item if generation is not None else None

    def leave(self, generation: Generation[T]) -> None:
        """The end of a call that :meth:`enter` counted; the last call of a retired
        generation closes it."""
        with self._books:
            generation.users -= 1
            finished = generation.retired and generation.users == 0
        if finished:
            self._close(generation.item)

    def retire(self) -> bool:
        """Replace the current generation (closed now if idle, else by its last call);
        whether there was one."""
        with self._books:
            generation, self._current = self._current, None
            if generation is None:
                return False
            generation.retired = True
            idle = generation.users == 0
        if idle:
            self._close(generation.item)
        return True

    def close(self) -> None:
        """Retire the current generation and build no more: :meth:`enter` raises from now on.
        Never waits for a busy call."""
        with self._books:
            self._closed = True
        self.retire()

    def _joined(self) -> Generation[T] | None:
        """Count a call on the current generation (under ``_books``); ``None`` if none."""
        if self._closed:
            raise GenerationsClosedError
        generation = self._current
        if generation is not None:
            generation.users += 1
        return generation
