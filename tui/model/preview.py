"""The live filter preview: which secrets the field's text keeps, and where a pattern is routed.

Pure Python (no Textual): the app runs :func:`compute_preview` inline for small listings and in a
thread worker for large ones, and the benchmarks time it directly.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import contains
from typing import TYPE_CHECKING

from docker_pass.core.errors import InvalidPatternError
from docker_pass.core.grammar import WILDCARDS
from docker_pass.core.ids import Pattern
from docker_pass.core.state import RunStatus
from docker_pass.tui.model.realms import RealmIndex
from docker_pass.tui.model.search import (
    FilterMode,
    Highlight,
    IdTerm,
    MetadataTerm,
    PatternOffer,
    Query,
    highlight_for,
    literal_hint,
    metadata_mask,
    offer_pattern,
    parse_query,
    prefix_run,
    search_mask,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from docker_pass.core.envelope import SecretInfo
    from docker_pass.core.pattern_prefix import PatternPrefix
    from docker_pass.core.results import PluginStatus


@dataclass(frozen=True, slots=True)
class Routing:
    """Where the engine would send a pattern: plugins that serve part of it, split by health."""

    #: Enabled, running plugins whose pattern overlaps (the engine's ``narrow`` rule).
    running: tuple[str, ...] = ()
    #: Plugins that would serve it but are not running (crashed, stopped, disabled).
    idle: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Preview:
    """The outcome of the field's text: the secrets it keeps, or why it is invalid."""

    text: str
    #: The pattern in pattern mode; ``None`` otherwise (and when the text is invalid).
    pattern: Pattern | None
    #: The rule the text breaks (``InvalidPatternError.reason``); empty when valid.
    error: str = ""
    #: The matching secrets; ``None`` means "no filter" (empty field) or invalid.
    index: RealmIndex | None = None
    total: int = 0
    routing: Routing = field(default_factory=Routing)
    #: Literal pattern components, highlighted wherever they appear in the tree.
    literals: frozenset[str] = frozenset()
    #: How the text filters (the count line names it).
    mode: FilterMode = FilterMode.ALL
    #: The ID term (prefix, word or pattern as typed); "" when there is none.
    id_term: str = ""
    metadata: tuple[MetadataTerm, ...] = ()
    #: What to mark in the tree's labels.
    highlight: Highlight = field(default_factory=Highlight)
    #: In search mode: the pattern that keeps the same secrets, if any.
    offer: PatternOffer = field(default_factory=PatternOffer)
    #: Further ID terms that narrowed the result (``docker/ alice``).
    more: tuple[IdTerm, ...] = ()
    #: Computed for a text being typed (its last term read as a prefix); false after Enter.
    typing: bool = False
    #: While typing: how the unfinished last term was read ("h… as a prefix"); "" when exact.
    as_you_type: str = ""
    #: After Enter: the text's last term would read as a prefix while typed, and does not now.
    exact: bool = False

    @property
    def matched(self) -> int:
        """How many secrets match (all of them when there is no filter)."""
        return len(self.index) if self.index is not None else self.total

    @property
    def filtered(self) -> bool:
        """Whether the text filters (it is valid and not empty)."""
        return self.index is not None


def validate_pattern(text: str) -> str:
    """The rule ``text`` breaks as a pattern, or "" when it is valid (or empty)."""
    if not text:
        return ""
    try:
        Pattern.parse(text)
    except InvalidPatternError as exc:
        return exc.reason
    return ""


def validate_filter(text: str) -> str:
    """The rule the filter field's ``text`` breaks, or "" when it is usable (or empty)."""
    return parse_query(text).error


def is_cheap(text: str) -> bool:
    """Whether ``text`` filters in well under a frame at any size: a prefix is two bisections
    and a slice, so the app computes it in the key handler, not in a worker."""
    query = parse_query(text)
    return query.mode is FilterMode.PREFIX and not query.metadata and not query.error


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


def compute_preview(
    text: str, index: RealmIndex, plugins: Sequence[PluginStatus], *, typing: bool = False
) -> Preview:
    """Filter every listed secret by ``text`` (see :mod:`docker_pass.tui.model.search`);
    ``typing``: the text is still being typed (its last term reads as a prefix)."""
    total = len(index)
    query = parse_query(text, typing=typing)
    mode = query.mode
    if query.error:
        return Preview(text, None, error=query.error, total=total, mode=mode, typing=typing)
    if mode is FilterMode.ALL:
        return Preview(text, None, total=total, typing=typing)
    term = query.id_term
    subset = index
    routing = Routing()
    offer = PatternOffer()
    head_typed = query.typed if not query.more else None
    if head_typed is not None:
        subset = match_typed(head_typed, index)
    elif mode is FilterMode.PREFIX:
        subset = index.slice(*prefix_run(index.ids, term))
    elif mode is FilterMode.SEARCH:
        subset = search(index, term)
        # Every ID with a component equal to the word is among those kept: count there.
        offer = offer_pattern(term, len(subset), subset.wrapped_ids)
    elif query.pattern is not None:
        subset = match_pattern(query.pattern, index)
    if query.pattern is not None:
        routing = route(query.pattern, plugins)
    for extra in query.more:
        subset = narrow(subset, extra)
        offer = PatternOffer()  # the offer was for the first term alone
    subset = keep_metadata(subset, query.metadata)
    as_you_type = query.as_you_type
    if not len(subset) and query.key_start:
        # Nothing kept, but one more "=" could: the secrets with a key starting so (and what
        # the other terms keep).
        subset = by_key_start(index, query)
        if len(subset):
            as_you_type = f"{query.key_start}… as a metadata key"
    highlight = highlight_for(query)
    return Preview(
        text,
        query.pattern,
        "",
        subset,
        total,
        routing,
        highlight.literals if mode is FilterMode.PATTERN else frozenset(),
        mode,
        term,
        query.metadata,
        highlight,
        offer,
        query.more,
        typing,
        as_you_type,
        not typing and bool(parse_query(text, typing=True).as_you_type),
    )


def keep_metadata(index: RealmIndex, terms: Sequence[MetadataTerm]) -> RealmIndex:
    """The entries of ``index`` that every metadata term keeps."""
    for meta_term in terms:
        column = index.metadata_column(meta_term.key)
        index = index.where(metadata_mask(column, meta_term))
    return index


def by_key_start(index: RealmIndex, query: Query) -> RealmIndex:
    """The entries with a metadata key starting with the query's last (ID) term, kept by its
    other terms: what the text could keep once an ``=`` follows."""
    start = query.key_start
    subset = index.where([any(k.startswith(start) for k in e.metadata) for e in index.entries])
    parsed = [IdTerm(query.mode, query.id_term, query.pattern), *query.more][:-1]
    for term in parsed:
        subset = narrow(subset, term)
    return keep_metadata(subset, query.metadata)


def narrow(index: RealmIndex, term: IdTerm) -> RealmIndex:
    """The entries of ``index`` that one more ID term keeps."""
    if term.mode is FilterMode.PREFIX:
        return index.where(map(str.startswith, index.ids, repeat(term.text)))
    if term.mode is FilterMode.SEARCH:
        return index.where(search_mask(index.folded_ids, term.text))
    if term.typed is not None:
        return match_typed(term.typed, index)
    # A pattern term always carries its pattern (parse_id_term compiles it).
    return match_pattern(term.pattern, index) if term.pattern is not None else index


def search(index: RealmIndex, word: str) -> RealmIndex:
    """The entries of ``index`` with an ID component containing ``word`` (ignoring case).

    Typing on narrows: an ID that contains the new word contains the last word searched in
    this index whenever the new word contains that one, so only what the last search kept is
    searched again (``svc12`` looks at the IDs holding ``svc1``).
    """
    folded = word.casefold()
    base = index
    last = index.last_search
    if last is not None and last[0] in folded:
        base = last[1]
    subset = base.where(search_mask(base.folded_ids, folded))
    index.last_search = (folded, subset)
    return subset


def match_pattern(pattern: Pattern, index: RealmIndex) -> RealmIndex:
    """The entries of ``index`` that ``pattern`` matches.

    Cheap necessary conditions first (``literal_hint``, each a C-speed pass: the run of IDs
    starting with the leading literals, then those ending with the trailing ones or holding
    the longest other literal component), so the pattern's matcher sees only IDs that might
    match: ``**/svc12`` looks at the IDs ending in ``/svc12``, not at all of them.
    """
    if pattern.components == ("**",):
        return index
    leading, ending, holding = literal_hint(pattern)
    lo, hi = prefix_run(index.ids, leading) if leading else (0, len(index))
    candidates = index.slice(lo, hi)
    if ending or holding:
        wrapped = index.wrapped_ids[lo:hi]
        if ending:
            candidates = candidates.where(map(str.endswith, wrapped, repeat(ending)))
        else:
            candidates = candidates.where(map(contains, wrapped, repeat(holding)))
    matched_ids = pattern.filter(candidates.ids)
    if len(matched_ids) == len(candidates):
        return candidates
    return RealmIndex.of_sorted(_pick(candidates, matched_ids), matched_ids)


def match_typed(typed: PatternPrefix, index: RealmIndex) -> RealmIndex:
    """The entries of ``index`` that a pattern being typed keeps (:class:`PatternPrefix`).

    As :func:`match_pattern`: cheap necessary conditions first, each a C-speed pass (the sorted
    IDs' run starting with the literal start, the IDs holding the longest finished literal
    component as ``/c/`` and the unfinished one as ``/p``), and only what is left goes through
    the matcher, mapped in C over the IDs.
    """
    if typed.components == ("**",):
        return index
    leading = typed.leading
    if typed.is_literal:
        # "c1/…/p" being typed keeps exactly the IDs starting so: one run of the sorted IDs
        # (and "c1/…/" keeps the run below it, and "c1/…" itself).
        if typed.partial:
            return index.slice(*prefix_run(index.ids, leading))
        lo, hi = prefix_run(index.ids, leading + "/")
        at = bisect_left(index.ids, leading)
        if at < len(index.ids) and index.ids[at] == leading:
            end = at
            while end < len(index.ids) and index.ids[end] == leading:
                end += 1  # one ID, listed by several plugins
            return index.take([*range(at, end), *range(lo, hi)])
        return index.slice(lo, hi)
    lo, hi = prefix_run(index.ids, leading) if leading else (0, len(index))
    candidates = index.slice(lo, hi)
    head = len(leading.split("/")) if leading else 0
    inner = [c for c in typed.complete[head:] if c not in WILDCARDS]
    holding = f"/{max(inner, key=len)}/" if inner else ""
    partial = typed.partial if typed.partial not in WILDCARDS else ""
    needles = [n for n in (holding, "/" + partial if partial and not leading else "") if n]
    if needles:
        wrapped = index.wrapped_ids[lo:hi]  # folded once per listing, not per key
        for needle in needles:
            mask = list(map(contains, wrapped, repeat(needle)))
            candidates = candidates.where(mask)
            wrapped = list(compress(wrapped, mask))
    if typed.complete == ("**",) and partial:
        return candidates  # "**/p": a component starting with p, exactly that test
    return candidates.where(map(typed.matcher(), candidates.ids))


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
