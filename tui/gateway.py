"""The TUI's one door to the engine: plain blocking calls, made from thread workers only.

Every call takes one lock, so the engine and its plugins (a D-Bus connection, a 1Password
session) are never used by two threads at once.  A slow plugin therefore delays other engine
calls, but never the event loop: the UI keeps answering keys.

The gateway also notices when another process changes the plugins' shared state (``plugins.json``
and the enabled flags in ``config.json``), so the plugins panel can follow it live.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from docker_pass.core.config import config_path, load_config
from docker_pass.core.envelope import SecretInfo
from docker_pass.core.errors import DockerPassError, SecretNotFoundError
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import KEYCHAIN_PLUGIN
from docker_pass.core.results import PluginStatus, Removal
from docker_pass.core.state import load_run_states, state_path

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from docker_pass.core.envelope import Envelope
    from docker_pass.core.remote.front import EngineFront
    from docker_pass.core.setup import Setup, SetupResult

EVERYTHING = Pattern("**")

#: What the plugins' shared state means to us: run status and message, and enabled flags.
StateMeaning = tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, bool], ...]]


@dataclass(frozen=True, slots=True)
class SecretListing:
    """Every listed secret (internal ones left out) and the plugins that failed to list."""

    infos: list[SecretInfo]
    errors: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class SecretDraft:
    """What the editor asks to save.  ``value=None`` keeps the secret's current value."""

    id: ID
    value: bytes | None
    metadata: Mapping[str, str]
    provider: str = KEYCHAIN_PLUGIN

    def __repr__(self) -> str:
        # Spelled out so that a value never reaches a log or a traceback.
        return f"SecretDraft({self.id.value!r}, provider={self.provider!r})"


class SecretsGateway:
    """Serialised access to one engine front — the daemon's (``docker pass ui`` when one runs)
    or an embedded :class:`Engine` — built on first use by ``front_factory``."""

    def __init__(self, front_factory: Callable[[], EngineFront]) -> None:
        self._front_factory = front_factory
        self._front: EngineFront | None = None
        self._lock = threading.RLock()
        self._stamp: tuple[int, int] = (-1, -1)
        self._meaning: StateMeaning | None = None

    # -- engine verbs -----------------------------------------------------------------------

    def plugins(self) -> list[PluginStatus]:
        """Every plugin's status (enabled plugins are started, to show their health)."""
        with self._lock:
            try:
                return self._front_now().plugins()
            finally:
                self._remember_state()

    def list_secrets(self) -> SecretListing:
        """IDs and metadata from every enabled plugin; per-plugin failures in ``errors``."""
        with self._lock:
            try:
                listing = self._front_now().list_secrets(EVERYTHING)
            finally:
                self._remember_state()
        return SecretListing(listing.infos, MappingProxyType(dict(listing.errors)))

    def read_value(self, info: SecretInfo) -> bytes:
        """The value of ``info`` from the plugin that listed it."""
        with self._lock:
            return self._front_now().get(info.id, plugin=info.provider).value

    def read_for_undo(self, id_: ID, provider: str) -> Envelope | None:
        """The secret as it is now (value and metadata), read right before a delete or a
        replace so that ``u`` can restore it; ``None`` when there is none to replace."""
        with self._lock:
            try:
                return self._front_now().get(id_, plugin=provider)
            except SecretNotFoundError:
                return None

    def save(self, draft: SecretDraft) -> SecretInfo:
        """Create or replace a secret; returns what the listing should now show."""
        with self._lock:
            front = self._front_now()
            value = draft.value
            if value is None:
                value = front.get(draft.id, plugin=draft.provider).value
            front.save(draft.id, value, draft.metadata, plugin=draft.provider)
        return SecretInfo(draft.id, draft.provider, MappingProxyType(dict(draft.metadata)))

    def delete(self, info: SecretInfo) -> bool:
        """Remove a secret; whether it existed."""
        with self._lock:
            removal = self._front_now().remove([info.id], plugin=info.provider)
        ((_, outcome),) = removal.outcomes
        if outcome not in (Removal.REMOVED, Removal.MISSING):
            raise DockerPassError(outcome)
        return outcome == Removal.REMOVED

    def set_enabled(self, name: str, enabled: bool) -> PluginStatus:
        """Enable (which also clears a crash and starts it) or disable a configurable plugin."""
        with self._lock:
            front = self._front_now()
            try:
                return front.enable(name) if enabled else front.disable(name)
            finally:
                self._remember_state()

    def apply_setup(self, setup: Setup, answers: Mapping[str, str]) -> SetupResult:
        """A plugin's setup form applied through this front (:func:`core.setup.apply_setup`:
        validated, then the secrets stored, settings written, the plugin enabled)."""
        from docker_pass.core.setup import apply_setup

        with self._lock:
            front = self._front_now()
            try:
                return apply_setup(setup, answers, keychain=front, plugins=front)
            finally:
                self._remember_state()

    def reload(self) -> None:
        """Drop the front; the next call builds a fresh one that reads the shared state anew."""
        with self._lock:
            if self._front is not None:
                self._front.close()
            self._front = None

    def close(self) -> None:
        """Stop every plugin the engine started."""
        self.reload()

    # -- watching the shared state ----------------------------------------------------------

    def state_changed_elsewhere(self) -> bool:
        """Whether another process changed plugin state since our last engine call.

        Cheap when nothing changed (two ``stat`` calls).  Skipped while one of our own engine
        calls is running: it may be writing the files itself.
        """
        if not self._lock.acquire(blocking=False):
            return False
        try:
            if self._meaning is None:
                self._remember_state()  # nothing of ours to compare with yet
                return False
            stamp = _state_stamp()
            if stamp == self._stamp:
                return False
            self._stamp = stamp
            meaning = _state_meaning()
            if meaning == self._meaning:
                return False  # rewritten with the same content (a plugin restarted, say)
            self._meaning = meaning
            return True
        finally:
            self._lock.release()

    # -- internals --------------------------------------------------------------------------

    def _front_now(self) -> EngineFront:
        if self._front is None:
            self._front = self._front_factory()
        return self._front

    def _remember_state(self) -> None:
        """Note the shared state our own call left, so it is not taken for another process's."""
        self._stamp = _state_stamp()
        self._meaning = _state_meaning()


def _state_stamp() -> tuple[int, int]:
    """Modification times of the state and config files (-1 when missing)."""
    stamps = []
    for path in (state_path(), config_path()):
        try:
            stamps.append(os.stat(path).st_mtime_ns)
        except FileNotFoundError:
            stamps.append(-1)
    return stamps[0], stamps[1]


def _state_meaning() -> StateMeaning:
    """The part of the shared state the UI shows: statuses, messages and enabled flags."""
    runs = tuple(sorted((n, s.status, s.message) for n, s in load_run_states().items()))
    sections = load_config().get("plugins", {})
    enabled: list[tuple[str, bool]] = []
    if isinstance(sections, dict):
        for name, section in sections.items():
            if isinstance(section, dict) and "enabled" in section:
                enabled.append((str(name), bool(section["enabled"])))
    return runs, tuple(sorted(enabled))
