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


def test_a_value_escaped_inside_a_json_string_is_concealed() -> None:
    key = "-----BEGIN KEY-----\nMIIBOg-ü\n-----END KEY-----".encode()
    line = b'{"key": "-----BEGIN KEY-----\\nMIIBOg-\\u00fc\\n-----END KEY-----", "n": 1}\n'
    assert masked([key], [line]) == b'{"key": "' + MARKER + b'", "n": 1}\n'
    as_written = line.replace(b"\\u00fc", "ü".encode())  # non-ASCII left as it is
    assert masked([key], [as_written]) == b'{"key": "' + MARKER + b'", "n": 1}\n'
    # not UTF-8: no escaped form, the value itself is still concealed
    assert masked([b"\xff\xfe-binary"], [b"x \xff\xfe-binary y"]) == b"x " + MARKER + b" y"


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


def test_a_keystroke_echo_that_begins_a_value_is_released_after_a_quiet_moment() -> None:
    masker = StreamMasker(patterns_of([b"swordfish-42"]))
    assert masker.feed(b"$ s") == b"$ "  # "s" could begin the value: held
    assert masker.releasable
    assert masker.release() == b"s"  # typing stays responsive
    assert masker.release() == b""  # released once
    assert masker.feed(b"ky\n") == b"ky\n"
    assert masker.finish() == b""


def test_a_value_completed_after_its_released_start_still_ends_in_the_marker() -> None:
    masker = StreamMasker(patterns_of([b"swordfish-42"]))
    out = masker.feed(b"key: sw")
    out += masker.release()
    out += masker.feed(b"ordfish-42 done\n") + masker.finish()
    assert out == b"key: sw" + MARKER + b" done\n"
    assert b"ordfish" not in out


def test_a_longer_held_half_is_never_released() -> None:
    masker = StreamMasker(patterns_of([b"swordfish-42"]))
    assert masker.feed(b"key: swordf") == b"key: "
    assert not masker.releasable
    assert masker.release() == b""
    assert masker.feed(b"ish-42\n") + masker.finish() == MARKER + b"\n"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=60), max_size=6),
    st.lists(st.booleans(), min_size=7, max_size=7),
)
def test_releases_at_any_point_show_at_most_the_release_limit_of_a_value(
    points: list[int], releases: list[bool]
) -> None:
    import re

    from docker_pass.cli.mask import RELEASE_LIMIT

    value = b"correct-horse-battery"
    masker = StreamMasker(patterns_of([value]))
    out = b""
    pieces = cut(b"a " + value + b" b " + value + b"\n", points)
    for piece, release in zip(pieces, releases, strict=False):  # 7 flags for <= 7 pieces
        out += masker.feed(piece)
        if release:
            out += masker.release()
    out += masker.finish()
    # Each value: at most its first RELEASE_LIMIT bytes as they were, then the marker.
    shown = b"(.{0,%d})" % RELEASE_LIMIT + re.escape(MARKER)
    found = re.fullmatch(b"a " + shown + b" b " + shown + b"\n", out, re.S)
    assert found is not None, out
    assert all(value.startswith(part) for part in found.groups())
