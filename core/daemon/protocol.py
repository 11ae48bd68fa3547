"""What the daemon and its clients agree on: versions, headers, errors, and message mapping.

Core's objects (:class:`Envelope`, :class:`PluginStatus`, :class:`Resolution`) travel as the
secrets engine API's protobuf messages; what docker-pass adds travels beside them in binary
Connect headers (``*-bin``, base64 of a ``dockerpass.v1`` message), so the public messages are
exactly the ones Docker's clients expect.  Importing this module imports protobuf: the commands
that may never talk to a daemon import it only once a socket answered.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from typing import TypeVar

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from protobuf import Message
from protobuf.wkt import Timestamp

from docker_pass.core import __version__
from docker_pass.core.daemon.gen.dockerpass.v1 import api_pb as dockerpass_pb
from docker_pass.core.daemon.gen.plugins.v1 import api_pb as plugins_pb
from docker_pass.core.daemon.gen.resolver.v1 import api_pb as resolver_pb
from docker_pass.core.engine import DISABLED, PluginStatus, Resolution
from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.errors import (
    DockerPassError,
    InvalidIdentifierError,
    InvalidPatternError,
    NoPluginMatchesError,
    PluginError,
    SecretNotFoundError,
    UnknownPluginError,
    UsageError,
)
from docker_pass.core.ids import ID
from docker_pass.core.state import CRASHED, RETRIES_EXCEEDED, RUNNING, STOPPED

M = TypeVar("M", bound=Message)

#: What GetVersion answers: a ``v``-prefixed semantic version, as Docker's clients require.
ENGINE_VERSION = f"v{__version__}"
_SEMVER = re.compile(
    r"v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
)

RESOLUTION_HEADER = "docker-pass-resolution-bin"
PLUGINS_HEADER = "docker-pass-plugins-bin"
ENGINE_HEADER = "docker-pass-engine-bin"

_RUN_STATUS = {
    RUNNING: plugins_pb.RunStatus.RUNNING,
    STOPPED: plugins_pb.RunStatus.STOPPED,
    CRASHED: plugins_pb.RunStatus.CRASHED,
    RETRIES_EXCEEDED: plugins_pb.RunStatus.RETRIES_EXCEEDED,
    # Disabled is its own flag in the API; a disabled plugin is not running.
    DISABLED: plugins_pb.RunStatus.STOPPED,
}
_STATUS_NAME = {
    plugins_pb.RunStatus.RUNNING: RUNNING,
    plugins_pb.RunStatus.STOPPED: STOPPED,
    plugins_pb.RunStatus.CRASHED: CRASHED,
    plugins_pb.RunStatus.RETRIES_EXCEEDED: RETRIES_EXCEEDED,
}


def is_engine_version(version: str) -> bool:
    """Whether ``version`` is a ``v``-prefixed semantic version (what clients accept)."""
    return _SEMVER.fullmatch(version) is not None


# -- binary headers ----------------------------------------------------------------------------


def encode_header(message: Message) -> str:
    """A ``*-bin`` header value: unpadded base64 of the message (Connect's rule)."""
    return base64.b64encode(message.to_binary()).decode("ascii").rstrip("=")


def decode_header(value: str | None, cls: type[M]) -> M | None:
    """The message in a ``*-bin`` header (padded or not), or ``None`` if absent or garbled."""
    if not value:
        return None
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        return cls.from_binary(raw)
    except ValueError:
        return None


# -- envelopes and listings ----------------------------------------------------------------------


def _timestamp(when: datetime | None) -> Timestamp | None:
    return Timestamp.from_datetime(when) if when is not None else None


def _datetime(when: Timestamp | None) -> datetime | None:
    return when.to_datetime().astimezone(UTC) if when is not None else None


def envelope_message(env: Envelope) -> resolver_pb.Envelope:
    """The API message of an envelope."""
    return resolver_pb.Envelope(
        id=env.id.value,
        value=env.value,
        provider=env.provider,
        version=env.version,
        created_at=_timestamp(env.created_at),
        resolved_at=_timestamp(env.resolved_at),
        expires_at=_timestamp(env.expires_at),
        metadata=dict(env.metadata),
    )


def envelope_from_message(message: resolver_pb.Envelope) -> Envelope:
    """The envelope an API message describes (its ID is checked)."""
    return Envelope(
        ID.parse(message.id),
        bytes(message.value),
        message.provider,
        message.version,
        _datetime(message.created_at),
        _datetime(message.resolved_at),
        _datetime(message.expires_at),
        dict(message.metadata),
    )


def resolution_message(result: Resolution) -> dockerpass_pb.Resolution:
    """The report of how a resolution was answered (no values)."""
    return dockerpass_pb.Resolution(
        asked=list(result.asked),
        answered=list(result.answered),
        errors=dict(result.errors),
        pattern=result.pattern.value,
        down=dict(result.down),
    )


def info_message(info: SecretInfo) -> dockerpass_pb.SecretInfo:
    """The API message of a listing entry."""
    return dockerpass_pb.SecretInfo(
        id=info.id.value, provider=info.provider, metadata=dict(info.metadata)
    )


def info_from_message(message: dockerpass_pb.SecretInfo) -> SecretInfo:
    """The listing entry an API message describes."""
    return SecretInfo(ID.parse(message.id), message.provider, dict(message.metadata))


# -- plugins -------------------------------------------------------------------------------------


def plugin_message(status: PluginStatus, *, external: bool) -> plugins_pb.Plugin:
    """The API message of a plugin's status."""
    from protobuf import Oneof

    return plugins_pb.Plugin(
        name=status.name,
        version=status.version,
        disabled=not status.enabled,
        external=external,
        configurable=status.configurable,
        run_status=_RUN_STATUS.get(status.status, plugins_pb.RunStatus.UNSPECIFIED),
        status_message=status.message,
        metadata=Oneof("secrets_provider", plugins_pb.SecretsProvider(pattern=status.pattern)),
    )


def plugin_detail(status: PluginStatus) -> dockerpass_pb.PluginDetail:
    """What ``plugins ls`` shows of a plugin beyond the API message."""
    changed = datetime.fromtimestamp(status.changed_at, UTC) if status.changed_at else None
    return dockerpass_pb.PluginDetail(
        storage=status.storage, writable=status.writable, changed_at=_timestamp(changed)
    )


def status_from_message(
    message: plugins_pb.Plugin, detail: dockerpass_pb.PluginDetail | None = None
) -> PluginStatus:
    """The plugin status an API message (and, from docker-pass's daemon, its detail) describes."""
    status = DISABLED if message.disabled else _STATUS_NAME.get(message.run_status, STOPPED)
    pattern = ""
    if message.metadata is not None and message.metadata.field == "secrets_provider":
        pattern = message.metadata.value.pattern
    changed = detail.changed_at if detail is not None else None
    return PluginStatus(
        name=message.name,
        version=message.version,
        status=status,
        configurable=message.configurable,
        enabled=not message.disabled,
        pattern=pattern,
        message=message.status_message,
        storage=detail.storage if detail is not None else "",
        writable=detail.writable if detail is not None else False,
        changed_at=changed.to_seconds() if changed is not None else 0.0,
    )


# -- errors --------------------------------------------------------------------------------------


def connect_error(exc: BaseException) -> ConnectError:
    """The Connect error a failed request answers with.

    Only docker-pass's own errors keep their text (they name IDs, plugins and reasons, never
    values); anything else is reported by its kind alone, since a library's message could
    hold data.
    """
    if isinstance(exc, ConnectError):
        return exc
    if not isinstance(exc, DockerPassError):
        return ConnectError(Code.INTERNAL, f"internal error ({type(exc).__name__})")
    if isinstance(exc, UsageError):
        code = Code.FAILED_PRECONDITION
    elif isinstance(exc, InvalidPatternError | InvalidIdentifierError):
        code = Code.INVALID_ARGUMENT
    elif isinstance(exc, NoPluginMatchesError | SecretNotFoundError | UnknownPluginError):
        code = Code.NOT_FOUND
    elif isinstance(exc, PluginError):
        code = Code.UNAVAILABLE
    else:
        code = Code.UNKNOWN
    details = [dockerpass_pb.Hints(hints=list(exc.hints))] if exc.hints else []
    return ConnectError(code, str(exc), details)


def error_hints(error: ConnectError) -> list[str]:
    """The hints a docker-pass daemon attached to an error (none from other engines)."""
    hints: list[str] = []
    for detail in error.details:
        if detail.type_name == "dockerpass.v1.Hints":
            message = detail.value(dockerpass_pb.Hints)
            if message is not None:
                hints.extend(message.hints)
    return hints
