"""What a plugin asks of the engine: ``plugins.v1.RegisterService/RegisterPlugin``, once.

On the streams a plugin opens (its HTTP client's), uvicorn's HTTP/1.1 protocol serves
:func:`plugin_side_app`: the register call, with connectrpc's codecs and errors as the SDK's
connect-go client expects them, and Connect's ``unimplemented`` for any other path.  Each
connection's own object (a :class:`Registrant`: :class:`~.host.PluginConnection`) rides in
the protocol's ASGI state, beside the stream the request came on.

The rules (:func:`validate`): a name that is not empty and fits :data:`NAME_RULE`, a
``v``-prefixed semantic version (``api.NewVersion``), a secrets provider with a valid pattern
(access control modules are not served here), and for a plugin the engine launched, the name
it was launched as.  A refusal is a Connect error the SDK prints as it exits
(``failed to register with secrets engine: invalid_argument: …``).
"""

from __future__ import annotations

import contextvars
import re
from typing import TYPE_CHECKING, Any, Protocol

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from uvicorn.protocols.http.h11_impl import H11Protocol

from docker_pass.core.errors import InvalidPatternError
from docker_pass.core.ids import Pattern
from docker_pass.core.remote.wire import is_engine_version
from docker_pass.core.value import FrozenValue
from docker_pass.daemon.app import unimplemented
from docker_pass.daemon.external.yamux.transport import STREAM_INFO
from docker_pass.daemon.gen.plugins.v1 import api_connect as plugins_connect
from docker_pass.daemon.gen.plugins.v1 import api_pb as plugins_pb
from docker_pass.daemon.limits import with_default_deadline

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Awaitable, Callable, MutableMapping

    from connectrpc.request import RequestContext

    from docker_pass.daemon.external.yamux import Stream

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]

REGISTER_PATH = "/plugins.v1.RegisterService/RegisterPlugin"
#: What a plugin's name may be: it names the plugin in ``plugins ls``, in the config file
#: (``plugins.NAME``) and on command lines, so no spaces, slashes or control characters.
NAME_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: Bytes a register request may hold (a name, a version and a pattern).
MAX_REQUEST = 64 * 1024
#: Seconds a plugin's request may take when it sets no deadline (the SDK sets its own).
REQUEST_DEADLINE = 5.0

_REGISTRANT_KEY = "docker_pass.registrant"
_STREAM_KEY = "docker_pass.stream"
_CURRENT: contextvars.ContextVar[Registrant] = contextvars.ContextVar("docker_pass_registrant")


class Registered(FrozenValue):
    """A registration that passed :func:`validate`: the plugin's name, version and pattern."""

    __slots__ = ("name", "pattern", "version")
    name: str
    version: str
    pattern: Pattern

    def __init__(self, name: str, version: str, pattern: Pattern) -> None:
        self._set("name", name)
        self._set("version", version)
        self._set("pattern", pattern)

    def __repr__(self) -> str:
        return f"Registered({self.name!r}, {self.version!r}, {self.pattern.value!r})"


class Registrant(Protocol):
    """One plugin connection, as the register call sees it."""

    async def register(
        self, request: plugins_pb.RegisterPluginRequest
    ) -> plugins_pb.RegisterPluginResponse:
        """Validate and record the registration; raise ``ConnectError`` to refuse it."""
        ...

    def answered(self, stream: Stream | None) -> None:
        """The answer to the register call was handed to ``stream`` whole."""
        ...


def refusal(code: Code, message: str) -> ConnectError:
    """The Connect error that refuses a registration."""
    return ConnectError(code, message)


def validate(request: plugins_pb.RegisterPluginRequest, launched_as: str | None) -> Registered:
    """The registration ``request`` asks for, checked; ``ConnectError`` if it breaks a rule.

    ``launched_as``: the name the engine launched the plugin as (it may not change it).
    Nothing of the request reaches a message unchecked: a bad name or version is described,
    not quoted.
    """
    name, version = request.name, request.version
    if not name:
        raise refusal(Code.INVALID_ARGUMENT, "plugin name cannot be empty")
    if NAME_RULE.fullmatch(name) is None:
        raise refusal(
            Code.INVALID_ARGUMENT,
            "plugin name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit",
        )
    if launched_as is not None and name != launched_as:
        raise refusal(
            Code.INVALID_ARGUMENT,
            f"plugin name cannot be changed when launched by the engine (launched as "
            f"{launched_as})",
        )
    if not is_engine_version(version):
        raise refusal(
            Code.INVALID_ARGUMENT,
            f"plugin {name}: the version is not a v-prefixed semantic version (v1.2.3)",
        )
    kind = request.metadata
    if kind is None or kind.field != "secrets_provider":
        what = "an access control module" if kind is not None else "neither kind of plugin"
        raise refusal(
            Code.UNIMPLEMENTED,
            f"plugin {name} registers as {what}: this engine hosts secrets providers only",
        )
    provider = kind.value
    assert isinstance(provider, plugins_pb.SecretsProvider)  # noqa: S101 - the oneof's type
    try:
        pattern = Pattern.parse(provider.pattern)
    except InvalidPatternError:
        raise refusal(
            Code.INVALID_ARGUMENT, f"plugin {name}: its pattern is not a valid pattern"
        ) from None
    return Registered(name, version, pattern)


class _RegisterHandler(plugins_connect.RegisterService):
    """``RegisterPlugin``, handed to the connection the request came on."""

    async def register_plugin(
        self,
        request: plugins_pb.RegisterPluginRequest,
        ctx: RequestContext[plugins_pb.RegisterPluginRequest, plugins_pb.RegisterPluginResponse],
    ) -> plugins_pb.RegisterPluginResponse:
        return await _CURRENT.get().register(request)


_SERVICE = plugins_connect.RegisterServiceASGIApplication(
    _RegisterHandler(), read_max_bytes=MAX_REQUEST
)


async def plugin_side_app(
    scope: Scope,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """The ASGI application of the streams a plugin opens."""
    if scope["type"] != "http":
        return
    state = scope["state"]
    registrant: Registrant = state[_REGISTRANT_KEY]
    stream: Stream | None = state.get(_STREAM_KEY)
    path = str(scope.get("path", ""))
    if path != REGISTER_PATH:
        await unimplemented(send, path)
        return
    _CURRENT.set(registrant)

    async def answer(message: Message) -> None:
        await send(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            registrant.answered(stream)

    await _SERVICE(with_default_deadline(scope, REQUEST_DEADLINE), receive, answer)


class PluginSideProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol on one stream a plugin opened, for one connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # Every request's scope copies this state: the app learns its stream.
        self.app_state = {**self.app_state, _STREAM_KEY: transport.get_extra_info(STREAM_INFO)}


def protocol_factory(registrant: Registrant) -> Callable[[], asyncio.Protocol]:
    """Protocols for the streams a plugin opens on ``registrant``'s connection."""
    import uvicorn
    from uvicorn.server import ServerState

    config = _config()
    state = ServerState()  # this connection's own: uvicorn's server never waits for it
    app_state: dict[str, Any] = {_REGISTRANT_KEY: registrant}

    def make() -> asyncio.Protocol:
        return PluginSideProtocol(config, state, app_state)

    assert isinstance(config, uvicorn.Config)  # noqa: S101 - narrows for mypy
    return make


_configs: list[Any] = []


def _config() -> Any:
    """One uvicorn config for every plugin connection (loaded once)."""
    if not _configs:
        import uvicorn

        config = uvicorn.Config(
            plugin_side_app,
            lifespan="off",
            access_log=False,
            log_config=None,
            timeout_keep_alive=5,
            h11_max_incomplete_event_size=16 * 1024,
        )
        config.load()
        _configs.append(config)
    return _configs[0]
