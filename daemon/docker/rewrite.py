"""The Docker proxy's rewrites, on the routes the gate found (:mod:`.gate`).

- **container create** and **exec create**: the body is read as dockerd reads it (:mod:`.body`),
  then prepared in domain terms (:func:`~docker_pass.core.docker.container.prepare_config`):
  ``Env`` values that start with ``se://`` are resolved through the engine and replaced
  (variables sent empty are looked up by name, when that is on); an entry with no name is
  refused before anything is resolved, and so is a value dockerd could not pass on intact (not
  UTF-8 text, a NUL byte), naming the variable, since dockerd and runc quote such entries,
  value and all, in their errors and logs.  ``x-secret`` labels become files written before
  anyone can start the container (:mod:`.files`), and the variables resolved are recorded in a
  label; a reference that fails answers 400 with ``resolving X: …``, so no container exists.
  A rewritten body is padded past what dockerd's ``--debug`` log shows.  The create's answer
  is read whole and sent on re-framed.
- **container inspect** and **image inspect**: the variables the proxy resolved show as they
  were sent again: a container's ``Config``, and an image's ``Config`` and ``ContainerConfig``
  (a committed image carries its container's labels, the record included).

A body to rewrite is read whole (at most :data:`~.relay.MAX_REWRITE_BODY` bytes).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

import h11

from docker_pass.core.docker.container import prepare_config, show_references, wants_resolving
from docker_pass.core.errors import DockerPassError, describe_unexpected
from docker_pass.core.outside import clean_outside
from docker_pass.core.references.resolution import ReferenceStatus
from docker_pass.daemon.docker.body import read_config
from docker_pass.daemon.docker.files import FileInjectionError, inject_files
from docker_pass.daemon.docker.gate import RouteKind
from docker_pass.daemon.docker.relay import (
    Refusal,
    answer,
    as_http11,
    headers_without_framing,
    mirror_request,
    read_body,
    respond,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from docker_pass.core.docker.container import PreparedContainer
    from docker_pass.core.engine import Engine
    from docker_pass.core.references.resolution import ReferenceResult
    from docker_pass.daemon.docker.gate import Route
    from docker_pass.daemon.docker.relay import Side, Upstream

    #: How the proxy runs work with the daemon's engine (``EngineHost.call``).
    EngineCall = Callable[[Callable[[Engine], Any]], Awaitable[Any]]

log = logging.getLogger("docker_pass.docker_proxy")

#: Seconds the engine may take to resolve one create's references.
RESOLVE_TIMEOUT = 30.0
#: The routes whose answers show references again.
INSPECTS = frozenset({RouteKind.CONTAINER_INSPECT, RouteKind.IMAGE_INSPECT})
#: Headers a rewritten request does not carry on (its body is whole: nothing to wait for).
_DROPPED = frozenset({b"content-length", b"transfer-encoding", b"expect"})


class CreateRewrite:
    """A create with its references resolved: ``prepared`` (values: never logged) and the
    ``body`` to send instead of the client's (``None``: the client's own bytes go on)."""

    __slots__ = ("body", "prepared")

    def __init__(self, prepared: PreparedContainer, body: bytes | None) -> None:
        self.prepared = prepared
        self.body = body


async def prepare_create(
    body: bytes,
    *,
    route: Route,
    engine_call: EngineCall,
    timeout: float,
    empty_lookup: bool = False,
) -> CreateRewrite | None:
    """The create with its references resolved (and, with ``empty_lookup``, its variables
    sent empty looked up by name), ``None`` when it has none to resolve; :class:`Refusal`
    when it must not go on."""
    config = read_config(body)
    if config is None:
        return None  # not an object: dockerd answers it, nothing in it is ours
    fields = dict(config.fields)
    labels = route.kind is RouteKind.CONTAINER_CREATE
    try:
        if not wants_resolving(fields, labels=labels, empty_lookup=empty_lookup):
            return None
    except DockerPassError as exc:
        raise Refusal(400, str(exc)) from None

    def work(engine: Engine) -> PreparedContainer:
        return prepare_config(fields, engine.resolve, labels=labels, empty_lookup=empty_lookup)

    try:
        prepared: PreparedContainer = await asyncio.wait_for(engine_call(work), timeout)
    except TimeoutError:
        raise Refusal(
            504, f"docker-pass: resolving secrets took longer than {timeout:g} s"
        ) from None
    except DockerPassError as exc:
        raise Refusal(400, _with_hints(exc)) from None
    except Exception as exc:  # noqa: BLE001 - never a traceback, never a value
        log.warning("resolving failed: %s", describe_unexpected(exc))
        raise Refusal(
            500, f"docker-pass: resolving secrets failed: {describe_unexpected(exc)}"
        ) from None
    for variable, looked in prepared.lookups.items():
        _log_lookup(variable, looked)
    if not prepared.changed:
        return CreateRewrite(prepared, None)
    rewritten: dict[str, Any] = {
        name: prepared.config[name] for name in ("Env", "Labels") if name in prepared.config
    }
    return CreateRewrite(prepared, config.encode(rewritten))


def _log_lookup(variable: str, looked: ReferenceResult) -> None:
    """How an empty variable's lookup by name fared (never a value): a failure other than "no
    such secret" is worth a warning, as Docker's injector logs it."""
    if not looked.failed:
        log.info("%s (sent empty): looked up by name, from %s", variable, looked.provider)
    elif looked.status is ReferenceStatus.NOT_FOUND:
        log.debug("%s (sent empty): no secret of that name: left empty", variable)
    else:
        log.warning("%s (sent empty): looking it up by name failed: %s", variable, looked.error)


async def send_create(
    upstream: Side,
    request: h11.Request,
    route: Route,
    body: bytes,
    raw: bytes,
    rewrite: CreateRewrite | None,
) -> None:
    """Pass a create on: the client's own bytes (``raw``, holding ``body``) when nothing was
    resolved, else the request with its resolved config."""
    if rewrite is None or rewrite.body is None:
        mirror_request(upstream, request)  # keep its state in step; the bytes are the client's
        if body:
            upstream.conn.send(h11.Data(data=body))
        upstream.conn.send(h11.EndOfMessage())
        await upstream.send(raw)
        return
    sent = request.headers if request.http_version == b"1.1" else as_http11(request)
    headers = [(n, v) for n, v in sent if n not in _DROPPED]
    headers.append((b"content-length", str(len(rewrite.body)).encode()))
    rewritten = h11.Request(method=request.method, target=request.target, headers=headers)
    data = upstream.conn.send(rewritten) or b""
    data += upstream.conn.send(h11.Data(data=rewrite.body)) or b""
    data += upstream.conn.send(h11.EndOfMessage()) or b""
    await upstream.send(data)
    references = ", ".join(sorted(clean_outside(name, 60) for name in rewrite.prepared.references))
    log.info("%s: resolved %s", route.kind.value, references or "no variables")


async def answer_create(
    client: Side,
    upstream: Side,
    engine: Upstream,
    request: h11.Request,
    route: Route,
    rewrite: CreateRewrite | None,
) -> bool:
    """Read a create's answer whole; once the container exists, write its files (removing it
    again if that fails, so no container is left without its secrets); answer the client."""
    response = await first_response(upstream)
    if response is None:
        await answer(client, ENGINE_SILENT, close=True)
        return False
    body = await read_body(upstream)
    upstream.consumed()
    files = rewrite.prepared.files if rewrite is not None else ()
    if files and response.status_code == 201:
        try:
            container_id = json.loads(body)["Id"]
            user = str(rewrite.prepared.config.get("User") or "") if rewrite else ""
            await inject_files(engine, route.prefix, request, container_id, files, user)
        except FileInjectionError as exc:
            await answer(client, Refusal(400, str(exc)))
            return True
        except (ValueError, KeyError, TypeError):
            await answer(
                client, Refusal(502, "docker-pass: the engine's create answer has no container Id")
            )
            return True
        log.info("wrote %d secret file(s) into %s", len(files), str(container_id)[:12])
    headers = headers_without_framing(response.headers, len(body))
    await respond(client, response.status_code, headers, body, response.reason)
    return True


async def first_response(upstream: Side) -> h11.Response | None:
    """The engine's answer's head, past any ``1xx``; ``None`` if it closed without one."""
    while True:
        try:
            event = await upstream.next_event()
        except (ConnectionError, h11.RemoteProtocolError):
            return None
        if isinstance(event, h11.Response):
            return event
        if not isinstance(event, h11.InformationalResponse):
            return None


#: What the client is told when the engine closes without answering.
ENGINE_SILENT = Refusal(
    502, "docker-pass: the Docker engine closed the connection without an answer"
)


async def answer_inspect(
    client: Side,
    upstream: Side,
    response: h11.Response,
    pump: asyncio.Task[None],
) -> bool:
    """An inspect's answer, read whole, with the variables the proxy resolved showing their
    references again."""
    body = await read_body(upstream)
    upstream.consumed()
    try:
        doc = json.loads(body)
        if isinstance(doc, dict) and show_references(doc):
            body = (json.dumps(doc) + "\n").encode()
    except (ValueError, RecursionError):
        pass  # not ours to judge: passed on as it came
    headers = headers_without_framing(response.headers, len(body))
    await respond(client, response.status_code, headers, body, response.reason)
    if not pump.done():
        return False  # answered before the request ended: no other request on it
    await pump
    return True


def _with_hints(exc: DockerPassError) -> str:
    hints = "; ".join(exc.hints)
    return f"{exc} ({hints})" if hints else str(exc)
