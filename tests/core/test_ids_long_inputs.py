"""Matching, inclusion, overlap and alignment on long inputs, against independent references.

The references here are plain and slow on purpose: a dynamic-programming table for matching
(so it runs on IDs of hundreds of components, where the recursive reference of
``test_ids_properties`` would take exponential time), the old memoized recursion for overlap,
brute force over instances for inclusion, and Python's backtracking ``re`` for the greedy
alignment on small inputs.  How fast the real ones are is measured in
``benchmarks/bench_matching.py``, not here.
"""

from __future__ import annotations

import re
import sys
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from docker_pass.core import ID, InvalidPatternError, Pattern
from docker_pass.core.ids import _automaton, _collapse, literal_positions

#: Few literals, so that long IDs almost match patterns everywhere (the hard case).
FEW = st.sampled_from(["a", "b"])
WILD = st.sampled_from(["*", "**"])


def reference_match(pattern: tuple[str, ...], path: tuple[str, ...] | list[str]) -> bool:
    """Row by row over the ID: ``row[i]`` says whether ``pattern[:i]`` matches what was read."""
    row = [True]
    for component in pattern:
        row.append(row[-1] and component == "**")
    for part in path:
        new = [False]
        for i, component in enumerate(pattern, 1):
            if component == "**":
                new.append(new[i - 1] or row[i])
            else:
                new.append(row[i - 1] and component in ("*", part))
        row = new
    return row[-1]


def reference_overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """The recursion the project used before (correct; its depth is ``len(a) + len(b)``)."""

    @cache
    def step(i: int, j: int) -> bool:
        la, lb = len(a), len(b)
        if i == la and j == lb:
            return True
        if i < la and a[i] == "**" and (step(i + 1, j) or (j < lb and step(i, j + 1))):
            return True
        if j < lb and b[j] == "**" and (step(i, j + 1) or (i < la and step(i + 1, j))):
            return True
        if i == la or j == lb or a[i] == "**" or b[j] == "**":
            return False
        return (a[i] == "*" or b[j] == "*" or a[i] == b[j]) and step(i + 1, j + 1)

    return step(0, 0)


def reference_includes(outer: tuple[str, ...], inner: tuple[str, ...]) -> bool:
    """Every instance of ``inner`` with unknown components (``?``) in its wildcards matches.

    A run of more than ``outer.count("*") + 1`` unknown components behaves like a shorter one
    (some ``**`` of ``outer`` absorbs one, so it absorbs any more), so each ``**`` of ``inner``
    tries 0 to that many.
    """
    if all(c == "**" for c in outer):
        return True
    longest = outer.count("*") + 1
    instances: list[list[str]] = [[]]
    for component in inner:
        if component == "**":
            instances = [i + ["?"] * k for i in instances for k in range(longest + 1)]
        else:
            instances = [[*i, "?" if component == "*" else component] for i in instances]
    return all(reference_match(outer, i) for i in instances if i)


@st.composite
def near_matches(draw: st.DrawFn, pattern: tuple[str, ...], longest: int) -> list[str]:
    """An instance of ``pattern`` (wildcards filled at random), maybe with one component off."""
    out: list[str] = []
    for component in pattern:
        if component == "**":
            out.extend(draw(st.lists(FEW, max_size=longest // max(1, len(pattern)) + 3)))
        elif component == "*":
            out.append(draw(FEW))
        else:
            out.append(component)
    if not out:
        out = ["a"]
    if draw(st.booleans()):
        where = draw(st.integers(0, len(out) - 1))
        out[where] = "b" if out[where] == "a" else "a"
    return out


def patterns_of(max_size: int, globstars: int | None = None) -> st.SearchStrategy[tuple[str, ...]]:
    """Up to ``max_size`` components, about half wildcards (at most ``globstars`` of them **)."""
    out = st.lists(st.one_of(FEW, WILD, WILD), min_size=1, max_size=max_size).map(tuple)
    if globstars is not None:
        out = out.filter(lambda p: p.count("**") <= globstars)
    return out


@st.composite
def pattern_and_id(draw: st.DrawFn) -> tuple[Pattern, str]:
    pattern = draw(patterns_of(60))
    path = draw(st.one_of(near_matches(pattern, 300), st.lists(FEW, min_size=1, max_size=300)))
    return Pattern.parse("/".join(pattern)), "/".join(path)


@settings(max_examples=300, deadline=None)
@given(pattern_and_id())
def test_matcher_agrees_with_the_reference_on_long_ids(case: tuple[Pattern, str]) -> None:
    pattern, id_ = case
    expected = reference_match(pattern.components, id_.split("/"))
    assert pattern.matches(id_) is expected
    assert pattern.matches(ID.parse(id_)) is expected
    assert pattern.filter([id_, id_]) == ([id_, id_] if expected else [])
    # The automaton that inclusion and overlap use, whichever matcher the pattern picked.
    assert _automaton(_collapse(pattern.components)).matches(id_) is expected


@settings(max_examples=200, deadline=None)
@given(st.integers(17, 40), patterns_of(6), patterns_of(6), st.data())
def test_patterns_with_long_segments_match_like_the_reference(
    run: int, before: tuple[str, ...], after: tuple[str, ...], data: st.DataObject
) -> None:
    # A run of more than 16 components after a ** sends the pattern to the automaton.
    middle = tuple(data.draw(st.lists(st.one_of(FEW, st.just("*")), min_size=run, max_size=run)))
    components = (*before, "**", *middle, *after)
    pattern = Pattern.parse("/".join(components))
    path = data.draw(
        st.one_of(near_matches(components, 200), st.lists(FEW, min_size=1, max_size=200))
    )
    assert pattern.matches("/".join(path)) is reference_match(components, path)


@settings(max_examples=200, deadline=None)
@given(patterns_of(40), patterns_of(40))
def test_overlap_agrees_with_the_reference(a: tuple[str, ...], b: tuple[str, ...]) -> None:
    p, q = Pattern.parse("/".join(a)), Pattern.parse("/".join(b))
    expected = reference_overlap(a, b)
    assert p.overlaps(q) is expected
    assert q.overlaps(p) is expected


@settings(max_examples=100, deadline=None)
@given(st.lists(FEW, min_size=1, max_size=400), patterns_of(30))
def test_overlap_with_a_long_id_is_matching_it(path: list[str], pattern: tuple[str, ...]) -> None:
    id_ = "/".join(path)
    expected = reference_match(pattern, path)
    p = Pattern.parse("/".join(pattern))
    assert p.overlaps(id_) is expected
    assert Pattern.parse(id_).overlaps(p) is expected
    assert p.includes(id_) is expected


@settings(max_examples=300, deadline=None)
@given(patterns_of(8), patterns_of(8, globstars=3))
def test_includes_agrees_with_brute_force(outer: tuple[str, ...], inner: tuple[str, ...]) -> None:
    expected = reference_includes(outer, inner)
    assert Pattern.parse("/".join(outer)).includes(Pattern.parse("/".join(inner))) is expected


@settings(max_examples=60, deadline=None)
@given(patterns_of(24), st.lists(st.one_of(FEW, FEW, st.just("*")), min_size=1, max_size=24))
def test_includes_agrees_with_brute_force_on_longer_patterns(
    outer: tuple[str, ...], inner_parts: list[str]
) -> None:
    # Brute force is exponential in the inner pattern's **, so it gets at most two.
    inner = (*inner_parts[: len(inner_parts) // 2], "**", *inner_parts[len(inner_parts) // 2 :])
    if len(inner_parts) % 3 == 0:
        inner = (*inner, "**")
    expected = reference_includes(outer, inner)
    assert Pattern.parse("/".join(outer)).includes(Pattern.parse("/".join(inner))) is expected


@settings(max_examples=100, deadline=None)
@given(patterns_of(60))
def test_long_patterns_include_themselves_and_narrow_to_themselves(
    components: tuple[str, ...],
) -> None:
    pattern = Pattern.parse("/".join(components))
    assert pattern.includes(pattern)
    assert pattern.narrow(pattern) == pattern


def greedy_regex_positions(pattern: tuple[str, ...], id_: str) -> list[int] | None:
    """The alignment a greedy backtracking regex picks: one group per literal component."""
    source = ""
    started = pending = False
    for component in pattern:
        if component == "**":
            pending = True
            continue
        piece = "[^/]+" if component == "*" else f"({re.escape(component)})"
        if not started:
            source = ("(?:[^/]+/)*" if pending else "") + piece
        else:
            source += ("(?:/[^/]+)*/" if pending else "/") + piece
        started, pending = True, False
    if pending:
        source = (source + "(?:/[^/]+)*") if started else "[^/]+(?:/[^/]+)*"
    found = re.fullmatch(source, id_, re.IGNORECASE)
    if found is None:
        return None
    return [id_[: found.start(group)].count("/") for group in range(1, found.re.groups + 1)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "B", "*", "**"]), min_size=1, max_size=6),
    st.lists(st.sampled_from(["a", "A", "b", "B"]), min_size=1, max_size=8),
)
def test_literal_positions_pick_the_greedy_regex_alignment(
    pattern: list[str], path: list[str]
) -> None:
    id_ = "/".join(path)
    expected = greedy_regex_positions(tuple(pattern), id_)
    assert literal_positions(Pattern.parse("/".join(pattern)), id_, ignore_case=True) == expected


@settings(max_examples=200, deadline=None)
@given(pattern_and_id())
def test_literal_positions_on_long_ids_name_components_equal_to_the_literals(
    case: tuple[Pattern, str],
) -> None:
    pattern, id_ = case
    positions = literal_positions(pattern, id_)
    path = id_.split("/")
    if not reference_match(pattern.components, path):
        assert positions is None
        return
    assert positions is not None
    literals = [c for c in pattern.components if c not in ("*", "**")]
    assert [path[i] for i in positions] == literals
    assert positions == sorted(set(positions))


def reference_valid(text: str) -> bool:
    parts = text.split("/")
    return all(
        part in ("*", "**") or (part != "" and all(ch.isalnum() or ch in "._:-" for ch in part))
        for part in parts
    )


@given(st.text(alphabet="aZ9._:-*/ #", max_size=12))
def test_pattern_rules_hold_for_any_text(text: str) -> None:
    if reference_valid(text):
        assert Pattern.parse(text).components == tuple(text.split("/"))
    else:
        try:
            Pattern.parse(text)
        except InvalidPatternError:
            return
        raise AssertionError(f"{text!r} was accepted")


# -- deterministic: what used to fail on long inputs ------------------------------------------

LONG_ID = "/".join(f"c{i % 7}" for i in range(5_000))
FIFTY_WILDCARDS = "/".join(["**", "*"] * 25)


def test_a_5000_component_id_matches_what_it_should() -> None:
    assert sys.getrecursionlimit() < 5_000  # so a recursive walk would fail on this ID
    id_ = ID.parse(LONG_ID)
    assert Pattern.parse(LONG_ID).matches(id_)
    assert Pattern.parse("**/c6/c0/c1").matches(id_)  # 4999 % 7 == 1: it ends c6/c0/c1
    assert Pattern.parse("**/c6/c0/**/c1").matches(id_)
    assert not Pattern.parse("**/c6/c0/**/c4").matches(id_)
    assert not Pattern.parse("**/c0/c6/**").matches(id_)  # c1 always follows c0
    assert Pattern.parse("c0/**/c3/**/c5/**/c1").matches(id_)
    assert not Pattern.parse("c0/**/c3/**/c5/**/c2").matches(id_)
    assert Pattern.parse("/".join(["**/c3"] * 700) + "/**").matches(id_)  # c3 occurs 714 times
    assert not Pattern.parse("/".join(["**/c3"] * 715) + "/**").matches(id_)


def test_a_50_wildcard_pattern_matches_ids_long_enough() -> None:
    pattern = Pattern.parse(FIFTY_WILDCARDS)  # 25 ** and 25 *: at least 25 components
    assert pattern.matches(LONG_ID)
    assert pattern.matches("/".join(["x"] * 25))
    assert not pattern.matches("/".join(["x"] * 24))
    ending = Pattern.parse(FIFTY_WILDCARDS + "/c9")
    assert not ending.matches(LONG_ID)
    assert ending.matches(LONG_ID + "/c9")


def test_a_long_segment_after_a_globstar_matches() -> None:
    tail = "/".join(f"c{i % 7}" for i in range(4_980, 5_000))  # 20 components: automaton
    assert Pattern.parse(f"**/{tail}").matches(LONG_ID)
    assert Pattern.parse(f"c0/**/{tail}").matches(LONG_ID)
    assert not Pattern.parse(f"c1/**/{tail}").matches(LONG_ID)
    assert not Pattern.parse(f"**/{tail}/c0").matches(LONG_ID)


def test_inclusion_and_overlap_of_long_inputs() -> None:
    assert Pattern.parse("**/c1").includes(LONG_ID)
    assert not Pattern.parse("**/c2").includes(LONG_ID)
    assert Pattern.parse("**/c1").overlaps(LONG_ID)
    assert not Pattern.parse("**/c2").overlaps(LONG_ID)
    assert Pattern.parse(LONG_ID).overlaps(FIFTY_WILDCARDS)
    assert not Pattern.parse(LONG_ID).includes(FIFTY_WILDCARDS)
    assert Pattern.parse(FIFTY_WILDCARDS).includes(LONG_ID)
    assert Pattern.parse("**/c1").narrow(LONG_ID) == Pattern.parse(LONG_ID)
    assert Pattern.parse("**/c2").narrow(LONG_ID) is None
    assert Pattern.parse(FIFTY_WILDCARDS).narrow("**") == Pattern.parse(FIFTY_WILDCARDS)


def test_inclusion_of_a_pattern_with_many_globstars() -> None:
    # Eleven ** with a literal between each: trying instances one by one gave up here.
    many = "/".join(["**/x"] * 11) + "/**"
    assert Pattern.parse("*/**").includes(many)
    assert Pattern.parse("**/x/**").includes(many)
    assert not Pattern.parse("**/x/*").includes(many)
    assert not Pattern.parse("**/y/**").includes(many)
    assert Pattern.parse(many).includes("/".join(["**/x"] * 12) + "/**")
    assert not Pattern.parse(many).includes("/".join(["**/x"] * 10) + "/**")
