"""The daemon's side of the engine API: core's objects as protobuf messages, errors, headers.

Core's objects (:class:`Envelope`, :class:`PluginStatus`, :class:`Resolution`) travel as the
secrets engine API's protobuf messages, which connectrpc sends with either codec; what
docker-pass adds travels beside them in ``docker-pass-*`` response headers holding the compact
JSON of a ``dockerpass.v1`` message, so the public messages are exactly the ones Docker's
clients expect and docker-pass's own client reads everything with the standard library
(:mod:`.wire` and :mod:`.client`).  Only the daemon imports this module (and protobuf).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from protobuf.wkt import Timestamp

from docker_pass.core.errors import (
    DockerPassError,
    InvalidIdentifierError,
    InvalidPatternError,
    NoPluginMatchesError,
    PluginError,
    SecretNotFoundError,
    UnknownPluginError,
    UsageError,
    VersionConflictError,
    describe_unexpected,
)
from docker_pass.core.remote.wire import is_engine_version
from docker_pass.core.state import RunStatus
from docker_pass.daemon.gen.dockerpass.v1 import api_pb as dockerpass_pb
from docker_pass.daemon.gen.plugins.v1 import api_pb as plugins_pb
from docker_pass.daemon.gen.resolver.v1 import api_pb as resolver_pb

if TYPE_CHECKING:
    from protobuf import Message

    from docker_pass.core.envelope import Envelope, SecretInfo
    from docker_pass.core.moves import Moved, RealmMoved
    from docker_pass.core.results import PluginStatus, Removal, Resolution

_RUN_STATUS = {
    RunStatus.RUNNING: plugins_pb.RunStatus.RUNNING,
    RunStatus.STOPPED: plugins_pb.RunStatus.STOPPED,
    RunStatus.CRASHED: plugins_pb.RunStatus.CRASHED,
    RunStatus.RETRIES_EXCEEDED: plugins_pb.RunStatus.RETRIES_EXCEEDED,
    # Disabled is its own flag in the API; a disabled plugin is not running.
    RunStatus.DISABLED: plugins_pb.RunStatus.STOPPED,
}


def json_header(message: Message) -> str:
    """A ``docker-pass-*`` header value: the message's canonical JSON, compact and ASCII-only
    (non-ASCII text is escaped, so the value is a valid HTTP field value)."""
    return json.dumps(json.loads(message.to_json()), separators=(",", ":"))


# -- envelopes and listings ----------------------------------------------------------------------


def _timestamp(when: datetime | None) -> Timestamp | None:
    return Timestamp.from_datetime(when) if when is not None else None


#: Go's zero ``time.Time`` (0001-01-01T00:00:00Z) as a Timestamp: what Docker's engine and
#: plugins send for "no expiry" (``timestamppb.New(time.Time{})``), and what Docker's client
#: reads as ``IsZero()``.  An absent field would read as 1970-01-01: expired.
ZERO_TIME = Timestamp(seconds=-62135596800)


def envelope_message(env: Envelope) -> resolver_pb.Envelope:
    """The API message of an envelope (no expiry: :data:`ZERO_TIME`, as upstream sends it)."""
    expires = env.expires_at
    return resolver_pb.Envelope(
        id=env.id.value,
        value=env.value,
        provider=env.provider,
        version=env.version,
        created_at=_timestamp(env.created_at),
        resolved_at=_timestamp(env.resolved_at),
        expires_at=ZERO_TIME if expires is None else Timestamp.from_datetime(expires),
        metadata=dict(env.metadata),
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
    updated = datetime.fromtimestamp(info.updated_at, UTC) if info.updated_at is not None else None
    return dockerpass_pb.SecretInfo(
        id=info.id.value,
        provider=info.provider,
        metadata=dict(info.metadata),
        updated_at=_timestamp(updated),
        version=info.version,
        deleted=info.deleted,
    )


def removal_message(removal: Removal) -> dockerpass_pb.RemoveSecretsResponse:
    """The API message of a removal's (or an undelete's) outcomes, one per ID."""
    return dockerpass_pb.RemoveSecretsResponse(
        provider=removal.provider,
        outcomes=[
            dockerpass_pb.RemovalOutcome(id=id_.value, outcome=outcome)
            for id_, outcome in removal.outcomes
        ],
    )


def move_message(moved: Moved) -> dockerpass_pb.MoveOutcome:
    """The API message of one move's result (IDs, plugins, what exists where)."""
    return dockerpass_pb.MoveOutcome(
        old=moved.old.value,
        new=moved.new.value,
        plugin=moved.plugin,
        to_plugin=moved.to_plugin,
        outcome=moved.outcome,
        version=moved.version,
        message=moved.message,
        checked=moved.checked,
    )


def realm_move_message(result: RealmMoved) -> dockerpass_pb.MoveRealmResponse:
    """The API message of a realm's move: one outcome per ID."""
    return dockerpass_pb.MoveRealmResponse(
        old=result.old.value,
        new=result.new.value,
        plugin=result.plugin,
        to_plugin=result.to_plugin,
        moves=[move_message(m) for m in result.moves],
    )


def conflict_message(exc: VersionConflictError) -> dockerpass_pb.VersionConflict:
    """What a refused versioned write found (the ``docker-pass-conflict`` header, a detail)."""
    changed = datetime.fromtimestamp(exc.changed_at, UTC) if exc.changed_at is not None else None
    return dockerpass_pb.VersionConflict(
        id=exc.id,
        provider=exc.provider,
        expected=exc.expected,
        found=exc.found,
        changed_at=_timestamp(changed),
        changed_by=exc.changed_by,
    )


# -- plugins -------------------------------------------------------------------------------------


def wire_version(version: str) -> str:
    """``version`` as Docker's client parses it: ``0.1.0`` goes out as ``v0.1.0``.

    Docker's client drops a plugin whose version is not a ``v``-prefixed semantic version, so
    one that is not (``unknown``, ``2024.1``) goes out as ``v0.0.0+<its characters>``: still
    listed, and still telling.
    """
    text = version.strip()
    candidate = text if text.startswith("v") else "v" + text
    if is_engine_version(candidate):
        return candidate
    build = ".".join(p for p in re.split(r"[^0-9A-Za-z-]+", text) if p)
    return f"v0.0.0+{build}" if build else "v0.0.0"


def plugin_message(status: PluginStatus) -> plugins_pb.Plugin:
    """The API message of a plugin's status."""
    from protobuf import Oneof

    return plugins_pb.Plugin(
        name=status.name,
        version=wire_version(status.version),
        disabled=not status.enabled,
        external=status.external,
        configurable=status.configurable,
        run_status=_RUN_STATUS.get(status.status, plugins_pb.RunStatus.UNSPECIFIED),
        status_message=status.message,
        metadata=Oneof("secrets_provider", plugins_pb.SecretsProvider(pattern=status.pattern)),
    )


def plugin_detail(status: PluginStatus) -> dockerpass_pb.PluginDetail:
    """What ``plugins ls`` shows of a plugin beyond the API message."""
    changed = datetime.fromtimestamp(status.changed_at, UTC) if status.changed_at else None
    return dockerpass_pb.PluginDetail(
        storage=status.storage,
        writable=status.writable,
        changed_at=_timestamp(changed),
        version=status.version,
        store_kind=status.store_kind,
        capabilities=sorted(c.value for c in status.capabilities),
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
        return ConnectError(Code.INTERNAL, describe_unexpected(exc))
    if isinstance(exc, VersionConflictError):
        code = Code.ABORTED  # Connect's (and gRPC's) code for a lost read-modify-write race
    elif isinstance(exc, UsageError):
        code = Code.FAILED_PRECONDITION
    elif isinstance(exc, InvalidPatternError | InvalidIdentifierError):
        code = Code.INVALID_ARGUMENT
    elif isinstance(exc, NoPluginMatchesError | SecretNotFoundError | UnknownPluginError):
        code = Code.NOT_FOUND
    elif isinstance(exc, PluginError):
        code = Code.UNAVAILABLE
    else:
        code = Code.UNKNOWN
    details: list[Message] = [dockerpass_pb.Hints(hints=list(exc.hints))] if exc.hints else []
    if isinstance(exc, VersionConflictError):
        details.append(conflict_message(exc))
    return ConnectError(code, str(exc), details)
