"""Text from outside is shown only as plain, one-line, short text without credentials."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from docker_pass.core.outside import OUTSIDE_LIMIT, clean_outside, without_credentials


def test_escape_sequences_and_controls_are_removed() -> None:
    raw = "boom\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m\nnext\tline\u202eevil\x00\x7f"
    assert clean_outside(raw) == "boomred next lineevil"


def test_bytes_are_read_as_utf8_with_replacements() -> None:
    assert clean_outside(b"\xff\xfeok") == "\ufffd\ufffdok"


def test_credentials_in_urls_are_dropped() -> None:
    text = "cannot reach http://user:PASS@127.0.0.1:8200/v1 nor https://tok@x.example"
    assert (
        without_credentials(text) == "cannot reach http://127.0.0.1:8200/v1 nor https://x.example"
    )
    assert "PASS" not in clean_outside(text)


def test_long_text_is_cut() -> None:
    assert clean_outside("a" * 1000, 20) == "a" * 19 + "…"
    assert len(clean_outside("b" * 10_000)) == OUTSIDE_LIMIT


def test_unterminated_sequences_end_with_the_text() -> None:
    assert clean_outside("\x1b[") == ""
    assert clean_outside("ok\x1b]0;never ends") == "ok"
    assert clean_outside("\x9b31m x") == "x"


@given(st.text(alphabet=st.characters(max_codepoint=0x2100), max_size=400))
def test_nothing_that_drives_a_terminal_survives(text: str) -> None:
    cleaned = clean_outside(text)
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in cleaned)
    assert "\u202e" not in cleaned
    assert "\x1b" not in cleaned
    assert len(cleaned) <= OUTSIDE_LIMIT


def test_a_hostile_megabyte_is_cleaned() -> None:
    # Sequences that never end, a million bytes long: linear expressions finish at once (a
    # backtracking one would not finish at all); only the first part is read.
    hostile = "\x1b[" + "1;" * 500_000 + "\x1b]" * 100_000
    assert clean_outside(hostile) == ""
    assert clean_outside("ok " + hostile) == "ok"
