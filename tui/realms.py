"""The realm tree's data: secrets grouped by ID components, computed one realm at a time.

Pure Python (no Textual), so the preview worker and the benchmarks use it as the tree does.

IDs are kept sorted; every ID under a realm ``docker/auth`` starts with ``docker/auth/`` and so
sits in one contiguous run of the sorted list, which two bisections find.  Listing a realm's
children therefore costs a few bisections per child, not a pass over every secret below it, and
nothing is built for realms nobody opens.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from docker_pass.core.envelope import SecretInfo

# The character that sorts right after "/": every ID that starts with "a/b/" sorts before
# "a/b" + _AFTER_SLASH, so that string bounds the run of IDs under realm "a/b".
_AFTER_SLASH = chr(ord("/") + 1)


@dataclass(frozen=True, slots=True)
class Realm:
    """A realm (an ID prefix ending before a ``/``) and how many secrets lie under it."""

    path: str
    name: str
    count: int


class RealmIndex:
    """Secrets sorted by ``(id, provider)``, grouped into realms on demand."""

    __slots__ = ("entries", "ids")

    def __init__(self, entries: Sequence[SecretInfo], *, presorted: bool = False) -> None:
        """``entries`` are sorted here unless ``presorted`` says they already are."""
        ordered = (
            list(entries) if presorted else sorted(entries, key=lambda i: (i.id.value, i.provider))
        )
        self.entries: list[SecretInfo] = ordered
        #: The ID strings, parallel to ``entries`` (bisection needs plain strings).
        self.ids: list[str] = [e.id.value for e in ordered]

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

    def children(self, realm: str) -> tuple[list[Realm], list[SecretInfo]]:
        """The realms directly inside ``realm`` and the secrets directly in it, each sorted."""
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
            realms.append(Realm(id_[:slash], id_[start:slash], end - i))
            i = end
        realms.sort(key=lambda r: r.name)
        return realms, leaves

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
