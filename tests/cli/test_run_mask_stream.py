"""The streaming masker of ``run --mask``: every occurrence concealed, however the output is cut."""

from __future__ import annotations

import base64
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from docker_pass.cli.mask import MARKER, StreamMasker, patterns_of


def masked(values: list[bytes], pieces: list[bytes]) -> bytes:
    masker = StreamMasker(patterns_of(values))
    return b"".join(masker.feed(piece) for piece in pieces) + masker.finish()


def joined(out: bytes) -> bytes:
    """``out`` with runs of markers as one."""
    while MARKER + MARKER in out:
        out = out.replace(MARKER + MARKER, MARKER)
    return out


def cut(data: bytes, points: list[int]) -> list[bytes]:
    marks = sorted({p % (len(data) + 1) for p in points})
    bounds = [0, *marks, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def test_a_value_its_base64_and_unpadded_base64_are_concealed() -> None:
    value = b"s3cr3t-value"
    b64 = base64.b64encode(value)
    out = masked([value], [b"a " + value + b" b " + b64 + b" c " + b64.rstrip(b"=") + b"\n"])
    assert out == b"a " + MARKER + b" b " + MARKER + b" c " + MARKER + b"\n"


def test_a_value_split_across_writes_is_caught() -> None:
    value = b"0123456789abcdef"
    masker = StreamMasker(patterns_of([value]))
    first = masker.feed(b"prompt> 01234567")
    assert first == b"prompt> "  # text that cannot begin a value goes out at once
    assert masker.feed(b"89abcdef done\n") == MARKER + b" done\n"
    assert masker.finish() == b""


def test_what_only_looks_like_a_start_is_written_once_it_is_not() -> None:
    masker = StreamMasker(patterns_of([b"abcdefgh"]))
    assert masker.feed(b"xx abc") == b"xx "
    assert masker.feed(b"X") == b"abcX"
    assert masker.feed(b" abcdefg") == b" "
    assert masker.finish() == b"abcdefg"  # the end: no value came


def test_overlapping_and_touching_values_become_one_marker() -> None:
    values = [b"abcdef", b"defghi", b"ghijkl"]
    assert masked(values, [b"<abcdefghijkl>"]) == b"<" + MARKER + b">"
    assert masked([b"aaaa"], [b"aaaaaaa!"]) == MARKER + b"!"
    assert masked([b"abcd", b"efgh"], [b"abcdefgh"]) == MARKER


def test_no_values_means_no_change() -> None:
    masker = StreamMasker([])
    assert masker.feed(b"anything") == b"anything"
    assert masker.finish() == b""
    assert patterns_of([b""]) == []


ALPHABET = st.binary(min_size=1, max_size=1).filter(lambda b: b in b"ab=\n")
SMALL = st.binary(max_size=40).map(lambda b: bytes(c % 3 + 97 for c in b))  # a, b, c


@settings(max_examples=400, deadline=None)
@given(
    values=st.lists(
        st.binary(min_size=1, max_size=8).map(lambda b: bytes(c % 3 + 97 for c in b)),
        min_size=1,
        max_size=3,
    ),
    filler=SMALL,
    positions=st.lists(st.integers(min_value=0, max_value=1000), max_size=4),
    points=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
)
def test_any_split_masks_exactly_as_the_whole(
    values: list[bytes], filler: bytes, positions: list[int], points: list[int]
) -> None:
    data = bytearray(filler)
    for position, value in zip(positions, values * 4, strict=False):
        at = position % (len(data) + 1)
        data[at:at] = value
    whole = masked(values, [bytes(data)])
    # The same text, except that occurrences touching across a write may get a marker each.
    assert joined(masked(values, cut(bytes(data), points))) == joined(whole)
    # Nothing that any value covers is left: removing the markers leaves no value.
    for piece in whole.split(MARKER):
        for value in values:
            assert value not in piece


@settings(max_examples=200, deadline=None)
@given(
    value=st.binary(min_size=1, max_size=24),
    before=st.binary(max_size=20),
    after=st.binary(max_size=20),
    points=st.lists(st.integers(min_value=0, max_value=100), max_size=6),
)
def test_binary_values_and_their_base64_in_any_pieces(
    value: bytes, before: bytes, after: bytes, points: list[int]
) -> None:
    data = before + value + after + base64.b64encode(value)
    out = masked([value], cut(data, points))
    for piece in out.split(MARKER):
        assert value not in piece
        assert base64.b64encode(value).rstrip(b"=") not in piece
