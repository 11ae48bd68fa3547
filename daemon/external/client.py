"""The engine's calls into a plugin: Connect unary requests over HTTP/1.1, one yamux stream
each, as Docker's engine makes them.

Each call opens a stream, sends one request with ``Connection: close`` (the SDK's HTTP client
keeps no connection alive either), reads one answer, and ends the stream; the whole of it runs
within the call's ``timeout`` (on expiry the stream is reset).  Requests are binary protobuf
(``application/proto``) and answers may come gzip'ed (``Accept-Encoding: gzip``, as connect-go
sends it).  The answer is read by :mod:`.answers`, the one gate for what a plugin sends,
within its bounds (the head, the body as sent); decompressed, the body is held to
:data:`MAX_ANSWER` too.  Beyond a bound the call fails and the stream is reset.  An error
answer is Connect's JSON error; its message is the plugin's own words, cut short.
"""

from __future__ import annotations

import asyncio
import functools
import json
import zlib
from typing import TYPE_CHECKING

from docker_pass.core import __version__
from docker_pass.core.names import PROGRAM
from docker_pass.daemon.external.answers import MAX_BODY, AnswerError, read_answer
from docker_pass.daemon.external.yamux import YamuxError

if TYPE_CHECKING:
    from docker_pass.daemon.external.yamux import Session

GET_SECRETS = "/resolver.v1.ResolverService/GetSecrets"
SHUTDOWN = "/plugins.v1.PluginService/Shutdown"
HEALTH = "/health"
#: Bytes of an answer's body, decompressed, at most (as sent: :data:`.answers.MAX_BODY`).
MAX_ANSWER = MAX_BODY
#: Characters of a plugin's error message kept.
MAX_MESSAGE = 300
#: Connect's codes for an HTTP error answer without a Connect error body.
_HTTP_CODES = {
    400: "internal",
    401: "unauthenticated",
    403: "permission_denied",
    404: "unimplemented",
}


class CallFailedError(Exception):
    """Raised when a call into a plugin fails: ``code`` is Connect's (``not_found``,
    ``deadline_exceeded``, ``unavailable`` when the connection is gone…), ``message`` says
    why (a plugin's own words are cut to :data:`MAX_MESSAGE` characters)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class PluginClient:
    """Calls into the plugin at the other end of ``session``."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def unary(self, path: str, request: bytes, timeout: float) -> bytes:
        """One Connect unary call (binary codec): the answer's message bytes."""
        millis = max(1, round(timeout * 1000))
        headers = [
            ("content-type", "application/proto"),
            ("connect-protocol-version", "1"),
            ("connect-timeout-ms", str(millis)),
            ("accept-encoding", "gzip"),
        ]
        status, answer_headers, body = await self.exchange("POST", path, headers, request, timeout)
        kind = answer_headers.get(b"content-type", b"").split(b";")[0].strip()
        if status == 200 and kind == b"application/proto":
            return body
        raise _error(status, kind, body)

    async def health(self, timeout: float) -> bool:
        """Whether the plugin answers ``GET /health`` with 200."""
        status, _, _ = await self.exchange("GET", HEALTH, [], b"", timeout)
        return status == 200

    async def exchange(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes, timeout: float
    ) -> tuple[int, dict[bytes, bytes], bytes]:
        """One HTTP/1.1 request on a new stream: the answer's status, headers (names in lower
        case) and whole body (decompressed)."""
        try:
            async with asyncio.timeout(timeout):
                return await self._exchange(method, path, headers, body)
        except TimeoutError:
            raise CallFailedError("deadline_exceeded", f"no answer within {timeout:g} s") from None
        except AnswerError as exc:
            if exc.too_large:
                code, why = "resource_exhausted", "the plugin's answer is too large"
            else:
                code, why = "unavailable", f"the plugin's answer is not HTTP/1.1: {exc}"
            raise CallFailedError(code, why) from None
        except (YamuxError, ConnectionError):
            raise CallFailedError("unavailable", "the connection to the plugin is gone") from None

    async def _exchange(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, dict[bytes, bytes], bytes]:
        # On the stream itself: an asyncio reader, writer and transport over it cost a
        # third of a call, and a call needs none of what they add.
        stream = await self._session.open_stream()
        done = False
        try:
            stream.write(_request_head(method, path, tuple(headers), len(body)) + body)
            await stream.drain()
            status, answer_headers, raw = await read_answer(stream)
            done = True
        finally:
            if done:
                stream.discard_input()  # whatever follows the answer is not read
                stream.close()
            else:
                stream.reset()  # a half-read answer: reset, never drain it
        return status, answer_headers, _decoded(answer_headers, raw)


@functools.lru_cache(maxsize=64)
def _request_head(
    method: str, path: str, headers: tuple[tuple[str, str], ...], length: int
) -> bytes:
    """A request's head (made once per shape).  Every part is the engine's own: a method,
    a path and headers of this module's, numbers."""
    lines = [
        f"{method} {path} HTTP/1.1",
        "host: unix",
        f"user-agent: {PROGRAM}/{__version__}",
        "connection: close",
        *(f"{name}: {value}" for name, value in headers),
    ]
    if method == "POST":
        lines.append(f"content-length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def _decoded(headers: dict[bytes, bytes], raw: bytes) -> bytes:
    """The body, un-gzip'ed when it says so (within :data:`MAX_ANSWER`)."""
    encoding = headers.get(b"content-encoding", b"identity").strip().lower()
    if encoding in (b"identity", b""):
        return raw
    if encoding != b"gzip":
        raise CallFailedError("internal", "the plugin's answer uses an unknown compression")
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflate.decompress(raw, MAX_ANSWER + 1)
    except zlib.error:
        raise CallFailedError("internal", "the plugin's answer is not valid gzip") from None
    if len(data) > MAX_ANSWER or inflate.unconsumed_tail:
        raise CallFailedError("resource_exhausted", "the plugin's answer is too large")
    return data


def _error(status: int, kind: bytes, body: bytes) -> CallFailedError:
    """The error an answer other than a message stands for (Connect's JSON error, or an HTTP
    status alone)."""
    code, message = _HTTP_CODES.get(status, "unknown"), f"HTTP status {status}"
    if status == 200:
        return CallFailedError("internal", "the plugin answered without a protobuf message")
    if kind == b"application/json":
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            doc = None
        if isinstance(doc, dict):
            if isinstance(doc.get("code"), str) and doc["code"]:
                code = doc["code"][:40]
            if isinstance(doc.get("message"), str):
                message = doc["message"][:MAX_MESSAGE]
    return CallFailedError(code, message)
