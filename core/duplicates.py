"""One ID, one answer: noticing a save that would make a second plugin hold an ID.

``se://ID`` resolves to exactly one value, or fails: when two running plugins hold the same
ID, every reference to it fails (``2 secrets matched ID (docker-pass, vault)``).  Saving an ID
to one plugin while another already holds it is therefore asked about first, by every front:
the CLI prints a warning and needs ``--allow-duplicate``, the TUI asks a question.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from docker_pass.core.ids import Pattern
from docker_pass.core.references.syntax import reference_for

if TYPE_CHECKING:
    from docker_pass.core.ids import ID
    from docker_pass.core.results import Listing


class Lister(Protocol):
    """What :func:`holders` needs of an engine or its front: a listing by pattern."""

    def list_secrets(self, pattern: Pattern) -> Listing:
        """IDs (no values) matching ``pattern``, across the running plugins."""
        ...


def holders(front: Lister, id_: ID) -> list[str]:
    """The running plugins that hold ``id_`` now (each asked for that one ID, no value read),
    sorted; plugins that could not answer are not counted."""
    listing = front.list_secrets(Pattern(id_.value))
    return sorted({info.provider for info in listing.infos if info.id == id_})


def others_holding(front: Lister, id_: ID, plugin: str) -> list[str]:
    """The running plugins other than ``plugin`` that hold ``id_``."""
    return [name for name in holders(front, id_) if name != plugin]


def duplicate_warning(id_: ID, plugin: str, others: list[str]) -> str:
    """What saving ``id_`` to ``plugin`` would break while ``others`` hold it too."""
    providers = ", ".join(sorted({plugin, *others}))
    count = len(others) + 1
    return (
        f"{', '.join(others)} already holds {id_.value}: saving it to {plugin} too makes "
        f"{reference_for(id_)} match {count} secrets ({providers}), so every reference to it "
        "fails"
    )
