"""What the filter field's text means, and the pure matching behind each meaning (no Textual).

The field holds space-separated terms, combined with AND:

* ``key=value``: the secret's metadata holds ``key`` with exactly ``value``; ``key=`` alone
  means "has ``key``" (any value, the empty one included).
* ID terms (the first names the mode; each further one narrows the result too):

  - with a ``*`` it is a **pattern**, matched exactly (``docker/*/token``, ``**/token``);
  - with a ``/`` but no ``*`` it is a **prefix** of the ID, as typed so far (``docker/au``
    keeps ``docker/auth/…`` and ``docker/authz``); a trailing ``/`` is a prefix like any other;
  - a bare word (no ``/``, no ``*``) **searches** the ID components: a component containing it,
    ignoring case.  A word that starts the ID is such a component, so the search keeps every
    secret the prefix would.

While typing (``parse_query(text, typing=True)``), the last term, if no space follows it, is
unfinished and reads as what it could still become, so one more key never has to bring back a
tree that went empty: a pattern's last component as a prefix (``docker/*/h`` keeps what
``docker/*/h…`` would: :class:`~docker_pass.core.pattern_prefix.PatternPrefix`), a metadata
value as a prefix (``owner=pla`` keeps ``owner=platform``), and a word or prefix that keeps
nothing may be the start of a metadata key (``own`` keeps the secrets with a key ``own…``).
Enter finishes the text: then every term is read exactly, as above.

Matching works on :class:`~docker_pass.tui.model.realms.RealmIndex`, whose IDs are sorted: a prefix
is one run of them, found by two bisections.
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_left
from dataclasses import dataclass
from enum import StrEnum
from itertools import compress, repeat
from operator import contains, eq, is_not
from typing import TYPE_CHECKING

from docker_pass.core.errors import InvalidPatternError
from docker_pass.core.grammar import WILDCARDS
from docker_pass.core.ids import Pattern
from docker_pass.core.pattern_prefix import PatternPrefix

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence


class FilterMode(StrEnum):
    """How the field filters; the count line names it."""

    ALL = "all"
    PREFIX = "prefix"
    SEARCH = "search"
    PATTERN = "pattern"
    METADATA = "metadata"


@dataclass(frozen=True, slots=True)
class MetadataTerm:
    """``key=value`` (the value exactly) or ``key=`` (``value`` ``None``: the key is there)."""

    key: str
    value: str | None
    #: The value is being typed: a value starting with it satisfies the term.
    prefix: bool = False

    def accepts(self, metadata: Mapping[str, str]) -> bool:
        """Whether a secret's metadata satisfies the term."""
        found = metadata.get(self.key)
        if found is None:
            return False
        if self.value is None:
            return True
        return found.startswith(self.value) if self.prefix else found == self.value

    def __str__(self) -> str:
        return f"{self.key}={self.value or ''}"


@dataclass(frozen=True, slots=True)
class IdTerm:
    """One term on IDs: a prefix, a searched word, or a pattern."""

    mode: FilterMode
    text: str
    #: The compiled pattern in pattern mode (a trailing ``/`` reads as "below": ``P/*/**``).
    pattern: Pattern | None = None
    #: In pattern mode, while typing: the text read as the start of a pattern (it replaces
    #: ``pattern`` for matching).
    typed: PatternPrefix | None = None


@dataclass(frozen=True, slots=True)
class Query:
    """The field's text, understood: its mode, its ID terms and metadata terms, or its error."""

    text: str
    mode: FilterMode
    #: The (first) ID term as typed ("" when there is none); its kind is the mode.
    id_term: str = ""
    #: The compiled pattern in pattern mode (a trailing ``/`` reads as "below": ``P/*/**``).
    pattern: Pattern | None = None
    metadata: tuple[MetadataTerm, ...] = ()
    #: The rule the text breaks; empty when it is usable.
    error: str = ""
    #: Further ID terms, each narrowing the result too (``docker/ alice``).
    more: tuple[IdTerm, ...] = ()
    #: While typing, the last term read as the start of a pattern (see :class:`IdTerm`).
    typed: PatternPrefix | None = None
    #: While typing: how the unfinished last term is read ("h… as a prefix"); "" when exact.
    as_you_type: str = ""
    #: While typing, the last term when it is an ID term: should the terms keep nothing, it
    #: may be the start of a metadata key (``own`` -> ``owner=…``).
    key_start: str = ""


def _id_rule(text: str) -> str:
    """The rule ``text`` (a prefix or word, no ``*``) breaks, by the core's pattern rules."""
    # A trailing "/" only says a component follows: check the text with one in its place.
    probe = text + "x" if text.endswith("/") else text
    try:
        Pattern.parse(probe)
    except InvalidPatternError as exc:
        return exc.reason
    return ""


def parse_query(text: str, *, typing: bool = False) -> Query:
    """What ``text`` asks for (never raises: a broken term is the query's ``error``).

    ``typing``: the text is being typed, so its last term (unless a space follows it) is
    unfinished and reads as what it could still become (see the module's docstring).
    """
    terms = text.split()
    if not terms:
        return Query(text, FilterMode.ALL)
    unfinished = len(terms) - 1 if typing and not text[-1].isspace() else -1
    metadata: list[MetadataTerm] = []
    id_terms: list[str] = []
    hint = ""
    for position, term in enumerate(terms):
        key, eq, value = term.partition("=")
        if eq:
            if not key:
                return Query(
                    text, FilterMode.METADATA, error="a metadata term needs a key: key=value"
                )
            typed_value = position == unfinished and bool(value)
            if typed_value:
                hint = f"{value}… as a prefix"
            metadata.append(MetadataTerm(key, value or None, typed_value))
        else:
            id_terms.append(term)
    meta = tuple(metadata)
    if not id_terms:
        return Query(text, FilterMode.METADATA, metadata=meta, as_you_type=hint)
    last_is_id = unfinished >= 0 and "=" not in terms[-1]
    parsed: list[IdTerm] = []
    for number, term in enumerate(id_terms, start=1):
        id_term = parse_id_term(term, typing=last_is_id and number == len(id_terms))
        if isinstance(id_term, str):
            first = parse_id_term(id_terms[0])
            mode = first.mode if isinstance(first, IdTerm) else _mode_of(id_terms[0])
            return Query(text, mode, id_terms[0], metadata=meta, error=id_term)
        parsed.append(id_term)
    typed = parsed[-1].typed if last_is_id else None
    if typed is not None and parsed[-1].mode is FilterMode.PATTERN:
        hint = typing_hint(typed)
    head, *rest = parsed
    return Query(
        text,
        head.mode,
        head.text,
        head.pattern,
        meta,
        "",
        tuple(rest),
        typed,
        hint,
        terms[-1] if last_is_id else "",
    )


def typing_hint(typed: PatternPrefix) -> str:
    """How the count line says what a pattern being typed is read as."""
    partial = typed.partial
    if not partial:
        return f"anything below {typed.text}"
    if partial == "*":
        return "* as ** (anything below)"
    if partial == "**":
        return ""  # ** is read as typed
    return f"{partial}… as a prefix"


def _mode_of(term: str) -> FilterMode:
    if "*" in term:
        return FilterMode.PATTERN
    return FilterMode.PREFIX if "/" in term else FilterMode.SEARCH


def parse_id_term(term: str, *, typing: bool = False) -> IdTerm | str:
    """``term`` (no spaces, no ``=``) as an ID term, or the rule it breaks; ``typing``: a
    pattern is being typed (it also carries its :class:`PatternPrefix`)."""
    mode = _mode_of(term)
    if mode is FilterMode.PATTERN:
        body = term.rstrip("/")
        effective = f"{body}/*/**" if body != term and body else term
        try:
            pattern = Pattern.parse(effective)
            typed = PatternPrefix.parse(term) if typing else None
        except InvalidPatternError as exc:
            return exc.reason
        return IdTerm(mode, term, pattern, typed)
    rule = _id_rule(term)
    if rule:
        return rule
    if typing and mode is FilterMode.PREFIX and term.endswith("/"):
        # "a/" may become "a/**", which matches "a" itself: while typing, keep it too.
        return IdTerm(mode, term, None, PatternPrefix.parse(term))
    return IdTerm(mode, term)


# -- matching ---------------------------------------------------------------------------------


def prefix_run(ids: Sequence[str], prefix: str) -> tuple[int, int]:
    """The slice of the sorted ``ids`` that start with ``prefix``: two bisections."""
    lo = bisect_left(ids, prefix)
    # Every string starting with ``prefix`` sorts before ``prefix`` with its last character
    # bumped by one (IDs hold ASCII only, so the bump never overflows).
    hi = bisect_left(ids, prefix[:-1] + chr(ord(prefix[-1]) + 1), lo) if prefix else len(ids)
    return lo, hi


def search_mask(folded_ids: Iterable[str], word: str) -> Iterator[bool]:
    """For each (case-folded) ID, whether a component contains ``word``, ignoring case.

    ``word`` holds no ``/``, so a substring of the whole ID is always inside one component:
    one ``in`` per ID, mapped in C (``operator.contains``), on IDs folded once per listing.
    """
    return map(contains, folded_ids, repeat(word.casefold()))


def metadata_mask(column: Iterable[str | None], term: MetadataTerm) -> Iterator[bool]:
    """For each value of ``term.key`` (``None``: no such key), whether it satisfies ``term``."""
    if term.value is None:
        return map(is_not, column, repeat(None))
    if term.prefix:
        start = term.value
        return iter([value is not None and value.startswith(start) for value in column])
    return map(eq, column, repeat(term.value))


def literal_hint(pattern: Pattern) -> tuple[str, str, str]:
    """Necessary conditions for an ID to match ``pattern``, cheap to test on many IDs.

    With the ID written ``/id/``: it starts with ``/`` + the leading literal components (so
    the sorted IDs' prefix run holds every match), it ends with the trailing literal
    components + ``/``, and it holds each other literal component as ``/c/`` (the longest is
    returned: the rarest, likely).  Empty strings where the pattern has no such literal.
    """
    components = pattern.components

    def literal_run(parts: tuple[str, ...]) -> list[str]:
        run: list[str] = []
        for component in parts:
            if component in WILDCARDS:
                break
            run.append(component)
        return run

    leading = literal_run(components)
    if len(leading) == len(components):
        whole = "/".join(components)
        return whole, f"/{whole}/", ""
    trailing = literal_run(components[::-1])[::-1]
    inner = components[len(leading) : len(components) - len(trailing)]
    middle = max((c for c in inner if c not in WILDCARDS), key=len, default="")
    return (
        "/".join(leading),
        f"/{'/'.join(trailing)}/" if trailing else "",
        f"/{middle}/" if middle else "",
    )


@dataclass(frozen=True, slots=True)
class PatternOffer:
    """The pattern a search is equivalent to on this listing, if there is one."""

    #: Patterns that keep exactly the searched secrets, most general first; empty when none.
    equivalent: tuple[str, ...] = ()
    #: ``**/word/**`` when only some matches hold ``word`` as a whole component.
    partial: str = ""
    #: How many secrets ``partial`` keeps.
    partial_count: int = 0


def offer_pattern(word: str, matched: int, wrapped_ids: Sequence[str]) -> PatternOffer:
    """The pattern equivalent of searching ``word``, which kept ``matched`` of the IDs.

    ``wrapped_ids`` are every listed ID as ``/id/``.  ``**`` matches zero or more components
    (core/ids.py), so ``**/w/**`` keeps exactly the IDs with a component equal to ``w`` (those
    whose wrapped form holds ``/w/``), and ``**/w`` those that end in one.  The search keeps IDs
    with a component *containing* ``w`` in any case, a superset; the two agree on this listing
    when they keep as many.  Both counts are C-speed passes (``operator.contains``).
    """
    if not matched or validate_word(word):
        return PatternOffer()
    whole = f"/{word}/"
    exact = sum(map(contains, wrapped_ids, repeat(whole)))
    anywhere = f"**/{word}/**"
    if exact == matched:
        leaves = sum(map(str.endswith, wrapped_ids, repeat(whole)))
        if leaves == exact:
            return PatternOffer((anywhere, f"**/{word}"))
        return PatternOffer((anywhere,))
    if exact:
        return PatternOffer(partial=anywhere, partial_count=exact)
    return PatternOffer()


def validate_word(word: str) -> str:
    """The rule a searched word breaks as an ID component, or ""."""
    return _id_rule(word) if word else ""


# -- highlighting -----------------------------------------------------------------------------

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Highlight:
    """Which characters of a tree label (one ID component) to mark, for the current filter.

    Labels are marked by their text alone (as pattern literals always were): a component equal
    to a pattern literal, the part of a component a prefix covers, each occurrence of a
    searched word.
    """

    #: Whole components to mark (pattern literals, the prefix's complete components).
    literals: frozenset[str] = frozenset()
    #: The prefix's last, unfinished component: a label starting with it marks that much.
    partial: str = ""
    #: A searched word, folded: every occurrence is marked, ignoring case.
    word: str = ""

    def spans(self, name: str) -> tuple[Span, ...]:
        """``(start, end)`` ranges of ``name`` to mark, in order, not overlapping."""
        if name in self.literals:
            return ((0, len(name)),)
        if self.partial and name.startswith(self.partial):
            return ((0, len(self.partial)),)
        if self.word:
            return occurrences(name.casefold(), self.word)
        return ()

    def __bool__(self) -> bool:
        return bool(self.literals or self.partial or self.word)


def occurrences(text: str, needle: str) -> tuple[Span, ...]:
    """Every non-overlapping occurrence of ``needle`` in ``text``, left to right."""
    out: list[Span] = []
    start = text.find(needle)
    while start != -1:
        out.append((start, start + len(needle)))
        start = text.find(needle, start + len(needle))
    return tuple(out)


def highlight_for(query: Query) -> Highlight:
    """What to mark in the tree for ``query``."""
    if query.error:
        return Highlight()
    if query.mode is FilterMode.PATTERN and query.typed is not None and not query.more:
        typed = query.typed
        literals = frozenset(c for c in typed.complete if c not in WILDCARDS)
        partial = "" if typed.partial in WILDCARDS else typed.partial
        return Highlight(literals, partial=partial)
    if query.mode is FilterMode.PATTERN and query.pattern is not None:
        return Highlight(frozenset(c for c in query.pattern.components if c not in WILDCARDS))
    if query.mode is FilterMode.PREFIX:
        *whole, last = query.id_term.split("/")
        return Highlight(frozenset(c for c in whole if c), partial=last)
    if query.mode is FilterMode.SEARCH:
        return Highlight(word=query.id_term.casefold())
    return Highlight()


# -- the palette's secret search --------------------------------------------------------------


def subsequence_matcher(query: str) -> Callable[[str], object]:
    """A test whether a (folded) text holds ``query``'s characters in order, gaps allowed.

    Each step skips possessively to the next wanted character (``[^c]*+c``), so the regex never
    backtracks: one pass over the text, whatever the query.
    """
    parts = []
    for char in query.casefold():
        if char.isspace():
            continue
        escaped = re.escape(char)
        body = "\\]" if char == "]" else ("\\\\" if char == "\\" else escaped)
        parts.append(f"[^{body}]*+{escaped}")
    return re.compile("".join(parts)).match


def palette_matches(
    folded_ids: Sequence[str], query: str, within: Sequence[int] | None = None
) -> list[int]:
    """Positions of the (folded) IDs holding ``query``'s characters in order (spaces ignored).

    ``within``: only these positions are tried, the matches of a shorter query this one extends
    (characters in order of ``abc`` are characters in order of ``ab`` too).
    """
    needle = "".join(query.casefold().split())
    if not needle:
        return []
    match = subsequence_matcher(needle)
    if within is None:
        return list(compress(range(len(folded_ids)), map(match, folded_ids)))
    return [i for i in within if match(folded_ids[i])]


def palette_candidates(
    folded_ids: Sequence[str], query: str, limit: int, found: Sequence[int] | None = None
) -> list[int]:
    """Positions of the IDs most likely to match ``query`` fuzzily, best first, at most ``limit``.

    The cheap first pass for the command palette: IDs holding the query's characters in order
    (``found``, when the caller has them from :func:`palette_matches`), ranked by whether the
    query is a substring of the last component, then of the ID, then by length; only these few
    are scored by the palette's own (slower) fuzzy matcher.
    """
    needle = "".join(query.casefold().split())
    if not needle:
        return []
    if found is None:
        found = palette_matches(folded_ids, needle)

    def rank(i: int) -> tuple[int, int, int]:
        folded = folded_ids[i]
        closeness = 0 if needle in folded.rpartition("/")[2] else (1 if needle in folded else 2)
        return closeness, len(folded), i  # i: the IDs are sorted, so ties go by ID

    return heapq.nsmallest(limit, found, key=rank)
