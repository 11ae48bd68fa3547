"""The recursive LIST walk behind a pattern, pruned, concurrent, and its in-memory tree cache.

KV v2 answers LIST with one folder's keys (``a``, ``b/``).  ``**`` needs a walk of folders;
:func:`walk` starts at the pattern's literal head (``team/*/db`` starts in ``team/``),
descends only into folders in which some ID can still match
(:meth:`~docker_pass.core.ids.Pattern.can_match_below`), and keeps at most ``bound`` LIST calls
in flight.  Each folder's keys are cached (:class:`TreeCache`) for ``ttl`` seconds, in memory
only: the daemon's plugin answers a repeated listing without a call, and forgets a folder as
soon as it writes or deletes below it.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from docker_pass.core.ids import is_valid_id

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future, ThreadPoolExecutor

    from docker_pass.core.ids import Pattern

Folder = tuple[str, ...]
#: LIST calls in flight at once, unless configured.
DEFAULT_CONCURRENCY = 8
#: Seconds a folder's keys are kept, unless configured.
DEFAULT_CACHE_TTL = 30.0


class TreeCache:
    """Folders' keys, each kept ``ttl`` seconds (0: not at all); thread-safe."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._folders: dict[Folder, tuple[float, list[str]]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._folders)

    def get(self, folder: Folder) -> list[str] | None:
        """The cached keys of ``folder`` while they are fresh."""
        if self.ttl <= 0:
            return None
        with self._lock:
            entry = self._folders.get(folder)
        if entry is None or self._clock() - entry[0] >= self.ttl:
            return None
        return entry[1]

    def put(self, folder: Folder, keys: list[str]) -> None:
        """Remember ``folder``'s keys from now."""
        if self.ttl > 0:
            with self._lock:
                self._folders[folder] = (self._clock(), keys)

    def forget_path(self, components: tuple[str, ...]) -> None:
        """Forget every folder on the way to the secret ``components`` (it was written or
        deleted: a folder may have appeared or gone at any level)."""
        with self._lock:
            for depth in range(len(components)):
                self._folders.pop(components[:depth], None)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._folders.clear()


def start_folder(pattern: Pattern) -> Folder:
    """Where a walk for ``pattern`` begins: its literal head (``team/*/db`` starts in
    ``team/``).  ``team/**`` also matches the secret ``team`` itself, which only the parent
    folder lists: the caller looks that one up by name rather than listing the parent (which
    a token scoped to ``team/`` may not list)."""
    return pattern.literal_head


def walk(
    pattern: Pattern,
    list_folder: Callable[[Folder], list[str]],
    pool: ThreadPoolExecutor,
    *,
    bound: int = DEFAULT_CONCURRENCY,
) -> list[tuple[str, ...]]:
    """Every secret (as ID components) below the start folder that ``pattern`` matches.

    ``list_folder`` returns a folder's keys (sub-folders end in ``/``) and may come from a
    cache; keys that are no valid ID component are skipped (no ID could name them).  The first
    failing call's error is raised once the calls in flight have ended.
    """
    # Imported here: the engine loads the vault plugin's class for every `run` (~5 ms).
    from concurrent.futures import FIRST_COMPLETED, wait

    found: list[tuple[str, ...]] = []
    todo: list[Folder] = [start_folder(pattern)]
    running: dict[Future[list[str]], Folder] = {}
    failure: BaseException | None = None
    while todo or running:
        while todo and len(running) < bound and failure is None:
            folder = todo.pop()
            running[pool.submit(list_folder, folder)] = folder
        if not running:
            break
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            folder = running.pop(future)
            error = future.exception()
            if error is not None:
                failure = failure or error
                continue
            for key in future.result():
                name = key[:-1] if key.endswith("/") else key
                if name in (".", "..") or "/" in name or not is_valid_id(name):
                    continue
                components = (*folder, name)
                if key.endswith("/"):
                    if pattern.can_match_below(components):
                        todo.append(components)
                elif pattern.matches("/".join(components)):
                    found.append(components)
        if failure is not None:
            todo.clear()
    if failure is not None:
        raise failure
    return found
