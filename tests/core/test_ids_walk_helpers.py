"""``Pattern.literal_head`` and ``Pattern.can_match_below``: what a walk over folders uses to
start where the pattern's fixed part ends and to descend only where some ID can still match."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docker_pass.core.ids import ID, Pattern


@pytest.mark.parametrize(
    ("pattern", "head"),
    [
        ("**", ()),
        ("team/**", ("team",)),
        ("team/*/db", ("team",)),
        ("a/b/c", ("a", "b", "c")),
        ("*/x", ()),
        ("a/b/**/c", ("a", "b")),
    ],
)
def test_literal_head(pattern: str, head: tuple[str, ...]) -> None:
    assert Pattern(pattern).literal_head == head


@pytest.mark.parametrize(
    ("pattern", "folder", "expected"),
    [
        ("**", (), True),
        ("**", ("any", "thing"), True),
        ("team/**", (), True),
        ("team/**", ("team",), True),
        ("team/**", ("teams",), False),
        ("team/**", ("team", "a", "b"), True),
        ("team/*/db", ("team",), True),
        ("team/*/db", ("team", "x"), True),
        ("team/*/db", ("team", "x", "db"), False),  # db itself matches; nothing below it
        ("team/*/db", ("other",), False),
        ("**/token", ("a", "b", "c"), True),
        ("a/b", ("a",), True),
        ("a/b", ("a", "b"), False),
        ("a/b", (), True),
        ("*", (), True),
        ("*", ("x",), False),
    ],
)
def test_can_match_below(pattern: str, folder: tuple[str, ...], expected: bool) -> None:
    assert Pattern(pattern).can_match_below(folder) is expected
    if folder:
        assert Pattern(pattern).can_match_below("/".join(folder)) is expected
        assert Pattern(pattern).can_match_below(ID("/".join(folder))) is expected


COMPONENT = st.sampled_from(["a", "b", "c"])
PATTERN_PART = st.sampled_from(["a", "b", "c", "*", "**"])


@given(
    pattern=st.lists(PATTERN_PART, min_size=1, max_size=5),
    folder=st.lists(COMPONENT, min_size=0, max_size=3),
    rest=st.lists(COMPONENT, min_size=1, max_size=3),
)
def test_a_pruned_folder_holds_no_match(
    pattern: list[str], folder: list[str], rest: list[str]
) -> None:
    """Soundness: whenever an ID inside ``folder`` matches, the folder is not pruned."""
    compiled = Pattern("/".join(pattern))
    if compiled.matches("/".join(folder + rest)):
        assert compiled.can_match_below(tuple(folder))
