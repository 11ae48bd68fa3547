"""Secret identifiers and patterns, with the exact rules of Docker's secrets engine.

An ID is one or more ``/``-separated components of ``A-Z a-z 0-9 . _ - :``.  A pattern is the same,
where a whole component may also be ``*`` (exactly one component) or ``**`` (zero or more).

A :class:`Pattern` compiles itself once into a matcher whose time is linear in the ID's length
whatever the pattern (see :func:`_compile` and ``benchmarks/bench_matching.py``); inclusion,
narrowing and overlap walk both patterns' component positions iteratively, so no input is too
long for them.
"""

from __future__ import annotations

import re
from collections import deque
from functools import lru_cache
from itertools import repeat
from typing import TYPE_CHECKING

from docker_pass.core import grammar
from docker_pass.core.errors import ExpandError, InvalidIdentifierError, InvalidPatternError
from docker_pass.core.value import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

_ID_RE = re.compile(grammar.ID_REGEX)
#: Every byte an ID may hold, and the newline that joins IDs (:func:`_all_valid`).
_ID_BYTES = "".join(sorted(grammar.COMPONENT_CHARS)).encode() + b"/\n"
_NEWLINE_TO_SLASH = bytes.maketrans(b"\n", b"/")
# A valid pattern is checked in one linear pass; only an invalid pattern walks the grammar's
# component loop to say which rule it broke (_validate_pattern).
_PATTERN_RE = re.compile(grammar.PATTERN_REGEX)


def is_valid_id(value: str) -> bool:
    """Whether ``value`` is a valid secret ID."""
    return _ID_RE.fullmatch(value) is not None


def _all_valid(values: list[str]) -> bool:
    """Whether every one of ``values`` is a valid ID, checked over all of them at once.

    A few passes of C over the newline-joined text instead of a regex call per ID: the
    grammar's rules restated on the joined bytes — only the allowed characters (ASCII: an
    encoding error is a character outside them), no newline inside a value, and no empty
    component (no ``//``, no ``/`` at the start or end of a value, no empty value).
    ``False`` means "not all": the caller checks each to find the first that is not.
    """
    if not values:
        return False
    return _lines_valid("\n".join(values), len(values))


def _lines_valid(joined: str, count: int) -> bool:
    """:func:`_all_valid` of ``count`` values given joined by newlines (``joined``)."""
    try:
        raw = joined.encode("ascii")
    except UnicodeEncodeError:
        return False
    if raw.translate(None, _ID_BYTES) or raw.count(b"\n") != count - 1:
        return False
    # With the newlines made slashes, an empty component or value is a "//", or a "/" at
    # either end: one search (four, one per boundary, cost twice as much).
    slashed = raw.translate(_NEWLINE_TO_SLASH)
    return bool(slashed) and not (
        b"//" in slashed or slashed.startswith(b"/") or slashed.endswith(b"/")
    )


class ID(FrozenValue):
    """A valid secret identifier such as ``docker/auth/hub/alice``; IDs sort by their text."""

    __slots__ = ("value",)
    value: str

    def __init__(self, value: str) -> None:
        if _ID_RE.fullmatch(value) is None:
            raise InvalidIdentifierError(value)
        _set_value(self, value)  # the slot's own setter: a third faster than ``_set``

    @classmethod
    def parse_many(cls, values: Iterable[str], *, joined: str | None = None) -> list[ID]:
        """Each of ``values`` parsed, as :meth:`parse` would (the first invalid one raises
        :class:`InvalidIdentifierError`), in a fraction of the time: a listing of 100,000
        IDs is parsed in ~0.04 s instead of ~0.15 s: all are checked at once
        (:func:`_all_valid`), each only when one of them breaks a rule.

        ``joined``: ``values`` joined by newlines, when the caller holds that text already
        (``values`` is then ``joined.split("\\n")``): checking it saves joining them again."""
        values = values if isinstance(values, list) else list(values)
        new, set_value = object.__new__, _set_value
        out: list[ID] = []
        append = out.append
        valid = (
            _all_valid(values)
            if joined is None
            else bool(values) and _lines_valid(joined, len(values))
        )
        if valid:
            # Made and filled by C-level maps: no Python frame per ID (~12 ms at 100,000
            # rather than ~30 ms for a loop).
            made = list(map(new, repeat(cls, len(values))))
            deque(map(set_value, made, values), maxlen=0)
            return made
        fullmatch = _ID_RE.fullmatch
        for value in values:
            if fullmatch(value) is None:
                raise InvalidIdentifierError(value)
            id_ = new(cls)
            set_value(id_, value)
            append(id_)
        return out

    def __lt__(self, other: ID) -> bool:
        return self.value < other.value

    def __repr__(self) -> str:
        return f"ID({self.value!r})"

    @classmethod
    def parse(cls, value: str) -> ID:
        """Parse ``value``; raise :class:`InvalidIdentifierError` (a ``ValueError``) if invalid."""
        return cls(value)

    @property
    def components(self) -> tuple[str, ...]:
        """The ``/``-separated components, in order."""
        return tuple(self.value.split("/"))

    def matches(self, pattern: Pattern | str) -> bool:
        """Whether this ID is matched by ``pattern``."""
        if isinstance(pattern, str):
            pattern = Pattern.parse(pattern)
        return pattern.matches(self.value)

    def __str__(self) -> str:
        return self.value


#: Sets an ID's one slot, past ``FrozenValue.__setattr__`` (construction only).
_set_value = ID.__dict__["value"].__set__


class Pattern(FrozenValue):
    """A valid pattern such as ``docker/auth/**`` or ``*/db/*/password``.

    Every ID is also a pattern (one that matches only itself).  The pattern compiles itself
    once, when it first matches: patterns made at import (the reserved realm, plugins' scopes)
    cost ``get`` nothing (~1 ms of regex compiling each).
    """

    __slots__ = ("_components", "_match", "_matches_all", "value")
    value: str
    _components: tuple[str, ...]
    #: ID string -> truthy when it matches (a regex's ``fullmatch`` or an automaton walk);
    #: ``None`` until first needed
    _match: Callable[[str], object] | None
    _matches_all: bool

    def __init__(self, value: str) -> None:
        components = _validate_pattern(value)
        self._set("value", value)
        self._set("_components", components)
        self._set("_match", None)
        self._set("_matches_all", all(c == "**" for c in components))

    def _key(self) -> tuple[object, ...]:
        return (self.value,)

    def _matcher(self) -> Callable[[str], object]:
        match = self._match
        if match is None:  # two threads may both compile: the same matcher, harmless
            match = _compile(_collapse(self._components))
            self._set("_match", match)
        return match

    def __repr__(self) -> str:
        return f"Pattern({self.value!r})"

    @classmethod
    def parse(cls, value: str) -> Pattern:
        """Parse ``value``; raise :class:`InvalidPatternError` (a ``ValueError``) if invalid."""
        return cls(value)

    @property
    def components(self) -> tuple[str, ...]:
        """The ``/``-separated components, in order."""
        return self._components

    @property
    def is_literal(self) -> bool:
        """Whether the pattern holds no wildcard, so that it names exactly one ID."""
        return not any(c in ("*", "**") for c in self._components)

    @property
    def literal_head(self) -> tuple[str, ...]:
        """The components before the first wildcard (all of them when the pattern is literal):
        every ID it matches starts with them, except that ``a/**`` also matches ``a``."""
        head: list[str] = []
        for component in self._components:
            if component in ("*", "**"):
                break
            head.append(component)
        return tuple(head)

    def can_match_below(self, folder: ID | str | tuple[str, ...]) -> bool:
        """Whether some ID strictly inside ``folder`` (``folder/x``, ``folder/x/y``, …)
        matches; ``folder`` is an ID, or its components (``()`` for the root).

        A walk over a tree of folders (the vault plugin's LIST calls) descends only into the
        folders for which this holds: ``team/*/db`` prunes ``other/`` and ``team/a/b/``.
        """
        if isinstance(folder, tuple):
            inside = (*folder, "*", "**")
        else:
            inside = (*_components_of(folder), "*", "**")
        if self._matches_all:
            return True
        return _overlap(_collapse(inside), _automaton(_collapse(self._components)))

    def matches(self, id_: ID | str) -> bool:
        """Whether the ID (an :class:`ID` or an ID string known to be valid) matches."""
        if self._matches_all:
            return True
        return bool(self._matcher()(id_ if isinstance(id_, str) else id_.value))

    def filter(self, ids: Iterable[str]) -> list[str]:
        """The IDs (valid ID strings) of ``ids`` that match, in their order."""
        if self._matches_all:
            return list(ids)
        match = self._matcher()
        return [i for i in ids if match(i)]

    def includes(self, other: Pattern | ID | str) -> bool:
        """Whether every ID that ``other`` matches is also matched by this pattern."""
        other_components = _components_of(other)
        if self._matches_all:
            return True
        if _is_literal(other_components):
            return bool(self._matcher()("/".join(other_components)))  # one ID: does it match?
        return _included(_automaton(_collapse(self._components)), _collapse(other_components))

    def overlaps(self, other: Pattern | ID | str) -> bool:
        """Whether some ID is matched by both this pattern and ``other``."""
        other_components = _components_of(other)
        if _is_literal(other_components):
            return self.matches("/".join(other_components))  # one ID: does it match?
        return _overlap(_collapse(other_components), _automaton(_collapse(self._components)))

    def narrow(self, other: Pattern | ID | str) -> Pattern | None:
        """The part of ``other`` that this pattern (a plugin's scope) serves, or ``None``.

        Upstream's ``Filter``: ``other`` when this pattern includes it, this pattern when
        ``other`` includes it.  Where the two only overlap (``docker/**`` and ``**/token``) the
        overlap is not always one pattern; we answer ``other`` rather than nothing, so the
        plugin is still asked, and the engine filters the answers to both patterns.
        """
        other_pattern = other if isinstance(other, Pattern) else Pattern.parse(str(other))
        if self.includes(other_pattern):
            return other_pattern
        if other_pattern.includes(self):
            return self
        if self.overlaps(other_pattern):
            return other_pattern
        return None

    def expand(self, other: Pattern | ID | str) -> Pattern:
        """Replace this pattern's single ``**`` component with ``other`` (an ID or pattern)."""
        slots = [i for i, c in enumerate(self._components) if c == "**"]
        if len(slots) != 1:
            raise ExpandError(
                f"expand only supports one expansion glob, pattern {self.value} has {len(slots)}"
            )
        parts = list(self._components)
        parts[slots[0]] = str(other)
        return Pattern.parse("/".join(parts))

    def as_id(self) -> ID:
        """This pattern as an ID; raise :class:`InvalidIdentifierError` if it has wildcards."""
        return ID.parse(self.value)

    def __str__(self) -> str:
        return self.value


def _is_literal(components: tuple[str, ...]) -> bool:
    return "*" not in components and "**" not in components


def _components_of(value: Pattern | ID | str) -> tuple[str, ...]:
    if isinstance(value, Pattern):
        return value.components
    if isinstance(value, ID):
        return value.components
    return Pattern.parse(value).components


def _validate_pattern(value: str) -> tuple[str, ...]:
    """Check ``value`` against the pattern rules; return its components or say which rule broke."""
    if _PATTERN_RE.fullmatch(value) is None:
        raise InvalidPatternError(value, grammar.pattern_problem(value) or "not a valid pattern")
    return tuple(value.split("/"))


def _collapse(components: tuple[str, ...]) -> tuple[str, ...]:
    """``components`` with each run of ``**`` merged into one (``**/**`` matches what ``**`` does).

    The automaton below relies on it: with no two ``**`` adjacent, skipping a ``**`` is one step.
    """
    if "**/**" not in "/".join(components):
        return components
    out: list[str] = []
    for component in components:
        if component != "**" or not out or out[-1] != "**":
            out.append(component)
    return tuple(out)


# How a pattern matches, and why it cannot backtrack.
#
# Python's ``re`` backtracks: the old translation gave each ``**`` a greedy ``(?:/[^/]+)*`` group,
# and with k of them an ID of n components that almost matches cost O(n^(k+1)): the engine tried
# every way to share the components among the groups (``**/a/**/a/**/b`` against 400 ``a``
# components took over half a second, with five ``**`` a hundred took seconds).
#
# A pattern (runs of ``**`` merged) is S0/**/S1/**/.../**/Sr, each segment Si a fixed-length run
# of literals and ``*``.  An ID matches when S0 is its beginning, Sr its end, and S1..Sr-1 occur
# in order between them without overlapping.  Placing each middle segment at its leftmost
# occurrence after the previous one is never worse than any other placement (it ends no later,
# and what follows a ``**`` can start anywhere later), so no placement needs revisiting.  The
# regex says exactly that:
#
# * every token consumes exactly one whole component: a literal, or ``[^/]++`` (possessive, so
#   it never gives characters back; ``/`` or the end bounds it);
# * each middle segment is an atomic group ``(?>/(?:[^/]++/)*?Si)``: the lazy repetition finds
#   the leftmost occurrence, and the atomic group forbids ever trying another one;
# * the last ``**`` is the only group the engine may revisit: ``(?:[^/]++/)*Sr`` tries at most
#   n + 1 counts, each followed by the fixed Sr; when Sr is one component (or nothing) the group
#   is possessive too, and nothing is ever revisited.
#
# Each group's search scans components no other group scans, at a cost of |Si| per start, so a
# match costs O(n x longest segment) component steps.  That stays linear while segments are
# short, which is every pattern people write; a pattern with a segment longer than
# ``_REGEX_MAX_SEGMENT`` components (``**/a/a/a/.../a/b``) uses the bit-parallel automaton below
# instead: one pass over the ID whatever the pattern's shape (a few operations per component on
# integers of pattern-length bits).  The regex stays the first choice because CPython runs it
# 3-4x faster than the automaton's Python loop on ordinary IDs (benchmarks/bench_matching.py).
# The automaton also decides inclusion and overlap (_included, _overlap) and aligns a match for
# the 1Password plugin (literal_positions).
_REGEX_MAX_SEGMENT = 16


class _Automaton:
    """A collapsed pattern as a bit-parallel NFA over ID components (bit i: "at component i").

    Not a FrozenValue: internal, built once per pattern by :func:`_automaton` and never exposed.
    """

    __slots__ = ("accept", "globstars", "moves", "prefixes", "singles", "start")
    #: component -> bits of the positions that consume it and move on: its literal positions and
    #: every ``*`` position; a component that no literal equals moves only the ``*`` positions.
    moves: dict[str, int]
    #: bits of the ``*`` positions (what an unknown component moves)
    singles: int
    #: bits of the ``**`` positions (they consume any component and stay)
    globstars: int
    accept: int
    start: int
    #: ``(p, bit)`` for each ``p*`` position (a component starting with ``p``; see _token)
    prefixes: tuple[tuple[str, int], ...]

    def __init__(self, components: tuple[str, ...]) -> None:
        singles = globstars = 0
        literals: dict[str, int] = {}
        prefixes: list[tuple[str, int]] = []
        for position, component in enumerate(components):
            bit = 1 << position
            if component == "*":
                singles |= bit
            elif component == "**":
                globstars |= bit
            elif component.endswith("*"):
                prefixes.append((component[:-1], bit))
            else:
                literals[component] = literals.get(component, 0) | bit
        self.singles = singles
        self.globstars = globstars
        self.moves = {literal: bits | singles for literal, bits in literals.items()}
        self.accept = 1 << len(components)
        self.start = self.skip(1)
        self.prefixes = tuple(prefixes)

    def skip(self, state: int) -> int:
        """``state`` with every ``**`` it reaches also skipped (one step: none are adjacent)."""
        return state | ((state & self.globstars) << 1)

    def step(self, state: int, moves: int) -> int:
        """The state after one component that moves the positions ``moves``."""
        return self.skip(((state & moves) << 1) | (state & self.globstars))

    def matches(self, id_: str) -> bool:
        """Whether the ID string ``id_`` matches: one pass over its components."""
        moves, singles, globstars = self.moves, self.singles, self.globstars
        state = self.start
        for component in id_.split("/"):
            state = ((state & moves.get(component, singles)) << 1) | (state & globstars)
            state |= (state & globstars) << 1
            if not state:
                return False
        return bool(state & self.accept)

    def matches_typed(self, id_: str) -> bool:
        """:meth:`matches` for components holding ``p*`` positions (a pattern as typed)."""
        moves, singles, globstars, prefixes = (
            self.moves,
            self.singles,
            self.globstars,
            self.prefixes,
        )
        state = self.start
        for component in id_.split("/"):
            move = moves.get(component, singles)
            for prefix, bit in prefixes:
                if component.startswith(prefix):
                    move |= bit
            state = ((state & move) << 1) | (state & globstars)
            state |= (state & globstars) << 1
            if not state:
                return False
        return bool(state & self.accept)


@lru_cache(maxsize=1024)
def _automaton(components: tuple[str, ...]) -> _Automaton:
    return _Automaton(components)


@lru_cache(maxsize=1024)
def _compile(components: tuple[str, ...]) -> Callable[[str], object]:
    """The fastest linear-time matcher for collapsed ``components`` (see above)."""
    if _is_literal(components):
        return "/".join(components).__eq__
    segments = _segments(components)
    # S0 is anchored at the start, so its length costs nothing; each later one costs its length.
    if max((len(segment) for segment in segments[1:]), default=0) <= _REGEX_MAX_SEGMENT:
        return re.compile(_regex_source(segments)).fullmatch
    return _automaton(components).matches


def _segments(components: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The runs of components around the ``**`` (S0, S1, ..., Sr, where r counts the ``**``)."""
    out: list[tuple[str, ...]] = []
    start = 0
    for index, component in enumerate(components):
        if component == "**":
            out.append(components[start:index])
            start = index + 1
    out.append(components[start:])
    return out


def _token(component: str) -> str:
    """One component's regex: it consumes exactly one whole component, possessively.

    ``*`` is any component; a literal is itself; ``p*`` (never a valid pattern component: only
    :mod:`docker_pass.core.pattern_prefix` makes one) is a component starting with ``p``.
    """
    if component == "*":
        return "[^/]++"
    if component.endswith("*"):
        return re.escape(component[:-1]) + "[^/]*+"
    return re.escape(component)


def _regex_source(segments: list[tuple[str, ...]]) -> str:
    """The regex (over ID strings) of a pattern's segments, built as the comment above says."""

    def tokens(segment: tuple[str, ...]) -> str:
        return "/".join(_token(c) for c in segment)

    if len(segments) == 1:
        return tokens(segments[0])
    first, *middle, last = segments
    out = tokens(first)
    for segment in middle:
        # The lookahead ends the segment at a component boundary: without it the atomic group
        # could settle on "a" inside a component "aa" and, atomic, never try the next one.
        out += f"(?>{'/' if out else ''}(?:[^/]++/)*?{tokens(segment)}(?=/|$))"
    if not last:
        # Not empty here: an all-** pattern never gets here (Pattern matches all without it).
        return out + "(?:/[^/]++)*+"
    group = "(?:[^/]++/)*+" if len(last) == 1 else "(?:[^/]++/)*"
    return out + ("/" if out else "") + group + tokens(last)


@lru_cache(maxsize=256)
def _compile_open(components: tuple[str, ...]) -> Callable[[str], object]:
    """A matcher for collapsed ``components`` followed by ``/**`` (a pattern being typed, see
    :mod:`docker_pass.core.pattern_prefix`): whether some leading run of an ID's components
    matches ``components``.

    The same regex as :func:`_regex_source`, every segment placed at its leftmost occurrence
    (what follows may be anything), and ``re.match``: the rest of the ID is never read.
    """
    segments = _segments(components)
    if max((len(segment) for segment in segments[1:]), default=0) > _REGEX_MAX_SEGMENT:
        return _automaton((*components, "**")).matches_typed
    first, *rest = segments
    out = "/".join(_token(c) for c in first)
    for segment in rest:
        body = "/".join(_token(c) for c in segment)
        out += f"(?>{'/' if out else ''}(?:[^/]++/)*?{body}(?=/|$))"
    return re.compile(out + "(?=/|$)").match


def _included(outer: _Automaton, inner: tuple[str, ...]) -> bool:
    """Whether ``outer`` matches every ID the collapsed pattern ``inner`` matches.

    A search over (position in ``inner``, state of ``outer``, "read a component yet") for an ID
    of ``inner`` that ``outer`` rejects.  It suffices to read ``inner``'s ``*`` and ``**`` as
    components no literal of ``outer`` equals: such a component moves the fewest positions, so if
    ``outer`` matches an ID built with them it matches every ID built with real components.
    Iterative, so any length works.  The states per place in ``inner`` are bounded by
    ``2^(len(outer)+1)`` and by ``(s + 2)^g``, where g counts the ``**`` before it in ``inner``
    and s the ``*`` in ``outer`` (after s + 1 unknown components in a row the state of ``outer``
    stops changing).  So when ``outer`` is short, or ``inner`` has one ``**`` (both
    directions of ``narrow`` with a plugin's pattern such as ``docker/mcp/**``), the time is
    linear in the other pattern.  Only contrived pairs grow large:
    ``**/a/*/*/.../*/**`` (m ``*``) including ``**/a/**/a/.../**/a/*/.../*/**`` explores about
    2^m states, ~0.1 s for m = 12 (benchmarks/bench_matching.py).  Keeping only the smallest
    states (an antichain) explored 6x fewer there but cost more in comparisons than it saved.
    """
    end = len(inner)
    moves = [outer.moves.get(c, outer.singles) for c in inner]
    first = (0, outer.start, False)
    seen = {first}
    stack = [first]
    while stack:
        position, state, read = stack.pop()
        if position == end:
            if read and not state & outer.accept:
                return False
            continue
        if inner[position] == "**":
            successors = [
                (position, outer.step(state, outer.singles), True),
                (position + 1, state, read),
            ]
        else:
            successors = [(position + 1, outer.step(state, moves[position]), True)]
        for successor in successors:
            if not successor[1]:
                # ``outer`` can match nothing from here, and ``inner`` can still end its ID.
                return False
            if successor not in seen:
                seen.add(successor)
                stack.append(successor)
    return True


def _overlap(first: tuple[str, ...], second: _Automaton) -> bool:
    """Whether the collapsed pattern ``first`` and ``second`` match a common ID.

    One pass over ``first``'s components, carrying the set of ``second``'s positions (bits) that
    the components so far can reach together, the same walk as :meth:`_Automaton.matches` with
    wildcards on both sides.  An empty common sequence is only possible when both are all
    ``**``, and then they do share IDs, so no "read a component yet" flag is needed.
    """
    every = (second.accept << 1) - 1
    singles, globstars = second.singles, second.globstars
    any_component = (second.accept - 1) ^ globstars  # every position but the ** ones
    state = second.start
    for component in first:
        if component == "**":
            # Our ** can absorb any of second's components, so every later position is reachable.
            state = every & ~((state & -state) - 1)
            continue
        moves = any_component if component == "*" else second.moves.get(component, singles)
        state = ((state & moves) << 1) | (state & globstars)
        state |= (state & globstars) << 1
        if not state:
            return False
    return bool(state & second.accept)


def literal_positions(pattern: Pattern, id_: str, *, ignore_case: bool = False) -> list[int] | None:
    """For each literal component of ``pattern``, the index of the ``id_`` component it matches.

    ``None`` when ``id_`` (a valid ID string) does not match.  Where a match can be aligned in
    several ways, each ``**`` takes as many components as it can, earliest first (what a greedy
    regex answers).  ``ignore_case`` compares literals ignoring ASCII case (IDs are ASCII), as the
    1Password plugin does.  Linear in the ID: one backward pass marks, for each ID position, the
    pattern positions from which the rest can still match; one forward walk then follows them.
    """
    components = _collapse(pattern.components)
    path = id_.split("/")
    if ignore_case:
        components = tuple(c.lower() for c in components)
        path = [c.lower() for c in path]
    automaton = _automaton(components)
    globstars = automaton.globstars
    # alive[j]: bit i set when components[i:] can match path[j:].
    alive = [0] * (len(path) + 1)
    state = automaton.accept
    alive[-1] = state = state | ((state >> 1) & globstars)
    for j in range(len(path) - 1, -1, -1):
        moves = automaton.moves.get(path[j], automaton.singles)
        state = ((state >> 1) & moves) | (state & globstars)
        alive[j] = state = state | ((state >> 1) & globstars)
    if not alive[0] & 1:
        return None
    out: list[int] = []
    i = j = 0
    while i < len(components):
        component = components[i]
        if component == "**":
            if j < len(path) and alive[j + 1] >> i & 1:
                j += 1  # the ** takes one more component
            else:
                i += 1
            continue
        if component != "*":
            out.append(j)
        i += 1
        j += 1
    return out
