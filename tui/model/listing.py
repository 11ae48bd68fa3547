"""Merging one plugin's listing into the listing of all (pure Python, no Textual).

Each plugin answers in its own worker; its answer replaces that plugin's entries in the app's
:class:`~docker_pass.tui.model.realms.RealmIndex`, which stays sorted by ``(id, provider)``.
"""

from __future__ import annotations

from heapq import merge
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
    fresh = sorted(infos, key=_order)  # the engine sorts already: a pass over sorted data
    old = [e for e in index.entries if e.provider == provider]
    if len(old) == len(fresh) and all(
        a == b and a.updated_at == b.updated_at for a, b in zip(old, fresh, strict=True)
    ):
        return None
    kept = [e for e in index.entries if e.provider != provider]
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
