"""The daemon's ASGI application: each request to its service, with a deadline, counted.

Connect services are mounted by their path (``/resolver.v1.ResolverService``); the method is
the last path segment, and connectrpc's application for the service handles the rest (both
codecs, Connect's error format, the deadline in ``Connect-Timeout-Ms``, which
:func:`~.limits.with_default_deadline` adds when the client sets none).  A route that is not a
Connect service (an HTTP upgrade, say) would be one more entry looked up by its full path.
uvicorn speaks HTTP/1.1 on the sockets; each connection's peer is checked before any request
reaches this application (:mod:`.peers`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from docker_pass.daemon.changes import ChangeWatch
from docker_pass.daemon.feed import ChangeFeed
from docker_pass.daemon.limits import with_default_deadline
from docker_pass.daemon.peers import set_request_peer
from docker_pass.daemon.routes import Routes
from docker_pass.daemon.services import connect_services

if TYPE_CHECKING:
    from docker_pass.daemon.engine_host import EngineHost
    from docker_pass.daemon.limits import ServerLimits

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class EngineApplication:
    """The ASGI application: routes each request to its service and counts requests."""

    def __init__(
        self, host: EngineHost, limits: ServerLimits, watch: ChangeWatch | None = None
    ) -> None:
        """``watch``: what tells the loop nothing changed (:mod:`.routes`); without one,
        every ``GetSecrets`` asks the engine (the routes it makes are not kept)."""
        self._request_timeout = limits.request_timeout
        self.started_at = datetime.now(UTC)
        #: Requests received, by path (what ``engine status`` shows).
        self.requests: Counter[str] = Counter()
        #: How ``GetSecrets`` is answered on the loop (:mod:`.routes`).
        self.routes = Routes(host, watch or ChangeWatch(enabled=False))
        #: What changed, for the subscribers of ``WatchSecrets`` (:mod:`.feed`).
        self.feed = ChangeFeed()
        services = connect_services(host, self.routes, self.started_at, self.requests, self.feed)
        self._by_service: dict[str, ASGIApp] = {app.path: app for app in services}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan is off; websockets are not offered
        path = str(scope.get("path", ""))
        app = self._by_service.get(path.rpartition("/")[0])
        if app is None:
            await unimplemented(send, path)
            return
        self.requests[path] += 1
        set_request_peer(scope)
        await app(with_default_deadline(scope, self._request_timeout), receive, send)


async def unimplemented(send: Send, path: str) -> None:
    """Connect's answer for an unknown service: HTTP 404 with code ``unimplemented``."""
    body = json.dumps({"code": "unimplemented", "message": f"no such service: {path}"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
