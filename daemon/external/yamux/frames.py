"""The yamux frame: a 12-byte header (and, for DATA, the payload after it), encoded and decoded.

The header is, in network order: version (8 bits, always 0), type (8), flags (16), stream ID
(32), length (32).  What the length means depends on the type: DATA's payload size, a
WINDOW_UPDATE's window delta, a PING's opaque value, a GO_AWAY's error code.

:func:`decode_header` is the one gate for the peer's headers: it rejects, with
:class:`ProtocolError`, anything that no correct peer sends (an unknown version, type or flag
bit; SYN and ACK together; a stream frame on the session's ID 0; a session frame on a stream's
ID; a PING that is neither a request nor an answer; a GO_AWAY with flags).  Whatever passes is a
:class:`Header` the session can trust to be well formed.
"""

from __future__ import annotations

import struct
from enum import IntEnum, IntFlag
from typing import NamedTuple

from docker_pass.daemon.external.yamux.errors import ProtocolError

#: The only protocol version there is.
VERSION = 0
#: Bytes in a frame header.
HEADER_SIZE = 12
#: Every stream's window, each way, when it opens (both sides assume it; the spec's 256 KiB).
INITIAL_WINDOW = 256 * 1024
#: The largest value of a 32-bit header field (a window can never exceed it).
MAX_UINT32 = 2**32 - 1
#: The session's own ID: PING and GO_AWAY use it, streams never do.
SESSION_ID = 0

_HEADER = struct.Struct(">BBHII")


class FrameType(IntEnum):
    """What a frame is (the header's type field)."""

    DATA = 0
    WINDOW_UPDATE = 1
    PING = 2
    GO_AWAY = 3


class Flag(IntFlag):
    """The header's flag bits."""

    NONE = 0
    #: Opens a stream (with DATA or WINDOW_UPDATE); asks for an answer (with PING).
    SYN = 0x1
    #: Accepts a stream; answers a PING.
    ACK = 0x2
    #: Half-closes a stream: the sender sends nothing more on it.
    FIN = 0x4
    #: Resets a stream at once.
    RST = 0x8


#: Every flag bit that has a meaning (a plain int: ``~`` on an IntFlag would drop the bits
#: outside the ones it defines, the very bits to look for).
KNOWN_FLAGS = int(Flag.SYN | Flag.ACK | Flag.FIN | Flag.RST)


class GoAwayCode(IntEnum):
    """Why a session ends (a GO_AWAY's length field)."""

    NORMAL = 0
    PROTOCOL_ERROR = 1
    INTERNAL_ERROR = 2


class Header(NamedTuple):
    """One decoded, well-formed frame header."""

    type: FrameType
    flags: Flag
    stream_id: int
    length: int

    def encode(self) -> bytes:
        """The 12 bytes of this header."""
        return encode_header(self.type, self.flags, self.stream_id, self.length)


class Frame(NamedTuple):
    """A header and its payload (empty but for DATA frames)."""

    header: Header
    payload: bytes


def encode_header(kind: FrameType, flags: Flag, stream_id: int, length: int) -> bytes:
    """The 12 bytes of a header; ``ValueError`` if a field does not fit its width."""
    if not (0 <= flags <= 0xFFFF and 0 <= stream_id <= MAX_UINT32 and 0 <= length <= MAX_UINT32):
        raise ValueError("a yamux header field is out of range")
    return _HEADER.pack(VERSION, kind, flags, stream_id, length)


def encode_frame(kind: FrameType, flags: Flag, stream_id: int, payload: bytes = b"") -> bytes:
    """A DATA frame (header and payload) or, with no payload, any frame whose length is 0."""
    return encode_header(kind, flags, stream_id, len(payload)) + payload


def decode_header(data: bytes | bytearray | memoryview) -> Header:
    """The header in the first 12 bytes of ``data``.

    Raises :class:`ProtocolError` for a header no correct peer sends (see the module's
    docstring) and ``ValueError`` when ``data`` holds fewer than 12 bytes.
    """
    if len(data) < HEADER_SIZE:
        raise ValueError("a yamux header has 12 bytes")
    version, kind, flags, stream_id, length = _HEADER.unpack_from(data)
    if version != VERSION:
        raise ProtocolError(f"unsupported yamux version {version}")
    if kind > FrameType.GO_AWAY:
        raise ProtocolError(f"unknown yamux frame type {kind}")
    if flags & ~KNOWN_FLAGS:
        raise ProtocolError(f"unknown yamux flags {flags:#06x}")
    header = Header(FrameType(kind), Flag(flags), stream_id, length)
    _check_shape(header)
    return header


def _check_shape(header: Header) -> None:
    """Reject flags and stream IDs that make no sense for the frame's type."""
    kind, flags, stream_id = header.type, header.flags, header.stream_id
    if kind in (FrameType.DATA, FrameType.WINDOW_UPDATE):
        if stream_id == SESSION_ID:
            raise ProtocolError(f"{kind.name} frame on the session's stream ID 0")
        if Flag.SYN in flags and Flag.ACK in flags:
            raise ProtocolError("a frame both opens (SYN) and accepts (ACK) a stream")
        return
    if stream_id != SESSION_ID:
        raise ProtocolError(f"{kind.name} frame on stream {stream_id}, not the session's ID 0")
    if kind is FrameType.PING and flags not in (Flag.SYN, Flag.ACK):
        raise ProtocolError(f"PING with flags {flags:#06x}: neither a request nor an answer")
    if kind is FrameType.GO_AWAY and flags:
        raise ProtocolError(f"GO_AWAY with flags {flags:#06x}")


def parse_frame(
    data: bytes | bytearray | memoryview, max_payload: int = MAX_UINT32
) -> tuple[Frame, int] | None:
    """The first frame in ``data`` and how many bytes it took, or ``None`` when ``data`` does
    not hold all of it yet.

    Raises only :class:`ProtocolError`: for a bad header, or for a DATA frame longer than
    ``max_payload`` (decided from the header alone, before waiting for the payload).
    """
    if len(data) < HEADER_SIZE:
        return None
    header = decode_header(data)
    if header.type is not FrameType.DATA:
        return Frame(header, b""), HEADER_SIZE
    if header.length > max_payload:
        raise ProtocolError(f"DATA frame of {header.length} bytes, more than {max_payload}")
    end = HEADER_SIZE + header.length
    if len(data) < end:
        return None
    return Frame(header, bytes(data[HEADER_SIZE:end])), end
