"""The realm tree's data: secrets grouped by ID components, computed one realm at a time.

Pure Python (no Textual), so the preview worker and the benchmarks use it as the tree does.

IDs are kept sorted; every ID under a realm ``docker/auth`` starts with ``docker/auth/`` and so
sits in one contiguous run of the sorted list, which two bisections find.  Listing a realm's
children therefore costs a few bisections per child, not a pass over every secret below it, and
nothing is built for realms nobody opens.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from itertools import compress
from operator import itemgetter
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from docker_pass.core.envelope import SecretInfo

# The character that sorts right after "/": every ID that starts with "a/b/" sorts before
# "a/b" + _AFTER_SLASH, so that string bounds the run of IDs under realm "a/b".
_AFTER_SLASH = chr(ord("/") + 1)


T = TypeVar("T")
_DIGITS = re.compile(r"(\d+)")


class SortOrder(StrEnum):
    """The order of a realm's children in the tree (the index itself stays sorted by ID)."""

    NAME = "name"
    PROVIDER = "provider"
    UPDATED = "updated"

    @property
    def label(self) -> str:
        """How the count line says it."""
        return _ORDER_LABELS[self]

    def next(self) -> SortOrder:
        """The order after this one (the sort key cycles through them)."""
        members = list(SortOrder)
        return members[(members.index(self) + 1) % len(members)]


_ORDER_LABELS = {
    SortOrder.NAME: "by name",
    SortOrder.PROVIDER: "by provider",
    SortOrder.UPDATED: "newest first",
}


@lru_cache(maxsize=65_536)
def natural_key(name: str) -> tuple[tuple[str | int, ...], str]:
    """Sort key putting ``team2`` before ``team10``: digit runs compare as numbers.

    ``re.split`` with a group alternates text and digits (text first, maybe ""), so the parts
    at each position are all str or all int and compare without mixing types; case is folded,
    then the name itself breaks ties (``A`` before ``a``, ``01`` before ``1``).
    """
    parts = _DIGITS.split(name.casefold())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), name


def _picker(positions: list[int]) -> Callable[[Sequence[T]], list[T]]:
    """A function picking ``positions`` out of a sequence into a list (``itemgetter``: C)."""
    if len(positions) == 1:
        only = positions[0]
        return lambda items: [items[only]]
    get = itemgetter(*positions)
    return lambda items: list(get(items))


def _newest_first(updated_at: float | None) -> tuple[bool, float]:
    # Unknown times (the plugin does not say) sort last.
    return (updated_at is None, -(updated_at or 0.0))


@dataclass(frozen=True, slots=True)
class Realm:
    """A realm (an ID prefix ending before a ``/``) and how many secrets lie under it."""

    path: str
    name: str
    count: int
    #: The newest ``updated_at`` under it (only computed for the "updated" order).
    updated_at: float | None = None


class RealmIndex:
    """Secrets sorted by ``(id, provider)``, grouped into realms on demand."""

    __slots__ = ("_columns", "_folded", "_wrapped", "entries", "ids", "last_search")

    def __init__(self, entries: Sequence[SecretInfo], *, presorted: bool = False) -> None:
        """``entries`` are sorted here unless ``presorted`` says they already are."""
        ordered = (
            list(entries) if presorted else sorted(entries, key=lambda i: (i.id.value, i.provider))
        )
        self.entries: list[SecretInfo] = ordered
        #: The ID strings, parallel to ``entries`` (bisection needs plain strings).
        self.ids: list[str] = [e.id.value for e in ordered]
        self._folded: list[str] | None = None
        self._wrapped: list[str] | None = None
        self._columns: dict[str, list[str | None]] = {}
        #: The last word searched in this index and what it kept (the next key narrows that).
        self.last_search: tuple[str, RealmIndex] | None = None

    @classmethod
    def of_sorted(cls, entries: list[SecretInfo], ids: list[str]) -> RealmIndex:
        """An index over ``entries`` already sorted, with ``ids`` their ID strings (not copied)."""
        index = cls.__new__(cls)
        index.entries = entries
        index.ids = ids
        index._folded = None
        index._wrapped = None
        index._columns = {}
        index.last_search = None
        return index

    def slice(self, lo: int, hi: int) -> RealmIndex:
        """The entries ``lo:hi`` as an index (already sorted: nothing is sorted again)."""
        if lo == 0 and hi == len(self.ids):
            return self
        return RealmIndex.of_sorted(self.entries[lo:hi], self.ids[lo:hi])

    def take(self, positions: list[int]) -> RealmIndex:
        """The entries at ``positions`` (ascending), with their derived forms (C-speed picks)."""
        if len(positions) == len(self.ids):
            return self
        if not positions:
            return RealmIndex.of_sorted([], [])
        pick = _picker(positions)
        index = RealmIndex.of_sorted(pick(self.entries), pick(self.ids))
        if self._folded is not None:
            index._folded = pick(self._folded)
        if self._wrapped is not None:
            index._wrapped = pick(self._wrapped)
        return index

    def where(self, mask: Iterable[object]) -> RealmIndex:
        """The entries whose ``mask`` item (one per entry, in order) is true."""
        return self.take(list(compress(range(len(self.ids)), mask)))

    def warm(self) -> None:
        """Compute the derived forms the filters use now (in a worker), not on the first key."""
        _ = self.folded_ids, self.wrapped_ids

    @property
    def folded_ids(self) -> list[str]:
        """The IDs case-folded, for searching (computed once per index, when first asked)."""
        folded = self._folded
        if folded is None:
            folded = self._folded = [i.casefold() for i in self.ids]
        return folded

    def metadata_column(self, key: str) -> list[str | None]:
        """Each entry's metadata value for ``key`` (``None`` where it has none), computed once
        per key: typing ``owner=al…`` compares the values again, it does not look them up."""
        column = self._columns.get(key)
        if column is None:
            column = self._columns[key] = [e.metadata.get(key) for e in self.entries]
        return column

    @property
    def wrapped_ids(self) -> list[str]:
        """The IDs as ``/id/``: "has component ``w``" is then one ``in`` (computed when asked)."""
        wrapped = self._wrapped
        if wrapped is None:
            wrapped = self._wrapped = [f"/{i}/" for i in self.ids]
        return wrapped

    def __len__(self) -> int:
        return len(self.entries)

    def _run(self, realm: str) -> tuple[int, int]:
        """The slice of ``ids`` under ``realm`` ("" is the root: everything)."""
        if not realm:
            return 0, len(self.ids)
        lo = bisect_left(self.ids, realm + "/")
        hi = bisect_left(self.ids, realm + _AFTER_SLASH, lo)
        return lo, hi

    def count(self, realm: str) -> int:
        """How many secrets lie under ``realm`` (the secret named ``realm`` itself excluded)."""
        lo, hi = self._run(realm)
        return hi - lo

    def children(
        self, realm: str, order: SortOrder = SortOrder.NAME
    ) -> tuple[list[Realm], list[SecretInfo]]:
        """The realms directly inside ``realm`` and the secrets directly in it, each in ``order``.

        Names sort naturally (``team2`` before ``team10``).  ``provider`` orders the secrets by
        provider, then name (realms by name); ``updated`` puts the most recently changed first,
        realms by the newest secret under them, unknown times last.  Only these children are
        sorted: the index stays in ID order for its bisections.
        """
        lo, hi = self._run(realm)
        prefix = realm + "/" if realm else ""
        start = len(prefix)
        ids = self.ids
        realms: list[Realm] = []
        leaves: list[SecretInfo] = []
        i = lo
        while i < hi:
            id_ = ids[i]
            slash = id_.find("/", start)
            if slash == -1:
                leaves.append(self.entries[i])
                i += 1
                continue
            # Every ID under this child realm follows in one run: skip it with one bisection.
            end = bisect_left(ids, id_[:slash] + _AFTER_SLASH, i, hi)
            newest = self._newest(i, end) if order is SortOrder.UPDATED else None
            realms.append(Realm(id_[:slash], id_[start:slash], end - i, newest))
            i = end
        realms.sort(key=lambda r: natural_key(r.name))
        leaves.sort(key=lambda e: natural_key(e.id.value[start:]))
        if order is SortOrder.PROVIDER:
            leaves.sort(key=lambda e: e.provider)  # stable: by name within a provider
        elif order is SortOrder.UPDATED:
            realms.sort(key=lambda r: _newest_first(r.updated_at))
            leaves.sort(key=lambda e: _newest_first(e.updated_at))
        return realms, leaves

    def _newest(self, lo: int, hi: int) -> float | None:
        times = [t for e in self.entries[lo:hi] if (t := e.updated_at) is not None]
        return max(times) if times else None

    def realm_paths(self, max_depth: int, limit: int) -> list[str]:
        """Realm paths up to ``max_depth`` components deep, breadth first, at most ``limit``."""
        out: list[str] = []
        frontier = [""]
        for _ in range(max_depth):
            deeper: list[str] = []
            for realm in frontier:
                for child in self.children(realm)[0]:
                    out.append(child.path)
                    if len(out) >= limit:
                        return out
                    deeper.append(child.path)
            frontier = deeper
        return out

    def find(self, id_: str, provider: str = "") -> SecretInfo | None:
        """The entry for ``id_`` (from ``provider`` when given), if listed."""
        i = bisect_left(self.ids, id_)
        while i < len(self.ids) and self.ids[i] == id_:
            entry = self.entries[i]
            if not provider or entry.provider == provider:
                return entry
            i += 1
        return None

    def under(self, realm: str) -> list[SecretInfo]:
        """The secrets strictly under ``realm`` (a slice of the sorted entries: no scan)."""
        lo, hi = self._run(realm)
        return self.entries[lo:hi]

    def holders(self, id_: str) -> list[str]:
        """The providers listing ``id_`` (sorted: the index is sorted by ID, then provider)."""
        i = bisect_left(self.ids, id_)
        out: list[str] = []
        while i < len(self.ids) and self.ids[i] == id_:
            out.append(self.entries[i].provider)
            i += 1
        return out

    def with_entry(self, info: SecretInfo) -> RealmIndex:
        """A copy with ``info`` added (replacing the same ID from the same provider)."""
        kept = [e for e in self.entries if (e.id, e.provider) != (info.id, info.provider)]
        kept.append(info)
        return RealmIndex(kept)

    def without(self, info: SecretInfo) -> RealmIndex:
        """A copy without the entry of ``info``'s ID and provider."""
        key = (info.id, info.provider)
        return RealmIndex([e for e in self.entries if (e.id, e.provider) != key], presorted=True)


@dataclass(frozen=True, slots=True)
class Notice:
    """A line that is not a secret: a plugin still answering, a failure, or an empty tree."""

    #: "loading", "error" or "empty"
    kind: str
    plugin: str
    message: str
    #: A few words for the tree line ("crashed", "listing failed"); the message is the detail.
    title: str = ""
