"""The recursive LIST walk behind a pattern, pruned, concurrent, and its in-memory tree cache.

KV v2 answers LIST with one folder's keys (``a``, ``b/``).  ``**`` needs a walk of folders;
:func:`walk` starts at the pattern's literal head (``team/*/db`` starts in ``team/``),
descends only into folders in which some ID can still match
(:meth:`~docker_pass.core.ids.Pattern.can_match_below`), and keeps at most ``bound`` LIST calls
in flight.

A server decides what a folder lists, and may lie: a walk is bounded by a budget of folders
and keys visited (``plugins.vault.walk_budget``) and by a depth no ID reaches, and never walks
a folder twice — one named twice in a listing, or one that lists exactly what a folder above it
listed (a folder that lists itself, or a server that ignores the rest of the path) is the same
folder seen again.  Keys that are no valid ID component (``./``, ``../``, an empty key) are
skipped: no ID could name them.

Each folder's keys are cached (:class:`TreeCache`) for ``ttl`` seconds, in memory only: the
daemon's plugin answers a repeated listing without a call, and forgets a folder as soon as it
writes or deletes below it.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from docker_pass.backends.vault.errors import WalkCutError
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
#: Folders listed plus keys seen by one walk, at most, unless configured.
DEFAULT_WALK_BUDGET = 100_000
#: Folders deeper than this below the start are no tree a person made: the walk stops there
#: (a chain of folders is walked one LIST after another, so depth costs time the budget would
#: take long to spend).
MAX_WALK_DEPTH = 64


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
    budget: int = DEFAULT_WALK_BUDGET,
    where: str = "",
) -> list[tuple[str, ...]]:
    """Every secret (as ID components) below the start folder that ``pattern`` matches.

    ``list_folder`` returns a folder's keys (sub-folders end in ``/``) and may come from a
    cache; keys that are no valid ID component are skipped (no ID could name them), and no
    folder is walked twice (see the module).  The first failing call's error is raised once
    the calls in flight have ended; so is :class:`WalkCutError` when the walk would visit more
    than ``budget`` folders and keys, or folders deeper than :data:`MAX_WALK_DEPTH` (its
    message starts with ``where``, the vault and the listing).
    """
    # Imported here: the engine loads the vault plugin's class for every `run` (~5 ms).
    from concurrent.futures import FIRST_COMPLETED, wait

    state = _Walk(pattern, budget, where)
    running: dict[Future[list[str]], Folder] = {}
    failure: BaseException | None = None
    while state.todo or running:
        try:
            while state.todo and len(running) < bound and failure is None:
                folder = state.next_folder()
                running[pool.submit(list_folder, folder)] = folder
        except WalkCutError as exc:
            failure = exc
        if not running:
            break
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            folder = running.pop(future)
            error = future.exception()
            if error is None and failure is None:
                try:
                    state.take(folder, future.result())
                except WalkCutError as exc:
                    error = exc
            failure = failure or error
        if failure is not None:
            state.todo.clear()
    if failure is not None:
        raise failure
    return state.found


class _Walk:
    """What one walk has queued, listed and found, and what it has spent of its budget."""

    def __init__(self, pattern: Pattern, budget: int, where: str) -> None:
        self.pattern = pattern
        self.budget = budget
        self.where = f"{where}: " if where else ""
        self.start = start_folder(pattern)
        self.found: list[tuple[str, ...]] = []
        self.todo: list[Folder] = [self.start]
        self.queued: set[Folder] = {self.start}
        self.listed: dict[Folder, tuple[str, ...]] = {}  # each listed folder's keys, sorted
        self.visited = 0

    def spend(self, count: int) -> None:
        """Count ``count`` folders or keys visited; cut the walk past the budget."""
        self.visited += count
        if self.visited > self.budget:
            raise WalkCutError(
                f"{self.where}the walk was cut after visiting more than {self.budget} folders "
                f"and keys (plugins.vault.walk_budget is {self.budget}): narrow the pattern (as "
                "in team/**) or raise plugins.vault.walk_budget"
            )

    def next_folder(self) -> Folder:
        """The next folder to list (counted)."""
        self.spend(1)
        return self.todo.pop()

    def take(self, folder: Folder, keys: list[str]) -> None:
        """Queue ``folder``'s sub-folders where the pattern can match, keep its matching
        secrets; nothing when it is a folder above seen again."""
        self.spend(len(keys))
        if self._seen_above(folder, keys):
            return
        pattern = self.pattern
        for key in keys:
            name = key[:-1] if key.endswith("/") else key
            if name in (".", "..") or "/" in name or not is_valid_id(name):
                continue
            components = (*folder, name)
            if not key.endswith("/"):
                if pattern.matches("/".join(components)):
                    self.found.append(components)
            elif components not in self.queued and pattern.can_match_below(components):
                if len(components) - len(self.start) > MAX_WALK_DEPTH:
                    raise WalkCutError(
                        f"{self.where}folders nest deeper than {MAX_WALK_DEPTH} (as in "
                        f"{'/'.join(folder)[:60]}/…): no ID is that deep; narrow the pattern"
                    )
                self.queued.add(components)
                self.todo.append(components)

    def _seen_above(self, folder: Folder, keys: list[str]) -> bool:
        """Whether ``folder`` lists exactly what a folder above it (down to the start) listed:
        then it is that folder again (a real tree cannot repeat a listing below itself for
        ever), and its keys are not walked a second time."""
        signature = tuple(sorted(keys))
        self.listed[folder] = signature
        return any(
            self.listed.get(folder[:depth]) == signature
            for depth in range(len(self.start), len(folder))
        )
