"""The proxy's own calls to the engine: sequential HTTP/1.1 requests on one connection (h11).

Writing secret files into a created container (:mod:`.files`) and looking a container up before
a commit (:mod:`.commit`) call the engine themselves, on a connection of their own; each call
has a deadline and a bounded answer.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import h11

from docker_pass.core.outside import clean_outside
from docker_pass.daemon.docker.relay import MAX_REWRITE_BODY, READ_SIZE, BodyTooLargeError

if TYPE_CHECKING:
    from docker_pass.daemon.docker.relay import Upstream

#: Seconds one call may take.
CALL_TIMEOUT = 30.0


class EngineApi:
    """Sequential HTTP/1.1 calls to the engine on one connection (h11)."""

    def __init__(self, upstream: Upstream, host: bytes) -> None:
        self._upstream = upstream
        self._host = host
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._conn = h11.Connection(h11.CLIENT)

    async def call(
        self, method: bytes, target: str, body: bytes = b"", content_type: bytes = b""
    ) -> tuple[int, bytes]:
        """The status and body of one call (``TimeoutError`` after :data:`CALL_TIMEOUT` s;
        :class:`~.relay.Refusal` when the engine cannot be reached)."""
        return await asyncio.wait_for(self._call(method, target, body, content_type), CALL_TIMEOUT)

    async def _call(
        self, method: bytes, target: str, body: bytes, content_type: bytes
    ) -> tuple[int, bytes]:
        if self._streams is None or self._conn.our_state is not h11.IDLE:
            await self.close()
            self._streams = await self._upstream.open()
            self._conn = h11.Connection(h11.CLIENT)
        reader, writer = self._streams
        headers = [(b"host", self._host), (b"content-length", str(len(body)).encode())]
        if content_type:
            headers.append((b"content-type", content_type))
        data = self._conn.send(h11.Request(method=method, target=target, headers=headers)) or b""
        if body:
            data += self._conn.send(h11.Data(data=body)) or b""
        data += self._conn.send(h11.EndOfMessage()) or b""
        writer.write(data)
        await writer.drain()
        status = 0
        parts: list[bytes] = []
        size = 0
        while True:
            event = self._conn.next_event()
            if event is h11.NEED_DATA:
                self._conn.receive_data(await reader.read(READ_SIZE))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_REWRITE_BODY:
                    raise BodyTooLargeError("the engine's answer is too large")
                parts.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionResetError("the engine closed the connection")
        if self._conn.our_state is h11.DONE and self._conn.their_state is h11.DONE:
            self._conn.start_next_cycle()
        return status, b"".join(parts)

    async def close(self) -> None:
        """Close the connection (errors closing it do not matter)."""
        if self._streams is not None:
            with suppress(Exception):
                self._streams[1].close()
            self._streams = None


def engine_message(body: bytes) -> str:
    """The message of an engine's error answer (``{"message": …}``), else its text: text from
    outside, shown only cleaned (:func:`~docker_pass.core.outside.clean_outside`)."""
    with suppress(ValueError, AttributeError, RecursionError):
        doc: Any = json.loads(body)
        if isinstance(doc, dict) and isinstance(doc.get("message"), str):
            return clean_outside(str(doc["message"]))
    return clean_outside(body, 200)
