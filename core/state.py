"""Plugin state that every process shares: enabled flags and run status.

- Enabled/disabled is a person's choice, so it lives in the config file
  (``plugins.<name>.enabled``), as does an optional narrower ``pattern``.
- Run status (``running | stopped | crashed | retries-exceeded``), its message and the time it
  changed are observations, kept in ``$XDG_STATE_HOME/docker-pass/plugins.json``.

Both are written atomically under an advisory lock, so the CLI, the TUI and the daemon never lose
each other's updates and all show the same ``plugins ls``.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from docker_pass.core.config import config_path, load_config, save_config, write_json_atomic
from docker_pass.core.errors import DockerPassError, UnsafePathError
from docker_pass.core.private_files import check_owned_by_user, ensure_private_dir, open_private
from docker_pass.core.regular_files import FileReadError, read_open_file
from docker_pass.core.store import xdg_dir, xdg_path

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path


class RunStatus(StrEnum):
    """A plugin's status as every front shows it (a ``str``, so JSON and text print it as is)."""

    RUNNING = "running"
    STOPPED = "stopped"
    CRASHED = "crashed"
    RETRIES_EXCEEDED = "retries-exceeded"
    #: Reported for a disabled plugin; never recorded in the state file.
    DISABLED = "disabled"

    @property
    def is_down(self) -> bool:
        """Whether it keeps the plugin down until ``plugins enable NAME``."""
        return self in (RunStatus.CRASHED, RunStatus.RETRIES_EXCEEDED)


#: The statuses the state file records.
RECORDED_STATUSES = frozenset(
    {RunStatus.RUNNING, RunStatus.STOPPED, RunStatus.CRASHED, RunStatus.RETRIES_EXCEEDED}
)
#: Consecutive ordinary start failures after which a plugin is left down.
MAX_START_FAILURES = 3

STATE_FILE = "plugins.json"
LOCK_FILE = "state.lock"


class RunState:
    """The last observed run status of one plugin.

    ``cause`` is ``"config"`` when a setting of the config file crashed it, and ``settings`` then
    holds a fingerprint of that plugin's section: once the section changes, the engine clears the
    crash and tries again (a crash never outlives its cause).
    """

    __slots__ = ("cause", "changed_at", "failures", "message", "settings", "status")

    def __init__(
        self,
        status: RunStatus = RunStatus.STOPPED,
        message: str = "",
        changed_at: float = 0.0,
        failures: int = 0,
        cause: str = "",
        settings: str = "",
    ) -> None:
        self.status = status
        self.message = message
        self.changed_at = changed_at
        self.failures = failures
        self.cause = cause
        self.settings = settings

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "status": self.status.value,
            "message": self.message,
            "changed_at": self.changed_at,
            "failures": self.failures,
        }
        if self.cause:
            doc["cause"] = self.cause
            doc["settings"] = self.settings
        return doc

    @classmethod
    def from_json(cls, doc: object) -> RunState:
        """The state ``doc`` records; a field of the wrong type counts as not recorded."""
        if not isinstance(doc, dict):
            return cls()
        status = doc.get("status")
        return cls(
            RunStatus(status)
            if isinstance(status, str) and status in RECORDED_STATUSES
            else RunStatus.STOPPED,
            _field(doc, "message", str, ""),
            float(_field(doc, "changed_at", (int, float), 0.0)),
            max(0, _field(doc, "failures", int, 0)),
            _field(doc, "cause", str, ""),
            _field(doc, "settings", str, ""),
        )

    def __repr__(self) -> str:
        return f"RunState({self.status.value!r}, {self.message!r}, failures={self.failures})"


def _field(doc: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, kind):
        return default
    return value


def state_path() -> Path:
    """Where run statuses are kept."""
    return xdg_dir("state") / STATE_FILE


@contextmanager
def locked() -> Iterator[None]:
    """Hold the state lock (shared by config and state writers) for a read-modify-write."""
    directory = xdg_path("state")
    ensure_private_dir(directory)
    fd = open_private(os.path.join(directory, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        import fcntl  # writers only: reading the state takes no lock

        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def load_run_states(only: str | None = None) -> dict[str, RunState]:
    """Every plugin's last observed run status (``only``: that plugin's, when you need no other).

    With ``only``, a file that does not mention the plugin is not parsed (no json import).
    """
    # Strings, not pathlib, and json only when there is a file: `get` and `ls` read this.
    directory = xdg_path("state")
    path = os.path.join(directory, STATE_FILE)
    try:
        check_owned_by_user(directory)
        fd = open_private(path, os.O_RDONLY)
        try:
            raw = read_open_file(fd, path, "plugin state").decode("utf-8")
        finally:
            os.close(fd)
    except FileNotFoundError:
        return {}
    except FileReadError as exc:  # larger than any state we write
        _warn_once(f"plugin state ignored: {path} {exc.reason}; {STATE_REMEDY}")
        return {}
    except UnsafePathError:
        # A link (or another user's file) is a trap and stays an error; a directory, a FIFO,
        # a device is only in the way: the state is an observation, not worth a command.
        kind = _not_a_file(path)
        if kind is None:
            raise
        _warn_once(f"plugin state ignored: {path} is {kind}, not a file; {STATE_REMEDY}")
        return {}
    except (OSError, ValueError):
        return {}  # unreadable state is no state: plugins start afresh
    if only is not None:
        if f'"{only}"' not in raw:
            return {}  # JSON spells every key in double quotes: no record of it
        running = _clean_running(raw, only)
        if running is not None:
            return {only: running}
    import json

    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested past the decoder's stack
        return {}
    if not isinstance(doc, dict):
        return {}
    return {str(name): RunState.from_json(entry) for name, entry in doc.items()}


def _clean_running(raw: str, name: str) -> RunState | None:
    """Plugin ``name``'s record when it is the one a healthy plugin has (running, no message,
    no failures), recognised in the text itself; ``None`` for anything else (parse it then).

    ``get`` and ``run`` read this file on every start, and ``json`` costs ~1.6 ms to import.
    The file is ours, written with sorted keys (:func:`~docker_pass.core.config.
    write_json_atomic`), so a clean record has one shape; a string value cannot hold an
    unescaped quote, so the shape cannot be faked from inside a message.
    """
    import re  # already loaded by argparse

    found = re.search(
        rf'"{re.escape(name)}": \{{\s*"changed_at": (-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?),'
        r'\s*"failures": 0,\s*"message": "",\s*"status": "running"\s*\}',
        raw,
    )
    return RunState(RunStatus.RUNNING, changed_at=float(found.group(1))) if found else None


def update_run_state(name: str, change: Callable[[RunState], None]) -> RunState:
    """Apply ``change`` to plugin ``name``'s run state under the lock, and persist it.

    The state is an observation, never worth failing a command for: when it cannot be written
    (read-only or full disk, a file where the directory should be) the change still holds for
    this process and :func:`warn_unrecorded` says so once.
    """
    state: RunState | None = None
    try:
        with locked():
            states = load_run_states()
            known = name in states
            state = states.setdefault(name, RunState())
            before = (state.status, state.message, state.failures, state.cause, state.settings)
            change(state)
            after = (state.status, state.message, state.failures, state.cause, state.settings)
            if known and after == before:
                return state  # nothing to record: every `run` would otherwise rewrite the file
            if (state.status, state.message) != before[:2]:
                state.changed_at = time.time()
            write_json_atomic(state_path(), {n: s.to_json() for n, s in states.items()})
    except OSError as exc:
        if state is None:  # the lock could not even be taken: apply the change to what is known
            state = load_run_states().get(name, RunState())
            change(state)
        warn_unrecorded(exc)
    return state


#: Whether :func:`_warn_once` has spoken in this process (a list: no ``global``).
_warned: list[bool] = []
#: What to do about a state file that is in the way.
STATE_REMEDY = "remove it, and docker-pass records a new one"


def _not_a_file(path: str) -> str | None:
    """What is at ``path`` when it is neither a regular file nor a link (``a directory``)."""
    import stat

    from docker_pass.core.regular_files import file_kind

    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
        return None
    return file_kind(mode)


def warn_unrecorded(exc: OSError) -> None:
    """Say once per process that run state could not be recorded."""
    where = os.path.join(xdg_path("state"), STATE_FILE)
    _warn_once(f"plugin state not recorded in {where}: {_os_reason(exc)}")


def _warn_once(message: str) -> None:
    """Say once per process that run state could not be read or recorded (one problem, one
    line: a state file in the way fails the read and then the write).

    It goes to the ``docker_pass.state`` logger: the daemon's log when logging is configured
    there; otherwise (the CLI and the TUI configure none) one ``Warning:`` line on stderr.
    """
    if _warned:
        return
    _warned.append(True)
    import logging  # ~5 ms: only when the disk refused a write

    logger = logging.getLogger("docker_pass.state")
    if logger.hasHandlers():
        logger.warning(message)
    else:
        import sys

        sys.stderr.write(f"Warning: {message}\n")
        sys.stderr.flush()


def plugin_settings(config: dict[str, Any], name: str) -> dict[str, Any]:
    """The config file's section for plugin ``name`` (empty when absent)."""
    plugins = config.get("plugins", {})
    if not isinstance(plugins, dict):
        raise DockerPassError(f"config {config_path()}: 'plugins' must be an object")
    section = plugins.get(name, {})
    if not isinstance(section, dict):
        raise DockerPassError(f"config {config_path()}: 'plugins.{name}' must be an object")
    return section


def set_enabled(name: str, enabled: bool) -> None:
    """Persist a plugin's enabled flag in the config file.

    A person's choice, unlike run state: when it cannot be written that is an error."""
    try:
        with locked():
            config = load_config()
            plugins = config.setdefault("plugins", {})
            if not isinstance(plugins, dict):
                raise DockerPassError(f"config {config_path()}: 'plugins' must be an object")
            section = plugins.setdefault(name, {})
            section["enabled"] = enabled
            save_config(config)
    except OSError as exc:
        raise DockerPassError(f"recording plugins.{name}.enabled: {_os_reason(exc)}") from None


def _os_reason(exc: OSError) -> str:
    """``exc`` in one line: which path, and what the system said."""
    reason = exc.strerror or type(exc).__name__
    return f"{exc.filename}: {reason}" if exc.filename else reason
