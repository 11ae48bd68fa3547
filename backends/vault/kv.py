"""How IDs map to KV v2 secrets, and KV answers to envelopes.

- The ID ``a/b/c`` is the KV path ``<prefix>/a/b/c`` in the mount.  No component may be ``.``
  or ``..`` (the server would read them as steps out of the prefix).
- A KV secret is a map.  Its value is the key ``value`` when it has one, else its only key; a
  secret with several keys and no ``value`` has no value of its own: the error names its keys
  (never a value), and ``a/b/c/<key>`` names one of them when ``a/b/c/<key>`` is no path.
- Metadata is the secret's ``custom_metadata``; the envelope's version is the KV version, its
  ``created_at`` when that version was written.
- KV holds JSON: a value is stored as text (UTF-8); a value that is not text is refused.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from docker_pass.core.envelope import Envelope
from docker_pass.core.errors import PluginError, shorten

# json and datetime are imported where used: every engine (``run``) loads the vault plugin.

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from docker_pass.core.ids import ID, Pattern

#: The key whose value a KV secret's own ID resolves to.
VALUE_KEY = "value"


class SeveralKeysError(PluginError):
    """Raised when a secret with several keys and no ``value`` key is asked for its value; the
    message names the keys, and how to name one."""


def kv_path(prefix: str, components: tuple[str, ...]) -> str:
    """The KV path of an ID's components under ``prefix``; refuse ``.`` and ``..``."""
    if any(c in (".", "..") for c in components):
        raise PluginError(
            f"vault: {shorten('/'.join(components))}: a KV path cannot hold a . or .. component"
        )
    path = "/".join(components)
    return f"{prefix}/{path}" if prefix else path


def folder_path(prefix: str, folder: tuple[str, ...]) -> str:
    """The KV path of a folder (for LIST), ending in ``/`` unless it is the root."""
    parts = [p for p in (prefix, "/".join(folder)) if p]
    return "/".join(parts) + "/" if parts else ""


def value_key(data: Mapping[str, Any], id_: ID) -> str:
    """Which key of ``data`` holds the secret's value (see the module's rules)."""
    if VALUE_KEY in data:
        return VALUE_KEY
    if len(data) == 1:
        return next(iter(data))
    keys = sorted(data)
    shown = ", ".join(keys[:10]) + (", …" if len(keys) > 10 else "")
    example = f"{id_.value}/{keys[0]}" if keys else id_.value
    raise SeveralKeysError(
        f"vault secret {shorten(id_.value)} holds {len(keys)} keys ({shown}) and no "
        f"'{VALUE_KEY}' key: name one, as in {shorten(example)}"
    )


def key_to_write(id_: ID, data: Mapping[str, Any]) -> str:
    """Which key of ``data`` a new value of ``id_`` goes to (see the module's rules)."""
    if VALUE_KEY in data or not data:
        return VALUE_KEY
    if len(data) == 1:
        return next(iter(data))
    keys = ", ".join(sorted(data)[:10])
    raise PluginError(
        f"vault secret {shorten(id_.value)} holds several keys ({keys}) and no "
        f"'{VALUE_KEY}' key: set one of them, as in {shorten(id_.value)}/KEY"
    )


def keyed_envelopes(
    id_: ID,
    data: Mapping[str, Any],
    version_metadata: Mapping[str, Any],
    pattern: Pattern,
    provider: str,
) -> list[Envelope]:
    """One envelope per key of a secret without ``value`` whose ID ``<id>/<key>`` the pattern
    matches (a key no ID could name is left out)."""
    from docker_pass.core.ids import ID, is_valid_id

    return [
        envelope(ID(f"{id_.value}/{name}"), raw, version_metadata, provider)
        for name, raw in sorted(data.items())
        if name not in (".", "..")
        and "/" not in name
        and is_valid_id(name)
        and pattern.matches(f"{id_.value}/{name}")
    ]


def is_live(metadata: Mapping[str, Any]) -> bool:
    """Whether a secret's metadata shows a current version that is neither deleted nor
    destroyed."""
    current = metadata.get("current_version")
    versions = metadata.get("versions")
    if not isinstance(current, int) or current == 0 or not isinstance(versions, dict):
        return False
    latest = versions.get(str(current))
    if not isinstance(latest, dict):
        return False
    return not latest.get("deletion_time") and not latest.get("destroyed")


def encode(raw: object) -> bytes:
    """A KV value as bytes: text as UTF-8, anything else as its JSON."""
    if isinstance(raw, str):
        return raw.encode("utf-8")
    import json

    return json.dumps(raw, separators=(",", ":"), sort_keys=True).encode("utf-8")


def decode(id_: ID, value: bytes) -> str:
    """A value to store: KV holds JSON text, so it must be UTF-8."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise PluginError(
            f"vault: {shorten(id_.value)}: the value is not UTF-8 text, and KV holds text "
            "(store it base64-encoded)"
        ) from None


def custom_metadata(metadata: Mapping[str, Any]) -> dict[str, str]:
    """The ``custom_metadata`` of a KV answer, as str→str."""
    custom = metadata.get("custom_metadata")
    if not isinstance(custom, dict):
        return {}
    return {str(k): str(v) for k, v in custom.items()}


def parse_time(text: object) -> datetime | None:
    """A KV timestamp (RFC 3339, nanoseconds) as an aware datetime."""
    if not isinstance(text, str) or not text:
        return None
    raw = text.rstrip("Z")
    if "." in raw:  # Python's parser takes at most microseconds
        whole, _, fraction = raw.partition(".")
        digits = "".join(ch for ch in fraction if ch.isdigit())[:6]
        raw = f"{whole}.{digits}" if digits else whole
    from datetime import UTC, datetime

    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def envelope(
    id_: ID,
    value: object,
    version_metadata: Mapping[str, Any],
    provider: str,
) -> Envelope:
    """The envelope of one KV value (``version_metadata``: the read's ``metadata``)."""
    version = version_metadata.get("version")
    return Envelope(
        id_,
        encode(value),
        provider=provider,
        version=str(version) if version is not None else "",
        created_at=parse_time(version_metadata.get("created_time")),
        resolved_at=time.time(),
        metadata=custom_metadata(version_metadata),
    )
