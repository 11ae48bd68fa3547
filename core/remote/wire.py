"""What travels on the engine socket, in the standard library alone.

The daemon's clients in docker-pass speak Connect's JSON codec, so this module holds what they
need to read the secrets engine API without protobuf: the method paths, the ``docker-pass-*``
response headers, Connect's error codes, the version rule, and readers that turn the canonical
protobuf JSON of the API's messages into core's objects.

Protobuf's canonical JSON mapping, as the readers accept it: field names in lowerCamelCase (the
proto names are accepted too), absent or ``null`` fields hold their default, ``bytes`` are
base64 (standard or URL-safe, padded or not), ``google.protobuf.Timestamp`` is an RFC 3339
string, enums are their names (numbers are accepted too), 64-bit integers are strings (numbers
are accepted too), and ``map<string, string>`` is an object.  Unknown fields are ignored: a
newer engine may add some.

A reader that meets JSON not shaped like its message raises :class:`MalformedMessageError`,
whose text names the field and never holds the content (an envelope carries a secret value).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from docker_pass.core import __version__
from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.errors import InvalidIdentifierError, VersionConflictError
from docker_pass.core.ids import ID
from docker_pass.core.plugin import READ_ONLY, READ_WRITE, Capability
from docker_pass.core.results import PluginStatus
from docker_pass.core.state import RunStatus

if TYPE_CHECKING:
    from docker_pass.core.moves import Moved, RealmMoved

#: What GetVersion answers: a ``v``-prefixed semantic version, as Docker's clients require.
ENGINE_VERSION = f"v{__version__}"
_NUM = r"(?:0|[1-9][0-9]*)"
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_BUILD = r"\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
#: Go's ``golang.org/x/mod/semver.IsValid``, which Docker's client applies to the engine's and
#: every plugin's version (``api.NewVersion``): ``v`` first; ``v1`` and ``v1.2`` are shorthands
#: (without pre-release or build parts); pre-release numbers have no leading zeros.
_SEMVER = re.compile(
    rf"v{_NUM}(?:\.{_NUM}(?:\.{_NUM}(?:-{_PRE_ID}(?:\.{_PRE_ID})*)?(?:{_BUILD})?)?)?"
)

# -- methods (Connect unary: HTTP POST to /<package>.<Service>/<Method>) --------------------------

GET_SECRETS = "/resolver.v1.ResolverService/GetSecrets"
LIST_PLUGINS = "/plugins.v1.PluginManagementService/ListPlugins"
ENABLE_PLUGIN = "/plugins.v1.PluginManagementService/EnablePlugin"
DISABLE_PLUGIN = "/plugins.v1.PluginManagementService/DisablePlugin"
GET_VERSION = "/health.v1.VersionService/GetVersion"
LIST_SECRETS = "/dockerpass.v1.ListingService/ListSecrets"
GET_SECRET = "/dockerpass.v1.SecretsService/GetSecret"  # noqa: S105 - a method path
SAVE_SECRET = "/dockerpass.v1.SecretsService/SaveSecret"  # noqa: S105 - a method path
REMOVE_SECRETS = "/dockerpass.v1.SecretsService/RemoveSecrets"
UNDELETE_SECRETS = "/dockerpass.v1.SecretsService/UndeleteSecrets"
MOVE_SECRET = "/dockerpass.v1.SecretsService/MoveSecret"  # noqa: S105 - a method path
MOVE_REALM = "/dockerpass.v1.SecretsService/MoveRealm"
#: The change feed: a Connect server stream (:mod:`.feed`), not a unary call.
WATCH_SECRETS = "/dockerpass.v1.FeedService/WatchSecrets"

#: The engine feature (``dockerpass.v1.EngineInfo.features``) of expected versions on writes
#: and removals (and purge on removals): a client asks an engine without it for none of them.
VERSIONS_FEATURE = "versions"
#: The engine feature of the change feed (``WatchSecrets``): a front follows it instead of
#: watching the plugins itself.
WATCH_FEATURE = "watch"

# -- docker-pass's response headers: compact, ASCII-only JSON of a dockerpass.v1 message ----------
# Clients written for Docker's engine ignore them; docker-pass's own CLI and TUI read them.

#: ``dockerpass.v1.Resolution`` on every GetSecrets answer, success or error.
RESOLUTION_HEADER = "docker-pass-resolution"
#: ``dockerpass.v1.PluginDetails`` on ListPlugins answers.
PLUGINS_HEADER = "docker-pass-plugins"
#: ``dockerpass.v1.EngineInfo`` on GetVersion answers.
ENGINE_HEADER = "docker-pass-engine"
#: ``dockerpass.v1.Hints`` on error answers that have hints (also a Connect error detail).
HINTS_HEADER = "docker-pass-hints"
#: ``dockerpass.v1.VersionConflict`` on ``aborted`` answers: a versioned write was refused.
CONFLICT_HEADER = "docker-pass-conflict"

# -- Connect's error codes (the ones clients act on) ----------------------------------------------

NOT_FOUND = "not_found"
#: A versioned write refused: the stored secret is not the version expected.
ABORTED = "aborted"
UNAVAILABLE = "unavailable"
UNIMPLEMENTED = "unimplemented"
DEADLINE_EXCEEDED = "deadline_exceeded"
CANCELED = "canceled"
#: Connect's code for an HTTP error that carries no Connect error body.
HTTP_STATUS_CODES = {
    400: "internal",
    401: "unauthenticated",
    403: "permission_denied",
    404: "unimplemented",
    429: UNAVAILABLE,
    502: UNAVAILABLE,
    503: UNAVAILABLE,
    504: UNAVAILABLE,
}

# -- plugins.v1.RunStatus -------------------------------------------------------------------------

RUN_STATUS_NUMBERS = {
    "RUN_STATUS_UNSPECIFIED": 0,
    "RUN_STATUS_RUNNING": 1,
    "RUN_STATUS_STOPPED": 2,
    "RUN_STATUS_CRASHED": 3,
    "RUN_STATUS_RETRIES_EXCEEDED": 4,
}
_STATUS_OF_NUMBER = {
    1: RunStatus.RUNNING,
    2: RunStatus.STOPPED,
    3: RunStatus.CRASHED,
    4: RunStatus.RETRIES_EXCEEDED,
}

#: The capabilities this client knows (a newer engine may name more: they are skipped).
_CAPABILITY_NAMES = frozenset(c.value for c in Capability)

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d\d):(\d\d))"
)


def is_engine_version(version: str) -> bool:
    """Whether ``version`` is a ``v``-prefixed semantic version (what clients accept)."""
    return _SEMVER.fullmatch(version) is not None


class MalformedMessageError(ValueError):
    """Raised when JSON does not have the shape of the message it should hold; the text names
    the field, never its content."""


# -- fields ---------------------------------------------------------------------------------------


def _proto_name(json_name: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), json_name)


def field(doc: dict[str, Any], name: str) -> Any:
    """The value of field ``name`` (its JSON name), or ``None`` when absent or ``null``."""
    value = doc.get(name)
    if value is None and not name.islower():
        value = doc.get(_proto_name(name))
    return value


def _wrong(name: str, kind: str) -> MalformedMessageError:
    return MalformedMessageError(f"field {name!r} is not {kind}")


def read_object(doc: dict[str, Any], name: str) -> dict[str, Any] | None:
    """A message field: the object, or ``None`` when unset."""
    value = field(doc, name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _wrong(name, "an object")
    return value


def read_string(doc: dict[str, Any], name: str) -> str:
    """A ``string`` field (``""`` when unset)."""
    value = field(doc, name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _wrong(name, "a string")
    return value


def read_bool(doc: dict[str, Any], name: str) -> bool:
    """A ``bool`` field (``False`` when unset)."""
    value = field(doc, name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _wrong(name, "a boolean")
    return value


def _integer(value: Any, name: str) -> int:
    # int64 is a string in canonical JSON; a number is accepted too (bool is not a number here).
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    raise _wrong(name, "an integer")


def read_int(doc: dict[str, Any], name: str) -> int:
    """An integer field, as a number or (64-bit) a decimal string; 0 when unset."""
    value = field(doc, name)
    return 0 if value is None else _integer(value, name)


def read_bytes(doc: dict[str, Any], name: str) -> bytes:
    """A ``bytes`` field: base64, standard or URL-safe, padded or not (``b""`` when unset)."""
    value = field(doc, name)
    if value is None:
        return b""
    if not isinstance(value, str):
        raise _wrong(name, "a base64 string")
    text = value.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise _wrong(name, "a base64 string") from None


def read_timestamp(doc: dict[str, Any], name: str) -> datetime | None:
    """A ``google.protobuf.Timestamp`` field (RFC 3339, in UTC), or ``None`` when unset.

    Fractions finer than a microsecond are cut, as :class:`datetime` cannot hold them.
    """
    value = field(doc, name)
    if value is None:
        return None
    match = _TIMESTAMP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise _wrong(name, "an RFC 3339 timestamp")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    if zulu:
        zone = UTC
    else:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        zone = timezone(-offset if sign == "-" else offset)
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        when = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros, zone
        )
    except ValueError:
        raise _wrong(name, "an RFC 3339 timestamp") from None
    return when.astimezone(UTC)


def read_string_list(doc: dict[str, Any], name: str) -> list[str]:
    """A ``repeated string`` field."""
    value = field(doc, name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _wrong(name, "a list of strings")
    return value


def read_objects(doc: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """A repeated message field."""
    value = field(doc, name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _wrong(name, "a list of objects")
    return value


def read_string_map(doc: dict[str, Any], name: str) -> dict[str, str]:
    """A ``map<string, string>`` field."""
    value = read_object(doc, name) or {}
    if not all(isinstance(item, str) for item in value.values()):
        raise _wrong(name, "a map of strings")
    return value


def read_int_map(doc: dict[str, Any], name: str) -> dict[str, int]:
    """A ``map<string, int64>`` field."""
    value = read_object(doc, name) or {}
    return {key: _integer(item, name) for key, item in value.items()}


def read_enum(doc: dict[str, Any], name: str, numbers: dict[str, int]) -> int:
    """An enum field as its number: JSON holds its name (or, accepted too, its number).

    A name this client does not know (a newer engine's) reads as 0, the unspecified value.
    """
    value = field(doc, name)
    if value is None:
        return 0
    if isinstance(value, str):
        return numbers.get(value, 0)
    return _integer(value, name)


def _parse_id(value: str, name: str) -> ID:
    try:
        return ID.parse(value)
    except InvalidIdentifierError:
        raise _wrong(name, "a valid secret ID") from None


def read_id(doc: dict[str, Any], name: str) -> ID:
    """A string field that must hold a secret ID."""
    return _parse_id(read_string(doc, name), name)


# -- messages -------------------------------------------------------------------------------------


def read_time_or_zero(doc: dict[str, Any], name: str) -> datetime | None:
    """A ``google.protobuf.Timestamp`` field where Go's zero time (year 1, what Docker's
    engine and plugins send for "none") means unset, as an absent field does."""
    when = read_timestamp(doc, name)
    return None if when is not None and when.year == 1 else when


def envelope_from_json(doc: dict[str, Any]) -> Envelope:
    """The envelope a ``resolver.v1.Envelope`` holds (its ID is checked); a time left out or
    sent as Go's zero time is unset (an ``expiresAt`` of year 1 is no expiry)."""
    return Envelope(
        _parse_id(read_string(doc, "id"), "id"),
        read_bytes(doc, "value"),
        read_string(doc, "provider"),
        read_string(doc, "version"),
        read_time_or_zero(doc, "createdAt"),
        read_time_or_zero(doc, "resolvedAt"),
        read_time_or_zero(doc, "expiresAt"),
        read_string_map(doc, "metadata"),
    )


def secret_info_from_json(doc: dict[str, Any]) -> SecretInfo:
    """The listing entry a ``dockerpass.v1.SecretInfo`` holds."""
    updated = read_timestamp(doc, "updatedAt") if "updatedAt" in doc else None
    return SecretInfo(
        _parse_id(read_string(doc, "id"), "id"),
        read_string(doc, "provider"),
        read_string_map(doc, "metadata"),
        updated.timestamp() if updated is not None else None,
        read_string(doc, "version"),
        deleted=read_bool(doc, "deleted"),
    )


def conflict_from_json(message: str, doc: dict[str, Any]) -> VersionConflictError:
    """The refusal a ``dockerpass.v1.VersionConflict`` describes, with the daemon's
    ``message``."""
    changed = read_timestamp(doc, "changedAt")
    return VersionConflictError(
        message,
        id_=read_string(doc, "id"),
        provider=read_string(doc, "provider"),
        expected=read_string(doc, "expected"),
        found=read_string(doc, "found"),
        changed_at=changed.timestamp() if changed is not None else None,
        changed_by=read_string(doc, "changedBy"),
    )


def moved_from_json(doc: dict[str, Any]) -> Moved:
    """One move's result, as a ``dockerpass.v1.MoveOutcome`` holds it."""
    from docker_pass.core.moves import Moved  # only mv and the TUI's move read one

    return Moved(
        read_id(doc, "old"),
        read_id(doc, "new"),
        read_string(doc, "plugin"),
        read_string(doc, "toPlugin"),
        read_string(doc, "outcome"),
        version=read_string(doc, "version"),
        message=read_string(doc, "message"),
        checked=read_bool(doc, "checked"),
    )


def realm_moved_from_json(doc: dict[str, Any]) -> RealmMoved:
    """A realm's move, as a ``dockerpass.v1.MoveRealmResponse`` holds it."""
    from docker_pass.core.moves import RealmMoved

    return RealmMoved(
        read_id(doc, "old"),
        read_id(doc, "new"),
        read_string(doc, "plugin"),
        read_string(doc, "toPlugin"),
        tuple(moved_from_json(m) for m in read_objects(doc, "moves")),
    )


def plugin_status_from_json(
    plugin: dict[str, Any], detail: dict[str, Any] | None = None
) -> PluginStatus:
    """The status a ``plugins.v1.Plugin`` describes, with what docker-pass's engine adds
    (a ``dockerpass.v1.PluginDetail``: storage and its kind, writable, when the status
    changed)."""
    disabled = read_bool(plugin, "disabled")
    run_status = read_enum(plugin, "runStatus", RUN_STATUS_NUMBERS)
    provider = read_object(plugin, "secretsProvider") or {}
    changed = read_timestamp(detail, "changedAt") if detail is not None else None
    named = read_string_list(detail, "capabilities") if detail is not None else []
    capabilities = READ_WRITE if detail is not None and read_bool(detail, "writable") else READ_ONLY
    if named:
        capabilities = frozenset(Capability(c) for c in named if c in _CAPABILITY_NAMES)
    return PluginStatus(
        name=read_string(plugin, "name"),
        version=(read_string(detail, "version") if detail is not None else "")
        or read_string(plugin, "version"),
        status=RunStatus.DISABLED
        if disabled
        else _STATUS_OF_NUMBER.get(run_status, RunStatus.STOPPED),
        configurable=read_bool(plugin, "configurable"),
        enabled=not disabled,
        pattern=read_string(provider, "pattern"),
        message=read_string(plugin, "statusMessage"),
        storage=read_string(detail, "storage") if detail is not None else "",
        capabilities=capabilities,
        changed_at=changed.timestamp() if changed is not None else 0.0,
        store_kind=read_string(detail, "storeKind") if detail is not None else "",
        external=read_bool(plugin, "external"),
    )


__all__ = [
    "ABORTED",
    "CANCELED",
    "CONFLICT_HEADER",
    "DEADLINE_EXCEEDED",
    "DISABLE_PLUGIN",
    "ENABLE_PLUGIN",
    "ENGINE_HEADER",
    "ENGINE_VERSION",
    "GET_SECRET",
    "GET_SECRETS",
    "GET_VERSION",
    "HINTS_HEADER",
    "HTTP_STATUS_CODES",
    "LIST_PLUGINS",
    "LIST_SECRETS",
    "MOVE_REALM",
    "MOVE_SECRET",
    "NOT_FOUND",
    "PLUGINS_HEADER",
    "REMOVE_SECRETS",
    "RESOLUTION_HEADER",
    "RUN_STATUS_NUMBERS",
    "SAVE_SECRET",
    "UNAVAILABLE",
    "UNDELETE_SECRETS",
    "UNIMPLEMENTED",
    "VERSIONS_FEATURE",
    "WATCH_FEATURE",
    "WATCH_SECRETS",
    "MalformedMessageError",
    "conflict_from_json",
    "envelope_from_json",
    "field",
    "is_engine_version",
    "moved_from_json",
    "plugin_status_from_json",
    "read_bool",
    "read_bytes",
    "read_enum",
    "read_id",
    "read_int",
    "read_int_map",
    "read_object",
    "read_objects",
    "read_string",
    "read_string_list",
    "read_string_map",
    "read_time_or_zero",
    "read_timestamp",
    "realm_moved_from_json",
    "secret_info_from_json",
]
