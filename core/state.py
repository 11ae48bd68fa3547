"""Plugin state that every process shares: enabled flags and run status.

- Enabled/disabled is a person's choice, so it lives in the config file
  (``plugins.<name>.enabled``), as does an optional narrower ``pattern``.
- Run status (``running | stopped | crashed | retries-exceeded``), its message and the time it
  changed are observations, kept in ``$XDG_STATE_HOME/docker-pass/plugins.json``.

Both are written atomically under an advisory lock, so the CLI, the TUI and the daemon never lose
each other's updates and all show the same ``plugins ls``.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from docker_pass.core.config import config_path, load_config, save_config, write_json_atomic
from docker_pass.core.errors import DockerPassError
from docker_pass.core.store import xdg_dir, xdg_path

if TYPE_CHECKING:
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
    """The last observed run status of one plugin."""

    __slots__ = ("changed_at", "failures", "message", "status")

    def __init__(
        self,
        status: RunStatus = RunStatus.STOPPED,
        message: str = "",
        changed_at: float = 0.0,
        failures: int = 0,
    ) -> None:
        self.status = status
        self.message = message
        self.changed_at = changed_at
        self.failures = failures

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "message": self.message,
            "changed_at": self.changed_at,
            "failures": self.failures,
        }

    @classmethod
    def from_json(cls, doc: object) -> RunState:
        if not isinstance(doc, dict):
            return cls()
        status = doc.get("status")
        return cls(
            RunStatus(status) if status in RECORDED_STATUSES else RunStatus.STOPPED,
            str(doc.get("message", "")),
            float(doc.get("changed_at", 0.0) or 0.0),
            int(doc.get("failures", 0) or 0),
        )

    def __repr__(self) -> str:
        return f"RunState({self.status.value!r}, {self.message!r}, failures={self.failures})"


def state_path() -> Path:
    """Where run statuses are kept."""
    return xdg_dir("state") / STATE_FILE


@contextmanager
def locked() -> Iterator[None]:
    """Hold the state lock (shared by config and state writers) for a read-modify-write."""
    directory = xdg_path("state")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd = os.open(os.path.join(directory, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def load_run_states() -> dict[str, RunState]:
    """Every plugin's last observed run status."""
    # Strings, not pathlib, and json only when there is a file: `get` and `ls` read this.
    try:
        with open(os.path.join(xdg_path("state"), STATE_FILE), encoding="utf-8") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # unreadable state is no state: plugins start afresh
    import json

    try:
        doc = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(doc, dict):
        return {}
    return {str(name): RunState.from_json(entry) for name, entry in doc.items()}


def update_run_state(name: str, change: Callable[[RunState], None]) -> RunState:
    """Apply ``change`` to plugin ``name``'s run state under the lock, and persist it."""
    with locked():
        states = load_run_states()
        known = name in states
        state = states.setdefault(name, RunState())
        before = (state.status, state.message, state.failures)
        change(state)
        if known and (state.status, state.message, state.failures) == before:
            return state  # nothing to record: every `run` would otherwise rewrite the file
        if (state.status, state.message) != before[:2]:
            state.changed_at = time.time()
        write_json_atomic(state_path(), {n: s.to_json() for n, s in states.items()})
        return state


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
    """Persist a plugin's enabled flag in the config file."""
    with locked():
        config = load_config()
        plugins = config.setdefault("plugins", {})
        if not isinstance(plugins, dict):
            raise DockerPassError(f"config {config_path()}: 'plugins' must be an object")
        section = plugins.setdefault(name, {})
        section["enabled"] = enabled
        save_config(config)
