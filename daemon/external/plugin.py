"""An external plugin as the engine sees it: a plugin like the built-in ones.

:class:`ExternalPlugin` implements core's plugin protocol.  The engine calls it on its
plugin-call threads, within the slot's deadline, like any plugin; each call is sent over the
plugin's connection on the daemon's event loop (:class:`~.client.PluginClient`), and bounded
there too, so a plugin that never answers holds a thread no longer than its deadline.  What
the plugin answers is checked where it enters: IDs that do not parse are dropped, the provider
is always the registered name (the engine stamps it), and Go's zero time (year 1, the SDK's
"unset") reads as no time: an ``expires_at`` of year 1 is no expiry.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from datetime import UTC
from typing import TYPE_CHECKING, Any

from docker_pass.core.envelope import Envelope
from docker_pass.core.errors import InvalidIdentifierError, PluginError, UsageError
from docker_pass.core.ids import ID
from docker_pass.core.plugin import Capability
from docker_pass.core.plugin_calls import PluginTimeoutError
from docker_pass.daemon.external.client import GET_SECRETS, CallFailedError
from docker_pass.daemon.gen.resolver.v1 import api_pb as resolver_pb

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Coroutine
    from datetime import datetime

    from protobuf.wkt import Timestamp

    from docker_pass.core.ids import Pattern
    from docker_pass.daemon.external.client import PluginClient
    from docker_pass.daemon.external.registration import Registered

log = logging.getLogger("docker_pass.engine")

#: Go's zero ``time.Time`` in seconds since the epoch: what the SDK sends for an unset time.
ZERO_SECONDS = -62135596800
#: Seconds a call may run past the engine's deadline on the loop, and a thread may wait past
#: that (each later bound is a backstop: the one before it ends the call first).
_GRACE = 1.0


class ExternalPlugin:
    """A plugin built with Docker's SDK, connected to the daemon.

    ``registered``: the name, version and pattern it registered; ``client``: its connection;
    ``loop``: the daemon's event loop, where the connection lives; ``origin``: how it came
    (for ``plugins ls``); ``deadline``: seconds a call may take (the engine's plugin deadline).
    """

    configurable = True
    enabled_by_default = True
    #: Each call is a stream of its own: calls run side by side.
    concurrent = True

    def __init__(
        self,
        registered: Registered,
        client: PluginClient,
        loop: asyncio.AbstractEventLoop,
        *,
        origin: str,
        deadline: float,
    ) -> None:
        self.name = registered.name
        #: What it can do: resolve the IDs it is asked for (the SDK has no listing).
        self.capabilities = frozenset({Capability.READ})
        self.version = registered.version
        self.pattern = registered.pattern
        self.client = client
        self._loop = loop
        self._origin = origin
        self.deadline = deadline
        #: Set once its connection is gone: calls then fail at once.
        self.disconnected = False

    def __repr__(self) -> str:
        return f"ExternalPlugin({self.name!r}, {self.pattern.value!r})"

    # -- the plugin protocol --------------------------------------------------------------

    def start(self) -> None:
        """Already running: it registered.  (The engine attaches it; nothing to start.)"""
        if self.disconnected:
            raise PluginError(f"plugin {self.name} is not connected")

    def stop(self) -> None:
        """Nothing: the connection is its host's to end (disabling it leaves it connected)."""

    def storage(self) -> str:
        return self._origin

    def list(self, pattern: Pattern) -> builtins.list[Any]:
        raise UsageError(f"plugin {self.name} cannot list its secrets: it resolves IDs only")

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        """``GetSecrets`` on the plugin; ``not_found`` is an empty answer."""
        found: builtins.list[Envelope] = self._run(
            lambda: self.resolve_here(pattern, self.deadline, grace=_GRACE)
        )
        return found

    async def resolve_here(
        self, pattern: Pattern, deadline: float, *, grace: float = 0.0
    ) -> builtins.list[Envelope]:
        """:meth:`resolve` on the daemon's event loop, where the connection lives (the
        daemon's routes ask so, holding no thread).  The call ends ``grace`` seconds past
        ``deadline``, the engine's deadline for the plugin, which a timeout names."""
        if self.disconnected:
            raise PluginError(f"plugin {self.name} is not connected")
        request = resolver_pb.GetSecretsRequest(pattern=pattern.value).to_binary()
        try:
            raw = await self.client.unary(GET_SECRETS, request, deadline + grace)
        except CallFailedError as exc:
            if exc.code == "not_found":
                return []
            if exc.code == "deadline_exceeded":  # the engine's deadline, in its own words
                raise PluginTimeoutError(self.name, deadline) from None
            raise PluginError(f"plugin {self.name}: {exc.code}: {exc.message}") from None
        try:
            answer = resolver_pb.GetSecretsResponse.from_binary(raw)
        except Exception:  # noqa: BLE001 - whatever protobuf raises, the plugin sent garbage
            raise PluginError(f"plugin {self.name} sent an answer that is not protobuf") from None
        return [env for env in map(self._envelope, answer.envelopes) if env is not None]

    def refresh(self) -> None:
        """Check that it still answers (``GET /health``); the daemon asks now and then."""
        try:
            healthy = self._run(lambda: self.client.health(self._bound))
        except CallFailedError as exc:
            raise PluginError(f"plugin {self.name}: health check: {exc.message}") from None
        if not healthy:
            raise PluginError(f"plugin {self.name}: health check failed")

    # -- internals ------------------------------------------------------------------------

    @property
    def _bound(self) -> float:
        """How long a call runs on the loop: past the engine's deadline, which therefore
        always ends the wait first (the call then only frees its stream and thread)."""
        return self.deadline + _GRACE

    def _run(self, call: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        """``call()`` on the event loop, from a plugin-call thread; its result."""
        if self.disconnected:
            raise PluginError(f"plugin {self.name} is not connected")
        try:
            future = asyncio.run_coroutine_threadsafe(call(), self._loop)
        except RuntimeError:  # the loop is closed: the daemon is stopping
            raise PluginError(f"plugin {self.name} is not connected") from None
        try:
            return future.result(self._bound + _GRACE)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise PluginTimeoutError(self.name, self.deadline) from None
        except concurrent.futures.CancelledError:
            raise PluginError(f"plugin {self.name}: the call was cancelled") from None

    def _envelope(self, item: resolver_pb.Envelope) -> Envelope | None:
        try:
            id_ = ID.parse(item.id)
        except InvalidIdentifierError:
            log.warning("plugin %s: an envelope with an invalid ID was dropped", self.name)
            return None
        return Envelope(
            id_,
            item.value,
            self.name,
            item.version,
            _time(item.created_at),
            _time(item.resolved_at),
            _time(item.expires_at),
            dict(item.metadata),
        )


def _time(stamp: Timestamp | None) -> datetime | None:
    """A Timestamp, or ``None`` when unset or Go's zero time (year 1)."""
    if stamp is None or stamp.seconds <= ZERO_SECONDS:
        return None
    from datetime import datetime, timedelta

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    try:
        return epoch + timedelta(seconds=stamp.seconds, microseconds=stamp.nanos // 1000)
    except OverflowError:  # past year 9999: no time a person means
        return None
