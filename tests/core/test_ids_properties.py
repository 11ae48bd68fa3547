"""Property tests: the compiled matcher agrees with a component-wise reference matcher."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from docker_pass.core import ID, Pattern

LITERALS = st.sampled_from(["a", "b", "c", "docker", "x.y", "k:8", "_-"])
ids = st.lists(LITERALS, min_size=1, max_size=6).map(lambda parts: ID.parse("/".join(parts)))
patterns = st.lists(st.one_of(LITERALS, st.just("*"), st.just("**")), min_size=1, max_size=5).map(
    lambda parts: Pattern.parse("/".join(parts))
)


def reference_match(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    """The obvious recursive definition, independent of the regex translation."""
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(reference_match(rest, path[skip:]) for skip in range(len(path) + 1))
    if not path:
        return False
    return (head in ("*", path[0])) and reference_match(rest, path[1:])


@given(ids)
def test_every_id_matches_globstar_and_itself(id_: ID) -> None:
    assert Pattern.parse("**").matches(id_)
    assert Pattern.parse(id_.value).matches(id_)
    assert id_.matches(id_.value)


@given(patterns, ids)
def test_compiled_matcher_agrees_with_reference(pattern: Pattern, id_: ID) -> None:
    assert pattern.matches(id_) == reference_match(pattern.components, id_.components)


@given(patterns, patterns, ids)
def test_includes_is_sound(p: Pattern, q: Pattern, id_: ID) -> None:
    if p.includes(q) and q.matches(id_):
        assert p.matches(id_)


@given(patterns, patterns, ids)
def test_narrow_keeps_every_common_match(p: Pattern, q: Pattern, id_: ID) -> None:
    narrowed = p.narrow(q)
    if p.matches(id_) and q.matches(id_):
        assert narrowed is not None
        assert narrowed.matches(id_)
    if narrowed is None:
        assert not (p.matches(id_) and q.matches(id_))


@given(patterns, patterns)
def test_overlap_is_symmetric(p: Pattern, q: Pattern) -> None:
    assert p.overlaps(q) == q.overlaps(p)


@given(patterns)
def test_includes_is_reflexive(p: Pattern) -> None:
    assert p.includes(p)
