"""Decrypted values the engine daemon keeps in memory, each served again only while its record
file is the very same one (see :meth:`FileStore.keep_values_warm
<docker_pass.backends.keychain.filestore.store.FileStore.keep_values_warm>`)."""

from __future__ import annotations

import _thread
import os
from collections import OrderedDict
from typing import TYPE_CHECKING

from docker_pass.backends.keychain.filestore.records import stamp_of

if TYPE_CHECKING:
    from docker_pass.backends.keychain.filestore.records import Stamp
    from docker_pass.core.envelope import Envelope

#: Decrypted values the engine daemon keeps (:meth:`FileStore.keep_values_warm`), at most.
WARM_VALUES = 4096


class WarmValues:
    """Record name -> (the record file's stamp, its envelope), the most recent
    :data:`WARM_VALUES` of them; safe to use from several threads."""

    def __init__(self) -> None:
        self._kept: OrderedDict[str, tuple[Stamp, Envelope]] = OrderedDict()
        self._lock = _thread.allocate_lock()  # threading itself costs the fast path ~1 ms

    def keep(self, name: str, stamp: Stamp, envelope: Envelope) -> None:
        """Keep ``envelope``, read from record ``name`` whose file had ``stamp``."""
        with self._lock:
            self._kept[name] = (stamp, envelope)
            self._kept.move_to_end(name)
            while len(self._kept) > WARM_VALUES:
                self._kept.popitem(last=False)

    def get(self, root: str | os.PathLike[str], name: str) -> Envelope | None:
        """The kept envelope of record ``name`` in ``root`` if its record file has not changed
        since (one ``stat``); ``None`` otherwise."""
        kept = self._kept.get(name)
        if kept is None:
            return None
        try:
            info = os.stat(os.path.join(root, name + ".json"))
        except OSError:
            info = None  # deleted (or unreadable): read afresh, and say so
        if info is None or stamp_of(info) != kept[0]:
            with self._lock:
                self._kept.pop(name, None)
            return None
        return kept[1]

    def __len__(self) -> int:
        return len(self._kept)

    def clear(self) -> None:
        """Forget every kept value."""
        with self._lock:
            self._kept.clear()
