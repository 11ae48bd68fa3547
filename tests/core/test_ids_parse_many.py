"""``ID.parse_many`` checks all IDs at once, and agrees with ``ID.parse`` on every one."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docker_pass.core import ID
from docker_pass.core.errors import InvalidIdentifierError

# Texts near the grammar's edges: characters in and out of it, slashes, newlines.
TEXT = st.text(alphabet="ab:._-/\n *é\t\x00", max_size=8)

BROKEN = [
    "",  # alone, too (below)
    "/a",
    "a/",
    "a//b",
    "a\nb",  # two valid IDs if joined with a newline: one invalid ID
    "a/\n/b",
    "\n",
    "é",
    "a b",
    "a/*",
    "a\x00",
    "/",
]


def one_by_one(values: list[str]) -> list[ID] | str:
    """What parsing each in turn gives: the IDs, or the first invalid value."""
    out: list[ID] = []
    for value in values:
        try:
            out.append(ID.parse(value))
        except InvalidIdentifierError:
            return value
    return out


def many(values: list[str]) -> list[ID] | str:
    try:
        return ID.parse_many(values)
    except InvalidIdentifierError as exc:
        return str(exc)


@settings(max_examples=1000)
@given(st.lists(TEXT, max_size=6))
def test_parse_many_agrees_with_parsing_each(values: list[str]) -> None:
    expected = one_by_one(values)
    got = many(values)
    if isinstance(expected, str):
        assert isinstance(got, str)
        assert got == str(InvalidIdentifierError(expected))  # names the first invalid one
    else:
        assert got == expected


@pytest.mark.parametrize("broken", BROKEN)
def test_one_broken_id_among_valid_ones_is_named(broken: str) -> None:
    values = ["a/b", "docker/auth:1", broken, "z.y_x-w"]
    with pytest.raises(InvalidIdentifierError) as raised:
        ID.parse_many(values)
    assert str(raised.value) == str(InvalidIdentifierError(broken))


@pytest.mark.parametrize("broken", BROKEN)
def test_one_broken_id_alone_is_named(broken: str) -> None:
    with pytest.raises(InvalidIdentifierError) as raised:
        ID.parse_many([broken])
    assert str(raised.value) == str(InvalidIdentifierError(broken))


def test_valid_ids_of_every_allowed_character_parse_from_any_iterable() -> None:
    values = ["A-Z/a-z/0-9", "._:-", "x", "a/b/c/d/e"]
    assert ID.parse_many(iter(values)) == [ID(v) for v in values]
    assert ID.parse_many([]) == []


@settings(max_examples=1000)
@given(st.lists(TEXT, max_size=6))
def test_parse_many_given_the_joined_text_agrees_with_parsing_each(parts: list[str]) -> None:
    """The listing index hands over its newline-joined IDs with their split: same answer."""
    joined = "\n".join(parts)
    values = joined.split("\n")
    expected = one_by_one(values)
    try:
        got: list[ID] | str = ID.parse_many(values, joined=joined)
    except InvalidIdentifierError as exc:
        got = str(exc)
    if isinstance(expected, str):
        assert got == str(InvalidIdentifierError(expected))
    else:
        assert got == expected
