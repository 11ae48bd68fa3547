"""A pattern as typed so far matches the union of what its completions match."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docker_pass.core import ID, InvalidPatternError, Pattern
from docker_pass.core.pattern_prefix import PatternPrefix
from tests.core.test_ids_properties import reference_match

LITERALS = st.sampled_from(["a", "ab", "b", "docker", "dock", "x.y", "k:8"])
ids = st.lists(LITERALS, min_size=1, max_size=6).map(lambda parts: ID.parse("/".join(parts)))
patterns = st.lists(st.one_of(LITERALS, st.just("*"), st.just("**")), min_size=1, max_size=5).map(
    lambda parts: Pattern.parse("/".join(parts))
)


def completions_match(text: str, path: tuple[str, ...]) -> bool:
    """Whether some pattern that starts with ``text`` matches ``path``, said directly: the
    finished components match a leading run of ``path``, then the next component starts with
    the unfinished one (a literal), or anything follows (``*``, ``**``, nothing typed yet)."""
    *complete, partial = text.split("/")
    head = tuple(complete)
    for cut in range(len(path) + 1):
        if not reference_match(head, path[:cut]):
            continue
        if partial in ("", "*", "**"):
            return True
        if cut < len(path) and path[cut].startswith(partial):
            return True
    return False


@given(patterns, ids)
def test_every_prefix_of_a_pattern_keeps_what_the_pattern_matches(
    pattern: Pattern, id_: ID
) -> None:
    if not pattern.matches(id_):
        return
    for end in range(1, len(pattern.value) + 1):
        typed = PatternPrefix.parse(pattern.value[:end])
        assert typed.matches(id_.value), (pattern.value[:end], id_.value)


@given(patterns, ids, st.integers(min_value=1, max_value=40))
def test_a_typed_pattern_matches_exactly_what_some_completion_would(
    pattern: Pattern, id_: ID, end: int
) -> None:
    text = pattern.value[:end]
    assert PatternPrefix.parse(text).matches(id_.value) == completions_match(text, id_.components)


@pytest.mark.parametrize(
    ("text", "reads_as", "leading"),
    [
        ("docker/*/h", "docker/*/h…/**", "docker"),
        ("docker/*/hub/", "docker/*/hub/**", "docker"),
        ("docker/*", "docker/**", "docker"),
        ("docker/**", "docker/**", "docker"),
        ("**/t", "**/t…/**", ""),
        ("docker/au", "docker/au…/**", "docker/au"),
        ("*", "**", ""),
    ],
)
def test_what_a_typed_text_reads_as(text: str, reads_as: str, leading: str) -> None:
    typed = PatternPrefix.parse(text)
    assert (typed.as_pattern, typed.leading) == (reads_as, leading)
    assert PatternPrefix.parse(text) == typed
    assert repr(typed) == f"PatternPrefix({text!r})"


@pytest.mark.parametrize("text", ["", "/", "a//", "a/b*", "a/***", "/a"])
def test_a_text_no_pattern_starts_with_is_an_error(text: str) -> None:
    with pytest.raises(InvalidPatternError):
        PatternPrefix.parse(text)


def test_long_segments_use_the_automaton_and_agree() -> None:
    # A middle segment longer than the regex's limit takes the bit-parallel automaton.
    text = "**/" + "/".join(["a"] * 18) + "/b"
    typed = PatternPrefix.parse(text)
    yes = "x/" + "/".join(["a"] * 18) + "/bee/c"
    no = "x/" + "/".join(["a"] * 17) + "/bee"
    assert typed.matches(yes)
    assert not typed.matches(no)
    assert typed.filter([no, yes]) == [yes]
    assert completions_match(text, tuple(yes.split("/")))
