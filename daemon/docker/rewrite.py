"""The Docker proxy's two rewrites: container create with secrets, inspect with references.

- **container create** (and exec create): ``Env`` values that start with ``se://`` are resolved
  through the engine and replaced, ``x-secret:<ID>`` labels become files written into the
  container before anyone can start it (:mod:`.files`), and the variables resolved are
  recorded in a label (:mod:`docker_pass.core.docker.container`); a reference that fails
  answers 400 with ``resolving X: …``, so no container exists;
- **container inspect**: the variables the proxy resolved show their reference again.

A body to rewrite is read whole (at most :data:`~.relay.MAX_REWRITE_BODY` bytes); one the
proxy cannot read as JSON goes on as it came, for the engine to judge.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import TYPE_CHECKING, Any

import h11

from docker_pass.core.docker.container import prepare_config, show_references, wants_resolving
from docker_pass.core.errors import DockerPassError, describe_unexpected
from docker_pass.core.references.resolution import ReferenceStatus
from docker_pass.daemon.docker.files import FileInjectionError, inject_files
from docker_pass.daemon.docker.relay import (
    Refusal,
    answer,
    headers_without_framing,
    read_body,
    respond,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from docker_pass.core.docker.container import PreparedContainer
    from docker_pass.core.engine import Engine
    from docker_pass.core.references.resolution import ReferenceResult
    from docker_pass.daemon.docker.relay import Side, Upstream

    #: How the proxy runs work with the daemon's engine (``EngineHost.call``).
    EngineCall = Callable[[Callable[[Engine], Any]], Awaitable[Any]]

log = logging.getLogger("docker_pass.docker_proxy")

#: Seconds the engine may take to resolve one create's references.
RESOLVE_TIMEOUT = 30.0

_VERSION = r"(/v[0-9]+(?:\.[0-9]+)?)?"
CREATE_PATH = re.compile(_VERSION + r"/containers/create")
EXEC_PATH = re.compile(_VERSION + r"/containers/[^/]+/exec")
INSPECT_PATH = re.compile(_VERSION + r"/containers/[^/]+/json")


def rewrites_request(method: bytes, path: str) -> bool:
    """Whether a request is a create whose config the proxy may rewrite."""
    return method == b"POST" and (
        CREATE_PATH.fullmatch(path) is not None or EXEC_PATH.fullmatch(path) is not None
    )


def rewrites_answer(method: bytes, path: str) -> bool:
    """Whether a request's answer is an inspect the proxy rewrites."""
    return method == b"GET" and INSPECT_PATH.fullmatch(path) is not None


async def prepare_create(
    body: bytes,
    *,
    is_create: bool,
    engine_call: EngineCall,
    timeout: float,
    empty_lookup: bool = False,
) -> PreparedContainer | None:
    """The config with its references resolved, ``None`` when it has none to resolve;
    :class:`Refusal` when one cannot be resolved."""
    try:
        config = json.loads(body) if body.strip() else {}
    except ValueError:
        return None  # the engine answers a body it cannot read better than we could
    if not isinstance(config, dict):
        return None
    try:
        if not wants_resolving(config, labels=is_create, empty_lookup=empty_lookup):
            return None
    except DockerPassError as exc:
        raise Refusal(400, str(exc)) from None

    def work(engine: Engine) -> PreparedContainer:
        return prepare_config(config, engine.resolve, labels=is_create, empty_lookup=empty_lookup)

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
    return prepared


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
    path: str,
    body: bytes,
    raw: bytes,
    prepared: PreparedContainer | None,
) -> None:
    """Pass a create on: the client's own bytes (``raw``) when nothing was resolved, else the
    request with its resolved config."""
    if prepared is None or not prepared.changed:
        upstream.conn.send(request)  # keep its state in step; the bytes are the client's own
        if body:
            upstream.conn.send(h11.Data(data=body))
        upstream.conn.send(h11.EndOfMessage())
        await upstream.send(raw)
        return
    new_body = json.dumps(prepared.config).encode()
    headers = headers_without_framing(request.headers, len(new_body))
    rewritten = h11.Request(method=request.method, target=request.target, headers=headers)
    data = upstream.conn.send(rewritten) or b""
    data += upstream.conn.send(h11.Data(data=new_body)) or b""
    data += upstream.conn.send(h11.EndOfMessage()) or b""
    await upstream.send(data)
    log.info(
        "%s %s: resolved %s",
        request.method.decode(),
        path,
        ", ".join(sorted(prepared.references)) or "no variables",
    )


async def answer_create_with_files(
    client: Side,
    upstream: Side,
    engine: Upstream,
    request: h11.Request,
    path: str,
    prepared: PreparedContainer,
) -> bool:
    """Read the create's answer whole; once the container exists, write its files, and
    remove it again if that fails, so no container is left without its secrets."""
    while True:
        event = await upstream.next_event()
        if isinstance(event, h11.InformationalResponse):
            continue
        break
    if not isinstance(event, h11.Response):
        return False
    body = await read_body(upstream)
    upstream.consumed()
    if event.status_code == 201:
        try:
            container_id = json.loads(body)["Id"]
            version = CREATE_PATH.fullmatch(path) or EXEC_PATH.fullmatch(path)
            prefix = (version.group(1) if version else "") or ""
            user = str(prepared.config.get("User") or "")
            await inject_files(engine, prefix, request, container_id, prepared.files, user)
        except FileInjectionError as exc:
            await answer(client, Refusal(400, str(exc)))
            return True
        except (ValueError, KeyError, TypeError):
            await answer(
                client, Refusal(502, "docker-pass: the engine's create answer has no container Id")
            )
            return True
        log.info("wrote %d secret file(s) into %s", len(prepared.files), container_id[:12])
    headers = headers_without_framing(event.headers, len(body))
    await respond(client, event.status_code, headers, body, event.reason)
    return True


async def answer_inspect(
    client: Side,
    upstream: Side,
    response: h11.Response,
    pump: asyncio.Task[None] | None,
) -> bool:
    """An inspect's answer, read whole, with the variables the proxy resolved showing their
    references again."""
    body = await read_body(upstream)
    upstream.consumed()
    if pump is not None:
        await pump
    try:
        doc = json.loads(body)
        if isinstance(doc, dict) and show_references(doc):
            body = (json.dumps(doc) + "\n").encode()
    except ValueError:
        pass  # not ours to judge: passed on as it came
    headers = headers_without_framing(response.headers, len(body))
    await respond(client, response.status_code, headers, body, response.reason)
    return True


def _with_hints(exc: DockerPassError) -> str:
    hints = "; ".join(exc.hints)
    return f"{exc} ({hints})" if hints else str(exc)
