"""The Docker API proxy: Docker's engine API on a private socket, with ``se://`` resolved.

Each request is routed once, by the gate (:func:`~.gate.route_of`), the way dockerd will route
it; a target the gate cannot read is refused (400).  Container and exec create are rewritten,
a commit of a container holding secrets is refused (:mod:`.commit`), inspect answers show
references again (:mod:`.rewrite`); every other request goes on to the real engine unchanged,
byte for byte, and its answer comes back the same way (:mod:`.relay`).  When the engine switches
protocols (``101 UPGRADED``: ``attach``, ``exec -it``, ``run -i``) or answers with a body that
lasts until the connection closes, both directions are spliced raw.  HTTP/1.0 clients are
served too (their connection closes after the answer).

Limits, as on the engine socket (:mod:`docker_pass.daemon.limits`): a connection limit of its
own, below the descriptor limit; a connection with no request in progress is closed after the
idle timeout, and a request head that takes longer than that to arrive counts as none; a
rewritten request's body has the request timeout.  Past the connection limit a client is
answered 503 and closed.

The socket is 0600 in a 0700 directory, and each connection's peer is checked with
SO_PEERCRED, by the same check as the engine socket's (:mod:`docker_pass.daemon.peers`).
Logs name methods, routes, variables and IDs; never a body, never a value.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import suppress
from typing import TYPE_CHECKING

import h11

from docker_pass.core.errors import describe_unexpected
from docker_pass.daemon.docker.commit import commit_refusal
from docker_pass.daemon.docker.gate import RouteKind, route_of
from docker_pass.daemon.docker.relay import (
    MAX_REWRITE_BODY,
    BodyTooLargeError,
    Refusal,
    Side,
    Upstream,
    answer,
    answer_malformed,
    cancel,
    drain_request,
    framed,
    mirror,
    mirror_request,
    pump_body,
    read_body,
    splice,
)
from docker_pass.daemon.docker.rewrite import (
    ENGINE_SILENT,
    INSPECTS,
    RESOLVE_TIMEOUT,
    answer_create,
    answer_inspect,
    prepare_create,
    send_create,
)
from docker_pass.daemon.limits import ConnectionGuard, ServerLimits
from docker_pass.daemon.peers import accepted_peer

if TYPE_CHECKING:
    from docker_pass.daemon.docker.gate import Route
    from docker_pass.daemon.docker.rewrite import EngineCall

log = logging.getLogger("docker_pass.docker_proxy")

_CREATES = frozenset({RouteKind.CONTAINER_CREATE, RouteKind.EXEC_CREATE})
_SLOW_BODY = Refusal(408, "docker-pass: the request's body did not arrive in time")
_LARGE_BODY = Refusal(
    413,
    f"docker-pass: the request's body is too large to rewrite (at most {MAX_REWRITE_BODY} bytes)",
)


class DockerProxy:
    """Serves one socket's connections, forwarding each to its own upstream connection.

    ``limits``: the idle timeout (and the connection limit unless ``max_connections`` is
    given: :func:`~docker_pass.daemon.limits.connection_limits` shares the descriptors);
    ``resolve_timeout`` bounds resolving a create's references and reading its body.
    """

    def __init__(
        self,
        upstream: Upstream,
        engine_call: EngineCall,
        *,
        resolve_timeout: float = RESOLVE_TIMEOUT,
        empty_lookup: bool = True,
        limits: ServerLimits | None = None,
        max_connections: int | None = None,
    ) -> None:
        self.upstream = upstream
        #: Whether a variable sent empty takes the secret named like it.
        self.empty_lookup = empty_lookup
        self._engine_call = engine_call
        self._resolve_timeout = resolve_timeout
        limits = limits or ServerLimits()
        self._idle_timeout = limits.idle_timeout
        self.guard = ConnectionGuard(
            limits, max_connections=max_connections, server="the Docker proxy"
        )
        #: Whether the listening socket counts connections in (``PacedListener.refuse_past``)
        #: before they reach :meth:`handle`; else :meth:`handle` does.
        self.counted_on_accept = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.requests = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client connection, from accept to close."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            if not self.counted_on_accept and not self.guard.take():
                writer.write(busy_answer(self.guard.max_connections))  # sent before the close
                return
            try:
                if accepted_peer(writer.get_extra_info("socket"), log) is not None:
                    await self._serve(Side.client(reader, writer))
            finally:
                self.guard.release()
        except (ConnectionError, asyncio.IncompleteReadError, h11.ProtocolError) as exc:
            log.debug("connection ended: %s", type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - one connection's end: a line, no traceback
            log.warning("a Docker proxy connection failed: %s", describe_unexpected(exc))
        except asyncio.CancelledError:
            # close_connections(): the task ends here, quietly.  (Python 3.11's stream server
            # asks a cancelled handler task for its exception, and logs a traceback.)
            log.debug("connection closed on shutdown")
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
                request = await self._next_request(client)
                if request is None:
                    return
                self.requests += 1
                try:
                    route = route_of(request.method, request.target)
                except Refusal as refusal:
                    log.info("%s refused: %s", _method(request), refusal.message)
                    await answer(client, refusal, close=True)
                    return
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
                keep = await self._exchange(client, upstream, request, route)
                if not keep or not (client.done() and upstream.done()):
                    return
                client.conn.start_next_cycle()
                upstream.conn.start_next_cycle()
        finally:
            if upstream is not None:
                upstream.close()

    async def _next_request(self, client: Side) -> h11.Request | None:
        """The next request's head, within the idle timeout (``None``: the connection ends)."""
        try:
            async with asyncio.timeout(self._idle_timeout):
                event = await client.next_event()
        except TimeoutError:
            log.debug("closing an idle connection")
            return None
        except h11.RemoteProtocolError as exc:
            await answer_malformed(client, exc)
            return None
        return event if isinstance(event, h11.Request) else None

    async def _exchange(
        self, client: Side, upstream: Side, request: h11.Request, route: Route
    ) -> bool:
        """Forward one request and its answer; whether the connection can carry another."""
        if route.kind in _CREATES:
            return await self._create(client, upstream, request, route)
        if route.kind is RouteKind.COMMIT:
            host = dict(request.headers).get(b"host", b"docker")
            try:
                refusal = await commit_refusal(self.upstream, route, host)
            except Refusal as unreadable:
                refusal = unreadable
            if refusal is not None:
                log.info("commit refused: %s", refusal.message)
                await drain_request(client)
                await answer(client, refusal)
                return True
        mirror_request(upstream, request)  # keep its state in step; the bytes are the client's
        await upstream.send(client.consumed())
        pump = asyncio.create_task(pump_body(client, upstream))
        try:
            return await self._relay_response(client, upstream, request, pump, route)
        finally:
            await cancel(pump)

    async def _relay_response(
        self,
        client: Side,
        upstream: Side,
        request: h11.Request,
        pump: asyncio.Task[None],
        route: Route,
    ) -> bool:
        """Pass the engine's answer on as it arrives; whether the connection can carry
        another request."""
        while True:
            try:
                event = await upstream.next_event()
            except (ConnectionError, h11.RemoteProtocolError):
                event = h11.ConnectionClosed()
            if isinstance(event, h11.InformationalResponse):
                await client.send(upstream.consumed())
                if event.status_code == 101:
                    await splice(client, upstream, pump)
                    return False
                mirror(client.conn, event)
                continue
            if not isinstance(event, h11.Response):
                # Closed without an answer: say so, if nothing of one has gone out yet.
                if client.conn.our_state is h11.SEND_RESPONSE:
                    await answer(client, ENGINE_SILENT, close=True)
                return False
            if route.kind in INSPECTS and event.status_code == 200:
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
                    if not pump.done():
                        # Answered before the request ended (a 301, a 404): the rest of it
                        # is not passed on, and this connection carries no other request.
                        return False
                    await pump  # raises if the client went away mid-body
                    return True
                if not isinstance(part, h11.Data):
                    return False

    async def _create(
        self, client: Side, upstream: Side, request: h11.Request, route: Route
    ) -> bool:
        """A container (or exec) create: its references resolved before it goes on; refused
        here, and never sent, when one cannot be."""
        try:
            async with asyncio.timeout(self._resolve_timeout):
                body = await read_body(client)
        except TimeoutError:
            await answer(client, _SLOW_BODY, close=True)
            return False
        except BodyTooLargeError:
            await answer(client, _LARGE_BODY, close=True)
            return False
        except h11.RemoteProtocolError as exc:  # a body h11 cannot read (bad chunking)
            await answer_malformed(client, exc)
            return False
        raw = client.consumed()
        try:
            rewrite = await prepare_create(
                body,
                route=route,
                engine_call=self._engine_call,
                timeout=self._resolve_timeout,
                empty_lookup=self.empty_lookup,
            )
        except Refusal as refusal:
            log.info("%s refused: %s", route.kind.value, refusal.message)
            await answer(client, refusal)
            return True
        await send_create(upstream, request, route, body, raw, rewrite)
        return await answer_create(client, upstream, self.upstream, request, route, rewrite)


def _method(request: h11.Request) -> str:
    return request.method.decode("latin-1")


def busy_answer(limit: int) -> bytes:
    """The answer past the connection limit: 503, as the engine words errors, then close."""
    body = json.dumps(
        {"message": f"docker-pass: too many connections to the Docker proxy (the limit is {limit})"}
    ).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body) + 1}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body + b"\n"
