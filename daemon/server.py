"""The engine daemon: one warm :class:`Engine` per user, served with Connect over a Unix socket.

- Services: ``resolver.v1.ResolverService``, ``plugins.v1.PluginManagementService`` and
  ``health.v1.VersionService`` exactly as Docker's secrets engine offers them, plus
  ``dockerpass.v1.ListingService`` (IDs without values, for the TUI).  Both codecs
  (``application/proto`` and ``application/json``) and Connect's error format come from
  ``connectrpc``; uvicorn speaks HTTP/1.1 on the socket.  What docker-pass's own fronts show
  beyond the public messages (who was asked, plugin storage, hints) rides in ``docker-pass-*``
  response headers as JSON (:mod:`.wire`), readable without protobuf and ignored by others.
- Security: the socket's directory is 0700 and the socket is created 0600 (never chmod'ed
  afterwards); every connection's peer is checked with SO_PEERCRED and dropped unless it is the
  same user or root.
- Warm plugins: they are started once, before the socket appears, and stay up; a plugin may
  define ``refresh()`` (for example to re-read a 1Password item list), which is called every
  ``refresh_interval`` seconds.  Engine calls run side by side on engine threads; a plugin
  sees two requests at once only if it says it may (``concurrent = True``), so a slow plugin
  delays only the requests that need it, and a crash recorded by one request is what every
  later client sees.
- Never wedged (:mod:`.limits`): every request has a deadline (``Connect-Timeout-Ms``, else
  ``engine run --request-timeout``) past which it is answered ``deadline_exceeded`` while a
  hung plugin keeps only its own engine thread; the event loop never waits for those, so
  ``GetVersion`` and SIGTERM are always answered.  Idle connections close after a few
  seconds, connections past a limit are refused at once, and running out of descriptors
  pauses accepting instead of spinning.
- One engine per user: a lock in ``$XDG_STATE_HOME/docker-pass/engine.lock`` (holding the pid
  and socket path) is taken before anything else; a socket file left by a killed engine is
  removed, one that still answers is never touched.

Nothing here logs or returns a secret value: requests are logged by method and pattern, errors
by their docker-pass message or, for anything else, by exception type.
"""

from __future__ import annotations

import asyncio
import contextvars
import errno
import json
import logging
import os
import signal
import socket
import stat
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import uvicorn
from protobuf.wkt import Timestamp

from docker_pass.core.config import config_path
from docker_pass.core.engine import Engine, calling
from docker_pass.core.errors import DockerPassError, NoPluginMatchesError
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.names import KEYCHAIN_PLUGIN
from docker_pass.core.registry import plugin_specs
from docker_pass.core.remote.endpoint import (
    SOCKET_DIR_NAME,
    PeerCredentials,
    SocketLocation,
    abstract_address,
    abstract_socket_name,
    addressable,
    connect_unix,
    lock_path,
    peer_credentials,
)
from docker_pass.core.remote.wire import (
    ENGINE_HEADER,
    ENGINE_VERSION,
    HINTS_HEADER,
    PLUGINS_HEADER,
    RESOLUTION_HEADER,
)
from docker_pass.daemon.gen.dockerpass.v1 import api_connect as dockerpass_connect
from docker_pass.daemon.gen.dockerpass.v1 import api_pb as dockerpass_pb
from docker_pass.daemon.gen.health.v1 import api_connect as health_connect
from docker_pass.daemon.gen.health.v1 import api_pb as health_pb
from docker_pass.daemon.gen.plugins.v1 import api_connect as plugins_connect
from docker_pass.daemon.gen.plugins.v1 import api_pb as plugins_pb
from docker_pass.daemon.gen.resolver.v1 import api_connect as resolver_connect
from docker_pass.daemon.gen.resolver.v1 import api_pb as resolver_pb
from docker_pass.daemon.limits import (
    ENGINE_CLOSE_TIMEOUT,
    ConnectionGuard,
    EngineCalls,
    GuardedH11Protocol,
    LimitedConfig,
    PacedListener,
    ServerLimits,
    quiet_exhaustion,
    with_default_deadline,
)
from docker_pass.daemon.protocol import (
    connect_error,
    envelope_message,
    info_message,
    json_header,
    plugin_detail,
    plugin_message,
    resolution_message,
)

if TYPE_CHECKING:
    from pathlib import Path

    from connectrpc.errors import ConnectError
    from connectrpc.request import RequestContext

    from docker_pass.core.docker.endpoint import DockerHost
    from docker_pass.core.plugin import Plugin
    from docker_pass.core.results import Listing, PluginStatus, Removal, Resolution, Saved
    from docker_pass.daemon.docker.proxy import DockerProxy

log = logging.getLogger("docker_pass.engine")

T = TypeVar("T")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Where a connection's :class:`PeerCredentials` rides in each request's ASGI ``state``.
PEER_STATE_KEY = "docker_pass.peer"
#: Seconds between ``refresh()`` calls on plugins that define one.
DEFAULT_REFRESH_INTERVAL = 300.0
#: Pending connections the kernel queues: many clients may start at once (``docker compose up``).
BACKLOG = 1024
#: Seconds in-flight requests get to finish after SIGTERM.
GRACEFUL_SHUTDOWN = 5


class EngineAlreadyRunningError(DockerPassError):
    """Raised by ``engine run`` when this user's engine is already running (or the socket
    path is served by another program); the message says which and where."""


class WarmEngine(Engine):
    """An engine that keeps its plugins up and refreshes the ones that can be refreshed.

    A plugin that can keep values warm (``keep_values_warm()``: the keychain plugin on the file
    store, whose key the daemon holds anyway) is asked to once it has started.
    """

    def _start(self, slot: Any) -> Plugin | None:
        instance = super()._start(slot)
        keep = getattr(instance, "keep_values_warm", None)
        if callable(keep):
            keep()
        return instance

    def refresh_plugins(self) -> list[str]:
        """Call ``refresh()`` on every running plugin that has one; return their names.

        A failure is recorded exactly as a failed request would be (a fatal one crashes the
        plugin for every client), and never stops the others from refreshing.
        """
        refreshed = []
        for slot in self._slots.values():
            refresh = getattr(slot.instance, "refresh", None)
            if not callable(refresh):
                continue
            try:
                with calling(slot, slot.instance):
                    refresh()
            except Exception as exc:  # noqa: BLE001 - one plugin's failure is its own
                message = self._record_failure(slot, exc)
                log.warning("plugin %s: refresh failed: %s", slot.name, message)
                continue
            refreshed.append(slot.name)
        return refreshed


class _Generation:
    """One engine and how many calls run on it; once replaced, its last call closes it."""

    __slots__ = ("engine", "retired", "users")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.users = 0
        self.retired = False


class EngineHost:
    """Owns the daemon's engine and runs calls to it side by side on engine threads.

    Requests for different plugins run at once; calls to a plugin that is not ``concurrent``
    take turns on that plugin's lock in the engine (:func:`~docker_pass.core.engine.calling`),
    and a request whose deadline passes stops waiting (:class:`EngineCalls`).  The engine is
    rebuilt when the config file changes behind the daemon's back (a person edited it, or ran
    ``--no-daemon plugins enable``), so enabled flags and patterns never go stale; calls still
    running finish on the engine they started on, and the last of them closes it.
    """

    def __init__(self, factory: Callable[[], Engine] = WarmEngine) -> None:
        self._factory = factory
        self._calls = EngineCalls()
        self._current: _Generation | None = None
        self._config_seen: tuple[int, int, int] | None = None
        #: Guards the generation bookkeeping and rebuilds (never held over a plugin call).
        self._books = threading.Lock()
        #: Calls running that write the config themselves (enable, disable): meanwhile a
        #: changed config file is ours, not a change made behind the daemon's back.
        self._writing_config = 0
        #: Plugins not shipped with docker-pass (``external`` in the API).
        self.external = {
            name for name, spec in plugin_specs().items() if not spec.startswith("docker_pass.")
        }

    @property
    def threads(self) -> int:
        """Engine threads started so far (``engine status`` and the tests)."""
        return self._calls.threads

    def start(self) -> list[PluginStatus]:
        """Build the engine and start every enabled plugin (blocking; call before serving)."""
        statuses: list[PluginStatus] = self._calls.submit(
            lambda: self._run(lambda engine: engine.plugins(), False)
        ).result()
        return statuses

    async def call(self, work: Callable[[Engine], T], *, writes_config: bool = False) -> T:
        """Run ``work`` with the engine on an engine thread.

        ``writes_config``: the work changes the config file itself (enable, disable), which
        must not look like a change made behind the daemon's back.  Cancelled (its request's
        deadline passed), it returns at once and the work is abandoned.
        """
        return await self._calls.run(lambda: self._run(work, writes_config))

    def stop_waiting(self) -> None:
        """Shutting down: requests waiting for the engine are answered ``unavailable`` now."""
        self._calls.stop_waiting()

    def close(self, timeout: float = ENGINE_CLOSE_TIMEOUT) -> bool:
        """Stop the plugins and the engine threads, waiting at most ``timeout`` seconds;
        whether they stopped.

        A plugin stuck in a call keeps its thread; it is left behind rather than keeping a
        stopping daemon alive (see :func:`run_engine`).
        """
        closing = self._calls.submit(self._retire_current)
        with suppress(Exception):
            closing.result(timeout)
        if self._calls.close(timeout):
            return True
        log.warning(
            "a plugin call has not returned after %g s: exiting without stopping plugins",
            timeout,
        )
        return False

    def _run(self, work: Callable[[Engine], T], writes_config: bool) -> T:
        generation = self._enter(writes_config)
        try:
            return work(generation.engine)
        finally:
            self._leave(generation, writes_config)

    def _enter(self, writes_config: bool) -> _Generation:
        """The current engine, rebuilt first if the config changed behind our back."""
        with self._books:
            seen = _config_signature()
            generation = self._current
            stale = generation is not None and seen != self._config_seen
            if generation is None or (stale and not self._writing_config):
                if generation is not None:
                    log.info("config %s changed: reloading plugins", config_path())
                    self._retire(generation)
                generation = self._current = _Generation(self._factory())
                fresh = True
            else:
                fresh = False
            self._config_seen = seen
            generation.users += 1
            if writes_config:
                self._writing_config += 1
        if fresh:
            generation.engine.plugins()  # warm again at once, as at start
        return generation

    def _leave(self, generation: _Generation, writes_config: bool) -> None:
        with self._books:
            generation.users -= 1
            if writes_config:
                self._writing_config -= 1
                self._config_seen = _config_signature()
            finished = generation.retired and generation.users == 0
        if finished:
            generation.engine.close()

    def _retire(self, generation: _Generation) -> None:
        """Mark ``generation`` replaced (under ``_books``); closed now if idle, else by its
        last call."""
        generation.retired = True
        if generation.users == 0:
            generation.engine.close()

    def _retire_current(self) -> None:
        with self._books:
            generation, self._current = self._current, None
            if generation is not None:
                self._retire(generation)


def _config_signature() -> tuple[int, int, int] | None:
    try:
        st = config_path().stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


# -- the services -------------------------------------------------------------------------------


def failure(ctx: RequestContext[Any, Any], exc: BaseException) -> ConnectError:
    """The Connect error a failed request answers with (see :func:`connect_error`).

    Its hints travel twice: as the error's ``dockerpass.v1.Hints`` detail, for Connect
    clients, and as JSON in the ``docker-pass-hints`` header, for docker-pass's own client,
    which reads no protobuf.
    """
    error = connect_error(exc)
    if isinstance(exc, DockerPassError) and exc.hints:
        ctx.response_headers[HINTS_HEADER] = json_header(dockerpass_pb.Hints(hints=list(exc.hints)))
    return error


class ResolverServiceHandler(resolver_connect.ResolverService):
    """``resolver.v1.ResolverService``: secrets by ID or pattern."""

    def __init__(self, host: EngineHost) -> None:
        self._host = host

    async def get_secrets(
        self,
        request: resolver_pb.GetSecretsRequest,
        ctx: RequestContext[resolver_pb.GetSecretsRequest, resolver_pb.GetSecretsResponse],
    ) -> resolver_pb.GetSecretsResponse:
        """Every envelope matching the pattern; ``not_found`` when there is none."""
        try:
            pattern = Pattern.parse(request.pattern)
            result: Resolution = await self._host.call(lambda engine: engine.resolve(pattern))
        except NoPluginMatchesError as exc:
            # Asked nobody: the header says so, and the client can tell it from a miss.
            nobody = dockerpass_pb.Resolution(pattern=pattern.value)
            ctx.response_headers[RESOLUTION_HEADER] = json_header(nobody)
            raise failure(ctx, exc) from None
        except Exception as exc:  # noqa: BLE001 - every failure becomes a Connect error
            raise failure(ctx, exc) from None
        ctx.response_headers[RESOLUTION_HEADER] = json_header(resolution_message(result))
        log.debug(
            "GetSecrets %s: %d envelope(s); asked %s; errors from %s",
            pattern.value,
            len(result.envelopes),
            ", ".join(result.asked) or "none",
            ", ".join(result.errors) or "none",
        )
        try:
            envelopes = result.envelopes_or_raise()
        except DockerPassError as exc:
            raise failure(ctx, exc) from None
        return resolver_pb.GetSecretsResponse(
            envelopes=[envelope_message(env) for env in envelopes]
        )


#: The peer of the connection a request came on (SO_PEERCRED), for ``Authorize``.
_PEER: contextvars.ContextVar[PeerCredentials | None] = contextvars.ContextVar(
    "docker_pass_peer", default=None
)
#: Seconds an ``Authorize`` decision holds: who is at the other end of a connection cannot
#: change, but a client should ask again now and then rather than cache a decision forever.
AUTHORIZE_TTL = 300.0


class AuthorizerServiceHandler(resolver_connect.AuthorizerService):
    """``resolver.v1.AuthorizerService``: the preflight Docker's client offers.

    Here it means: the engine serves its own user.  ALLOW when the caller, as the kernel
    reports it (SO_PEERCRED), runs as the engine's user; DENY for anyone else (root may
    connect, to see the engine answer, but is not the user the secrets belong to).  Every
    pattern must be valid; the decision holds for :data:`AUTHORIZE_TTL` seconds.
    """

    async def authorize(
        self,
        request: resolver_pb.AuthorizeRequest,
        ctx: RequestContext[resolver_pb.AuthorizeRequest, resolver_pb.AuthorizeResponse],
    ) -> resolver_pb.AuthorizeResponse:
        """Validate the patterns, then decide by the caller's uid."""
        from connectrpc.code import Code
        from connectrpc.errors import ConnectError

        if not request.patterns:
            raise ConnectError(Code.INVALID_ARGUMENT, "at least one pattern is required")
        for text in request.patterns:
            try:
                Pattern.parse(text)
            except DockerPassError as exc:
                raise failure(ctx, exc) from None
        peer = _PEER.get()
        allowed = peer is not None and peer.uid == os.getuid()
        expires = datetime.now(UTC) + timedelta(seconds=AUTHORIZE_TTL)
        log.debug(
            "authorize %d pattern(s) for uid %s: %s",
            len(request.patterns),
            peer.uid if peer is not None else "?",
            "allow" if allowed else "deny",
        )
        return resolver_pb.AuthorizeResponse(
            decision=resolver_pb.Decision.ALLOW if allowed else resolver_pb.Decision.DENY,
            expires_at=Timestamp.from_datetime(expires),
        )


class PluginManagementServiceHandler(plugins_connect.PluginManagementService):
    """``plugins.v1.PluginManagementService``: list, enable and disable plugins."""

    def __init__(self, host: EngineHost) -> None:
        self._host = host

    async def list_plugins(
        self,
        request: plugins_pb.ListPluginsRequest,
        ctx: RequestContext[plugins_pb.ListPluginsRequest, plugins_pb.ListPluginsResponse],
    ) -> plugins_pb.ListPluginsResponse:
        """Every plugin and its status (the header adds storage and when the status changed)."""
        try:
            statuses = await self._host.call(lambda engine: engine.plugins())
        except Exception as exc:  # noqa: BLE001 - every failure becomes a Connect error
            raise failure(ctx, exc) from None
        details = dockerpass_pb.PluginDetails(plugins={s.name: plugin_detail(s) for s in statuses})
        ctx.response_headers[PLUGINS_HEADER] = json_header(details)
        return plugins_pb.ListPluginsResponse(
            plugins=[plugin_message(s, external=s.name in self._host.external) for s in statuses]
        )

    async def enable_plugin(
        self,
        request: plugins_pb.EnablePluginRequest,
        ctx: RequestContext[plugins_pb.EnablePluginRequest, plugins_pb.EnablePluginResponse],
    ) -> plugins_pb.EnablePluginResponse:
        """Enable a configurable plugin, clear a crash and start it (its status: ListPlugins)."""
        try:
            status = await self._host.call(
                lambda engine: engine.enable(request.name), writes_config=True
            )
        except Exception as exc:  # noqa: BLE001 - every failure becomes a Connect error
            raise failure(ctx, exc) from None
        log.info("plugin %s enabled: %s %s", status.name, status.status, status.message)
        return plugins_pb.EnablePluginResponse()

    async def disable_plugin(
        self,
        request: plugins_pb.DisablePluginRequest,
        ctx: RequestContext[plugins_pb.DisablePluginRequest, plugins_pb.DisablePluginResponse],
    ) -> plugins_pb.DisablePluginResponse:
        """Disable a configurable plugin and stop it."""
        try:
            status = await self._host.call(
                lambda engine: engine.disable(request.name), writes_config=True
            )
        except Exception as exc:  # noqa: BLE001 - every failure becomes a Connect error
            raise failure(ctx, exc) from None
        log.info("plugin %s disabled", status.name)
        return plugins_pb.DisablePluginResponse()


class VersionServiceHandler(health_connect.VersionService):
    """``health.v1.VersionService``: answers without waiting for the engine thread, so a slow
    plugin never makes the daemon look dead to a client's version check."""

    def __init__(self, started_at: datetime, requests: Counter[str]) -> None:
        self._started_at = started_at
        self._requests = requests

    async def get_version(
        self,
        request: health_pb.GetVersionRequest,
        ctx: RequestContext[health_pb.GetVersionRequest, health_pb.GetVersionResponse],
    ) -> health_pb.GetVersionResponse:
        """The engine's ``v``-prefixed version (the header adds pid and request counts)."""
        info = dockerpass_pb.EngineInfo(
            pid=os.getpid(),
            started_at=Timestamp.from_datetime(self._started_at),
            requests=dict(self._requests),
        )
        ctx.response_headers[ENGINE_HEADER] = json_header(info)
        return health_pb.GetVersionResponse(version=ENGINE_VERSION)


class ListingServiceHandler(dockerpass_connect.ListingService):
    """``dockerpass.v1.ListingService``: IDs and metadata across plugins, never values."""

    def __init__(self, host: EngineHost) -> None:
        self._host = host

    async def list_secrets(
        self,
        request: dockerpass_pb.ListSecretsRequest,
        ctx: RequestContext[dockerpass_pb.ListSecretsRequest, dockerpass_pb.ListSecretsResponse],
    ) -> dockerpass_pb.ListSecretsResponse:
        """The listing for a pattern, with the errors of plugins that failed it."""
        try:
            pattern = Pattern.parse(request.pattern)
            plugin = request.plugin or None
            reserved = request.reserved
            listing: Listing = await self._host.call(
                lambda e: e.list_secrets(pattern, plugin=plugin, reserved=reserved)
            )
        except Exception as exc:  # noqa: BLE001 - every failure becomes a Connect error
            raise failure(ctx, exc) from None
        return dockerpass_pb.ListSecretsResponse(
            secrets=[info_message(info) for info in listing.infos],
            errors=dict(listing.errors),
            down=dict(listing.down),
        )


class SecretsServiceHandler(dockerpass_connect.SecretsService):
    """``dockerpass.v1.SecretsService``: writes, so every front uses the one warm engine.

    Logged by ID and plugin only: a value never reaches the log.
    """

    def __init__(self, host: EngineHost) -> None:
        self._host = host

    async def save_secret(
        self,
        request: dockerpass_pb.SaveSecretRequest,
        ctx: RequestContext[dockerpass_pb.SaveSecretRequest, dockerpass_pb.SaveSecretResponse],
    ) -> dockerpass_pb.SaveSecretResponse:
        """Create or replace one secret in a writable plugin."""
        try:
            id_ = ID.parse(request.id)
            plugin = request.plugin or KEYCHAIN_PLUGIN
            value, metadata = request.value, dict(request.metadata)
            saved: Saved = await self._host.call(
                lambda e: e.save(id_, value, metadata, plugin=plugin)
            )
        except Exception as exc:  # noqa: BLE001 - every failure becomes a Connect error
            raise failure(ctx, exc) from None
        log.info("saved %s in %s%s", id_.value, saved.provider, " (replaced)" * saved.replaced)
        return dockerpass_pb.SaveSecretResponse(
            id=saved.id.value, provider=saved.provider, replaced=saved.replaced
        )

    async def remove_secrets(
        self,
        request: dockerpass_pb.RemoveSecretsRequest,
        ctx: RequestContext[
            dockerpass_pb.RemoveSecretsRequest, dockerpass_pb.RemoveSecretsResponse
        ],
    ) -> dockerpass_pb.RemoveSecretsResponse:
        """Remove secrets, one outcome per ID."""
        try:
            ids = [ID.parse(text) for text in request.ids]
            plugin = request.plugin or KEYCHAIN_PLUGIN
            removal: Removal = await self._host.call(lambda e: e.remove(ids, plugin=plugin))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a Connect error
            raise failure(ctx, exc) from None
        for id_, outcome in removal.outcomes:
            log.info("remove %s from %s: %s", id_.value, removal.provider, outcome)
        return dockerpass_pb.RemoveSecretsResponse(
            provider=removal.provider,
            outcomes=[
                dockerpass_pb.RemovalOutcome(id=id_.value, outcome=outcome)
                for id_, outcome in removal.outcomes
            ],
        )


class EngineApplication:
    """The ASGI application: routes each request to its service and counts requests."""

    def __init__(self, host: EngineHost, limits: ServerLimits) -> None:
        self._request_timeout = limits.request_timeout
        self.started_at = datetime.now(UTC)
        #: Requests received, by path (what ``engine status`` shows).
        self.requests: Counter[str] = Counter()
        apps: list[Any] = [
            resolver_connect.ResolverServiceASGIApplication(ResolverServiceHandler(host)),
            resolver_connect.AuthorizerServiceASGIApplication(AuthorizerServiceHandler()),
            plugins_connect.PluginManagementServiceASGIApplication(
                PluginManagementServiceHandler(host)
            ),
            health_connect.VersionServiceASGIApplication(
                VersionServiceHandler(self.started_at, self.requests)
            ),
            dockerpass_connect.ListingServiceASGIApplication(ListingServiceHandler(host)),
            dockerpass_connect.SecretsServiceASGIApplication(SecretsServiceHandler(host)),
        ]
        self._by_service: dict[str, Any] = {app.path: app for app in apps}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan is off; websockets are not offered
        path = str(scope.get("path", ""))
        app = self._by_service.get(path.rpartition("/")[0])
        if app is None:
            await _unimplemented(send, path)
            return
        self.requests[path] += 1
        _PEER.set(scope.get("state", {}).get(PEER_STATE_KEY))
        await app(with_default_deadline(scope, self._request_timeout), receive, send)


async def _unimplemented(send: Send, path: str) -> None:
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


class PeerCheckedH11Protocol(GuardedH11Protocol):
    """uvicorn's HTTP/1.1 protocol with the daemon's limits, serving only peers of the same
    user (or root)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if transport.is_closing():
            return  # refused already: past the connection limit
        sock = transport.get_extra_info("socket")
        try:
            peer = peer_credentials(sock)
        except OSError as exc:
            log.warning("refused a connection: cannot read its credentials (%s)", exc.strerror)
            transport.abort()
            return
        if not peer.trusted():
            log.warning("refused a connection from pid %d (uid %d)", peer.pid, peer.uid)
            transport.abort()
            return
        # Every request's scope copies this state: the handlers learn who is asking.
        self.app_state = {**self.app_state, PEER_STATE_KEY: peer}


# -- running the daemon -------------------------------------------------------------------------


class EngineLock:
    """This user's engine lock, held (flock) for the daemon's lifetime, naming pid and socket."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._extra: dict[str, str] = {}

    def acquire(self) -> None:
        """Take the lock; raise :class:`EngineAlreadyRunningError` if an engine holds it."""
        import fcntl

        from docker_pass.core.private_files import ensure_private_dir, open_private

        ensure_private_dir(self.path.parent)
        fd = open_private(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = _read_lock(self.path)
            where = f" (pid {holder.get('pid')}, socket {holder.get('socket')})" if holder else ""
            raise EngineAlreadyRunningError(f"an engine is already running{where}") from None
        self._fd = fd

    def record(self, location: SocketLocation, abstract: str | None = None, **extra: str) -> None:
        """Write who holds the lock, for ``engine status`` and a refused second start
        (``extra``: the Docker proxy's socket and upstream, once it listens)."""
        assert self._fd is not None  # noqa: S101 - acquire() comes first
        doc: dict[str, object] = {
            "pid": os.getpid(),
            "socket": str(location.path),
            "started_at": time.time(),
        }
        if abstract is not None:
            doc["abstract_socket"] = abstract
        self._extra.update(extra)
        doc.update(self._extra)
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, json.dumps(doc).encode(), 0)

    def release(self) -> None:
        """Clear and release the lock."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def _read_lock(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def prepare_directory(directory: Path) -> None:
    """Create the socket's directory 0700; tighten our default one if something loosened it."""
    from docker_pass.core.private_files import ensure_private_dir

    created = not directory.exists()
    if created:
        ensure_private_dir(directory)  # missing parents are made 0700 too
    st = directory.stat()
    if st.st_uid != os.getuid() and st.st_uid != 0:
        raise DockerPassError(f"socket directory {directory} belongs to another user")
    if (created or directory.name == SOCKET_DIR_NAME) and st.st_uid == os.getuid():
        if stat.S_IMODE(st.st_mode) != 0o700:
            os.chmod(directory, 0o700)  # a directory, not a secret: tightening it is safe
    elif stat.S_IMODE(st.st_mode) & 0o022 and not st.st_mode & stat.S_ISVTX:
        log.warning("socket directory %s is writable by others", directory)


def clear_stale_socket(path: Path) -> None:
    """Remove a socket file no engine answers on; refuse if one does or if it is not a socket."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise DockerPassError(f"{path} exists and is not a socket; move it away first")
    try:
        probe = connect_unix(path, timeout=1.0)
    except ConnectionRefusedError:
        log.info("removing stale socket %s", path)
        path.unlink(missing_ok=True)
        return
    except OSError as exc:
        raise DockerPassError(f"cannot check socket {path}: {exc.strerror or exc}") from None
    probe.close()
    raise EngineAlreadyRunningError(f"another program is serving {path}")


def bind_abstract_socket(name: str) -> socket.socket | None:
    """A listening socket on abstract address ``name`` (``@…``), or ``None`` when another
    process holds that name (said in the log: Docker's clients that use the default address
    then reach that process, not this engine).

    The abstract namespace has no file modes: every connection's peer is checked with
    SO_PEERCRED, as on the path socket (:class:`PeerCheckedH11Protocol`).
    """
    sock = PacedListener(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(abstract_address(name))
    except OSError as exc:
        sock.close()
        if exc.errno != errno.EADDRINUSE:
            raise DockerPassError(f"cannot listen on {name}: {exc.strerror or exc}") from None
        log.warning(
            "another process already listens on %s: clients that use Docker's default "
            "address reach it, not this engine (set engine.abstract_socket to choose another)",
            name,
        )
        return None
    sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock


def _listen_abstract(
    lock: EngineLock, location: SocketLocation
) -> tuple[socket.socket, str] | None:
    """The abstract socket (unless turned off or taken) and its name, recorded in the lock
    for ``engine status``."""
    name = abstract_socket_name()
    sock = bind_abstract_socket(name) if name is not None else None
    if sock is None or name is None:
        return None
    lock.record(location, name)
    return sock, name


def bind_socket(path: Path) -> socket.socket:
    """A listening Unix socket at ``path``, created 0600 (umask at bind time, no chmod),
    that pauses accepting when descriptors run out (:class:`PacedListener`)."""
    sock = PacedListener(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        with addressable(path) as address:
            sock.bind(address)
    except BaseException:
        sock.close()
        raise
    finally:
        os.umask(old_umask)
    sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock


@contextmanager
def _ignoring_exit_signals() -> Iterator[None]:
    """Handlers uvicorn restores and re-raises into after its graceful shutdown.

    uvicorn re-raises the signal that stopped it once it has shut down; with the default
    handlers that would kill the process before the socket is removed and plugins stopped.
    """

    def note(signum: int, _frame: object) -> None:
        log.debug("signal %d after shutdown", signum)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class EngineServer(uvicorn.Server):
    """uvicorn's server that, told to stop, first answers the requests waiting for the engine
    (``unavailable``): a hung plugin must not hold ``engine stop`` up."""

    def __init__(self, config: uvicorn.Config, host: EngineHost) -> None:
        super().__init__(config)
        self._host = host

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._host.stop_waiting()
        await super().shutdown(sockets)


async def _refresh_forever(host: EngineHost, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            names = await host.call(
                lambda engine: engine.refresh_plugins() if isinstance(engine, WarmEngine) else []
            )
        except Exception as exc:  # noqa: BLE001 - the next interval tries again
            log.warning("refreshing plugins failed: %s", connect_error(exc).message)
            continue
        if names:
            log.debug("refreshed %s", ", ".join(names))


def _make_server(app: EngineApplication, host: EngineHost, limits: ServerLimits) -> EngineServer:
    """uvicorn on our sockets, with the daemon's limits and peer checks."""
    guard = ConnectionGuard(limits)
    config = LimitedConfig(
        app,
        guard=guard,
        http=PeerCheckedH11Protocol,
        lifespan="off",
        access_log=False,
        log_config=None,
        backlog=BACKLOG,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
        server_header=False,
        date_header=False,
    )
    log.debug(
        "requests time out after %g s unless the client sets a deadline; idle connections "
        "close after %g s; at most %d connections",
        limits.request_timeout,
        limits.idle_timeout,
        guard.max_connections,
    )
    return EngineServer(config, host)


def run_engine(
    location: SocketLocation,
    *,
    refresh_interval: float = DEFAULT_REFRESH_INTERVAL,
    factory: Callable[[], Engine] = WarmEngine,
    on_ready: Callable[[list[PluginStatus]], None] | None = None,
    limits: ServerLimits | None = None,
    docker: DockerProxySettings | None = None,
) -> None:
    """Run the engine in the foreground until SIGTERM or SIGINT.

    ``limits``: deadlines and connection limits (:class:`ServerLimits`' defaults if None).
    ``docker``: where the Docker API proxy listens and which engine it forwards to (no proxy
    if None).
    Raises :class:`EngineAlreadyRunningError` if this user's engine runs already.
    """
    from docker_pass.core.hardening import make_non_dumpable

    make_non_dumpable()  # before any plugin starts: no value in a core dump, none via ptrace
    limits = limits or ServerLimits()
    lock = EngineLock(lock_path())
    lock.acquire()
    host: EngineHost | None = None
    stopped = True
    sock: socket.socket | None = None
    abstract: tuple[socket.socket, str] | None = None
    proxy_sock: socket.socket | None = None
    proxy_bound = -1
    bound = -1
    try:
        lock.record(location)
        prepare_directory(location.path.parent)
        clear_stale_socket(location.path)
        host = EngineHost(factory)
        statuses = host.start()  # plugins warm before any client can connect
        sock = bind_socket(location.path)
        bound = location.path.lstat().st_ino
        abstract = _listen_abstract(lock, location)
        if docker is not None:
            proxy_sock, proxy_bound = _bind_proxy(docker, location, lock, abstract)
        app = EngineApplication(host, limits)
        server = _make_server(app, host, limits)
        log.info(
            "engine %s (pid %d) listening on %s (%s)%s",
            ENGINE_VERSION,
            os.getpid(),
            location.path,
            location.source,
            f" and {abstract[1]}" if abstract is not None else "",
        )
        if on_ready is not None:
            on_ready(statuses)

        sockets = [sock] if abstract is None else [sock, abstract[0]]
        proxy = (docker, proxy_sock) if docker is not None and proxy_sock is not None else None
        with _ignoring_exit_signals():
            asyncio.run(_serve(server, sockets, host, refresh_interval, limits, proxy))
        log.info("engine stopped after %d request(s)", sum(app.requests.values()))
    finally:
        if proxy_sock is not None and docker is not None:
            _close_socket(proxy_sock, docker.socket, proxy_bound)
        if abstract is not None:
            abstract[0].close()  # an abstract name vanishes with its last descriptor
        if sock is not None:
            sock.close()
            # Only our own socket file: a newer engine may have replaced it meanwhile.
            with suppress(OSError):
                if location.path.lstat().st_ino == bound:
                    location.path.unlink()
        if host is not None:
            stopped = host.close()
        lock.release()
    if not stopped:
        _exit_leaving_plugin_threads()


async def _serve(
    server: EngineServer,
    sockets: list[socket.socket],
    host: EngineHost,
    refresh_interval: float,
    limits: ServerLimits,
    proxy: tuple[DockerProxySettings, socket.socket] | None,
) -> None:
    """The daemon's event loop: the engine API, the plugin refresher and the Docker proxy."""
    asyncio.get_running_loop().set_exception_handler(quiet_exhaustion)
    refresher = asyncio.create_task(_refresh_forever(host, refresh_interval))
    running = await _start_proxy(proxy[0], proxy[1], host, limits) if proxy else None
    try:
        await server.serve(sockets=sockets)
    finally:
        refresher.cancel()
        if running is not None:
            running[0].close()
            running[1].close_connections()


class DockerProxySettings:
    """Where the Docker API proxy listens (``socket``) and the engine it forwards to."""

    def __init__(self, socket_path: Path, upstream: DockerHost) -> None:
        self.socket = socket_path
        self.upstream = upstream

    def __repr__(self) -> str:
        return f"DockerProxySettings({str(self.socket)!r}, {self.upstream!r})"


def _bind_proxy(
    docker: DockerProxySettings,
    location: SocketLocation,
    lock: EngineLock,
    abstract: tuple[socket.socket, str] | None,
) -> tuple[socket.socket, int]:
    """The Docker proxy's listening socket (0600, in a 0700 directory) and its inode,
    recorded in the lock for ``engine status``."""
    if docker.socket.parent != location.path.parent:
        prepare_directory(docker.socket.parent)
    clear_stale_socket(docker.socket)
    sock = bind_socket(docker.socket)
    lock.record(
        location,
        abstract[1] if abstract is not None else None,
        docker_socket=str(docker.socket),
        docker_upstream=docker.upstream.url,
        docker_upstream_source=docker.upstream.source,
    )
    log.info(
        "docker proxy listening on %s, forwarding to %s (%s)",
        docker.socket,
        docker.upstream.url,
        docker.upstream.source,
    )
    return sock, docker.socket.lstat().st_ino


def _close_socket(sock: socket.socket, path: Path, inode: int) -> None:
    """Close a listening socket and remove its file, if it is still ours."""
    sock.close()
    with suppress(OSError):
        if path.lstat().st_ino == inode:
            path.unlink()


async def _start_proxy(
    docker: DockerProxySettings,
    sock: socket.socket,
    host: EngineHost,
    limits: ServerLimits,
) -> tuple[asyncio.Server, DockerProxy]:
    """Serve the Docker API proxy on ``sock`` (imported only when it runs)."""
    from docker_pass.daemon.docker.proxy import DockerProxy, Upstream

    proxy = DockerProxy(
        Upstream(docker.upstream), host.call, resolve_timeout=limits.request_timeout
    )
    server = await asyncio.start_unix_server(proxy.handle, sock=sock, backlog=BACKLOG)
    return server, proxy


def _exit_leaving_plugin_threads() -> None:
    """End the process now, once everything it owns is cleaned up.

    A plugin call that never returns runs in a thread Python joins at exit (the engine's
    fan-out pool is a ``ThreadPoolExecutor``), so a normal exit would wait for it forever.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    os._exit(0)
