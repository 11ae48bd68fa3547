"""Where an ID lives in KV v2 and what state it is in: live (which version), deleted, or none.

- :func:`parent_holding` — ``a/b/c`` as the key ``c`` of the secret ``a/b``, when no path
  ``a/b/c`` holds a live secret (:mod:`.kv`'s rules);
- :func:`find_target` — what a write of an ID finds there now: the path it goes to, that
  path's data, its current KV version (the check-and-set index a write names), and
  whether a live secret holds the ID;
- :func:`state_of` — the version found now and when it changed, for a conflict's message;
- :func:`listed_info` — a listing entry from a path's metadata (live, or marked deleted);
- :class:`MetadataCache` — paths' metadata kept ``ttl`` seconds for listings, in memory.

A secret whose latest version is deleted or destroyed is no live secret: ``get`` does not find
it, a pattern does not match it, a listing shows it only when asked for deleted secrets.  Its
path still exists (its metadata and older versions), so a new write over it names its
current version, not 0.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from docker_pass.backends.vault import kv
from docker_pass.backends.vault.errors import MissingPathError, PermissionDeniedError
from docker_pass.core.envelope import SecretInfo
from docker_pass.core.versions import NO_SECRET

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from docker_pass.backends.vault.client import KvClient
    from docker_pass.core.ids import ID


def parent_holding(client: KvClient, id_: ID) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
    """The path above ``id_``, its data and version metadata, when it holds the key
    ``<last>``.  A path the token may not read holds nothing it can name."""
    if len(id_.components) < 2:
        return None
    path = kv.kv_path(client.settings.prefix, id_.components[:-1])
    try:
        data, metadata = client.read(path)
    except (MissingPathError, PermissionDeniedError):
        return None
    if id_.components[-1] not in data:
        return None
    return path, data, metadata


class Target:
    """What a write of one ID finds: see :func:`find_target`."""

    __slots__ = ("custom", "data", "keyed", "live", "path", "version")

    def __init__(
        self,
        path: str,
        *,
        data: dict[str, Any],
        version: int,
        live: bool,
        keyed: bool,
        custom: dict[str, str],
    ) -> None:
        #: The KV path written (the ID's own, or the path above it for a key of a secret).
        self.path = path
        #: That path's latest data (``{}`` when it holds no live version).
        self.data = data
        #: The path's current KV version: the check-and-set index of a write (0: no path).
        self.version = version
        #: Whether a live secret holds the ID now.
        self.live = live
        #: Whether the ID is a key of the secret above it.
        self.keyed = keyed
        #: The path's ``custom_metadata`` now.
        self.custom = custom

    @property
    def token(self) -> str:
        """The ID's version token now (:data:`~docker_pass.core.versions.NO_SECRET` when no
        live secret holds it)."""
        return str(self.version) if self.live else NO_SECRET

    def key_for(self, id_: ID) -> str:
        """The key of :attr:`data` a new value of ``id_`` goes to (:func:`.kv.key_to_write`:
        refused for a secret of several keys and no ``value``)."""
        return id_.components[-1] if self.keyed else kv.key_to_write(id_, self.data)

    def __repr__(self) -> str:
        return f"Target({self.path!r}, version={self.version}, live={self.live})"


def find_target(client: KvClient, id_: ID) -> Target:
    """Where a write of ``id_`` goes and what is there now (one read for a live path; up to
    three for an ID that is no live path)."""
    path = kv.kv_path(client.settings.prefix, id_.components)
    try:
        data, metadata = client.read(path)
    except MissingPathError:
        pass
    else:
        return Target(
            path,
            data=data,
            version=_version(metadata.get("version")),
            live=True,
            keyed=False,
            custom=kv.custom_metadata(metadata),
        )
    parent = parent_holding(client, id_)
    if parent is not None:
        above, data, metadata = parent
        return Target(
            above,
            data=data,
            version=_version(metadata.get("version")),
            live=True,
            keyed=True,
            custom=kv.custom_metadata(metadata),
        )
    try:  # no live version: the path may still exist, its latest version deleted
        metadata = client.read_metadata(path)
    except MissingPathError:
        metadata = {}
    return Target(
        path,
        data={},
        version=_version(metadata.get("current_version")),
        live=False,
        keyed=False,
        custom=kv.custom_metadata(metadata),
    )


def state_of(client: KvClient, id_: ID) -> tuple[str, float | None]:
    """``id_``'s version token now, and when that state began (the version's creation, or
    its deletion), as POSIX seconds where the vault says."""
    target = find_target(client, id_)
    try:
        metadata = client.read_metadata(target.path)
    except MissingPathError:
        return target.token, None
    latest = _latest(metadata)
    stamp = latest.get("created_time") if target.live else latest.get("deletion_time")
    when = kv.parse_time(stamp)
    return target.token, when.timestamp() if when is not None else None


def listed_info(
    id_: ID, metadata: Mapping[str, Any], provider: str, *, deleted: bool
) -> SecretInfo | None:
    """The listing entry of a path from its metadata: a live secret with its version and
    change time; one whose latest version is deleted or destroyed only with ``deleted``
    (marked so); ``None`` otherwise (and for a path with no version at all)."""
    current = _version(metadata.get("current_version"))
    live = kv.is_live(metadata)
    if not live and (not deleted or current == 0):
        return None
    latest = _latest(metadata)
    stamp = metadata.get("updated_time") if live else latest.get("deletion_time")
    when = kv.parse_time(stamp or metadata.get("updated_time"))
    return SecretInfo(
        id_,
        provider,
        kv.custom_metadata(metadata),
        when.timestamp() if when is not None else None,
        str(current),
        deleted=not live,
    )


def _latest(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The current version's entry of a path's metadata (``{}`` when it has none)."""
    versions = metadata.get("versions")
    current = metadata.get("current_version")
    entry = versions.get(str(current)) if isinstance(versions, dict) else None
    return entry if isinstance(entry, dict) else {}


def _version(raw: object) -> int:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0 else 0


class MetadataCache:
    """Paths' metadata, each kept ``ttl`` seconds (0: not at all); thread-safe.

    What a listing reads of each secret it walked (whether it is live, its version), kept as
    long as the walk's folders (:class:`~.walk.TreeCache`) and forgotten the same way: at
    once for a path this plugin writes or deletes.
    """

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._paths: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._paths)

    def get(self, path: str) -> dict[str, Any] | None:
        """The cached metadata of ``path`` while it is fresh."""
        if self.ttl <= 0:
            return None
        with self._lock:
            entry = self._paths.get(path)
        if entry is None or self._clock() - entry[0] >= self.ttl:
            return None
        return entry[1]

    def put(self, path: str, metadata: dict[str, Any]) -> None:
        """Remember ``path``'s metadata from now."""
        if self.ttl > 0:
            with self._lock:
                self._paths[path] = (self._clock(), metadata)

    def forget(self, path: str) -> None:
        """Forget ``path`` (it was written or deleted)."""
        with self._lock:
            self._paths.pop(path, None)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._paths.clear()
