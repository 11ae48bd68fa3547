"""What the realm tree shows: its lines' data, and the content the app sets on it."""

from __future__ import annotations

from dataclasses import dataclass, field

from docker_pass.core.envelope import SecretInfo
from docker_pass.tui.model.realms import Notice, RealmIndex, SortOrder
from docker_pass.tui.model.search import Highlight


@dataclass(frozen=True, slots=True)
class RealmNode:
    """A realm line: its path (``docker/auth``) and how many secrets lie under it."""

    path: str
    count: int


@dataclass(frozen=True, slots=True)
class DeletedGroup:
    """The line above the deleted secrets (a plugin's whose latest version is deleted: no
    live secrets, shown apart and never counted with the others)."""

    count: int


NodeData = RealmNode | SecretInfo | Notice | DeletedGroup


@dataclass(frozen=True, slots=True)
class TreeContent:
    """What the tree shows; the app sets a new one whenever the listing or filter changes."""

    index: RealmIndex
    literals: frozenset[str] = frozenset()
    notices: tuple[Notice, ...] = ()
    filtered: bool = False
    #: Characters to mark in labels (a prefix's part, a searched word); ``literals`` too.
    highlight: Highlight = field(default_factory=Highlight)
    #: The order of each realm's children.
    order: SortOrder = SortOrder.NAME
    #: The whole listing (``index`` may be a filter's part of it): an ID that more than one
    #: plugin lists there is marked ambiguous, whatever the filter shows.
    listing: RealmIndex | None = None
    #: The deleted secrets, shown under their own line at the end (not while filtering).
    deleted: tuple[SecretInfo, ...] = ()

    def ambiguous(self, id_: str) -> bool:
        """Whether more than one plugin lists ``id_``."""
        return len((self.listing or self.index).holders(id_)) > 1


def key_of(data: NodeData | None) -> tuple[str, str, str] | None:
    """What identifies a line across rebuilds (notices have nothing that lasts)."""
    if isinstance(data, SecretInfo):
        kind = "deleted-secret" if data.deleted else "secret"
        return (kind, data.id.value, data.provider)
    if isinstance(data, RealmNode):
        return ("realm", data.path, "")
    if isinstance(data, DeletedGroup):
        return ("deleted", "", "")
    return None
