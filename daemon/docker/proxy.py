"""The Docker API proxy: Docker's engine API on a private socket, with ``se://`` resolved.

Every request goes on to the real engine unchanged, byte for byte, and every answer comes back
the same way (:mod:`.relay`), except container create and inspect (:mod:`.rewrite`).  When the
engine switches protocols (``101 UPGRADED``: ``attach``, ``exec -it``, ``run -i``) or answers
with a body that lasts until the connection closes, both directions are spliced raw.

The socket is 0600 in a 0700 directory, and each connection's peer is checked with
SO_PEERCRED, by the same check as the engine socket's (:mod:`docker_pass.daemon.peers`).
Logs name methods, paths, variables and IDs; never a body, never a value.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import TYPE_CHECKING

import h11

from docker_pass.daemon.docker.relay import (
    Refusal,
    Side,
    Upstream,
    answer,
    cancel,
    drain_request,
    framed,
    mirror,
    path_of,
    pump_body,
    read_body,
    splice,
)
from docker_pass.daemon.docker.rewrite import (
    CREATE_PATH,
    RESOLVE_TIMEOUT,
    answer_create_with_files,
    answer_inspect,
    prepare_create,
    rewrites_answer,
    rewrites_request,
    send_create,
)
from docker_pass.daemon.peers import accepted_peer

if TYPE_CHECKING:
    from docker_pass.daemon.docker.rewrite import EngineCall

log = logging.getLogger("docker_pass.docker_proxy")


class DockerProxy:
    """Serves one socket's connections, forwarding each to its own upstream connection."""

    def __init__(
        self,
        upstream: Upstream,
        engine_call: EngineCall,
        *,
        resolve_timeout: float = RESOLVE_TIMEOUT,
        empty_lookup: bool = True,
    ) -> None:
        self.upstream = upstream
        #: Whether a variable sent empty takes the secret named like it.
        self.empty_lookup = empty_lookup
        self._engine_call = engine_call
        self._resolve_timeout = resolve_timeout
        self._tasks: set[asyncio.Task[None]] = set()
        self.requests = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client connection, from accept to close."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            if accepted_peer(writer.get_extra_info("socket"), log) is not None:
                await self._serve(Side.client(reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError, h11.ProtocolError) as exc:
            log.debug("connection ended: %s", type(exc).__name__)
        finally:
            with suppress(Exception):
                writer.close()
            if task is not None:
                self._tasks.discard(task)

    def close_connections(self) -> None:
        """Shutting down: end every open connection (hijacked sessions included)."""
        for task in list(self._tasks):
            task.cancel()

    async def _serve(self, client: Side) -> None:
        upstream: Side | None = None
        try:
            while True:
                request = await client.next_event()
                if not isinstance(request, h11.Request):
                    return  # closed, or paused after a protocol switch we did not make
                self.requests += 1
                if upstream is not None and upstream.reader.at_eof():
                    upstream.close()  # the engine closed its idle end: a new connection
                    upstream = None
                if upstream is None:
                    try:
                        upstream = await Side.engine(self.upstream)
                    except Refusal as refusal:
                        await drain_request(client)
                        await answer(client, refusal, close=True)
                        return
                keep = await self._exchange(client, upstream, request)
                if not keep or not (client.done() and upstream.done()):
                    return
                client.conn.start_next_cycle()
                upstream.conn.start_next_cycle()
        finally:
            if upstream is not None:
                upstream.close()

    async def _exchange(self, client: Side, upstream: Side, request: h11.Request) -> bool:
        """Forward one request and its answer; whether the connection can carry another."""
        path = path_of(request.target)
        if rewrites_request(request.method, path):
            return await self._create(client, upstream, request, path)
        upstream.conn.send(request)  # keep its state in step; the bytes are the client's own
        await upstream.send(client.consumed())
        pump = asyncio.create_task(pump_body(client, upstream))
        try:
            inspect = rewrites_answer(request.method, path)
            return await self._relay_response(client, upstream, request, pump, inspect=inspect)
        finally:
            await cancel(pump)

    async def _relay_response(
        self,
        client: Side,
        upstream: Side,
        request: h11.Request,
        pump: asyncio.Task[None] | None,
        *,
        inspect: bool = False,
    ) -> bool:
        """Pass the engine's answer on as it arrives; whether the connection can carry
        another request."""
        while True:
            event = await upstream.next_event()
            if isinstance(event, h11.InformationalResponse):
                await client.send(upstream.consumed())
                if event.status_code == 101:
                    await splice(client, upstream, pump)
                    return False
                mirror(client.conn, event)
                continue
            if not isinstance(event, h11.Response):
                return False  # the engine closed the connection
            if inspect and event.status_code == 200:
                return await answer_inspect(client, upstream, event, pump)
            await client.send(upstream.consumed())
            if not mirror(client.conn, event) or not framed(request, event):
                # A body that lasts until the connection closes: a raw stream from here on.
                await splice(client, upstream, pump)
                return False
            while True:
                part = await upstream.next_event(forward_to=client)
                await client.send(upstream.consumed())
                if isinstance(part, h11.Data | h11.EndOfMessage):
                    mirror(client.conn, part)
                if isinstance(part, h11.EndOfMessage):
                    if pump is not None:
                        await pump
                    return True
                if not isinstance(part, h11.Data):
                    return False

    async def _create(self, client: Side, upstream: Side, request: h11.Request, path: str) -> bool:
        """A container (or exec) create: its references resolved before it goes on; refused
        here, and never sent, when one cannot be."""
        body = await read_body(client)
        raw = client.consumed()
        try:
            prepared = await prepare_create(
                body,
                is_create=CREATE_PATH.fullmatch(path) is not None,
                engine_call=self._engine_call,
                timeout=self._resolve_timeout,
                empty_lookup=self.empty_lookup,
            )
        except Refusal as refusal:
            log.info("%s %s refused: %s", request.method.decode(), path, refusal.message)
            await answer(client, refusal)
            return True
        await send_create(upstream, request, path, body, raw, prepared)
        if prepared is None or not prepared.files:
            return await self._relay_response(client, upstream, request, None)
        return await answer_create_with_files(
            client, upstream, self.upstream, request, path, prepared
        )
