"""Secret envelopes (a value with where it came from) and value-free listings."""

from __future__ import annotations

from itertools import repeat
from operator import itemgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeAlias

from docker_pass.core.value import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from datetime import datetime

    from docker_pass.core.ids import ID

try:
    # namedtuple's own field descriptor (C); the same fallback as collections has.
    from collections import _tuplegetter as _field  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - CPython has it

    def _field(index: int, doc: str) -> property:
        return property(itemgetter(index), doc=doc)


_EMPTY: Mapping[str, str] = MappingProxyType({})

#: What a metadata key may hold: it becomes the Secret Service attribute ``x_<key>``.
METADATA_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def metadata_key_problem(key: str) -> str | None:
    """Why ``key`` cannot be a metadata key, or ``None`` when it can."""
    if not key or not set(key) <= METADATA_KEY_CHARS:
        return f"invalid metadata key {key!r} (use A-Z a-z 0-9 _ . -)"
    return None


class SecretInfo(FrozenValue, tuple):  # type: ignore[type-arg]
    """What a listing knows of a secret, without its value.

    Stored as a tuple (its fields in order) behind read-only fields: a listing of 100,000
    secrets is made by one C-level call per entry (~13 ms) where filling six slots took six
    passes (~34 ms), and the first tree of a big store waits for exactly that.  Only the
    layout is a tuple's: equality, hashing, ``repr`` and immutability are those of every
    :class:`FrozenValue` (by :meth:`_key`; a ``SecretInfo`` equals no plain tuple), ordering
    and ``len`` are refused, and it is not iterable (no unpacking it, nor serializing it as
    a sequence).  Reading a field costs a little more than a slot's (~1 ms per pass over
    100,000 entries), far less than the build saves.
    """

    __slots__ = ()

    if TYPE_CHECKING:
        id: ID
        provider: str
        metadata: Mapping[str, str]
        #: When the secret last changed (POSIX seconds), where the plugin knows it cheaply.
        updated_at: float | None
        #: Its version token (:mod:`docker_pass.core.versions`), where a listing knows it
        #: cheaply; ``""`` when it does not (ask :meth:`~docker_pass.core.engine.Engine.get`).
        version: str
        #: Whether its latest version is deleted (a plugin that keeps deleted versions, as
        #: vault does, lists such a secret only when asked: it is no live secret, and can be
        #: undeleted).
        deleted: bool
    else:
        # Each field read by the C descriptor that namedtuple's fields use: as fast as a slot's
        # (a ``property`` would call a function on every read the engine and the tree make).
        id = _field(0, "The secret's ID.")
        provider = _field(1, "The plugin that listed it.")
        metadata = _field(2, "Its metadata (str to str).")
        updated_at = _field(3, "When it last changed (POSIX seconds), where known cheaply.")
        version = _field(4, 'Its version token; "" when the listing lacks it.')
        deleted = _field(5, "Whether its latest version is deleted.")

    def __new__(
        cls,
        id: ID,
        provider: str = "",
        metadata: Mapping[str, str] = _EMPTY,
        updated_at: float | None = None,
        version: str = "",
        *,
        deleted: bool = False,
    ) -> SecretInfo:
        return _make(cls, (id, provider, metadata, updated_at, version, deleted))

    @classmethod
    def many(
        cls,
        ids: Iterable[ID],
        provider: str,
        metadata: Iterable[Mapping[str, str]],
        updated_at: Iterable[float | None],
        versions: Iterable[str] | None = None,
    ) -> list[SecretInfo]:
        """One entry per ID, with the metadata, change time and version (``""`` without
        ``versions``) at the same position: what ``SecretInfo(id, provider, metadata,
        updated_at, version)`` makes, without a Python call per entry (100,000 in ~0.01 s
        rather than ~0.09 s): each entry is one C-level ``tuple.__new__`` over a ``zip``."""
        ids, metadata, updated_at = list(ids), list(metadata), list(updated_at)
        count = len(ids)
        if not len(metadata) == len(updated_at) == count:
            raise ValueError("SecretInfo.many: columns of different lengths")
        version_column: Iterable[str] = repeat("")
        if versions is not None:
            version_column = list(versions)
            if len(version_column) != count:
                raise ValueError("SecretInfo.many: columns of different lengths")
        # zip's strict check is not needed (the lengths are equal, or repeat() is endless); each
        # row is copied into a new entry, so zip reuses one tuple for all rows.
        rows = zip(ids, repeat(provider), metadata, updated_at, version_column, repeat(False))
        return list(map(_make, repeat(cls), rows))

    def stamped(self, provider: str) -> SecretInfo:
        """A copy that names ``provider`` (everything else kept)."""
        return SecretInfo(
            self.id,
            provider,
            self.metadata,
            self.updated_at,
            self.version,
            deleted=self.deleted,
        )

    def _key(self) -> tuple[object, ...]:
        # The change time, the version and the deleted mark are not identity: a secret listed
        # again (changed, deleted, undeleted) is the same secret.
        return (self.id, self.provider, tuple(sorted(self.metadata.items())))

    # Equal and hashed as a FrozenValue is (by ``_key``); the tuple underneath shows through
    # as little as can be: no plain tuple is equal to one (answered here, since Python asks
    # the subclass first); order, length, membership and iteration are refused as on any
    # object.  (Indexing is left as a tuple's: nothing uses it, and the fields do not read it.)
    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return False if isinstance(other, tuple) else NotImplemented
        return self._key() == other._key()

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = FrozenValue.__hash__

    def __lt__(self, other: object) -> bool:
        return NotImplemented

    __le__ = __gt__ = __ge__ = __lt__

    def __iter__(self) -> Iterator[object]:
        raise TypeError(f"{type(self).__name__!r} object is not iterable")

    def __contains__(self, item: object) -> bool:
        raise TypeError(f"argument of type {type(self).__name__!r} is not iterable")

    def __len__(self) -> int:
        raise TypeError(f"object of type {type(self).__name__!r} has no len()")

    def __bool__(self) -> bool:
        return True

    def __reduce__(self) -> tuple[object, ...]:
        # copy and pickle: the fields (a plain tuple: ``self[:]``) given back to ``_make``.
        return _make, (type(self), self[:])

    def __repr__(self) -> str:
        mark = ", deleted=True" if self.deleted else ""
        return f"SecretInfo({self.id.value!r}, {self.provider!r}, {dict(self.metadata)!r}{mark})"


#: Makes an entry from its fields in order, past ``SecretInfo.__new__`` (C: no Python frame).
_make = tuple.__new__


#: A time as a store knows it: a ``datetime``, or POSIX seconds (turned into a ``datetime``
#: only when someone reads it: ``get`` and ``run`` never do, and ``datetime`` costs ~1.3 ms).
Stamp: TypeAlias = "datetime | float | None"


def _as_datetime(stamp: Stamp) -> datetime | None:
    if stamp is None or not isinstance(stamp, int | float):
        return stamp
    from datetime import UTC, datetime

    return datetime.fromtimestamp(stamp, UTC)


class Envelope(FrozenValue):
    """A resolved secret.  ``repr`` and ``str`` never show the value.

    Its times may be given as ``datetime`` or as POSIX seconds (:data:`Stamp`); they read as
    ``datetime`` (UTC for seconds) or ``None``.
    """

    __slots__ = (
        "_created",
        "_expires",
        "_resolved",
        "id",
        "metadata",
        "provider",
        "value",
        "version",
    )
    id: ID
    value: bytes
    provider: str
    version: str
    metadata: Mapping[str, str]
    _created: Stamp
    _resolved: Stamp
    _expires: Stamp

    def __init__(
        self,
        id: ID,
        value: bytes,
        provider: str = "",
        version: str = "",
        created_at: Stamp = None,
        resolved_at: Stamp = None,
        expires_at: Stamp = None,
        metadata: Mapping[str, str] = _EMPTY,
    ) -> None:
        self._set("id", id)
        self._set("value", value)
        self._set("provider", provider)
        self._set("version", version)
        self._set("_created", created_at)
        self._set("_resolved", resolved_at)
        self._set("_expires", expires_at)
        self._set("metadata", metadata)

    def _time(self, slot: str) -> datetime | None:
        stamp = getattr(self, slot)
        when = _as_datetime(stamp)
        if when is not stamp:
            self._set(slot, when)  # read once: the same time, kept as a datetime
        return when

    @property
    def created_at(self) -> datetime | None:
        """When the secret was created (as its store knows it)."""
        return self._time("_created")

    @property
    def resolved_at(self) -> datetime | None:
        """When the engine resolved it."""
        return self._time("_resolved")

    @property
    def expires_at(self) -> datetime | None:
        """When it expires, if its store says."""
        return self._time("_expires")

    def _key(self) -> tuple[object, ...]:
        return (
            self.id,
            self.value,
            self.provider,
            self.version,
            self.created_at,
            self.resolved_at,
            self.expires_at,
            tuple(sorted(self.metadata.items())),
        )

    def stamped(self, provider: str, resolved_at: Stamp = None) -> Envelope:
        """A copy that names its provider (and when it was resolved)."""
        return Envelope(
            self.id,
            self.value,
            provider,
            self.version,
            self._created,
            resolved_at if resolved_at is not None else self._resolved,
            self._expires,
            self.metadata,
        )

    def __repr__(self) -> str:
        return (
            f"Envelope(id={self.id.value!r}, provider={self.provider!r}, "
            f"value=<{len(self.value)} bytes hidden>, metadata={dict(self.metadata)!r})"
        )

    __str__ = __repr__

    def info(self) -> SecretInfo:
        """The value-free part of this envelope (with its version)."""
        return SecretInfo(self.id, self.provider, self.metadata, version=self.version)
