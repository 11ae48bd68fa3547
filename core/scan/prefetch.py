"""Read a stream ahead in a thread, so the engine keeps writing while the scan matches.

``docker save`` is produced by the engine as it is read: a reader that stops to match a chunk
leaves the engine waiting on a full socket buffer, and the two take turns.  A thread that
reads up to :data:`AHEAD` chunks ahead lets them work at once (the thread spends its time in
``recv``, which releases the GIL).  Memory: at most ``AHEAD`` chunks.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

#: Chunks read ahead at most.
AHEAD = 16
CHUNK = 1 << 20


class Prefetched:
    """A file-like reader over ``source`` (``read(n)``), filled by a thread; use it in a
    ``with`` block so the thread stops when the caller does."""

    def __init__(self, source: Any, chunk: int = CHUNK) -> None:
        self._source = source
        self._chunk = chunk
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=AHEAD)
        self._stop = threading.Event()
        self._buffer = b""
        self._done = False
        self._thread = threading.Thread(target=self._fill, name="scan-prefetch", daemon=True)

    def __enter__(self) -> Prefetched:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        # The thread sees the stop at its next put; one blocked in a read ends when the caller
        # closes the connection under it (it is a daemon thread: it never holds the exit).
        self._stop.set()
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        self._thread.join(timeout=1.0)

    def _fill(self) -> None:
        try:
            while not self._stop.is_set():
                data = self._source.read(self._chunk)
                self._put(data)
                if not data:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, which raises it
            self._put(exc)

    def _put(self, item: bytes | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (a short read is not the end; ``b""`` is)."""
        if not self._buffer and not self._done:
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._done = True
                raise item
            if not item:
                self._done = True
            self._buffer = item
        if size < 0 or size >= len(self._buffer):
            data, self._buffer = self._buffer, b""
            return data
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data
