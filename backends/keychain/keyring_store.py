"""The ``keyring`` store: the ``docker-pass`` plugin's storage on macOS (Keychain) and Windows
(Credential Manager), through the ``keyring`` library.

Item naming follows Docker's own keychain store (``store/keychain`` in docker/secrets-engine),
so that both tools find the same items:

- macOS: a generic password with service ``docker-pass-cli`` and account ``<id>``
  (Docker also sets the label ``com.docker.docker-pass:docker-pass-cli:<id>``, which the
  ``keyring`` API cannot).
- Windows (and any other platform): a generic credential whose target is
  ``com.docker.docker-pass:docker-pass-cli:<id>`` and whose user name is ``<id>``.

Values: ``keyring`` stores ``str`` only.  A value that is valid UTF-8 is stored as that text,
exactly what Docker's tool stores, so each tool reads the other's values.  Any other value, and
a UTF-8 value that happens to begin with :data:`BINARY_MARKER`, is stored as the marker followed
by its base64, so every byte string round trips unambiguously (the empty one too).

Listing: ``keyring`` cannot enumerate items, so the store keeps an index of ``{id: metadata}``
in one more item (service :data:`INDEX_SERVICE`; ``#`` cannot occur in an ID, so it collides
with no secret's item, and Docker's macOS listing by service ``docker-pass-cli`` never sees
it).  Metadata lives only in the index, so listing reads no value.  Windows caps a credential at
2560 bytes, so there the index is split over several items; the head item names the others
and is written last, so a crash leaves the old index whole.  A lock file under
``xdg_dir("state")`` keeps concurrent processes from losing each other's index updates.

Versions: a keyed digest of the ID, value and metadata
(:func:`~docker_pass.backends.keychain.versioning.content_token`), so a value written by
Docker's tool changes it too; a write that expects a version reads the value under the
exclusive lock to compare.  Listing reads no value, so it knows no version.

``keyring`` is imported only when a store is constructed without a backend: it costs about
120 ms, which the Linux fast path (Secret Service) never pays.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from contextlib import suppress
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from docker_pass.backends.keychain.keyring_lock import locked_file
from docker_pass.backends.keychain.versioning import check_version, content_token
from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.errors import (
    PromptDismissedError,
    SecretNotFoundError,
    StoreError,
    StoreUnavailableError,
)
from docker_pass.core.ids import ID, Pattern, is_valid_id
from docker_pass.core.store import SERVICE_GROUP, SERVICE_NAME, item_label, xdg_dir
from docker_pass.core.versions import NO_SECRET

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Mapping
    from contextlib import AbstractContextManager
    from pathlib import Path

    from keyring.backend import KeyringBackend

#: Prefix of a stored value that is base64 of the real bytes (which are not plain UTF-8 text).
BINARY_MARKER = "docker-pass:base64:"
#: Service (Windows target) of the index item; ``#`` is not an ID character.
INDEX_SERVICE = f"{SERVICE_GROUP}:{SERVICE_NAME}#index"
#: User name of every index item.
INDEX_USER = "docker-pass-index"

_INDEX_TAG = "docker-pass-index/1"
# Windows' CRED_MAX_CREDENTIAL_BLOB_SIZE is 2560 bytes and the blob is UTF-16: 1200 ASCII
# characters of index plus the head line stay below it.  Elsewhere one item holds any index.
_WINDOWS_INDEX_CHUNK = 1200
_DEFAULT_INDEX_CHUNK = 1 << 30

_T = TypeVar("_T")

_Index = dict[str, dict[str, object]]


def encode_value(value: bytes) -> str:
    """The ``str`` stored for ``value``: the text itself when it is UTF-8, else marked base64."""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if not text.startswith(BINARY_MARKER):
            return text
    return BINARY_MARKER + base64.b64encode(value).decode("ascii")


def decode_value(stored: str) -> bytes:
    """The bytes of a stored ``str`` (the inverse of :func:`encode_value`).

    Text after the marker that is not base64 cannot have come from :func:`encode_value`, so
    another tool stored it literally, and it is returned as it is.
    """
    if stored.startswith(BINARY_MARKER):
        with suppress(binascii.Error, ValueError):
            return base64.b64decode(stored[len(BINARY_MARKER) :], validate=True)
    return stored.encode("utf-8")


class KeyringStore:
    """Secrets in the platform keyring (macOS Keychain, Windows Credential Manager).

    ``backend`` defaults to ``keyring.get_keyring()``.  ``platform`` (default ``sys.platform``)
    picks Docker's item naming for that platform: ``darwin`` or anything else (Windows').
    ``lock_path`` (default ``xdg_dir("state") / "keyring.lock"``) guards index updates.
    ``values_read`` counts value items read.

    Raises :class:`StoreUnavailableError` when ``keyring`` has no usable backend here.
    """

    kind = "keyring"

    def __init__(
        self,
        backend: KeyringBackend | None = None,
        *,
        platform: str | None = None,
        lock_path: Path | None = None,
    ) -> None:
        if backend is None:
            # Deferred: importing keyring costs ~120 ms that the Linux path never needs.
            import keyring

            backend = keyring.get_keyring()
        module = type(backend).__module__
        if module in ("keyring.backends.fail", "keyring.backends.null"):
            raise StoreUnavailableError(
                f"keyring has no usable backend here ({module}.{type(backend).__name__}); "
                "install one or use the file store"
            )
        self._backend = backend
        self._platform = platform if platform is not None else sys.platform
        self._lock_path = lock_path if lock_path is not None else xdg_dir("state") / "keyring.lock"
        #: Characters of index JSON per keyring item (Windows caps an item's size).
        self.index_chunk_chars = (
            _WINDOWS_INDEX_CHUNK if self._platform == "win32" else _DEFAULT_INDEX_CHUNK
        )
        #: How many value items this store has read (instrumentation for tests and benchmarks).
        self.values_read = 0

    @property
    def backend(self) -> KeyringBackend:
        """The keyring backend that holds the secrets."""
        return self._backend

    @property
    def platform(self) -> str:
        """Whose item naming the store follows: ``darwin``, or Windows' for anything else."""
        return self._platform

    def location(self) -> str:
        """Which keyring backend holds the secrets, for ``plugins ls`` and the TUI."""
        cls = type(self._backend)
        return f"keyring backend {cls.__module__.rsplit('.', 1)[-1]}.{cls.__qualname__}"

    def item_key(self, id_: ID) -> tuple[str, str]:
        """The ``(service, username)`` of the item holding ``id_``'s value, as Docker names it."""
        if self._platform == "darwin":
            return SERVICE_NAME, id_.value
        return item_label(id_), id_.value

    # -- the SecretStore protocol ------------------------------------------------------------

    def save(
        self,
        id_: ID,
        value: bytes,
        metadata: Mapping[str, str],
        *,
        expected_version: str | None = None,
    ) -> str:
        """Store ``value`` under Docker's naming and record ``metadata`` in the index (only if
        the secret is ``expected_version``, unless that is ``None``); the new version."""
        service, user = self.item_key(id_)
        version = content_token(id_, [(value, metadata)])
        with self._locked(exclusive=True):
            index, head = self._read_index()
            if expected_version is not None:
                self._check(id_, expected_version, index)
            # Value first: a crash before the index update leaves a secret that ``get`` finds
            # and the next save indexes, rather than an index entry without a value.
            self._set(service, user, encode_value(value), f"save {id_.value}")
            old = index.get(id_.value, {})
            now = _now()
            index[id_.value] = {
                "metadata": dict(metadata),
                "created": old.get("created", now),
                "updated": now,
                # What this save stored: ``updated`` is when the secret last changed only while
                # its version is still this one (Docker's tool writes values, not the index).
                "version": version,
            }
            self._write_index(index, head)
        return version

    def get(self, id_: ID) -> Envelope:
        """The value of ``id_`` with its indexed metadata and its version; raise
        :class:`SecretNotFoundError`.

        An item that Docker's tool wrote is found too (with the metadata we know: none).
        """
        service, user = self.item_key(id_)
        with self._locked(exclusive=False):
            stored = self._get(service, user, f"read {id_.value}")
            if stored is None:
                raise SecretNotFoundError()
            self.values_read += 1
            entry = self._read_index()[0].get(id_.value, {})
        value = decode_value(stored)
        return _envelope(id_, value, entry, content_token(id_, [(value, _metadata(entry))]))

    def list(self, pattern: Pattern) -> list[SecretInfo]:
        """IDs and metadata from the index, matching ``pattern``, sorted by ID; reads no value."""
        with self._locked(exclusive=False):
            index, _ = self._read_index()
        return [
            SecretInfo(ID(raw), metadata=_metadata(index[raw]))
            for raw in sorted(index)
            if pattern.matches(raw)
        ]

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        """Envelopes (with values and versions) of the indexed secrets matching ``pattern``,
        sorted by ID.

        An indexed secret whose item has gone (removed by another tool) is left out.
        """
        envelopes: builtins.list[Envelope] = []
        with self._locked(exclusive=False):
            index, _ = self._read_index()
            for raw in sorted(index):
                if not pattern.matches(raw):
                    continue
                id_ = ID(raw)
                service, user = self.item_key(id_)
                stored = self._get(service, user, f"read {raw}")
                if stored is None:
                    continue
                self.values_read += 1
                value, entry = decode_value(stored), index[raw]
                version = content_token(id_, [(value, _metadata(entry))])
                envelopes.append(_envelope(id_, value, entry, version))
        return envelopes

    def delete(self, id_: ID, *, expected_version: str | None = None) -> bool:
        """Remove ``id_``'s item and index entry (only if the secret is ``expected_version``,
        unless that is ``None``); ``True`` if either existed."""
        service, user = self.item_key(id_)
        with self._locked(exclusive=True):
            index, head = self._read_index()
            if expected_version is not None:
                self._check(id_, expected_version, index, removing=True, gone_is_fine=True)
            existed = self._delete(service, user, f"delete {id_.value}")
            if index.pop(id_.value, None) is not None:
                existed = True
                self._write_index(index, head)
        return existed

    def _check(
        self,
        id_: ID,
        expected: str,
        index: _Index,
        *,
        removing: bool = False,
        gone_is_fine: bool = False,
    ) -> None:
        """Raise the conflict unless ``id_`` is the version ``expected`` (under the exclusive
        lock; reads its value to know).  ``gone_is_fine``: no secret passes (a delete)."""
        service, user = self.item_key(id_)
        stored = self._get(service, user, f"read {id_.value}")
        if stored is None:
            if not gone_is_fine:
                check_version(id_, expected, NO_SECRET, removing=removing)
            return
        self.values_read += 1
        entry = index.get(id_.value, {})
        found = content_token(id_, [(decode_value(stored), _metadata(entry))])
        changed_at = None
        if entry.get("version") == found and isinstance(entry.get("updated"), str):
            with suppress(ValueError):
                changed_at = datetime.fromisoformat(str(entry["updated"])).timestamp()
        check_version(id_, expected, found, removing=removing, changed_at=changed_at)

    def close(self) -> None:
        """Nothing to release: the store opens its lock file per call."""

    # -- backend calls -----------------------------------------------------------------------

    def _call(self, operation: Callable[[], _T], what: str, secret: str = "") -> _T:
        """Run one backend call, turning whatever the backend raises into a StoreError.

        Backends raise more than ``KeyringError`` (``pywintypes.error``, ``OSError``, D-Bus
        errors), hence the broad catch; it always re-raises.  The backend's message helps
        (a size limit, a denied access), so it is kept, unless it holds ``secret``, the text
        being stored.
        """
        from keyring.errors import KeyringLocked

        try:
            return operation()
        except KeyringLocked as exc:
            raise PromptDismissedError(
                f"keyring: cannot {what}: the keyring is locked and was not unlocked"
            ) from exc
        except Exception as exc:
            detail = str(exc)
            if secret and secret in detail:
                detail = "(message withheld: it quotes the value)"
            raise StoreError(f"keyring: cannot {what}: {type(exc).__name__}: {detail}") from exc

    def _get(self, service: str, user: str, what: str) -> str | None:
        return self._call(partial(self._backend.get_password, service, user), what)

    def _set(
        self, service: str, user: str, password: str, what: str, *, fresh: bool = False
    ) -> None:
        """Create or overwrite an item (``fresh``: the caller knows it does not exist yet)."""
        self._call(partial(self._backend.set_password, service, user, password), what, password)
        if self._platform == "win32" and not fresh:
            # keyring's Windows backend, on overwriting a target, first re-saves the old
            # credential under "<user>@<target>": a second, stale copy of the old value.
            # Deleting that compound target right after keeps the overwrite itself atomic.
            self._delete(f"{user}@{service}", user, what)

    def _delete(self, service: str, user: str, what: str) -> bool:
        from keyring.errors import PasswordDeleteError

        def delete() -> bool:
            try:
                self._backend.delete_password(service, user)
            except PasswordDeleteError:
                return False
            return True

        return self._call(delete, what)

    # -- the index ---------------------------------------------------------------------------

    def _read_index(self) -> tuple[_Index, tuple[int, int]]:
        """The index and its head ``(generation, parts)``; ``({}, (0, 1))`` when there is none."""
        head_text = self._get(INDEX_SERVICE, INDEX_USER, "read the index")
        if head_text is None:
            return {}, (0, 1)
        first_line, _, first_part = head_text.partition("\n")
        fields = first_line.split(" ")
        if len(fields) != 3 or fields[0] != _INDEX_TAG or not all(f.isdigit() for f in fields[1:]):
            raise StoreError(f"keyring: the index item {INDEX_SERVICE} is damaged (bad head)")
        generation, parts = int(fields[1]), int(fields[2])
        pieces = [first_part]
        for number in range(1, parts):
            piece = self._get(_part_service(generation, number), INDEX_USER, "read the index")
            if piece is None:
                raise StoreError(
                    f"keyring: the index item {_part_service(generation, number)} is missing"
                )
            pieces.append(piece)
        try:
            data = json.loads("".join(pieces))
        except json.JSONDecodeError:
            raise StoreError(f"keyring: the index {INDEX_SERVICE} is damaged (not JSON)") from None
        if not isinstance(data, dict) or not all(
            is_valid_id(k) and isinstance(v, dict) for k, v in data.items()
        ):
            raise StoreError(f"keyring: the index {INDEX_SERVICE} is damaged (bad entries)")
        return data, (generation, parts)

    def _write_index(self, index: _Index, head: tuple[int, int]) -> None:
        """Replace the index: new parts first, then the head (the commit), then old parts.

        ASCII-only JSON, so a part's size in characters bounds its size in bytes.
        """
        old_generation, old_parts = head
        text = json.dumps(index, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
        size = self.index_chunk_chars
        pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
        generation = old_generation + 1
        for number, piece in enumerate(pieces[1:], start=1):
            self._set(
                _part_service(generation, number), INDEX_USER, piece, "write the index", fresh=True
            )
        head_text = f"{_INDEX_TAG} {generation} {len(pieces)}\n{pieces[0]}"
        self._set(INDEX_SERVICE, INDEX_USER, head_text, "write the index")
        for number in range(1, old_parts):
            self._delete(_part_service(old_generation, number), INDEX_USER, "write the index")

    def _locked(self, *, exclusive: bool) -> AbstractContextManager[None]:
        """Hold the store's lock file: exclusive for writes, shared (where possible) for reads.

        keyring backends serialise single calls but not our read-modify-write of the index
        (nor the compare of an expected version), so without this two processes saving at
        once could each drop the other's entry.
        """
        return locked_file(self._lock_path, exclusive=exclusive)


def _part_service(generation: int, number: int) -> str:
    return f"{INDEX_SERVICE}.{generation}.{number}"


def _metadata(entry: Mapping[str, object]) -> dict[str, str]:
    raw = entry.get("metadata")
    if not isinstance(raw, dict):
        return {}
    return {str(k): str(v) for k, v in raw.items()}


def _envelope(id_: ID, value: bytes, entry: Mapping[str, object], version: str = "") -> Envelope:
    created = entry.get("created")
    created_at = None
    if isinstance(created, str):
        with suppress(ValueError):
            created_at = datetime.fromisoformat(created)
    return Envelope(id_, value, version=version, created_at=created_at, metadata=_metadata(entry))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
