"""External plugins: programs built with Docker's plugin SDK, which only the daemon can host.

Such a plugin talks to the engine over a connection of its own (it dials the engine's socket,
or the daemon launches it from the plugins directory with a socketpair); the daemon's code for
that lives in :mod:`docker_pass.daemon.external`.  What the engine itself needs of them is
here, in the standard library alone:

- :class:`ExternalPlugins`, the registry the daemon fills while it runs: plugins come and go,
  and every engine generation's roster follows it (:class:`~docker_pass.core.roster.Roster`);
- :func:`plugins_dir` and :func:`launchable_plugins`: where launched plugins are installed and
  which files there would be launched, which the embedded engine reads too, to say which
  external plugins it could not ask (it cannot host them).
"""

from __future__ import annotations

import _thread
import os
from typing import TYPE_CHECKING

from docker_pass.core.value import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from docker_pass.core.ids import Pattern
    from docker_pass.core.plugin import Plugin

#: The plugins directory for this process, over the config file (tests, a one-off run).
PLUGINS_DIR_ENV = "DOCKER_PASS_PLUGINS_DIR"
#: The plugins directory's name under docker-pass's config directory (the default).
PLUGINS_DIR_NAME = "plugins"
#: What an external plugin can do: resolve the IDs it is asked for (the SDK has no listing).
EXTERNAL_CAPABILITIES = ("read",)


class ExternalEntry(FrozenValue):
    """One external plugin as the registry knows it.

    ``plugin`` is the connected plugin, or ``None`` while a launched one is not connected
    (starting, crashed, or given up on); ``pattern`` and ``version`` are those it registered
    last (``None`` and "" before it ever did).  ``launched``: the daemon started it (it comes
    back by itself); else it dialled in, and is gone once its connection is.  ``revive``,
    for a launched plugin, asks its supervisor to launch it again now (thread-safe).
    """

    __slots__ = ("launched", "name", "pattern", "plugin", "revive", "version")
    name: str
    version: str
    pattern: Pattern | None
    plugin: Plugin | None
    launched: bool
    revive: Callable[[], None] | None

    def __init__(
        self,
        name: str,
        *,
        version: str = "",
        pattern: Pattern | None = None,
        plugin: Plugin | None = None,
        launched: bool = False,
        revive: Callable[[], None] | None = None,
    ) -> None:
        self._set("name", name)
        self._set("version", version)
        self._set("pattern", pattern)
        self._set("plugin", plugin)
        self._set("launched", launched)
        self._set("revive", revive)

    def _key(self) -> tuple[object, ...]:
        return (id(self),)  # each entry is its own: a new connection is a new entry

    def __repr__(self) -> str:
        state = "connected" if self.plugin is not None else "not connected"
        return f"ExternalEntry({self.name!r}, {state}, launched={self.launched})"


class ExternalPlugins:
    """The external plugins the daemon hosts now, by name; safe to use from any thread.

    Readers take :meth:`snapshot` (an immutable mapping and its :attr:`generation`, which
    every change increments): a roster compares generations, one integer, before each use,
    and rebuilds its slots only when something changed.
    """

    def __init__(self) -> None:
        self._lock = _thread.allocate_lock()
        self._entries: dict[str, ExternalEntry] = {}
        self._generation = 0

    @property
    def generation(self) -> int:
        """Incremented by every change."""
        return self._generation

    def snapshot(self) -> tuple[int, Mapping[str, ExternalEntry]]:
        """The generation and the entries as of now (the mapping never changes afterwards)."""
        with self._lock:
            return self._generation, self._entries

    def get(self, name: str) -> ExternalEntry | None:
        """Plugin ``name``'s entry, if there is one."""
        return self._entries.get(name)

    def names(self) -> frozenset[str]:
        """The names in use now."""
        return frozenset(self._entries)

    def put(self, entry: ExternalEntry) -> None:
        """Add ``entry``, or replace the entry of its name."""
        with self._lock:
            self._entries = {**self._entries, entry.name: entry}
            self._generation += 1

    def claim(self, entry: ExternalEntry, taken: Callable[[str], bool]) -> bool:
        """Add ``entry`` unless its name is in use (by an entry, or as ``taken`` says); whether
        it was added.  One step under the lock: two plugins never get one name."""
        with self._lock:
            if entry.name in self._entries or taken(entry.name):
                return False
            self._entries = {**self._entries, entry.name: entry}
            self._generation += 1
            return True

    def replace(self, old: ExternalEntry, new: ExternalEntry) -> bool:
        """Put ``new`` in ``old``'s place if ``old`` is still there; whether it was."""
        with self._lock:
            if self._entries.get(old.name) is not old:
                return False
            self._entries = {**self._entries, new.name: new}
            self._generation += 1
            return True

    def remove(self, entry: ExternalEntry) -> bool:
        """Remove ``entry`` if it is still the one of its name; whether it was."""
        with self._lock:
            if self._entries.get(entry.name) is not entry:
                return False
            self._entries = {n: e for n, e in self._entries.items() if e is not entry}
            self._generation += 1
            return True


def plugins_dir(config: Mapping[str, object] | None = None) -> str:
    """Where launched plugins are installed: ``$DOCKER_PASS_PLUGINS_DIR``, else the config
    file's ``engine.plugins_dir``, else ``plugins`` under docker-pass's config directory
    (Docker's engine used ``/opt/docker/secrets-engine/plugins``)."""
    from_env = os.environ.get(PLUGINS_DIR_ENV, "")
    if from_env:
        return os.path.expanduser(from_env)
    if config is None:
        from docker_pass.core.config import load_config

        config = load_config()
    engine = config.get("engine")
    configured = engine.get("plugins_dir") if isinstance(engine, dict) else None
    if isinstance(configured, str) and configured:
        return os.path.expanduser(configured)
    from docker_pass.core.store import xdg_path

    return os.path.join(xdg_path("config"), PLUGINS_DIR_NAME)


def launchable_plugins(directory: str) -> dict[str, str]:
    """The plugins the daemon would launch from ``directory``: name -> path of each regular,
    executable file not hidden (its name without ``.exe``, as Docker's engine names them).
    Empty when the directory is missing or unreadable; nothing is opened or run."""
    import stat

    found: dict[str, str] = {}
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return found
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            mode = entry.stat(follow_symlinks=True).st_mode
        except OSError:
            continue
        if stat.S_ISREG(mode) and mode & 0o111:
            found.setdefault(entry.name.removesuffix(".exe"), entry.path)
    return found


def not_asked(directory: str | None = None) -> str:
    """What an engine without the daemon says of the external plugins it could not ask: those
    the daemon would launch from the plugins directory (plugins that dial in cannot be
    known); "" when there are none."""
    names = sorted(launchable_plugins(directory if directory is not None else plugins_dir()))
    if not names:
        return ""
    one = len(names) == 1
    return (
        f"external plugin{'' if one else 's'} {', '.join(names)} not asked: "
        f"{'it runs' if one else 'they run'} only in the engine daemon (docker pass engine run)"
    )
