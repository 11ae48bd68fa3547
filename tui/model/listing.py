"""Merging one plugin's listing into the listing of all (pure Python, no Textual).

Each plugin answers in its own worker; its answer replaces that plugin's entries in the app's
:class:`~docker_pass.tui.model.realms.RealmIndex`, which stays sorted by ``(id, provider)``.
"""

from __future__ import annotations

from heapq import merge
from itertools import compress
from typing import TYPE_CHECKING

from docker_pass.tui.model.realms import RealmIndex

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from docker_pass.core.envelope import SecretInfo


def _order(info: SecretInfo) -> tuple[str, str]:
    return info.id.value, info.provider


def replace_provider(
    index: RealmIndex, provider: str, infos: Sequence[SecretInfo]
) -> RealmIndex | None:
    """``index`` with ``provider``'s entries replaced by ``infos``; ``None`` when that changes
    nothing (the same secrets, metadata and change times), so an unchanged refresh costs no
    rebuild of the tree."""
    # One provider's listing in ID order is in (ID, provider) order.  The engine sorts it
    # already: checking costs a pass over strings, where sorting by a key makes 100,000 tuples.
    ids = [info.id.value for info in infos]
    if ids == sorted(ids):
        fresh = list(infos)
    else:
        fresh = sorted(infos, key=_order)
        ids = [info.id.value for info in fresh]
    entries = index.entries
    mine = [info.provider == provider for info in entries]
    if len(fresh) == sum(mine) and all(
        a == b and a.updated_at == b.updated_at
        for a, b in zip(compress(entries, mine), fresh, strict=True)
    ):
        return None
    if all(mine):
        # Nobody else's entries (one plugin, the usual case): nothing to merge.
        return RealmIndex.of_sorted(fresh, ids)
    kept = [e for e, m in zip(entries, mine, strict=True) if not m]
    return RealmIndex(list(merge(kept, fresh, key=_order)), presorted=True)


def split_deleted(
    infos: Sequence[SecretInfo],
) -> tuple[Sequence[SecretInfo], tuple[SecretInfo, ...]]:
    """A plugin's listing as its live secrets and those whose latest version is deleted
    (which a plugin that keeps them lists when asked: they are no live secrets)."""
    if not any(info.deleted for info in infos):
        return infos, ()  # the usual case: one pass, no copy
    live = [info for info in infos if not info.deleted]
    return live, tuple(info for info in infos if info.deleted)


def keep_providers(index: RealmIndex, providers: Collection[str]) -> RealmIndex | None:
    """``index`` with only the entries of ``providers``; ``None`` when nothing goes."""
    if all(e.provider in providers for e in index.entries):
        return None
    return RealmIndex([e for e in index.entries if e.provider in providers], presorted=True)
