"""The ID and pattern rules, matching, inclusion, narrowing and expansion (upstream's contract)."""

from __future__ import annotations

import pytest

from docker_pass.core import ID, ExpandError, InvalidIdentifierError, InvalidPatternError, Pattern
from docker_pass.core.grammar import ID_RULE


@pytest.mark.parametrize(
    "value",
    [
        "a",
        "docker/auth/hub/alice",
        "my-app/db.prod/user_name",
        "host:5000/token",
        "..",
        "a/../b",
        "A-Z.a_z:0-9",
    ],
)
def test_valid_ids(value: str) -> None:
    assert ID.parse(value).value == value


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("", "an ID cannot be empty"),
        ("/a", "an ID cannot start with /"),
        ("a/", "an ID cannot end with /"),
        ("a//b", "component 2 is empty"),
        ("a/b//c", "component 3 is empty"),
        ("a b", '" " at position 2 is not allowed (use A-Z a-z 0-9 . _ - :)'),
        ("a#b", '"#" at position 2 is not allowed (use A-Z a-z 0-9 . _ - :)'),
        ("ab/café", '"é" at position 7 is not allowed (use A-Z a-z 0-9 . _ - :)'),
        ("a/*", "* at position 3 is a wildcard: an ID names one secret"),
        ("**", "* at position 1 is a wildcard: an ID names one secret"),
        ("a\nb", '"\\n" at position 2 is not allowed (use A-Z a-z 0-9 . _ - :)'),
        ("/", "an ID cannot start with /"),
    ],
)
def test_invalid_ids_use_upstreams_message_and_name_the_rule(value: str, rule: str) -> None:
    """Docker's text, then the rule that broke in words."""
    with pytest.raises(InvalidIdentifierError) as info:
        ID.parse(value)
    assert str(info.value).startswith("invalid identifier: ")
    assert str(info.value).endswith(f" must match {ID_RULE} ({rule})")
    assert info.value.reason == rule
    assert isinstance(info.value, ValueError)


def test_invalid_id_message_quotes_like_go() -> None:
    with pytest.raises(InvalidIdentifierError) as info:
        ID.parse('a "b"')
    assert str(info.value) == (
        'invalid identifier: "a \\"b\\"" must match ^[A-Za-z0-9._:-]+(?:/[A-Za-z0-9._:-]+)*$ '
        '(" " at position 2 is not allowed (use A-Z a-z 0-9 . _ - :))'
    )


@pytest.mark.parametrize(
    "value", ["*", "**", "**/bar", "foo/*/baz/**/*", "docker/auth/**", "a:b/*"]
)
def test_valid_patterns(value: str) -> None:
    assert str(Pattern.parse(value)) == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("*a*", "a component mixes * with other characters"),
        ("*a", "a component mixes * with other characters"),
        ("***", "a component holds more than two *"),
        ("/", "a pattern cannot start with /"),
        ("foo//bar", "a component is empty (//)"),
        ("foo/*a*/baz", "a component mixes * with other characters"),
        ("foo/a*/baz", "a component mixes * with other characters"),
        ("", "a pattern cannot be empty"),
        ("foo/", "a pattern cannot end with /"),
        ("foo bar", "' ' is not allowed (use A-Z a-z 0-9 . _ - : or a whole * / **)"),
    ],
)
def test_invalid_patterns_say_which_rule(value: str, reason: str) -> None:
    with pytest.raises(InvalidPatternError) as info:
        Pattern.parse(value)
    assert info.value.reason == reason
    assert str(info.value).startswith("invalid pattern")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("pattern", "id_", "expected"),
    [
        ("*/**/*", "foo/bar", True),
        ("foo/**/baz", "foo/baz", True),
        ("foo/**/baz", "foo/bar/something/baz", True),
        ("foo/**/baz", "foo/bar/baz/qux", False),
        ("**", "a", True),
        ("a/**", "a", True),
        ("a/**", "ab", False),
        ("*", "a/b", False),
        ("*", "a", True),
        ("**/token", "token", True),
        ("**/token", "x/y/token", True),
        ("**/token", "x/tokens", False),
        ("docker/auth/*", "docker/auth/hub", True),
        ("docker/auth/*", "docker/auth/hub/alice", False),
        ("Docker/**", "docker/x", False),
        ("a.b", "axb", False),
        ("**/**", "a/b/c", True),
    ],
)
def test_matching(pattern: str, id_: str, expected: bool) -> None:
    compiled = Pattern.parse(pattern)
    assert compiled.matches(id_) is expected
    assert compiled.matches(ID.parse(id_)) is expected
    assert ID.parse(id_).matches(pattern) is expected
    assert compiled.filter([id_]) == ([id_] if expected else [])


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("**/*", "**", True),
        ("**", "**/*", True),
        ("**/*/*", "**", False),
        ("**", "anything/at/all", True),
        ("docker/**", "docker/auth/*", True),
        ("docker/auth/*", "docker/**", False),
        ("a/*", "*/*", False),
        ("*/b", "a/b", True),
        ("a/**/b", "a/x/**/b", True),
        ("a/**/b", "a/**", False),
    ],
)
def test_includes(outer: str, inner: str, expected: bool) -> None:
    assert Pattern.parse(outer).includes(Pattern.parse(inner)) is expected


def test_narrow() -> None:
    plugin = Pattern.parse("docker/mcp/auth/**")
    assert plugin.narrow(Pattern.parse("**")) == Pattern.parse("docker/mcp/auth/**")
    assert plugin.narrow("docker/mcp/auth/github") == Pattern.parse("docker/mcp/auth/github")
    assert Pattern.parse("bar/**").narrow("bar") == Pattern.parse("bar")
    assert Pattern.parse("bar/**").narrow("foo/**") is None
    assert plugin.narrow("docker/auth/**") is None


def test_narrow_of_a_partial_overlap_forwards_the_request() -> None:
    # Neither includes the other, yet docker/x/token is matched by both: the plugin is asked.
    assert Pattern.parse("docker/**").narrow("**/token") == Pattern.parse("**/token")
    assert Pattern.parse("a/*").narrow("*/b") == Pattern.parse("*/b")
    assert Pattern.parse("a/*").narrow("b/*") is None


def test_expand() -> None:
    assert str(Pattern.parse("foo/bar/**").expand(ID.parse("baz"))) == "foo/bar/baz"
    assert str(Pattern.parse("**/token").expand(Pattern.parse("a/*"))) == "a/*/token"
    with pytest.raises(ExpandError):
        Pattern.parse("**/x/**").expand(ID.parse("baz"))
    with pytest.raises(ExpandError):
        Pattern.parse("foo/*").expand(ID.parse("baz"))


def test_ids_sort_and_compare_by_value() -> None:
    ids = [ID.parse(v) for v in ("b", "a/b", "a")]
    assert [i.value for i in sorted(ids)] == ["a", "a/b", "b"]
    assert ID.parse("a") == ID.parse("a")
    assert Pattern.parse("a/*") == Pattern.parse("a/*")
    assert hash(Pattern.parse("a/*")) == hash(Pattern.parse("a/*"))
