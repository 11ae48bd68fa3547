"""What both 1Password plugins share: the cached item list, list and resolve.

A subclass says how to read the item list (``_fetch_items``) and one item's fields
(``_fetch_fields``); this class keeps the list in memory, refreshes it when it is older than the
refresh interval, and answers ``list`` and ``resolve`` with the addressing of
:mod:`docker_pass.backends.onepassword.items`.  Values are held only while a call builds its
envelopes; nothing is written to disk.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from docker_pass.backends.onepassword.items import (
    Field,
    Item,
    ItemIndex,
    NoPrimaryFieldError,
    field_matches,
    primary_field,
)
from docker_pass.core import __version__
from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.errors import FatalPluginError, PluginError
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import READ_ONLY

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable

#: Seconds between two reads of the item list, unless configured.
DEFAULT_REFRESH_INTERVAL = 300.0
#: Seconds one call to 1Password may take, unless configured.
DEFAULT_TIMEOUT = 30.0


class CachedItemsPlugin(ABC):
    """A read-only 1Password plugin over an in-memory item list, refreshed periodically."""

    name = ""
    version = __version__
    pattern = Pattern("**")
    configurable = True
    capabilities = READ_ONLY
    #: Configurable plugins stay off until a person enables them.
    enabled_by_default = False

    def __init__(
        self, refresh_interval: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.refresh_interval = refresh_interval
        self._clock = clock
        self._lock = threading.RLock()
        self._index: ItemIndex | None = None
        self._fetched_at = 0.0
        self._refresh_error = ""
        #: how many times the item list was read (for ``storage`` and tests)
        self.list_reads = 0

    # -- what a subclass supplies -----------------------------------------------------------

    @abstractmethod
    def _fetch_items(self) -> builtins.list[Item]:
        """The whole item list (metadata only); raise ``PluginError`` or ``FatalPluginError``."""

    @abstractmethod
    def _fetch_fields(self, item: Item) -> builtins.list[Field]:
        """One item's fields, with values."""

    # -- the plugin protocol ----------------------------------------------------------------

    def start(self) -> None:
        """Read the item list once; later calls use it until the refresh interval passes."""
        with self._lock:
            self._read_list()

    def stop(self) -> None:
        """Forget the cached list."""
        with self._lock:
            self._index = None

    def list(self, pattern: Pattern) -> builtins.list[SecretInfo]:
        """IDs and metadata (no values) of the items and fields ``pattern`` addresses."""
        index = self._current_index()
        out = [
            SecretInfo(ID(m.id), self.name, m.item.metadata())
            for m in index.items_matching(pattern)
        ]
        for match in index.items_for_fields(pattern):
            fields = self._fetch_fields(match.item)
            for spelled, field in field_matches(pattern, match.id, fields):
                out.append(SecretInfo(ID(spelled), self.name, _field_metadata(match.item, field)))
        return out

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        """Envelopes for the items (primary field) and fields ``pattern`` addresses."""
        index = self._current_index()
        fetched: dict[str, builtins.list[Field]] = {}

        def fields_of(item: Item) -> builtins.list[Field]:
            if item.id not in fetched:
                fetched[item.id] = self._fetch_fields(item)
            return fetched[item.id]

        out: builtins.list[Envelope] = []
        for match in index.items_matching(pattern):
            try:
                field = primary_field(match.item, fields_of(match.item))
            except NoPrimaryFieldError:
                if pattern.is_literal:
                    raise
                continue  # a wildcard request skips items with nothing to resolve to
            out.append(self._envelope(match.id, match.item, field))
        for match in index.items_for_fields(pattern):
            for spelled, field in field_matches(pattern, match.id, fields_of(match.item)):
                out.append(self._envelope(spelled, match.item, field))
        return out

    def storage(self) -> str:
        """What is cached and how it is refreshed."""
        with self._lock:
            count = len(self._index) if self._index is not None else 0
            text = (
                f"{self.source()}; {count} items cached, "
                f"refreshed every {self.refresh_interval:g} s"
            )
            if self._refresh_error:
                text += f"; last refresh failed: {self._refresh_error}"
            return text

    def source(self) -> str:
        """Where the items come from, for ``storage``."""
        return "1Password"

    # -- internals --------------------------------------------------------------------------

    def _read_list(self) -> ItemIndex:
        self.list_reads += 1
        index = ItemIndex(self._fetch_items())
        self._index = index
        self._fetched_at = self._clock()
        self._refresh_error = ""
        return index

    def _current_index(self) -> ItemIndex:
        """The cached list, read again once it is older than the refresh interval.

        A refresh that fails for an ordinary reason keeps the older list (and retries after
        another interval); a fatal one stops the plugin.
        """
        with self._lock:
            index = self._index
            if index is None:
                return self._read_list()
            if self._clock() - self._fetched_at < self.refresh_interval:
                return index
            try:
                return self._read_list()
            except FatalPluginError:
                raise
            except PluginError as exc:
                self._fetched_at = self._clock()
                self._refresh_error = str(exc)
                return index

    def _envelope(self, id_: str, item: Item, field: Field) -> Envelope:
        return Envelope(
            ID(id_),
            field.value.encode(),
            self.name,
            version=item.version,
            created_at=item.created_at,
            metadata=_field_metadata(item, field),
        )


def _field_metadata(item: Item, field: Field) -> dict[str, str]:
    metadata = item.metadata()
    metadata["field"] = field.label or field.id
    if field.section_label or field.section_id:
        metadata["section"] = field.section_label or field.section_id
    return metadata
