"""What the UI knows of versions: the version an edit started from, and a conflict in words.

A save from the editor carries the version the editor opened (or loaded with ctrl+r); the
plugin refuses it with :class:`~docker_pass.core.errors.VersionConflictError` when the
stored secret is another version by then.  :class:`Conflict` is that refusal as the editor
and the undo question show it.  Pure Python (no Textual): the workers build it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from docker_pass.core.outside import clean_outside
from docker_pass.core.versions import NO_SECRET

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from docker_pass.core.errors import VersionConflictError

#: What an undo's conflict is measured from.
SINCE_THE_CHANGE = "since the change u would undo"
#: A version token is shown up to this long (a stamp with a hash can be long).
SHOWN_VERSION = 24


def shown_version(version: str) -> str:
    """A version token as a line shows it: cut with … when long, and made safe (a plugin's
    token reaches the screen, maybe through the daemon)."""
    token = clean_outside(version, limit=200)
    return token if len(token) <= SHOWN_VERSION else token[: SHOWN_VERSION - 1] + "…"


def shown_time(stamp: float) -> str:
    """A change time as ``2026-12-06 23:19 UTC`` (the same on every machine)."""
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def expected_for_save(version: str | None) -> str | None:
    """The ``expected_version`` a save sends for the version an editor holds: ``""`` (the
    plugin keeps none) and ``None`` (not known) write blind."""
    return version or None


def content_digest(value: bytes, metadata: Mapping[str, str]) -> str:
    """A digest of a secret's value and metadata, for plugins that keep no versions: undo
    compares it with the secret as it is before restoring.  Kept in memory only, never
    shown; a digest, so that the log does not hold a second copy of a value."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(len(value).to_bytes(8, "big") + value)
    for key, text in sorted(metadata.items()):
        for part in (key.encode(), text.encode()):
            digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Conflict:
    """A write refused because the stored secret is not the version it expected."""

    id: str
    provider: str
    #: The version the write expected (``NO_SECRET``: none should have been there).
    expected: str
    #: The version there now (``NO_SECRET``: none; ``""``: the plugin cannot say).
    found: str
    changed_at: float | None = None
    changed_by: str = ""

    @classmethod
    def of(cls, error: VersionConflictError, id_: str, provider: str) -> Conflict:
        """The conflict ``error`` reports on ``id_`` in ``provider``."""
        return cls(
            id=error.id or id_,
            provider=error.provider or provider,
            expected=error.expected,
            found=error.found,
            changed_at=error.changed_at,
            changed_by=clean_outside(error.changed_by, limit=80) if error.changed_by else "",
        )

    @property
    def gone(self) -> bool:
        """Whether the secret was removed since it was read."""
        return self.found == NO_SECRET

    @property
    def created(self) -> bool:
        """Whether a secret appeared where none was expected (another "New" got there
        first)."""
        return self.expected == NO_SECRET and not self.gone

    @property
    def overwrite_version(self) -> str | None:
        """What a write over this change expects: the version found (so a third change in
        between is still caught), or nothing when the plugin could not say which."""
        return self.found or None

    def details(self) -> str:
        """``now version 5, changed at …, by …`` (what is known)."""
        parts = []
        if self.found and not self.gone:
            parts.append(f"now version {shown_version(self.found)}")
        if self.changed_at is not None:
            parts.append(f"changed at {shown_time(self.changed_at)}")
        if self.changed_by:
            parts.append(f"by {self.changed_by}")
        return ", ".join(parts)

    def describe(self, since: str = "since you opened it") -> str:
        """What happened, in one sentence: who changed what since when."""
        details = self.details()
        tail = f": {details}" if details else ""
        if self.gone:
            when = f" at {shown_time(self.changed_at)}" if self.changed_at is not None else ""
            return f"{self.id} was deleted from {self.provider} {since}{when}."
        if self.created:
            return f"{self.id} was created in {self.provider} {since}{tail}."
        return f"{self.provider} changed {self.id} {since}{tail}."


@dataclass(frozen=True, slots=True)
class EditBasis:
    """The stored secret an edit started from: its ID and plugin, and its version then
    (``None`` while it is being read; ``""``: the plugin keeps none; ``NO_SECRET``: there was
    none).  ``how`` says how the editor got it ("opened", "loaded", "reloaded", "overwrote"),
    for the words of a conflict."""

    id: str
    provider: str
    version: str | None
    how: str = "opened"

    def covers(self, id_: str, provider: str) -> bool:
        """Whether a save of ``id_`` to ``provider`` is a save of this secret."""
        return (self.id, self.provider) == (id_, provider)

    @property
    def since(self) -> str:
        """``since you opened it`` (or loaded, reloaded…): what a conflict is measured from."""
        if self.how == "overwrote":
            return "since you chose to overwrite it"
        return f"since you {self.how} it"


class VersionsSeen:
    """Which plugins keep versions, as far as this session has seen: a token from a plugin
    says it does; a read that came back without one says it does not.  What the front says
    of a plugin itself (an embedded engine asks the plugin) wins."""

    def __init__(self) -> None:
        self._known: dict[str, bool] = {}
        self._said: dict[str, bool] = {}

    def note(self, plugin: str, version: str) -> None:
        """A read of a secret of ``plugin`` came with ``version`` (``""``: none)."""
        if version and version != NO_SECRET:
            self._known[plugin] = True
        elif not version:
            self._known.setdefault(plugin, False)

    def note_listed(self, plugin: str, versions: Iterable[str]) -> None:
        """A listing of ``plugin``: any token in it says it keeps versions (none says
        nothing: a listing carries them only where that is cheap)."""
        if any(versions):
            self._known[plugin] = True

    def note_status(self, plugin: str, versioned: bool | None) -> None:
        """What the front says of ``plugin`` (``None``: it cannot say)."""
        if versioned is not None:
            self._said[plugin] = versioned

    def versioned(self, plugin: str) -> bool | None:
        """Whether ``plugin`` keeps versions (``None``: not known yet)."""
        said = self._said.get(plugin)
        return said if said is not None else self._known.get(plugin)


def expected_version(
    basis: EditBasis | None,
    id_: str,
    provider: str,
    *,
    versioned: bool | None,
    replacing: str | None,
) -> str | None:
    """What a save of ``id_`` to ``provider`` expects to find.

    The version of the secret the edit started from, when it is that secret; else, when the
    person agreed to replace a listed secret, the version listed (``replacing``; ``None``:
    nothing to replace, ``""``: not listed with one); else no secret at all where the plugin
    keeps versions.  ``None`` writes blind (a plugin that keeps none, or a version not known).
    """
    if basis is not None and basis.covers(id_, provider):
        return basis.version or None
    if replacing is not None:
        return replacing or None
    return NO_SECRET if versioned else None
