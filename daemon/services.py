"""The Connect services the daemon answers, each a thin handler on the warm engine.

- ``resolver.v1.ResolverService``, ``resolver.v1.AuthorizerService``,
  ``plugins.v1.PluginManagementService`` and ``health.v1.VersionService`` exactly as Docker's
  secrets engine offers them;
- ``dockerpass.v1.ListingService`` (IDs without values, for the TUI) and
  ``dockerpass.v1.SecretsService`` (writes, so every front uses the one warm engine).

What docker-pass's own fronts show beyond the public messages (who was asked, plugin storage,
hints) rides in ``docker-pass-*`` response headers as JSON (:mod:`.protocol`).  A handler
raises whatever it meets; :class:`FailureAnswers`, the one interceptor of every service, turns
it into the Connect error (:func:`failure`).  Nothing here logs or returns a secret value:
requests are logged by method, pattern, ID and plugin.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from protobuf.wkt import Timestamp

from docker_pass.core.errors import DockerPassError, NoPluginMatchesError, VersionConflictError
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.names import KEYCHAIN_PLUGIN
from docker_pass.core.remote.wire import (
    CONFLICT_HEADER,
    ENGINE_HEADER,
    ENGINE_VERSION,
    HINTS_HEADER,
    PLUGINS_HEADER,
    RESOLUTION_HEADER,
    VERSIONS_FEATURE,
    WATCH_FEATURE,
)
from docker_pass.daemon.build_info import build_info
from docker_pass.daemon.feed import PLUGINS, ChangeFeed, FeedEvent, FeedFullError
from docker_pass.daemon.gen.dockerpass.v1 import api_connect as dockerpass_connect
from docker_pass.daemon.gen.dockerpass.v1 import api_pb as dockerpass_pb
from docker_pass.daemon.gen.health.v1 import api_connect as health_connect
from docker_pass.daemon.gen.health.v1 import api_pb as health_pb
from docker_pass.daemon.gen.plugins.v1 import api_connect as plugins_connect
from docker_pass.daemon.gen.plugins.v1 import api_pb as plugins_pb
from docker_pass.daemon.gen.resolver.v1 import api_connect as resolver_connect
from docker_pass.daemon.gen.resolver.v1 import api_pb as resolver_pb
from docker_pass.daemon.peers import request_peer
from docker_pass.daemon.protocol import (
    conflict_message,
    connect_error,
    envelope_message,
    info_message,
    json_header,
    move_message,
    plugin_detail,
    plugin_message,
    realm_move_message,
    removal_message,
    resolution_message,
)

if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import AsyncIterator, Awaitable, Callable

    from connectrpc.request import RequestContext
    from connectrpc.server import ConnectASGIApplication

    from docker_pass.core.envelope import Envelope
    from docker_pass.core.moves import Moved, RealmMoved
    from docker_pass.core.results import Listing, Removal, Saved
    from docker_pass.daemon.engine_host import EngineHost
    from docker_pass.daemon.routes import Routes

log = logging.getLogger("docker_pass.engine")

#: Seconds an ``Authorize`` decision holds: who is at the other end of a connection cannot
#: change, but a client should ask again now and then rather than cache a decision forever.
AUTHORIZE_TTL = 300.0


def failure(ctx: RequestContext[Any, Any], exc: BaseException) -> ConnectError:
    """The Connect error a failed request answers with (see :func:`connect_error`).

    Its hints travel twice: as the error's ``dockerpass.v1.Hints`` detail, for Connect
    clients, and as JSON in the ``docker-pass-hints`` header, for docker-pass's own client,
    which reads no protobuf.
    """
    error = connect_error(exc)
    if isinstance(exc, DockerPassError) and exc.hints:
        ctx.response_headers[HINTS_HEADER] = json_header(dockerpass_pb.Hints(hints=list(exc.hints)))
    if isinstance(exc, VersionConflictError):
        ctx.response_headers[CONFLICT_HEADER] = json_header(conflict_message(exc))
    return error


class FailureAnswers:
    """The interceptor of every service: whatever a handler raises is answered as its
    Connect error (:func:`failure`), never as a library's own text.

    A cancelled call (its deadline passed, the daemon is stopping) is not an ``Exception``
    and goes on to connectrpc, which answers it.
    """

    async def intercept_unary(
        self,
        call_next: Callable[[Any, RequestContext[Any, Any]], Awaitable[Any]],
        request: Any,
        ctx: RequestContext[Any, Any],
    ) -> Any:
        """Run the handler; map what it raises."""
        try:
            return await call_next(request, ctx)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a Connect error
            raise failure(ctx, exc) from None


class _OnTheEngine:
    """A service whose handlers run their work on the warm engine (``host``), and tell the
    change feed (``feed``) what their writes changed."""

    def __init__(self, host: EngineHost, feed: ChangeFeed | None = None) -> None:
        self._host = host
        self._feed = feed or ChangeFeed()


class ResolverServiceHandler(resolver_connect.ResolverService):
    """``resolver.v1.ResolverService``: secrets by ID or pattern, on the event loop while a
    kept route holds, else on the engine (:mod:`.routes`)."""

    def __init__(self, routes: Routes) -> None:
        self._routes = routes

    async def get_secrets(
        self,
        request: resolver_pb.GetSecretsRequest,
        ctx: RequestContext[resolver_pb.GetSecretsRequest, resolver_pb.GetSecretsResponse],
    ) -> resolver_pb.GetSecretsResponse:
        """Every envelope matching the pattern; ``not_found`` when there is none."""
        pattern = Pattern.parse(request.pattern)
        try:
            result = await self._routes.resolve(pattern)
        except NoPluginMatchesError:
            # Asked nobody: the header says so, and the client can tell it from a miss.
            nobody = dockerpass_pb.Resolution(pattern=pattern.value)
            ctx.response_headers[RESOLUTION_HEADER] = json_header(nobody)
            raise
        ctx.response_headers[RESOLUTION_HEADER] = json_header(resolution_message(result))
        log.debug(
            "GetSecrets %s: %d envelope(s); asked %s; errors from %s",
            pattern.value,
            len(result.envelopes),
            ", ".join(result.asked) or "none",
            ", ".join(result.errors) or "none",
        )
        return resolver_pb.GetSecretsResponse(
            envelopes=[envelope_message(env) for env in result.envelopes_or_raise()]
        )


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
        if not request.patterns:
            raise ConnectError(Code.INVALID_ARGUMENT, "at least one pattern is required")
        for text in request.patterns:
            Pattern.parse(text)
        peer = request_peer()
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


class PluginManagementServiceHandler(_OnTheEngine, plugins_connect.PluginManagementService):
    """``plugins.v1.PluginManagementService``: list, enable and disable plugins."""

    async def list_plugins(
        self,
        request: plugins_pb.ListPluginsRequest,
        ctx: RequestContext[plugins_pb.ListPluginsRequest, plugins_pb.ListPluginsResponse],
    ) -> plugins_pb.ListPluginsResponse:
        """Every plugin and its status (the header adds storage and when the status changed)."""
        statuses = await self._host.call(lambda engine: engine.plugins())
        details = dockerpass_pb.PluginDetails(plugins={s.name: plugin_detail(s) for s in statuses})
        ctx.response_headers[PLUGINS_HEADER] = json_header(details)
        return plugins_pb.ListPluginsResponse(plugins=[plugin_message(s) for s in statuses])

    async def enable_plugin(
        self,
        request: plugins_pb.EnablePluginRequest,
        ctx: RequestContext[plugins_pb.EnablePluginRequest, plugins_pb.EnablePluginResponse],
    ) -> plugins_pb.EnablePluginResponse:
        """Enable a configurable plugin, clear a crash and start it (its status: ListPlugins)."""
        status = await self._host.call(
            lambda engine: engine.enable(request.name), writes_config=True
        )
        log.info("plugin %s enabled: %s %s", status.name, status.status, status.message)
        self._feed.publish([status.name], kind=PLUGINS)
        return plugins_pb.EnablePluginResponse()

    async def disable_plugin(
        self,
        request: plugins_pb.DisablePluginRequest,
        ctx: RequestContext[plugins_pb.DisablePluginRequest, plugins_pb.DisablePluginResponse],
    ) -> plugins_pb.DisablePluginResponse:
        """Disable a configurable plugin and stop it."""
        status = await self._host.call(
            lambda engine: engine.disable(request.name), writes_config=True
        )
        log.info("plugin %s disabled", status.name)
        self._feed.publish([status.name], kind=PLUGINS)
        return plugins_pb.DisablePluginResponse()


class VersionServiceHandler(health_connect.VersionService):
    """``health.v1.VersionService``: answers without waiting for the engine thread, so a slow
    plugin never makes the daemon look dead to a client's version check."""

    def __init__(
        self, started_at: datetime, requests: Counter[str], build: tuple[str, str]
    ) -> None:
        self._started_at = started_at
        self._requests = requests
        self._date, self._commit = build

    async def get_version(
        self,
        request: health_pb.GetVersionRequest,
        ctx: RequestContext[health_pb.GetVersionRequest, health_pb.GetVersionResponse],
    ) -> health_pb.GetVersionResponse:
        """The engine's ``v``-prefixed version, the build's date and commit
        (:mod:`.build_info`); the header adds pid and request counts."""
        info = dockerpass_pb.EngineInfo(
            pid=os.getpid(),
            started_at=Timestamp.from_datetime(self._started_at),
            requests=dict(self._requests),
            features=[VERSIONS_FEATURE, WATCH_FEATURE],
        )
        ctx.response_headers[ENGINE_HEADER] = json_header(info)
        return health_pb.GetVersionResponse(
            version=ENGINE_VERSION, date=self._date, commit_hash=self._commit
        )


class ListingServiceHandler(_OnTheEngine, dockerpass_connect.ListingService):
    """``dockerpass.v1.ListingService``: IDs and metadata across plugins, never values."""

    async def list_secrets(
        self,
        request: dockerpass_pb.ListSecretsRequest,
        ctx: RequestContext[dockerpass_pb.ListSecretsRequest, dockerpass_pb.ListSecretsResponse],
    ) -> dockerpass_pb.ListSecretsResponse:
        """The listing for a pattern, with the errors of plugins that failed it."""
        pattern = Pattern.parse(request.pattern)
        plugin = request.plugin or None
        reserved = request.reserved
        deleted = request.deleted
        listing: Listing = await self._host.call(
            lambda e: e.list_secrets(pattern, plugin=plugin, reserved=reserved, deleted=deleted)
        )
        return dockerpass_pb.ListSecretsResponse(
            secrets=[info_message(info) for info in listing.infos],
            errors=dict(listing.errors),
            down=dict(listing.down),
        )


class SecretsServiceHandler(_OnTheEngine, dockerpass_connect.SecretsService):
    """``dockerpass.v1.SecretsService``: writes, so every front uses the one warm engine.

    Logged by ID and plugin only: a value never reaches the log.
    """

    async def get_secret(
        self,
        request: dockerpass_pb.GetSecretRequest,
        ctx: RequestContext[dockerpass_pb.GetSecretRequest, dockerpass_pb.GetSecretResponse],
    ) -> dockerpass_pb.GetSecretResponse:
        """One secret, with its value and version, from one plugin."""
        id_ = ID.parse(request.id)
        plugin = request.plugin or KEYCHAIN_PLUGIN
        envelope: Envelope = await self._host.call(lambda e: e.get(id_, plugin=plugin))
        log.debug("get %s from %s: version %s", id_.value, plugin, envelope.version or "none")
        return dockerpass_pb.GetSecretResponse(envelope=envelope_message(envelope))

    async def save_secret(
        self,
        request: dockerpass_pb.SaveSecretRequest,
        ctx: RequestContext[dockerpass_pb.SaveSecretRequest, dockerpass_pb.SaveSecretResponse],
    ) -> dockerpass_pb.SaveSecretResponse:
        """Create or replace one secret in a writable plugin (if it is the expected version,
        when the request names one)."""
        id_ = ID.parse(request.id)
        plugin = request.plugin or KEYCHAIN_PLUGIN
        value, metadata = request.value, dict(request.metadata)
        expected = request.expected_version or None
        saved: Saved = await self._host.call(
            lambda e: e.save(id_, value, metadata, plugin=plugin, expected_version=expected)
        )
        log.info("saved %s in %s%s", id_.value, saved.provider, " (replaced)" * saved.replaced)
        self._feed.publish([saved.provider], [saved.id.value])
        return dockerpass_pb.SaveSecretResponse(
            id=saved.id.value,
            provider=saved.provider,
            replaced=saved.replaced,
            version=saved.version,
        )

    async def remove_secrets(
        self,
        request: dockerpass_pb.RemoveSecretsRequest,
        ctx: RequestContext[
            dockerpass_pb.RemoveSecretsRequest, dockerpass_pb.RemoveSecretsResponse
        ],
    ) -> dockerpass_pb.RemoveSecretsResponse:
        """Remove secrets (each only if still the version expected, where one is), one
        outcome per ID."""
        ids = [ID.parse(text) for text in request.ids]
        plugin = request.plugin or KEYCHAIN_PLUGIN
        expected = {ID.parse(k): v for k, v in request.expected_versions.items()} or None
        purge = request.purge_versions
        removal: Removal = await self._host.call(
            lambda e: e.remove(ids, plugin=plugin, purge_versions=purge, expected_versions=expected)
        )
        for id_, outcome in removal.outcomes:
            log.info("remove %s from %s: %s", id_.value, removal.provider, outcome)
        self._feed.publish([removal.provider], [i.value for i, _ in removal.outcomes])
        return removal_message(removal)

    async def undelete_secrets(
        self,
        request: dockerpass_pb.UndeleteSecretsRequest,
        ctx: RequestContext[
            dockerpass_pb.UndeleteSecretsRequest, dockerpass_pb.RemoveSecretsResponse
        ],
    ) -> dockerpass_pb.RemoveSecretsResponse:
        """Restore the latest version of secrets whose latest version was deleted."""
        ids = [ID.parse(text) for text in request.ids]
        plugin = request.plugin or KEYCHAIN_PLUGIN
        restored: Removal = await self._host.call(lambda e: e.undelete(ids, plugin=plugin))
        for id_, outcome in restored.outcomes:
            log.info("undelete %s in %s: %s", id_.value, restored.provider, outcome)
        self._feed.publish([restored.provider], [i.value for i, _ in restored.outcomes])
        return removal_message(restored)

    async def move_secret(
        self,
        request: dockerpass_pb.MoveSecretRequest,
        ctx: RequestContext[dockerpass_pb.MoveSecretRequest, dockerpass_pb.MoveOutcome],
    ) -> dockerpass_pb.MoveOutcome:
        """Move one secret (copy, then remove the old one if it is still the version copied)."""
        old, new = ID.parse(request.old), ID.parse(request.new)
        plugin = request.plugin or KEYCHAIN_PLUGIN
        target = request.to_plugin or None
        replace = request.replace
        moved: Moved = await self._host.call(
            lambda e: e.move(old, new, plugin=plugin, to_plugin=target, replace=replace)
        )
        _log_move(moved)
        self._feed.publish([moved.plugin, moved.to_plugin], [moved.old.value, moved.new.value])
        return move_message(moved)

    async def move_realm(
        self,
        request: dockerpass_pb.MoveRealmRequest,
        ctx: RequestContext[dockerpass_pb.MoveRealmRequest, dockerpass_pb.MoveRealmResponse],
    ) -> dockerpass_pb.MoveRealmResponse:
        """Move every secret under a realm, each as :meth:`move_secret` does."""
        old, new = ID.parse(request.old), ID.parse(request.new)
        plugin = request.plugin or KEYCHAIN_PLUGIN
        target = request.to_plugin or None
        replace = request.replace
        result: RealmMoved = await self._host.call(
            lambda e: e.move_realm(old, new, plugin=plugin, to_plugin=target, replace=replace)
        )
        for moved in result.moves:
            _log_move(moved)
        ids = [i.value for m in result.moves for i in (m.old, m.new)]
        self._feed.publish([result.plugin, result.to_plugin], ids)
        return realm_move_message(result)


def _log_move(moved: Moved) -> None:
    """One line per move: IDs, plugins and outcome (the message names places, never values)."""
    log.info(
        "move %s:%s to %s:%s: %s",
        moved.plugin,
        moved.old.value,
        moved.to_plugin,
        moved.new.value,
        moved.outcome,
    )


class FeedServiceHandler(dockerpass_connect.FeedService):
    """``dockerpass.v1.FeedService``: the change feed (:mod:`.feed`), one stream per
    subscriber.  Its connection passed the same peer check as every other."""

    def __init__(self, feed: ChangeFeed) -> None:
        self._feed = feed

    async def watch_secrets(
        self,
        request: dockerpass_pb.WatchRequest,
        ctx: RequestContext[dockerpass_pb.WatchRequest, dockerpass_pb.SecretsChanged],
    ) -> AsyncIterator[dockerpass_pb.SecretsChanged]:
        """The feed's events as messages, until the client goes away or its deadline."""
        events = self._feed.stream()
        try:
            first = await anext(events)
        except FeedFullError:
            raise ConnectError(Code.RESOURCE_EXHAUSTED, "too many feed subscribers") from None
        log.debug("a feed subscriber joined (%d now)", self._feed.subscribers)
        try:
            yield _event_message(first)
            async for event in events:
                yield _event_message(event)
        finally:
            await events.aclose()
            log.debug("a feed subscriber left (%d now)", self._feed.subscribers)


def _event_message(event: FeedEvent) -> dockerpass_pb.SecretsChanged:
    return dockerpass_pb.SecretsChanged(
        sequence=event.sequence, kind=event.kind, plugins=list(event.plugins), ids=list(event.ids)
    )


def connect_services(
    host: EngineHost,
    routes: Routes,
    started_at: datetime,
    requests: Counter[str],
    feed: ChangeFeed | None = None,
) -> list[ConnectASGIApplication[Any]]:
    """Every service the daemon answers, as connectrpc's ASGI applications (each mounted at
    its own ``path``), all with :class:`FailureAnswers`.

    ``started_at`` and ``requests``: what ``GetVersion`` reports of the daemon; ``feed``:
    the change feed writes are told to and subscribers read.
    """
    feed = feed or ChangeFeed()
    answers = (FailureAnswers(),)
    return [
        resolver_connect.ResolverServiceASGIApplication(
            ResolverServiceHandler(routes), interceptors=answers
        ),
        resolver_connect.AuthorizerServiceASGIApplication(
            AuthorizerServiceHandler(), interceptors=answers
        ),
        plugins_connect.PluginManagementServiceASGIApplication(
            PluginManagementServiceHandler(host, feed), interceptors=answers
        ),
        health_connect.VersionServiceASGIApplication(
            VersionServiceHandler(started_at, requests, build_info()), interceptors=answers
        ),
        dockerpass_connect.ListingServiceASGIApplication(
            ListingServiceHandler(host), interceptors=answers
        ),
        dockerpass_connect.FeedServiceASGIApplication(
            FeedServiceHandler(feed), interceptors=answers
        ),
        dockerpass_connect.SecretsServiceASGIApplication(
            SecretsServiceHandler(host, feed), interceptors=answers
        ),
    ]
