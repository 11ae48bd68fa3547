"""The frame codec: every well-formed header survives a round trip, and arbitrary bytes either
decode, need more bytes, or raise ProtocolError — nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docker_pass.daemon.external.yamux import ProtocolError
from docker_pass.daemon.external.yamux.frames import (
    HEADER_SIZE,
    MAX_UINT32,
    Flag,
    Frame,
    FrameType,
    Header,
    decode_header,
    encode_frame,
    encode_header,
    parse_frame,
)

uint32 = st.integers(min_value=0, max_value=MAX_UINT32)
stream_flags = st.sampled_from([Flag.NONE, Flag.SYN, Flag.ACK]).flatmap(
    lambda opening: st.sampled_from(
        [opening, opening | Flag.FIN, opening | Flag.RST, opening | Flag.FIN | Flag.RST]
    )
)


@st.composite
def headers(draw: st.DrawFn) -> Header:
    """Any header a correct peer may send."""
    kind = draw(st.sampled_from(FrameType))
    if kind in (FrameType.DATA, FrameType.WINDOW_UPDATE):
        return Header(kind, draw(stream_flags), draw(uint32.filter(bool)), draw(uint32))
    if kind is FrameType.PING:
        return Header(kind, draw(st.sampled_from([Flag.SYN, Flag.ACK])), 0, draw(uint32))
    return Header(kind, Flag.NONE, 0, draw(uint32))


@given(headers())
def test_a_header_survives_a_round_trip(header: Header) -> None:
    encoded = header.encode()
    assert len(encoded) == HEADER_SIZE
    assert decode_header(encoded) == header


@given(headers(), st.binary(max_size=64))
def test_a_frame_parses_back_whole_and_needs_every_byte(header: Header, payload: bytes) -> None:
    if header.type is FrameType.DATA:
        header = header._replace(length=len(payload))
        encoded = encode_frame(header.type, header.flags, header.stream_id, payload)
        expected = Frame(header, payload)
    else:
        encoded = header.encode()
        expected = Frame(header, b"")
    assert parse_frame(encoded + b"more") == (expected, len(encoded))
    for cut in range(len(encoded)):
        assert parse_frame(encoded[:cut]) is None


@given(st.binary(max_size=80))
def test_arbitrary_bytes_decode_need_more_or_raise_protocol_error(data: bytes) -> None:
    try:
        parsed = parse_frame(data, max_payload=1 << 20)
    except ProtocolError:
        return
    if parsed is not None:
        found, used = parsed
        assert HEADER_SIZE <= used <= len(data)
        assert found.header.encode() == data[:HEADER_SIZE]


@given(st.binary(min_size=HEADER_SIZE, max_size=HEADER_SIZE))
def test_decoding_any_twelve_bytes_raises_only_protocol_error(data: bytes) -> None:
    try:
        header = decode_header(data)
    except ProtocolError:
        return
    assert header.encode() == data


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (bytes([1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]), "version"),
        (bytes([0, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]), "type"),
        (bytes([0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0]), "flags"),
        (bytes([0, 0, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0]), "flags"),
        (encode_header(FrameType.DATA, Flag.SYN | Flag.ACK, 1, 0), "SYN"),
        (encode_header(FrameType.WINDOW_UPDATE, Flag.SYN, 0, 0), "ID 0"),
        (encode_header(FrameType.PING, Flag.SYN, 3, 0), "ID 0"),
        (encode_header(FrameType.PING, Flag.NONE, 0, 0), "neither"),
        (encode_header(FrameType.PING, Flag.SYN | Flag.ACK, 0, 0), "neither"),
        (encode_header(FrameType.GO_AWAY, Flag.FIN, 0, 0), "flags"),
    ],
)
def test_a_header_no_correct_peer_sends_is_a_protocol_error(raw: bytes, says: str) -> None:
    with pytest.raises(ProtocolError, match=says):
        decode_header(raw)


def test_a_data_frame_longer_than_allowed_is_refused_from_its_header_alone() -> None:
    header = encode_header(FrameType.DATA, Flag.NONE, 1, 1 << 20)
    with pytest.raises(ProtocolError, match="more than"):
        parse_frame(header, max_payload=1 << 16)


def test_the_header_is_big_endian_as_the_spec_says() -> None:
    assert encode_header(FrameType.WINDOW_UPDATE, Flag.SYN | Flag.FIN, 0x01020304, 0x0A0B0C0D) == (
        bytes([0, 1, 0, 5, 1, 2, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D])
    )


def test_a_field_out_of_range_is_not_encoded() -> None:
    with pytest.raises(ValueError, match="out of range"):
        encode_header(FrameType.DATA, Flag.NONE, MAX_UINT32 + 1, 0)
