"""A middle segment of a pattern matches whole components only (``**/a/**`` is not ``aa/a``'s
first component's prefix), whichever matcher runs."""

from __future__ import annotations

import pytest

from docker_pass.core.ids import Pattern, _automaton


@pytest.mark.parametrize(
    ("pattern", "id_", "expected"),
    [
        ("**/a/**", "aa/a", True),
        ("**/a/**", "aa/a/b", True),
        ("**/a/**", "aa/ab", False),
        ("**/1/**", "11/1", True),
        ("x/**/a/**", "x/ab/a", True),
        ("**/*/a/**", "b/ca/a", True),
        ("**/a/**/b", "aa/a/bb/b", True),
        ("**/a/**/b", "aa/bb", False),
    ],
)
def test_middle_segments_match_whole_components(pattern: str, id_: str, expected: bool) -> None:
    assert Pattern(pattern).matches(id_) is expected
    assert _automaton(Pattern(pattern).components).matches(id_) is expected  # the reference
