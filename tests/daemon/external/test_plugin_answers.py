"""The one gate for a plugin's HTTP/1.1 answers (``daemon/external/answers.py``): what it reads,
however the bytes come, and what it refuses, saying what was wrong and never what was sent."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from docker_pass.daemon.external.answers import (
    MAX_BODY,
    MAX_HEAD,
    MAX_HEADERS,
    MAX_INTERIM,
    AnswerError,
    read_answer,
)

if TYPE_CHECKING:
    from docker_pass.daemon.external.answers import Headers

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/proto\r\n"


class Scripted:
    """A stream that gives ``chunks`` one read at a time, then the end (``b""``); reading
    past ``stop_after`` chunks fails the test (the reader must not read past the answer)."""

    def __init__(self, *chunks: bytes, stop_after: int | None = None) -> None:
        self.chunks = list(chunks)
        self.reads = 0
        self.stop_after = stop_after

    async def read(self, n: int = -1) -> bytes:
        self.reads += 1
        assert self.stop_after is None or self.reads <= self.stop_after, "read past the answer"
        return self.chunks.pop(0) if self.chunks else b""


def read(*chunks: bytes, stop_after: int | None = None) -> tuple[int, Headers, bytes]:
    return asyncio.run(read_answer(Scripted(*chunks, stop_after=stop_after)))  # type: ignore[arg-type]


def byte_by_byte(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def test_a_sized_answer_coming_a_byte_at_a_time() -> None:
    answer = OK + b"Content-Length: 5\r\n\r\nhello"
    status, headers, body = read(*byte_by_byte(answer))
    assert (status, body) == (200, b"hello")
    assert headers == {b"content-type": b"application/proto", b"content-length": b"5"}


def test_nothing_past_the_answer_is_read() -> None:
    answer = OK + b"Content-Length: 2\r\n\r\nhi" + b"GARBAGE AFTER"
    assert read(answer, b"more garbage", stop_after=1)[2] == b"hi"


def test_a_chunked_answer_with_extensions_and_trailers() -> None:
    answer = (
        OK + b"Transfer-Encoding: Chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n1\r\n!\r\n0\r\nX-Trailer: yes\r\n\r\n"
    )
    assert read(answer)[2] == b"hello!"
    assert read(*byte_by_byte(answer))[2] == b"hello!"


def test_an_answer_without_a_length_ends_with_the_stream() -> None:
    assert read(OK + b"\r\nall of ", b"it")[2] == b"all of it"


def test_informational_answers_are_skipped_and_204_has_no_body() -> None:
    answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX: y\r\n\r\n"
    assert read(answer, stop_after=1) == (204, {b"x": b"y"}, b"")


def test_header_names_are_lower_cased_values_trimmed_and_repeats_joined() -> None:
    answer = (
        b"HTTP/1.0 404 \r\nContent-Length:  2 \r\nVary: a\r\nvary:\tb\r\n"
        b"Content-Length: 2\r\nX-Empty:\r\n\r\n{}"
    )
    status, headers, body = read(answer)
    assert (status, body) == (404, b"{}")
    assert headers == {b"content-length": b"2", b"vary": b"a, b", b"x-empty": b""}


def test_a_status_line_without_a_reason() -> None:
    assert read(b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")[0] == 200


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (b"SSH-2.0-OpenSSH\r\n\r\n", "no HTTP/1.x status line"),
        (b"HTTP/2.0 200 OK\r\n\r\n", "no HTTP/1.x status line"),
        (b"HTTP/1.1 20 OK\r\n\r\n", "no HTTP/1.x status line"),
        (b"HTTP/1.1 200 OK\x00\r\n\r\n", "no HTTP/1.x status line"),
        (OK + b"no colon here\r\n\r\n", "a header line that is not one"),
        (OK + b"bad name: x\r\n\r\n", "a header line that is not one"),
        (OK + b"X: 1\r\n continued\r\n\r\n", "a header line that is not one"),
        (OK + b"X: a\x01b\r\n\r\n", "a header line that is not one"),
        (OK + b"X: a\nb\r\n\r\n", "a header line that is not one"),
        (b"HTTP/1.1 200 OK\nContent-Length: 0\n\n", "the answer ended in its head"),
        (OK + b"Content-Length: -1\r\n\r\n", "a length that is not one"),
        (OK + b"Content-Length: 0x10\r\n\r\n", "a length that is not one"),
        (OK + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n", "two different lengths"),
        (OK + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "transfer coding"),
        (OK + b"Transfer-Encoding: gzip, chunked\r\n\r\n", "transfer coding"),
        (OK + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", "a chunk size that is not one"),
        (OK + b"Transfer-Encoding: chunked\r\n\r\n-1\r\n", "a chunk size that is not one"),
        (OK + b"Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", "longer than"),
        (OK + b"Transfer-Encoding: chunked\r\n\r\n5\r\nab", "the answer ended in a chunk"),
        (OK + b"Transfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n", "trailer"),
        (OK + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", "ended in a chunk size"),
        (OK + b"Content-Length: 10\r\n\r\nshort", "the answer ended in its body"),
        (OK + b"Content-Len", "the answer ended in its head"),
        (b"", "the answer ended in its head"),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "switched protocols"),
        (b"HTTP/1.1 100 Continue\r\n\r\n" * (MAX_INTERIM + 1), "too many informational"),
        (OK + b"X: y\r\n" * (MAX_HEADERS + 1) + b"\r\n", "too many header lines"),
    ],
)
def test_what_is_refused(answer: bytes, why: str) -> None:
    with pytest.raises(AnswerError, match=why) as refused:
        read(answer)
    assert not refused.value.too_large


@pytest.mark.parametrize(
    "answer",
    [
        OK + b"X: " + b"y" * MAX_HEAD + b"\r\n\r\n",
        OK + b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1),
        OK + b"Content-Length: " + b"9" * 40 + b"\r\n\r\n",
        OK + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % (MAX_BODY + 1),
        OK + b"Transfer-Encoding: chunked\r\n\r\n" + b"1;" + b"e" * 2000 + b"\r\nx\r\n",
    ],
    ids=["head", "length", "length-digits", "chunk", "chunk-line"],
)
def test_what_is_too_large(answer: bytes) -> None:
    with pytest.raises(AnswerError) as refused:
        read(answer)
    assert refused.value.too_large


def test_an_unsized_answer_is_held_to_the_body_bound() -> None:
    chunk = bytes(64 * 1024)
    chunks = [OK + b"\r\n", *([chunk] * (MAX_BODY // len(chunk) + 1))]
    with pytest.raises(AnswerError, match="too large") as refused:
        read(*chunks)
    assert refused.value.too_large
