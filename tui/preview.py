"""The live pattern preview: which secrets a pattern matches and which plugins it reaches.

Pure Python (no Textual): the app runs :func:`compute_preview` inline for small listings and in a
thread worker for large ones, and the benchmarks time it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from docker_pass.core.errors import InvalidPatternError
from docker_pass.core.ids import Pattern
from docker_pass.core.state import RunStatus
from docker_pass.tui.realms import RealmIndex

if TYPE_CHECKING:
    from collections.abc import Sequence

    from docker_pass.core.envelope import SecretInfo
    from docker_pass.core.results import PluginStatus

WILDCARDS = ("*", "**")


@dataclass(frozen=True, slots=True)
class Routing:
    """Where the engine would send a pattern: plugins that serve part of it, split by health."""

    #: Enabled, running plugins whose pattern overlaps (the engine's ``narrow`` rule).
    running: tuple[str, ...] = ()
    #: Plugins that would serve it but are not running (crashed, stopped, disabled).
    idle: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Preview:
    """The outcome of one pattern: the matching secrets, or why the pattern is invalid."""

    text: str
    #: ``None`` when the field is empty (no filter) or the pattern is invalid.
    pattern: Pattern | None
    #: The rule the pattern breaks (``InvalidPatternError.reason``); empty when valid.
    error: str = ""
    #: The matching secrets; ``None`` means "no filter" (empty field) or invalid.
    index: RealmIndex | None = None
    total: int = 0
    routing: Routing = field(default_factory=Routing)
    #: Literal pattern components, highlighted wherever they appear in the tree.
    literals: frozenset[str] = frozenset()

    @property
    def matched(self) -> int:
        """How many secrets match (all of them when there is no filter)."""
        return len(self.index) if self.index is not None else self.total


def validate_pattern(text: str) -> str:
    """The rule ``text`` breaks as a pattern, or "" when it is valid (or empty)."""
    if not text:
        return ""
    try:
        Pattern.parse(text)
    except InvalidPatternError as exc:
        return exc.reason
    return ""


def route(pattern: Pattern, plugins: Sequence[PluginStatus]) -> Routing:
    """The plugins ``pattern`` would be sent to, by each plugin's pattern (``narrow``)."""
    running: list[str] = []
    idle: list[str] = []
    for status in plugins:
        if not status.pattern:
            continue
        try:
            scope = Pattern.parse(status.pattern)
        except InvalidPatternError:
            continue
        if scope.narrow(pattern) is None:
            continue
        (running if status.enabled and status.status == RunStatus.RUNNING else idle).append(
            status.name
        )
    return Routing(tuple(running), tuple(idle))


def compute_preview(text: str, index: RealmIndex, plugins: Sequence[PluginStatus]) -> Preview:
    """Match ``text`` against every listed secret and route it across ``plugins``."""
    total = len(index)
    if not text:
        return Preview(text, None, total=total)
    try:
        pattern = Pattern.parse(text)
    except InvalidPatternError as exc:
        return Preview(text, None, error=exc.reason, total=total)
    matched_ids = pattern.filter(index.ids)
    if len(matched_ids) == total:
        subset = index
    else:
        subset = RealmIndex(_pick(index, matched_ids), presorted=True)
    literals = frozenset(c for c in pattern.components if c not in WILDCARDS)
    return Preview(text, pattern, "", subset, total, route(pattern, plugins), literals)


def _pick(index: RealmIndex, matched_ids: list[str]) -> list[SecretInfo]:
    """The entries of ``index`` whose IDs are ``matched_ids`` (a sub-sequence of its IDs).

    ``Pattern.filter`` keeps order and duplicates, so one merge walk pairs them up.
    """
    out: list[SecretInfo] = []
    want = iter(matched_ids)
    target = next(want, None)
    for id_, entry in zip(index.ids, index.entries, strict=True):
        if target is None:
            break
        if id_ == target:
            out.append(entry)
            target = next(want, None)
    return out
