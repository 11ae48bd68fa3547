"""Undo, one level deep: the last delete or replace of this session, kept in memory only.

Before a secret is deleted or replaced (an edit, or "New" over a listed ID), the worker that
changes it reads its current value and metadata and, once the change succeeded, keeps them
here.  ``u`` takes them back out and saves them again.  Nothing is written anywhere: the
value lives in this process until it is undone, replaced by a newer change, or the app quits.
No Textual here: the workers and the app share it, and it is tested on its own.
"""

from __future__ import annotations

import threading
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from docker_pass.core.ids import ID

NOTHING_TO_UNDO = "Nothing to undo."


class Change(StrEnum):
    """What happened to the kept secret."""

    DELETE = "delete"
    EDIT = "edit"
    REPLACE = "replace"


class KeptSecret:
    """A secret as it was before a change: ID, plugin, value and metadata; and what the change
    left (``after``), so that undo restores only over that.

    ``after`` is the version the change left (``NO_SECRET`` after a delete) where the plugin
    keeps versions (``versioned``); for one that keeps none, a digest of the value and
    metadata it left (:func:`~docker_pass.tui.model.versions.content_digest`), or
    ``NO_SECRET`` after a delete.  Its repr shows the ID, plugin and change only, never the
    value or the metadata.
    """

    __slots__ = ("after", "change", "id", "metadata", "provider", "value", "versioned")

    def __init__(
        self,
        id_: ID,
        provider: str,
        value: bytes,
        metadata: Mapping[str, str],
        change: Change,
        *,
        after: str = "",
        versioned: bool = False,
    ) -> None:
        self.id = id_
        self.provider = provider
        self.value = value
        self.metadata: Mapping[str, str] = MappingProxyType(dict(metadata))
        self.change = change
        self.after = after
        self.versioned = versioned

    def left(self, after: str, *, versioned: bool) -> KeptSecret:
        """This record, knowing what the change left: ``after`` (see the class)."""
        return KeptSecret(
            self.id,
            self.provider,
            self.value,
            self.metadata,
            self.change,
            after=after,
            versioned=versioned,
        )

    def __repr__(self) -> str:
        return f"KeptSecret({self.id.value!r}, {self.provider!r}, {self.change.value})"

    def restored_text(self) -> str:
        """The status once it is back: ``Restored a/b in docker-pass (undid the delete).``"""
        return f"Restored {self.id.value} in {self.provider} (undid the {self.change.value})."


class UndoLog:
    """The one change that ``u`` undoes.  Workers write it from their threads, the app reads
    it on the event loop: a lock keeps each step whole."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: KeptSecret | None = None
        self._why_not = ""

    def __repr__(self) -> str:
        return f"UndoLog({self._kept!r})"

    @property
    def last(self) -> KeptSecret | None:
        """What ``u`` would restore now."""
        with self._lock:
            return self._kept

    def keep(self, kept: KeptSecret) -> None:
        """Remember ``kept`` as the change to undo (forgetting the one before)."""
        with self._lock:
            self._kept = kept
            self._why_not = ""

    def cannot_keep(self, why: str) -> None:
        """The last change could not be kept (its old value was unreadable): say so on ``u``."""
        with self._lock:
            self._kept = None
            self._why_not = why

    def take(self) -> KeptSecret | None:
        """What to restore, removed from the log (``None``: nothing to undo)."""
        with self._lock:
            kept, self._kept = self._kept, None
            return kept

    def put_back(self, kept: KeptSecret) -> None:
        """Restoring ``kept`` failed (or was not agreed to): keep it again, unless a newer
        change came meanwhile."""
        with self._lock:
            if self._kept is None:
                self._kept = kept

    def take_if(self, kept: KeptSecret) -> bool:
        """Take ``kept`` out of the log if it is still the change to undo; whether it was."""
        with self._lock:
            if self._kept is not kept:
                return False
            self._kept = None
            return True

    def nothing_text(self) -> str:
        """What ``u`` says when there is nothing to restore."""
        with self._lock:
            return f"Nothing to undo: {self._why_not}." if self._why_not else NOTHING_TO_UNDO

    def clear(self) -> None:
        """Forget everything (the app is quitting)."""
        with self._lock:
            self._kept = None
            self._why_not = ""
