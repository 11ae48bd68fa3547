"""The scan's matcher: every encoding, every alignment, values split across chunks, shared
values, short values left out, and never a value in a repr."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docker_pass.core.scan.matcher import ENGINES, Matcher, SecretValue, encoded_forms

VALUE = b"sk-live-0123456789abcdef"


@pytest.fixture(params=ENGINES, autouse=True)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with each matcher engine (Hyperscan, and the Aho-Corasick fallback)."""
    name: str = request.param
    monkeypatch.setattr("docker_pass.core.scan.matcher.default_engine", lambda: name)
    return name


def matcher(*values: tuple[str, bytes], min_length: int = 8) -> Matcher:
    return Matcher([SecretValue(i, "docker-pass", v) for i, v in values], min_length=min_length)


def found(m: Matcher, data: bytes) -> set[tuple[str, str]]:
    return {(m.values[h.secret].id, h.encoding) for h in m.find(data)}


def test_the_exact_bytes_are_found_with_their_offset_and_line() -> None:
    m = matcher(("api/key", VALUE))
    hits = m.find(b"a\nb\nTOKEN=" + VALUE + b"\n", lines=True)
    assert [(h.encoding, h.offset, h.line) for h in hits] == [("raw", 10, 3)]


def test_base64_alone_padded_or_not_and_url_safe_are_found() -> None:
    value = b"\xfb\xff\xfe-binary-secret-with-+/"  # its base64 holds + and /
    m = matcher(("bin", value))
    standard = base64.b64encode(value)
    assert (b"+" in standard) or (b"/" in standard)
    assert ("bin", "base64") in found(m, b"X=" + standard)
    assert ("bin", "base64") in found(m, b"X=" + standard.rstrip(b"="))
    assert ("bin", "base64url") in found(m, b"X=" + base64.urlsafe_b64encode(value))


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prefix=st.binary(max_size=7),
    value=st.binary(min_size=8, max_size=40),
    suffix=st.binary(max_size=7),
    url_safe=st.booleans(),
)
def test_base64_of_a_value_inside_a_longer_blob_is_found_at_any_alignment(
    prefix: bytes, value: bytes, suffix: bytes, url_safe: bool
) -> None:
    m = matcher(("v", value))
    encode = base64.urlsafe_b64encode if url_safe else base64.b64encode
    blob = encode(prefix + value + suffix)
    encodings = {h.encoding for h in m.find(blob)}
    assert encodings & {"base64", "base64url", "raw"}, (len(prefix), len(value))


def test_url_encoded_forms_are_found_where_they_differ_from_the_raw_bytes() -> None:
    value = b"p@ss word/with+plus&more"
    m = matcher(("db/pw", value))
    assert found(m, b"postgres://u:" + quote(value, safe="").encode() + b"@h") == {("db/pw", "url")}
    assert ("db/pw", "url") in found(m, b"q=" + b"p%40ss+word%2Fwith%2Bplus%26more")
    assert ("db/pw", "url") in found(m, b"u=" + quote(value, safe="/").encode())
    # a value with nothing to escape has no separate url form
    assert "url" not in set(encoded_forms(VALUE).values())


def test_a_value_escaped_in_a_json_string_or_a_double_quoted_env_value_is_found() -> None:
    key = "-----BEGIN KEY-----\nMIIBOgIBAAJBAK\n-----END KEY-----"
    quoted = 'say "hï" back\\slash'
    m = matcher(("tls/key", key.encode()), ("odd/quoted", quoted.encode()))
    assert found(m, b'PRIVATE_KEY="-----BEGIN KEY-----\\nMIIBOgIBAAJBAK\\n-----END KEY-----"') == {
        ("tls/key", "escaped")
    }
    assert found(m, b'{"v": "say \\"h\\u00ef\\" back\\\\slash"}') == {("odd/quoted", "escaped")}
    assert found(m, '{"v": "say \\"hï\\" back\\\\slash"}'.encode()) == {("odd/quoted", "escaped")}
    # a value with nothing to escape has no separate escaped form; bytes that are not text none
    assert "escaped" not in set(encoded_forms(VALUE).values())
    assert "escaped" not in set(encoded_forms(b"\xff\xfe\x00binary-value").values())


def test_a_value_with_a_dollar_is_found_as_compose_writes_it() -> None:
    m = matcher(("db/pw", b"pa$word-$$-x1"))
    assert found(m, b'      PASSWORD: "pa$$word-$$$$-x1"\n') == {("db/pw", "compose")}
    assert found(m, b"PASSWORD=pa$word-$$-x1\n") == {("db/pw", "raw")}
    assert "compose" not in set(encoded_forms(VALUE).values())


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.integers(min_value=1, max_value=40), st.integers(min_value=1, max_value=9))
def test_a_value_split_across_chunks_is_found_once_wherever_it_is_cut(cut: int, step: int) -> None:
    m = matcher(("api/key", VALUE))
    data = b"noise\n" * 3 + VALUE + b"\ntail " + VALUE
    search = m.stream(lines=True)
    hits = []
    pieces = [data[:cut]] + [data[i : i + step] for i in range(cut, len(data), step)]
    for piece in pieces:
        hits.extend(search.feed(piece))
    assert [(h.offset, h.line) for h in hits if h.encoding == "raw"] == [
        (18, 4),
        (18 + len(VALUE) + 6, 5),
    ]


def test_a_value_two_secrets_share_is_reported_for_each() -> None:
    m = matcher(("a/one", VALUE), ("b/two", VALUE))
    assert found(m, VALUE) == {("a/one", "raw"), ("b/two", "raw")}


def test_a_value_inside_another_value_is_reported_for_both() -> None:
    m = matcher(("long", b"prefix-" + VALUE), ("short", VALUE))
    assert found(m, b"x prefix-" + VALUE) == {("long", "raw"), ("short", "raw")}


def test_values_shorter_than_the_minimum_are_skipped_and_said_why() -> None:
    m = matcher(("tiny", b"abc"), ("ok", VALUE), min_length=8)
    assert [v.id for v in m.values] == ["ok"]
    assert [(item.id, why) for item, why in m.skipped] == [("tiny", "shorter than 8 bytes")]
    assert found(m, b"abc abc") == set()
    short = matcher(("tiny", b"abc"), min_length=3)
    assert found(short, b"xabcx") == {("tiny", "raw")}


def test_nothing_to_search_finds_nothing() -> None:
    m = matcher()
    assert m.empty
    assert m.find(b"anything") == []


def test_no_repr_shows_a_value() -> None:
    m = matcher(("api/key", VALUE))
    hit = m.find(VALUE)[0]
    for shown in (repr(m), repr(m.values[0]), repr(hit), str(hit)):
        assert VALUE.decode() not in shown


def test_many_values_cost_one_automaton() -> None:
    values = [(f"k/{i}", f"value-{i:06d}-{'x' * 8}".encode()) for i in range(5000)]
    m = matcher(*values)
    data = b"..." + values[4321][1] + b"..." + values[7][1]
    assert found(m, data) == {("k/4321", "raw"), ("k/7", "raw")}


def test_binary_values_with_nul_bytes_are_found_beside_plain_ones(engine: str) -> None:
    binary = b"nul\x00byte-8e0a\xff"
    m = matcher(("bin/nul", binary), ("api/key", VALUE))
    assert m.engine == engine
    assert found(m, b"x" + binary[:3] + b"y " + binary + b" " + VALUE) == {
        ("bin/nul", "raw"),
        ("api/key", "raw"),
    }
    assert ("bin/nul", "base64") in found(m, base64.b64encode(b"ab" + binary))


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown matcher engine"):
        Matcher([SecretValue("a", "p", VALUE)], engine="grep")
