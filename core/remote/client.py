"""A client of the engine daemon with the engine's own methods, in the standard library alone.

:class:`DaemonClient` offers what the fronts call on an :class:`~docker_pass.core.engine.Engine`
(``resolve``, ``resolve_all``, ``list_secrets``, ``get``, ``save``, ``remove``, ``undelete``,
``move``, ``move_realm``, ``plugins``, ``enable``, ``disable``) with the same semantics and
result objects, so a command does not care which one it holds: versions travel with reads and
writes, and a refused versioned write raises
:class:`~docker_pass.core.errors.VersionConflictError` with its fields, as the engine does.

It speaks Connect's unary protocol with the JSON codec (``POST /<package>.<Service>/<Method>``,
``Content-Type: application/json``, ``Connect-Protocol-Version: 1``; errors as Connect's JSON
error) and reads messages with :mod:`.wire`; the ``docker-pass-*`` response headers, when the
daemon is docker-pass's, add what ``run --explain`` and ``plugins ls`` show beyond the public
messages.  A daemon that is not docker-pass's still works: the envelopes say who answered.

Why no Connect library: this client exists to make ``docker pass run`` fast, and connectrpc,
pyqwest (asyncio, OpenTelemetry) and protobuf cost ~0.25 s of imports, twice what the whole
embedded ``run`` takes (this client's own import costs ~3.5 ms; ``python -m benchmarks
daemon-run``).  HTTP/1.1 goes over the Unix socket directly (:mod:`.transport`).

Errors: a daemon that cannot be reached, does not answer in time or answers garbage raises
:class:`DaemonUnavailableError`, so a caller can fall back to the embedded engine; an answer
that is a Connect error raises :class:`DaemonError` (or the docker-pass error it stands for)
with the daemon's message.  No error text ever holds an answer's content: an envelope carries a
secret value.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from docker_pass.core import __version__
from docker_pass.core.errors import NoPluginMatchesError
from docker_pass.core.names import KEYCHAIN_PLUGIN
from docker_pass.core.remote.answers import (
    DaemonError,
    connect_error,
    header_object,
    json_object,
    reading,
    reported_resolution,
    secret_misses,
    unreported,
)
from docker_pass.core.remote.transport import (
    DaemonUnavailableError,
    HttpAnswer,
    UnixHttpTransport,
)
from docker_pass.core.remote.wire import (
    DISABLE_PLUGIN,
    ENABLE_PLUGIN,
    ENGINE_HEADER,
    GET_SECRET,
    GET_SECRETS,
    GET_VERSION,
    LIST_PLUGINS,
    LIST_SECRETS,
    MOVE_REALM,
    MOVE_SECRET,
    NOT_FOUND,
    PLUGINS_HEADER,
    REMOVE_SECRETS,
    SAVE_SECRET,
    UNAVAILABLE,
    UNDELETE_SECRETS,
    UNIMPLEMENTED,
    VERSIONS_FEATURE,
    MalformedMessageError,
    envelope_from_json,
    is_engine_version,
    moved_from_json,
    plugin_status_from_json,
    read_bool,
    read_id,
    read_int,
    read_int_map,
    read_object,
    read_objects,
    read_string,
    read_string_list,
    read_string_map,
    read_timestamp,
    realm_moved_from_json,
    secret_info_from_json,
)
from docker_pass.core.results import Listing, PluginStatus, Removal, Saved
from docker_pass.core.value import FrozenValue

if TYPE_CHECKING:
    import socket
    from collections.abc import Mapping, Sequence
    from datetime import datetime
    from pathlib import Path

    from docker_pass.core.envelope import Envelope
    from docker_pass.core.ids import ID, Pattern
    from docker_pass.core.moves import Moved, RealmMoved
    from docker_pass.core.remote.transport import Headers
    from docker_pass.core.results import Resolution

#: The keychain plugin's name (from the zero-cost names module: this one is on ``run``'s path).
KEYCHAIN = KEYCHAIN_PLUGIN

#: Seconds a call may take: resolving through 1Password can be slow, a hung daemon is not.
CALL_TIMEOUT = 60.0
#: Seconds a move may take: a realm's is one copy and one removal per secret, each step
#: within its plugin's own deadline.
MOVE_TIMEOUT = 600.0


class EngineInfo(FrozenValue):
    """What a running engine says about itself (``engine status``)."""

    __slots__ = ("features", "pid", "requests", "started_at", "version")
    version: str
    pid: int
    started_at: datetime | None
    #: Requests served since start, by method path.
    requests: dict[str, int]
    #: What it does beyond the first API (:data:`~.wire.VERSIONS_FEATURE`).
    features: frozenset[str]

    def __init__(
        self,
        version: str,
        pid: int,
        started_at: datetime | None,
        requests: dict[str, int],
        features: frozenset[str] = frozenset(),
    ) -> None:
        self._set("version", version)
        self._set("pid", pid)
        self._set("started_at", started_at)
        self._set("requests", requests)
        self._set("features", features)

    def __repr__(self) -> str:
        return f"EngineInfo({self.version!r}, pid={self.pid})"


# -- the engine's methods -------------------------------------------------------------------------


class DaemonClient:
    """The engine daemon at ``path``, with the engine's methods and result objects.

    ``sock``: a connection to the daemon already made (and peer-checked), used first; the
    daemon check in :func:`~.front.find_daemon` hands over the one it probed with.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        timeout: float = CALL_TIMEOUT,
        sock: socket.socket | None = None,
    ) -> None:
        self.path = path
        self._timeout = timeout
        self._transport = UnixHttpTransport(path, sock=sock)
        #: The engine's features, once :meth:`info` has read them.
        self._features: frozenset[str] | None = None

    def call(
        self, method: str, request: dict[str, Any], *, timeout: float | None = None
    ) -> tuple[dict[str, Any], Headers]:
        """One unary call with the JSON codec: the answer's message and headers.

        Raises :class:`DaemonError` for a Connect error answer (with its hints), and
        :class:`DaemonUnavailableError` when no usable answer came.
        """
        limit = timeout or self._timeout
        answer = self._transport.post(
            method,
            {
                "Content-Type": "application/json",
                "Connect-Protocol-Version": "1",
                # The daemon gives up when the client would: no work for nobody.
                "Connect-Timeout-Ms": str(int(limit * 1000)),
                "Accept-Encoding": "identity",
                "User-Agent": f"docker-pass/{__version__}",
            },
            json.dumps(request, separators=(",", ":")).encode(),
            limit,
        )
        if answer.status != 200:
            raise connect_error(self.path, answer)
        if answer.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise DaemonUnavailableError(
                f"the engine daemon at {self.path} did not answer {method} with JSON"
            )
        doc = json_object(answer.body)
        if doc is None:
            raise DaemonUnavailableError(
                f"the engine daemon at {self.path} sent a malformed answer to {method}"
            )
        return doc, answer.headers

    # -- health -----------------------------------------------------------------------------------

    def version(self, *, timeout: float | None = None) -> str:
        """The engine's version; raise :class:`DaemonUnavailableError` unless it is a
        ``v``-prefixed semantic version (clients reject others)."""
        return self.info(timeout=timeout).version

    def info(self, *, timeout: float | None = None) -> EngineInfo:
        """Version, pid, start time and request counts of the running engine."""
        doc, headers = self.call(GET_VERSION, {}, timeout=timeout)
        with reading(self.path, GET_VERSION):
            version = read_string(doc, "version")
        if not is_engine_version(version):
            raise DaemonUnavailableError(
                f"the engine at {self.path} answered version {version!r}, "
                "not a v-prefixed semantic version"
            )
        detail = header_object(headers, ENGINE_HEADER)
        if detail is None:
            return EngineInfo(version, 0, None, {})
        try:
            info = EngineInfo(
                version,
                read_int(detail, "pid"),
                read_timestamp(detail, "startedAt"),
                read_int_map(detail, "requests"),
                frozenset(read_string_list(detail, "features")),
            )
        except MalformedMessageError:
            return EngineInfo(version, 0, None, {})  # an extra, not the answer: do without
        self._features = info.features
        return info

    def features(self) -> frozenset[str]:
        """What the engine does beyond the first API (asked once, with :meth:`info`)."""
        if self._features is None:
            self.info()
        return self._features or frozenset()

    def _require_versions(self, what: str) -> None:
        """Refuse (``unimplemented``, before sending anything) to ask an engine that does not
        know versions for ``what``: it would ignore the field and write blind.  The front then
        writes through an embedded engine (:class:`~.front.DaemonOrEmbedded`)."""
        if self._features is None:
            self.info()
        if VERSIONS_FEATURE not in (self._features or ()):
            raise DaemonError(
                UNIMPLEMENTED,
                f"the engine daemon at {self.path} is older than {what}: restart it",
            )

    # -- resolution -------------------------------------------------------------------------------

    def resolve(self, pattern: Pattern) -> Resolution:
        """Like :meth:`Engine.resolve`: envelopes plus who was asked and who failed."""
        try:
            doc, headers = self.call(GET_SECRETS, {"pattern": pattern.value})
        except DaemonError as exc:
            reported = reported_resolution(pattern, [], exc.headers)
            if exc.code == NOT_FOUND and reported is not None and not reported.asked:
                raise NoPluginMatchesError(pattern.value).with_hints(*exc.hints) from None
            if exc.code in (NOT_FOUND, UNAVAILABLE):
                # Nothing found (and maybe plugins failed): a result, as the engine gives.
                return reported if reported is not None else unreported(pattern, [], exc)
            raise
        with reading(self.path, GET_SECRETS):
            envelopes = [envelope_from_json(env) for env in read_objects(doc, "envelopes")]
        reported = reported_resolution(pattern, envelopes, headers)
        return reported if reported is not None else unreported(pattern, envelopes, None)

    def resolve_all(self, pattern: Pattern) -> list[Envelope]:
        """Like :meth:`Engine.resolve_all`: the envelopes, or ``secret not found``."""
        return self.resolve(pattern).envelopes_or_raise()

    def list_secrets(
        self,
        pattern: Pattern,
        *,
        plugin: str | None = None,
        reserved: bool = False,
        deleted: bool = False,
    ) -> Listing:
        """Like :meth:`Engine.list_secrets`: IDs, metadata and versions, never values."""
        request: dict[str, Any] = {"pattern": pattern.value}
        if plugin is not None:
            request["plugin"] = plugin
        if reserved:
            request["reserved"] = True
        if deleted:
            request["deleted"] = True
        doc, _ = self.call(LIST_SECRETS, request)
        with reading(self.path, LIST_SECRETS):
            infos = [secret_info_from_json(info) for info in read_objects(doc, "secrets")]
            return Listing(infos, read_string_map(doc, "errors"), read_string_map(doc, "down"))

    # -- one secret, and writes --------------------------------------------------------------------
    # A field a request does not need is left out, so a daemon from before it still serves
    # the request.  A daemon ignores a field it does not know, so an expected version is sent
    # only to one that says it knows them (:meth:`_require_versions`): a versioned write is
    # never made blind.

    def get(self, id_: ID, *, plugin: str = KEYCHAIN) -> Envelope:
        """Like :meth:`Engine.get`: one secret with its value and version from ``plugin``."""
        with secret_misses(id_.value):
            doc, _ = self.call(GET_SECRET, {"id": id_.value, "plugin": plugin})
        with reading(self.path, GET_SECRET):
            envelope = read_object(doc, "envelope")
            if envelope is None:
                raise MalformedMessageError("field 'envelope' is missing")
            return envelope_from_json(envelope)

    def save(
        self,
        id_: ID,
        value: bytes,
        metadata: Mapping[str, str],
        *,
        plugin: str = KEYCHAIN,
        expected_version: str | None = None,
    ) -> Saved:
        """Like :meth:`Engine.save`: create or replace a secret in a writable plugin (only if
        it is ``expected_version``, when given)."""
        import base64

        request = {
            "id": id_.value,
            "value": base64.b64encode(value).decode("ascii"),
            "metadata": dict(metadata),
            "plugin": plugin,
        }
        if expected_version is not None:
            self._require_versions("versioned writes")
            request["expectedVersion"] = expected_version
        doc, _ = self.call(SAVE_SECRET, request)
        with reading(self.path, SAVE_SECRET):
            return Saved(
                read_id(doc, "id"),
                read_string(doc, "provider"),
                read_bool(doc, "replaced"),
                read_string(doc, "version"),
            )

    def remove(
        self,
        ids: Sequence[ID],
        *,
        plugin: str = KEYCHAIN,
        purge_versions: bool = False,
        expected_versions: Mapping[ID, str] | None = None,
    ) -> Removal:
        """Like :meth:`Engine.remove`: one outcome per ID, in order."""
        request: dict[str, Any] = {"ids": [i.value for i in ids], "plugin": plugin}
        if purge_versions:
            self._require_versions("purging versions")
            request["purgeVersions"] = True
        if expected_versions:
            self._require_versions("versioned removals")
            request["expectedVersions"] = {i.value: v for i, v in expected_versions.items()}
        doc, _ = self.call(REMOVE_SECRETS, request)
        return self._removal(doc, REMOVE_SECRETS)

    def undelete(self, ids: Sequence[ID], *, plugin: str) -> Removal:
        """Like :meth:`Engine.undelete`: restore each ID's latest version, one outcome each."""
        doc, _ = self.call(UNDELETE_SECRETS, {"ids": [i.value for i in ids], "plugin": plugin})
        return self._removal(doc, UNDELETE_SECRETS)

    def move(
        self, old: ID, new: ID, *, plugin: str, to_plugin: str | None = None, replace: bool = False
    ) -> Moved:
        """Like :meth:`Engine.move`: the daemon's engine copies, then removes the old one."""
        with secret_misses():
            doc, _ = self.call(
                MOVE_SECRET,
                _move_request(old, new, plugin, to_plugin, replace),
                timeout=MOVE_TIMEOUT,
            )
        with reading(self.path, MOVE_SECRET):
            return moved_from_json(doc)

    def move_realm(
        self, old: ID, new: ID, *, plugin: str, to_plugin: str | None = None, replace: bool = False
    ) -> RealmMoved:
        """Like :meth:`Engine.move_realm`: every secret under ``old``, one result each."""
        with secret_misses():
            doc, _ = self.call(
                MOVE_REALM,
                _move_request(old, new, plugin, to_plugin, replace),
                timeout=MOVE_TIMEOUT,
            )
        with reading(self.path, MOVE_REALM):
            return realm_moved_from_json(doc)

    def _removal(self, doc: dict[str, Any], method: str) -> Removal:
        with reading(self.path, method):
            outcomes = tuple(
                (read_id(o, "id"), read_string(o, "outcome")) for o in read_objects(doc, "outcomes")
            )
            return Removal(read_string(doc, "provider"), outcomes)

    # -- plugins ----------------------------------------------------------------------------------

    def plugins(self, *, start: bool = True) -> list[PluginStatus]:
        """Every plugin's status (the daemon's plugins are started already; ``start`` is moot)."""
        doc, headers = self.call(LIST_PLUGINS, {})
        details = header_object(headers, PLUGINS_HEADER)
        known = details.get("plugins") if details is not None else None
        if not isinstance(known, dict):
            known = {}
        with reading(self.path, LIST_PLUGINS):
            statuses = []
            for plugin in read_objects(doc, "plugins"):
                detail = known.get(read_string(plugin, "name"))
                statuses.append(
                    plugin_status_from_json(plugin, detail if isinstance(detail, dict) else None)
                )
            return statuses

    def enable(self, name: str) -> PluginStatus:
        """Enable a configurable plugin, clear a crash and start it; its status afterwards."""
        self.call(ENABLE_PLUGIN, {"name": name})
        return self._status_of(name)

    def disable(self, name: str) -> PluginStatus:
        """Disable a configurable plugin; its status afterwards."""
        self.call(DISABLE_PLUGIN, {"name": name})
        return self._status_of(name)

    def _status_of(self, name: str) -> PluginStatus:
        for status in self.plugins():
            if status.name == name:
                return status
        raise DaemonError(NOT_FOUND, f"plugin {name} is gone from the engine")

    # -- lifetime ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections (the daemon and its plugins keep running)."""
        self._transport.close()

    def __enter__(self) -> DaemonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _move_request(
    old: ID, new: ID, plugin: str, to_plugin: str | None, replace: bool
) -> dict[str, Any]:
    request: dict[str, Any] = {"old": old.value, "new": new.value, "plugin": plugin}
    if to_plugin is not None:
        request["toPlugin"] = to_plugin
    if replace:
        request["replace"] = True
    return request


__all__ = [
    "CALL_TIMEOUT",
    "DaemonClient",
    "DaemonError",
    "DaemonUnavailableError",
    "EngineInfo",
    "HttpAnswer",
    "UnixHttpTransport",
]
