"""A plugin's HTTP/1.1 answer to one of the engine's calls, read strictly and within bounds.

The one gate for what a plugin answers (:mod:`.client` makes the calls).  Not h11: a call is one
request and one answer on a stream of its own, and h11's general state machine was half of what
a call cost the daemon.  What is read:

- a status line ``HTTP/1.x NNN reason``; informational answers (1xx, at most
  :data:`MAX_INTERIM` of them) are read and dropped, as an HTTP client does; ``101`` is refused;
- header lines ``name: value``: names are tokens, values hold no control characters, no line
  is folded, the head (each one) is at most :data:`MAX_HEAD` bytes and :data:`MAX_HEADERS`
  lines, and lines end with CRLF;
- a body sized by ``Content-Length``, or chunked (chunk extensions ignored, trailers read and
  dropped), or, with neither, everything until the stream ends; at most :data:`MAX_BODY`
  bytes; none after ``204`` and ``304``.

Refused as well: ``Transfer-Encoding`` other than ``chunked``, or with ``Content-Length``, and
two different ``Content-Length`` values (the shapes of request smuggling).  Every refusal is an
:class:`AnswerError` that says what was wrong, never what was sent.  Whatever follows the
answer on the stream is not read.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docker_pass.daemon.external.yamux import Stream

#: Bytes of an answer's head (status line and headers), at most.
MAX_HEAD = 16 * 1024
#: Header lines of a head, at most.
MAX_HEADERS = 100
#: Bytes of an answer's body (as sent: before decompression), at most.
MAX_BODY = 8 * 1024 * 1024
#: Informational (1xx) answers before the answer, at most.
MAX_INTERIM = 8
#: Bytes of a chunk-size line, at most.
_MAX_CHUNK_LINE = 1024
_READ_CHUNK = 64 * 1024

_STATUS = re.compile(rb"HTTP/1\.[01] ([0-9]{3})(?: [^\x00-\x08\x0a-\x1f\x7f]*)?")
_FIELD = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\x00-\x08\x0a-\x1f\x7f]*)?")

Headers = dict[bytes, bytes]


class AnswerError(Exception):
    """Raised when a plugin's answer is not one this reader takes (the message says why);
    ``too_large``: it was refused for its size alone."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


class _Input:
    """The stream's bytes, read as they are needed (never past what the answer needs by more
    than one read)."""

    __slots__ = ("buffer", "ended", "stream")

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.buffer = bytearray()
        self.ended = False

    async def more(self) -> bool:
        """Read once more; whether anything came (``False``: the stream ended)."""
        if self.ended:
            return False
        chunk = await self.stream.read(_READ_CHUNK)
        if not chunk:
            self.ended = True
            return False
        self.buffer += chunk
        return True

    async def line(self, limit: int, what: str) -> bytes:
        """The next line, without its CRLF (at most ``limit`` bytes with it)."""
        while (end := self.buffer.find(b"\r\n", 0, limit)) < 0:
            if len(self.buffer) >= limit:
                raise AnswerError(f"{what} is too long", too_large=True)
            if not await self.more():
                raise AnswerError(f"the answer ended in {what}")
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 2]
        return line

    async def exactly(self, size: int, what: str) -> bytes:
        while len(self.buffer) < size:
            if not await self.more():
                raise AnswerError(f"the answer ended in {what}")
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data


async def read_answer(stream: Stream) -> tuple[int, Headers, bytes]:
    """Read one answer from ``stream``: its status, headers (names in lower case) and whole
    body (as sent).  Raises :class:`AnswerError`."""
    source = _Input(stream)
    for _ in range(MAX_INTERIM + 1):
        status, headers = await _head(source)
        if not 100 <= status < 200:
            return status, headers, await _body(source, status, headers)
        if status == 101:
            raise AnswerError("the plugin switched protocols")
    raise AnswerError("too many informational answers")


async def _head(source: _Input) -> tuple[int, Headers]:
    """A status line and its header lines (read whole, then taken apart)."""
    buffer = source.buffer
    while (end := buffer.find(b"\r\n\r\n", 0, MAX_HEAD)) < 0:
        if len(buffer) >= MAX_HEAD:
            raise AnswerError("its head is too long", too_large=True)
        if not await source.more():
            raise AnswerError("the answer ended in its head")
    lines = bytes(buffer[:end]).split(b"\r\n")
    del buffer[: end + 4]
    match = _STATUS.fullmatch(lines[0])
    if match is None:
        raise AnswerError("no HTTP/1.x status line")
    if len(lines) > MAX_HEADERS + 1:
        raise AnswerError("too many header lines")
    headers: Headers = {}
    for line in lines[1:]:
        field = _FIELD.fullmatch(line)
        if field is None:
            raise AnswerError("a header line that is not one")
        name, value = field.group(1).lower(), field.group(2)
        known = headers.get(name)
        if known is None:
            headers[name] = value
        elif name == b"content-length":
            if known != value:
                raise AnswerError("two different lengths")
        else:
            headers[name] = known + b", " + value
    return int(match.group(1)), headers


async def _body(source: _Input, status: int, headers: Headers) -> bytes:
    """The body that ``headers`` announce."""
    if status in (204, 304):
        return b""
    coding = headers.get(b"transfer-encoding")
    length = headers.get(b"content-length")
    if coding is not None:
        if length is not None or coding.strip().lower() != b"chunked":
            raise AnswerError("a transfer coding other than chunked, or with a length")
        return await _chunked(source)
    if length is not None:
        if not length.isdigit():
            raise AnswerError("a length that is not one")
        size = int(length[:12])  # more digits than that is too large anyway
        if size > MAX_BODY or len(length) > 12:
            raise AnswerError("the answer is too large", too_large=True)
        return await source.exactly(size, "its body")
    while await source.more():  # until the stream ends
        if len(source.buffer) > MAX_BODY:
            raise AnswerError("the answer is too large", too_large=True)
    return bytes(source.buffer)


async def _chunked(source: _Input) -> bytes:
    body = bytearray()
    while True:
        line = await source.line(_MAX_CHUNK_LINE, "a chunk size")
        match = _CHUNK_SIZE.fullmatch(line)
        if match is None:
            raise AnswerError("a chunk size that is not one")
        size = int(match.group(1), 16)
        if not size:
            break
        if len(body) + size > MAX_BODY:
            raise AnswerError("the answer is too large", too_large=True)
        body += await source.exactly(size, "a chunk")
        if await source.exactly(2, "a chunk") != b"\r\n":
            raise AnswerError("a chunk longer than its size")
    budget = MAX_HEAD
    while trailer := await source.line(budget, "its trailers"):
        budget -= len(trailer) + 2
        if _FIELD.fullmatch(trailer) is None:
            raise AnswerError("a trailer line that is not one")
    return bytes(body)
