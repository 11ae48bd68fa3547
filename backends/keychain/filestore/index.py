"""The file store's listing index: every record's ID and metadata in one file, for ``list``.

Listing 100,000 secrets from their records means opening, reading and parsing 100,000 files
(several seconds); the index is one file read and one JSON parse.  It lives in the store, at
``.index/listing.json`` (0600, in a 0700 directory), and holds only what the records hold in the
clear: IDs, metadata, change times, version tokens, and the warnings about damaged records.
Never a value.

**Kept consistent with the records, or not used.**  The index names the store directory's
``(st_dev, st_ino, st_mtime_ns)`` at the moment it was built (under the store's shared lock, so
no writer ran meanwhile).  Adding, replacing or removing a record renames or unlinks a file in
that directory, which changes its modification time; a differing stamp means stale, and
``list`` rebuilds the index from the records.  The index sits in a subdirectory so that writing
it leaves the store directory's stamp alone.  Besides, every save and delete of docker-pass
takes the index away under the exclusive lock before it changes a record, and puts it back
patched with that one change (:func:`patch`, a few tens of ms at 100,000 secrets) only when
the index was current and the store had settled; in a burst of saves it stays away, and the
next listing rebuilds it once.

Two limits, both about changes made behind docker-pass's back, by hand:

- A file-system clock is coarse (a few ms; 2 s on FAT): a change in the same tick as the last
  one before the index was built leaves the stamp unchanged.  So a listing writes an index only
  when the store directory last changed at least :data:`SETTLE_NS` before; right after a
  change, listing reads the records (as it always did) and the next listing writes the index.
  (A patched index is stamped right after its save: a change by hand in that same tick would
  go unseen until the store next changes.)
- A record edited in place (not replaced, which is how docker-pass always writes) does not
  change the directory: ``list`` shows it as indexed until the store next changes.  ``get`` and
  ``resolve`` always read the records themselves, so they see the edit at once.

A damaged index (not ours, cut short, not JSON, wrong shape) is ignored with a warning and
rebuilt; an index of an unknown format is rebuilt silently (another version wrote it).
"""

from __future__ import annotations

import json
import os
import time
from bisect import bisect_left
from contextlib import suppress
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING

from docker_pass.backends.keychain.filestore.records import (
    RECORD_NAME,
    describe,
    read_bytes,
    skipped_warning,
    write_atomically,
)
from docker_pass.core.collecting import collection_held
from docker_pass.core.envelope import SecretInfo
from docker_pass.core.errors import StoreError, UnsafePathError
from docker_pass.core.ids import ID
from docker_pass.core.private_files import ensure_private_dir
from docker_pass.core.regular_files import FileReadError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    from docker_pass.backends.keychain.filestore.records import Record

INDEX_DIR = ".index"
INDEX_NAME = "listing.json"
#: The largest index read (~150 bytes a secret: some 400,000 secrets); a bigger one is rebuilt.
INDEX_LIMIT = 64 * 1024 * 1024
#: 2: with each secret's version token (an index of format 1, which lacks them, is rebuilt;
#: older docker-pass rebuilds one of format 2 in its turn).
FORMAT = 2
#: The store directory must have last changed this long before an index of it is written.
SETTLE_NS = 1_000_000_000
_WHAT = "docker-pass file store listing index: IDs and metadata of the records, rebuilt from them"
_EMPTY: Mapping[str, str] = MappingProxyType({})
#: A listing entry's sort key (its ID: one plugin's entries are sorted by ID).
_BY_ID = attrgetter("id.value")


class DamagedIndexError(ValueError):
    """The index file is not one this version can trust; the reason is the message."""


class UnknownFormatError(ValueError):
    """The index was written by another version (rebuilt without a warning)."""


def stamp_of(info: os.stat_result) -> list[int]:
    """What the index remembers of the store directory."""
    return [info.st_dev, info.st_ino, info.st_mtime_ns]


def dump(stamp: Sequence[int], infos: Sequence[SecretInfo], skipped: Sequence[str]) -> bytes:
    """The index of ``infos`` (sorted by ID), taken when the store directory had ``stamp``.

    Columns rather than one object per secret, and whole seconds: one newline-joined string
    of IDs (an ID holds no newline), equal metadata maps stored once, integer times.  That
    parses in a third of the time.
    """
    metas: list[Mapping[str, str]] = []
    slot_of: dict[tuple[tuple[str, str], ...], int] = {}
    slots: list[int] = []
    for info in infos:
        key = tuple(info.metadata.items())
        slot = slot_of.get(key)
        if slot is None:
            slot = slot_of[key] = len(metas)
            metas.append(dict(info.metadata))
        slots.append(slot)
    doc = {
        "format": FORMAT,
        "what": _WHAT,
        "store": list(stamp),
        "ids": "\n".join(i.id.value for i in infos),
        "metadata": metas,
        "metadata_of": slots,
        "updated": [None if i.updated_at is None else int(i.updated_at) for i in infos],
        "versions": [i.version for i in infos],
        "skipped": list(skipped),
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def load(
    raw: bytes, stamp: Sequence[int], provider: str = ""
) -> tuple[list[SecretInfo], list[str]] | None:
    """The listing (provider ``provider``) and the skipped-record warnings in ``raw``;
    ``None`` if it is stale.

    Raises :class:`DamagedIndexError` (why, in a few words) or :class:`UnknownFormatError`.
    Equal metadata maps are shared between secrets: one read-only map each.
    """
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DamagedIndexError("not JSON, or cut short") from None
    if not isinstance(doc, dict) or "format" not in doc:
        raise DamagedIndexError("not a listing index")
    if doc["format"] != FORMAT:
        raise UnknownFormatError(f"format {doc['format']!r}")
    if doc.get("store") != list(stamp):
        return None
    joined, raw_metas, slots, updated, versions, skipped = (
        doc.get(key) for key in ("ids", "metadata", "metadata_of", "updated", "versions", "skipped")
    )
    if not isinstance(joined, str) or not isinstance(raw_metas, list):
        raise DamagedIndexError("no IDs or metadata")
    if not isinstance(skipped, list) or not all(isinstance(s, str) for s in skipped):
        raise DamagedIndexError("skipped is not a list of strings")
    ids = joined.split("\n") if joined else []
    if not isinstance(slots, list) or not isinstance(updated, list):
        raise DamagedIndexError("no metadata_of or updated list")
    # The column checks below map ``type`` over a column (C-level; ~1 ms less each than a
    # generator at 100,000 secrets): ``type(x) is int`` also keeps out ``True``.
    if not isinstance(versions, list) or not set(map(type, versions)) <= {str}:
        raise DamagedIndexError("versions is not a list of strings")
    if not len(ids) == len(slots) == len(updated) == len(versions):
        raise DamagedIndexError("columns of different lengths")
    if ids != sorted(ids):  # the tree bisects the listing
        raise DamagedIndexError("IDs out of order")
    if not set(map(type, updated)) <= {int, type(None)}:
        raise DamagedIndexError("a time is not whole seconds")
    metas: list[Mapping[str, str]] = []
    for meta in raw_metas:
        if not isinstance(meta, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
        ):
            raise DamagedIndexError("metadata is not a map of strings")
        metas.append(MappingProxyType(meta) if meta else _EMPTY)
    if slots and not (
        set(map(type, slots)) <= {int} and min(slots) >= 0 and max(slots) < len(metas)
    ):
        raise DamagedIndexError("metadata_of names no metadata")
    # 200,000 new objects, none in a cycle: collecting on the way (a pass over every object
    # the process holds, several times) would cost more than making them.
    try:
        with collection_held():
            # parse_many checks each ID again: a damaged index cannot smuggle in an invalid one.
            infos = SecretInfo.many(
                ID.parse_many(ids, joined=joined),
                provider,
                [metas[m] for m in slots],
                updated,
                versions,
            )
    except ValueError:
        raise DamagedIndexError("an ID is not valid") from None
    return infos, skipped


def from_records(
    root: str, provider: str, read: Callable[[str, str], Record | None]
) -> tuple[list[SecretInfo], list[str]]:
    """The listing (provider ``provider``) of every record in ``root``, sorted by ID, and a
    warning per damaged record; ``read(name, root)`` reads one record (StoreError if damaged).

    What a listing needs is kept of each record as it is read, the rest let go, and equal
    metadata maps are shared: at 100,000 records that keeps the rebuild (the first listing
    after a burst of writes) to about what a listing from the index holds, rather than
    100,000 records (~70 MB more) at once.
    """
    infos: list[SecretInfo] = []
    skipped: list[str] = []
    shared: dict[tuple[tuple[str, str], ...], Mapping[str, str]] = {}
    with os.scandir(root) as entries:
        names = [e.name for e in entries if RECORD_NAME.fullmatch(e.name) is not None]
    for name in names:
        try:
            record = read(name[: -len(".json")], root)
        except StoreError as exc:
            skipped.append(skipped_warning(exc))
            continue
        if record is None:
            continue
        meta = record.metadata
        meta = shared.setdefault(tuple(meta.items()), meta)
        infos.append(SecretInfo(record.id, provider, meta, record.mtime, record.token))
    infos.sort(key=_BY_ID)
    return infos, skipped


def patch(
    raw: bytes,
    before: Sequence[int],
    after: Sequence[int],
    raw_id: str,
    metadata: Mapping[str, str] | None,
    updated: int | None,
    version: str = "",
) -> bytes | None:
    """The index ``raw`` of the store at stamp ``before``, with secret ``raw_id`` set to
    ``metadata`` and ``version`` (``metadata`` ``None``: removed), for the store at stamp
    ``after``.

    ``None`` when ``raw`` is not a current, sound index, or names a damaged record (its
    warning might no longer hold): then the next listing rebuilds it.  Costs one parse and one
    dump, a few tens of ms at 100,000 secrets, against the seconds of a rebuild.
    """
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("skipped") != []:
        return None
    joined, metas, slots, times, versions = (
        doc.get(k) for k in ("ids", "metadata", "metadata_of", "updated", "versions")
    )
    if doc.get("store") != list(before) or not isinstance(joined, str):
        return None
    if not (isinstance(metas, list) and isinstance(slots, list) and isinstance(times, list)):
        return None
    if not isinstance(versions, list):
        return None
    ids = joined.split("\n") if joined else []
    if not len(ids) == len(slots) == len(times) == len(versions):
        return None
    at = bisect_left(ids, raw_id)
    present = at < len(ids) and ids[at] == raw_id
    if metadata is None:
        if present:
            del ids[at], slots[at], times[at], versions[at]
    else:
        wanted = dict(metadata)
        # A map no secret uses any more stays until the next rebuild: harmless, and rare.
        slot = metas.index(wanted) if wanted in metas else len(metas)
        if slot == len(metas):
            metas.append(wanted)
        if present:
            slots[at], times[at], versions[at] = slot, updated, version
        else:
            ids.insert(at, raw_id)
            slots.insert(at, slot)
            times.insert(at, updated)
            versions.insert(at, version)
    doc["ids"] = "\n".join(ids)
    doc["store"] = list(after)
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


#: What :meth:`IndexFile.take` hands to :meth:`IndexFile.put_back`: the index's bytes and the
#: store directory's stamp when it was taken.
Taken = tuple[bytes, list[int]]


class IndexFile:
    """The index file of the store at ``root``: read, written, taken away and put back.

    The store calls these under its lock (shared to load and save, exclusive to take and put
    back).  ``warn`` receives the warnings (an index ignored, one that cannot be written);
    ``settle_ns`` is how long the store directory must have been left alone before an index of
    it is written (:data:`SETTLE_NS`).
    """

    def __init__(self, root: Path, warn: Callable[[str], None], settle_ns: int) -> None:
        self.folder = root / INDEX_DIR
        self._root = root
        self._warn = warn
        self._settle_ns = settle_ns

    def load(self, stamp: list[int], provider: str) -> tuple[list[SecretInfo], list[str]] | None:
        """The listing (see :func:`load`) if the index is current; ``None`` to rebuild it."""
        path = os.path.join(self.folder, INDEX_NAME)
        try:
            raw, _ = read_bytes(path, INDEX_LIMIT)
            return load(raw, stamp, provider)
        except FileNotFoundError:
            return None
        except UnknownFormatError:
            return None  # another version's: rebuilt (and replaced) without a fuss
        except (UnsafePathError, DamagedIndexError, FileReadError) as exc:
            self._warn(f"file store: ignored the listing index {path} ({exc}); rebuilt it")
            return None
        except OSError as exc:
            self._warn(
                f"file store: ignored the listing index {path} ({describe(exc)}); rebuilt it"
            )
            return None

    def save(self, stamp: list[int], infos: list[SecretInfo], skipped: list[str]) -> None:
        """Write the index of a store that has settled; creating its directory waits a turn
        (that changes the store's stamp)."""
        where = self.folder
        if os.path.islink(self._root):
            return  # nothing is written through a linked store (see refuse_linked_root)
        try:
            if not os.path.isdir(where):
                ensure_private_dir(where, warn=self._warn)
                return
            if time.time_ns() - stamp[2] < self._settle_ns:
                return
            ensure_private_dir(where, warn=self._warn)
            write_atomically(where, INDEX_NAME, dump(stamp, infos, skipped))
        except (OSError, UnsafePathError) as exc:
            # The listing is right without it; the next one tries again.
            self._warn(f"file store: cannot write the listing index in {where}: {exc}")

    def take(self) -> Taken | None:
        """Remove the index (under the exclusive lock, before a record changes).

        Returns its bytes and the store's stamp when it may be patched once the change is
        made: the store had settled (a burst of saves drops it; the next listing rebuilds).
        """
        path = os.path.join(self.folder, INDEX_NAME)
        try:
            raw: bytes | None = read_bytes(path, INDEX_LIMIT)[0]
        except (OSError, UnsafePathError, FileReadError):
            raw = None
        with suppress(FileNotFoundError):
            os.unlink(path)
        if raw is None:
            return None
        stamp = stamp_of(os.stat(self._root))
        if time.time_ns() - stamp[2] < self._settle_ns:
            return None
        return raw, stamp

    def put_back(
        self,
        taken: Taken | None,
        id_: ID,
        metadata: Mapping[str, str] | None,
        record: os.stat_result | None,
        version: str = "",
    ) -> None:
        """Put back the index :meth:`take` took, with ``id_`` saved (its record's ``stat`` and
        version) or removed (``metadata`` ``None``).  Best effort: without it, the next listing
        rebuilds."""
        if taken is None:
            return
        raw, before = taken
        try:
            after = stamp_of(os.stat(self._root))
            updated = None if record is None else record.st_mtime_ns // 1_000_000_000
            data = patch(raw, before, after, id_.value, metadata, updated, version)
            if data is not None:
                write_atomically(self.folder, INDEX_NAME, data)
        except OSError:
            pass
