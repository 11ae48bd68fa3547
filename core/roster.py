"""The engine's plugins: each one's settings, its instance once started, its calls and what
every process records of its run state.

:class:`Roster` loads a plugin's class and settings, starts it (once, whichever thread asks
first), stops it, records its failures in the shared state (a fatal one crashes it for every
process) and reports its status.  Every call into a plugin — start, stop, the verbs, status —
goes through its :class:`~docker_pass.core.plugin_calls.PluginLine`, with the deadline the
engine sets (``plugins.NAME.timeout``, else ``engine.plugin_timeout``).  The verbs themselves
are :class:`~docker_pass.core.engine.Engine`'s.
"""

from __future__ import annotations

import _thread
import time
from typing import TYPE_CHECKING, Any

from docker_pass.core.config import load_config
from docker_pass.core.errors import (
    DockerPassError,
    FatalPluginError,
    InvalidPatternError,
    UnknownPluginError,
    UsageError,
    describe,
)
from docker_pass.core.external_slots import (
    attach_external,
    is_external,
    load_external_settings,
    sync_external_slots,
)
from docker_pass.core.ids import Pattern
from docker_pass.core.plugin import Capability, KnowsStoreKind, Plugin, capabilities_of
from docker_pass.core.plugin_calls import (
    PluginLine,
    PluginTimeoutError,
    deadline_of,
    plugin_timeout,
)
from docker_pass.core.registry import load_plugin_class
from docker_pass.core.results import PluginStatus
from docker_pass.core.state import (
    MAX_START_FAILURES,
    RunState,
    RunStatus,
    load_run_states,
    plugin_settings,
    update_run_state,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from docker_pass.core.external import ExternalEntry, ExternalPlugins
    from docker_pass.core.plugin_calls import PendingCall, T

#: ``RunState.cause`` of a crash because the plugin's class could not be loaded: once it
#: loads, the cause is gone and so is the crash.
LOAD_CAUSE = "load"
#: ``RunState.cause`` of a crash because of the plugin's settings (see :meth:`Roster.load`).
CONFIG_CAUSE = "config"


class PluginSlot:
    """One registered plugin: its spec, its instance once started, its flags and its calls."""

    __slots__ = (
        "capabilities",
        "configurable",
        "enabled",
        "external",
        "instance",
        "line",
        "load_cause",
        "load_error",
        "loading",
        "name",
        "pattern",
        "spec",
        "start_problem",
        "started_at",
        "starting",
    )

    def __init__(self, name: str, spec: str, external: ExternalEntry | None = None) -> None:
        self.name = name
        self.spec = spec
        #: An external plugin's registry entry (:mod:`docker_pass.core.external`); ``None``
        #: for a plugin the engine loads itself.
        self.external = external
        self.instance: Plugin | None = None
        self.load_error = ""
        #: ``"config"`` when ``load_error`` comes from a setting (re-checked on every load).
        self.load_cause = ""
        self.enabled = True
        self.configurable = True
        self.pattern: Pattern | None = None
        self.capabilities: frozenset[Capability] = frozenset()
        #: Its deadline, its turn and its calls (:mod:`docker_pass.core.plugin_calls`).
        self.line = PluginLine(name)
        #: Why its last start in this process did not finish in time (not recorded: slow
        #: is not broken, and the start may still finish and record itself).
        self.start_problem: PluginTimeoutError | None = None
        #: When (``time.time()``) this process's instance started.
        self.started_at = 0.0
        #: Held while the plugin starts, so two threads (the TUI's workers listing different
        #: plugins, or one listing while another reads statuses) never start it twice.
        #: (_thread's lock is threading.Lock itself, without importing threading: ~1 ms.)
        self.starting = _thread.allocate_lock()
        #: Held while its settings are read, so no thread sees them half re-checked.  Not the
        #: start lock: reading a plugin's status must not wait for its (slow) start.
        self.loading = _thread.allocate_lock()


class Roster:
    """The plugins of one engine (``specs``: name -> ``module:attr``; ``factories``: ready
    constructors, for tests and the demo).  ``on_started`` runs, within the start's deadline,
    on each instance that has started (the daemon's warm engine uses it)."""

    def __init__(self, specs: Mapping[str, str], factories: Mapping[str, Callable[[], Plugin]]):
        self._factories = dict(factories)
        names = dict.fromkeys([*specs, *self._factories])
        self._slots = {name: PluginSlot(name, specs.get(name, "")) for name in names}
        self.config = load_config()
        self._timeout = plugin_timeout(self.config)
        self.on_started: Callable[[Plugin], None] | None = None
        self._closed = False
        #: The daemon's external plugins, followed by :attr:`slots` (none elsewhere).
        self._external: ExternalPlugins | None = None
        self._external_seen = -1
        self._syncing = _thread.allocate_lock()

    @property
    def slots(self) -> Mapping[str, PluginSlot]:
        """Every plugin's slot by name: the engine's own, then the external ones the registry
        holds now.  The mapping is replaced, never changed, when plugins come or go, so a
        thread that iterates it meanwhile sees a whole one."""
        external = self._external
        if external is not None and external.generation != self._external_seen:
            with self._syncing:
                generation, entries = external.snapshot()
                if generation != self._external_seen:
                    self._slots = sync_external_slots(self._slots, entries)
                    self._external_seen = generation
        return self._slots

    def follow(self, external: ExternalPlugins) -> None:
        """Follow the daemon's registry of external plugins from now on."""
        self._external = external
        self._external_seen = -1

    def reload_config(self) -> None:
        """Read the config file again (after this process changed it)."""
        self.config = load_config()
        self._timeout = plugin_timeout(self.config)

    def slot(self, name: str) -> PluginSlot:
        """Plugin ``name``'s slot, loaded (:meth:`load`)."""
        slot = self.slots.get(name)
        if slot is None:
            raise UnknownPluginError(name, list(self.slots))
        self.load(slot)
        return slot

    def configurable_slot(self, name: str) -> PluginSlot:
        """Plugin ``name``'s slot; an error if it is always on."""
        slot = self.slot(name)
        if not slot.configurable:
            raise UsageError(f"plugin {name} is not configurable: it is always on")
        return slot

    # -- calls ------------------------------------------------------------------------------

    def call(self, slot: PluginSlot, instance: Plugin, work: Callable[[], T]) -> T:
        """A verb's call into ``instance``, with the deadline: one at a time unless its class
        says ``concurrent = True`` (it may be called from several threads at once, as the
        keychain plugin, whose stores lock what they share).  Plugins that say nothing are
        called one at a time, as they were written to be (a D-Bus connection, an ``op``
        session); a slow call then delays only calls to that same plugin."""
        result: T = self.begin(slot, instance, work).outcome()
        return result

    def begin(self, slot: PluginSlot, instance: Plugin, work: Callable[[], Any]) -> PendingCall:
        """:meth:`call` handed over now, its outcome to be waited for later (a fan-out)."""
        alone = not getattr(type(instance), "concurrent", False)
        return slot.line.begin(work, one_at_a_time=alone)

    def stop(self, slot: PluginSlot) -> None:
        """Stop the running instance, if any (within the deadline; failures are ignored)."""
        instance, slot.instance = slot.instance, None
        if instance is not None:
            try:
                slot.line.call(instance.stop, one_at_a_time=False, abandonable=False)
            except Exception:  # noqa: BLE001 - stopping must not fail what is ending
                return

    def close(self) -> None:
        """Stop every plugin that is not in a call (one past its deadline still running:
        stopping a plugin under it is not safe, and the process ends soon).  A start still
        running stops what it started."""
        self._closed = True
        for slot in self.slots.values():
            if slot.line.running:
                slot.instance = None
            else:
                self.stop(slot)

    # -- loading ----------------------------------------------------------------------------

    def load(self, slot: PluginSlot) -> None:
        """Read the slot's settings and import its class (once); record why if that fails.

        A problem with the plugin's own settings (:func:`plugin_setting_problem`, a bad
        ``pattern``) shows it crashed with the reason, and is checked again on every load."""
        with slot.loading:
            self._load_settings(slot)

    def _load_settings(self, slot: PluginSlot) -> None:
        """:meth:`load` under the slot's lock."""
        settings = plugin_settings(self.config, slot.name)
        if slot.external is not None:
            load_external_settings(slot, settings, self._timeout)
            return
        if slot.load_cause == CONFIG_CAUSE:
            slot.load_error = slot.load_cause = ""  # re-checked below against today's file
        if slot.instance is None and not slot.load_error:
            try:
                cls = self.class_for(slot)
                slot.configurable = bool(getattr(cls, "configurable", True))
                slot.capabilities = capabilities_of(cls)
                declared = getattr(cls, "pattern", Pattern("**"))
                slot.pattern = declared if isinstance(declared, Pattern) else Pattern("**")
                default_enabled = bool(getattr(cls, "enabled_by_default", not slot.configurable))
            except DockerPassError as exc:
                slot.load_error = str(exc)
                default_enabled = True
            slot.enabled = default_enabled
            if settings.get("enabled") is not None:  # loaded with the file that holds it
                from docker_pass.core.config_schema import enabled_flag

                flag = enabled_flag(settings["enabled"])  # "false" (a string) is false too
                slot.enabled = default_enabled if flag is None else flag
        if not slot.configurable:
            slot.enabled = True
        if slot.load_error:
            return
        problem = ""
        if settings:  # no section (the common case): nothing to check, nothing to import
            from docker_pass.core.config_schema import plugin_setting_problem

            problem = plugin_setting_problem(settings, slot.name, config_file())
        if problem:
            slot.load_error, slot.load_cause = problem, CONFIG_CAUSE
            return
        slot.line.seconds = deadline_of(settings, self._timeout)
        override = settings.get("pattern")
        if override is not None and slot.pattern is not None:
            try:
                narrowed = Pattern.parse(str(override))
            except InvalidPatternError as exc:
                slot.load_error = f"config {config_file()}: plugins.{slot.name}.pattern: {exc}"
                slot.load_cause = CONFIG_CAUSE
                return
            slot.pattern = slot.pattern.narrow(narrowed) or narrowed

    def class_for(self, slot: PluginSlot) -> Any:
        """The plugin's class (or its factory)."""
        factory = self._factories.get(slot.name)
        if factory is not None:
            return factory
        return load_plugin_class(slot.name, {slot.name: slot.spec})

    # -- starting ---------------------------------------------------------------------------

    def ensure_started(self, slot: PluginSlot) -> Plugin | None:
        """The running instance, starting it if the state allows; ``None`` if it is down or
        did not start within its deadline (then ``slot.start_problem`` says so).

        Threads may call this for the same plugin at once; one starts it, the others wait for
        that start (a start past its deadline holds them no longer than that).
        """
        if slot.instance is not None:
            return slot.instance
        with slot.starting:
            return self._start(slot)

    def _start(self, slot: PluginSlot) -> Plugin | None:
        """:meth:`ensure_started` under the slot's start lock."""
        if slot.instance is not None:
            return slot.instance  # another thread started it while we waited
        slot.start_problem = None  # this attempt's own, if any
        if slot.external is not None:
            return attach_external(slot)
        if slot.load_error:
            cause = slot.load_cause or LOAD_CAUSE
            fingerprint = self.fingerprint(slot) if cause == CONFIG_CAUSE else ""
            update_run_state(
                slot.name,
                lambda s: set_state(s, RunStatus.CRASHED, slot.load_error, cause, fingerprint),
            )
            return None
        state = load_run_states(only=slot.name).get(slot.name, RunState())
        if state.status.is_down:
            # An always-on plugin (the keychain) cannot be disabled and has no stand-in: a
            # recorded crash is only the last observation, so every start tries again (and a
            # failing one records the fresh reason).  Others stay down until `plugins enable`,
            # unless the crash's cause is gone.
            if slot.configurable and not self._cause_is_gone(slot, state):
                return None
            state = update_run_state(slot.name, cleared)
        try:
            started: Plugin | None = slot.line.call(
                lambda: self._start_now(slot, state), one_at_a_time=True, abandonable=False
            )
        except PluginTimeoutError as exc:
            slot.start_problem = exc  # the start may still finish: it records itself then
            return None
        return started

    def _cause_is_gone(self, slot: PluginSlot, state: RunState) -> bool:
        """Whether a recorded crash's cause is gone: its settings changed since, or its class
        (which could not be loaded then) loads now.  A crash never outlives its cause."""
        if state.cause == CONFIG_CAUSE:
            return state.settings != self.fingerprint(slot)
        return state.cause == LOAD_CAUSE

    def _start_now(self, slot: PluginSlot, state: RunState) -> Plugin | None:
        """On a plugin-call thread: construct and start the plugin, and record how it went
        (also when the caller stopped waiting: a late start is kept, or recorded as failed)."""
        if slot.instance is not None:
            return slot.instance  # a start that outlived its deadline finished meanwhile
        try:
            factory = self._factories.get(slot.name) or self.class_for(slot)
            instance: Plugin = factory()
            instance.start()
            if self.on_started is not None:
                self.on_started(instance)
        except FatalPluginError as exc:
            message = str(exc)
            # A setting it read at start (e.g. "config plugins.NAME.refresh_interval: ...").
            cause = CONFIG_CAUSE if message.startswith("config ") else ""
            fingerprint = self.fingerprint(slot) if cause else ""
            update_run_state(
                slot.name, lambda s: set_state(s, RunStatus.CRASHED, message, cause, fingerprint)
            )
            return None
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the others
            self.record_failure(slot, exc)
            return None
        if self._closed:  # the engine closed while this start ran past its deadline
            _stop_quietly(instance)
            return None
        if state.status is not RunStatus.RUNNING or state.failures or state.message:
            update_run_state(slot.name, running)  # only a change takes the lock and writes
        slot.start_problem = None
        slot.started_at = time.time()
        slot.instance = instance
        return instance

    def fingerprint(self, slot: PluginSlot) -> str:
        """A digest of plugin ``slot``'s section of the config file, to notice it changed."""
        return settings_fingerprint(plugin_settings(self.config, slot.name))

    # -- failures and status ----------------------------------------------------------------

    def record_failure(self, slot: PluginSlot, exc: BaseException) -> str:
        """Persist a plugin failure; a fatal one crashes it.  Returns the message to report."""
        message = describe(exc)
        if isinstance(exc, FatalPluginError):
            update_run_state(slot.name, lambda s: set_state(s, RunStatus.CRASHED, message))
            self.stop(slot)
        elif slot.instance is None and not isinstance(exc, PluginTimeoutError):
            # A start that failed without being fatal: count it; give up after a few.
            def count(state: RunState) -> None:
                state.failures += 1
                if state.failures >= MAX_START_FAILURES:
                    gave_up = f"{message} (gave up after {state.failures} tries)"
                    set_state(state, RunStatus.RETRIES_EXCEEDED, gave_up)
                else:
                    set_state(state, RunStatus.STOPPED, message)

            update_run_state(slot.name, count)
        return message

    def follow_recorded_crash(self, slot: PluginSlot, state: RunState) -> None:
        """Stop our instance if another process recorded the plugin crashed after it started
        here: every process shows the same status, and it stays down until enabled."""
        if (
            slot.instance is not None
            and state.status.is_down
            and state.changed_at > (slot.started_at)
        ):
            self.stop(slot)

    def status(self, slot: PluginSlot, state: RunState) -> PluginStatus:
        """What ``plugins ls`` shows of ``slot``, given its recorded ``state``."""
        self.follow_recorded_crash(slot, state)
        if slot.load_error:
            status, message = RunStatus.CRASHED, slot.load_error
        elif not slot.enabled:
            status, message = RunStatus.DISABLED, ""
        elif slot.instance is not None:
            status, message = RunStatus.RUNNING, ""
        elif slot.start_problem is not None and not state.status.is_down:
            status, message = RunStatus.STOPPED, str(slot.start_problem)
        elif slot.external is not None and state.status is RunStatus.RUNNING:
            # Recorded running, but not connected here (yet, or any more).
            status, message = RunStatus.STOPPED, "not connected"
        else:
            status, message = state.status, state.message
        instance = slot.instance
        storage = store_kind = ""
        if instance is not None:
            try:
                storage, store_kind = slot.line.call(
                    lambda: _storage_of(instance), one_at_a_time=False
                )
            except DockerPassError as exc:
                storage = f"unavailable: {exc}"
        cls = self._factories.get(slot.name)
        version = getattr(instance or cls, "version", "") if (instance or cls) else ""
        if slot.external is not None:
            version = slot.external.version
        elif not version and not slot.load_error and slot.spec:
            version = str(getattr(self.class_for(slot), "version", ""))
        return PluginStatus(
            name=slot.name,
            version=str(version),
            status=status,
            configurable=slot.configurable,
            enabled=slot.enabled,
            pattern=slot.pattern.value if slot.pattern else "",
            message=message,
            storage=storage,
            capabilities=slot.capabilities,
            changed_at=state.changed_at,
            store_kind=store_kind,
            external=is_external(slot),
        )

    def targets(
        self, pattern: Pattern
    ) -> tuple[list[tuple[PluginSlot, Pattern]], dict[str, str], dict[str, str]]:
        """Running plugins serving part of ``pattern``; the enabled ones that are down (name ->
        why); and those that did not start within their deadline (name -> message)."""
        targets = []
        down: dict[str, str] = {}
        late: dict[str, str] = {}
        for slot in self.slots.values():
            self.load(slot)
            if not slot.enabled:
                continue
            if slot.pattern is None and slot.external is not None:
                continue  # a launched plugin that never registered: it serves nothing yet
            if slot.pattern is None:  # it could not even be loaded: it might have served this
                down[slot.name] = f"{RunStatus.CRASHED}: {slot.load_error}"
                continue
            narrowed = slot.pattern.narrow(pattern)
            if narrowed is None:
                continue
            if self.ensure_started(slot) is None:
                if slot.start_problem is not None:
                    late[slot.name] = str(slot.start_problem)
                    continue
                state = load_run_states().get(slot.name, RunState())
                down[slot.name] = f"{state.status}: {slot.load_error or state.message}"
                continue
            targets.append((slot, narrowed))
        return targets, down, late


def _storage_of(instance: Plugin) -> tuple[str, str]:
    storage = instance.storage()
    kind = instance.store_kind() if isinstance(instance, KnowsStoreKind) else ""
    return storage, kind


def settings_fingerprint(section: Mapping[str, Any]) -> str:
    """A short digest of a plugin's settings (no setting is a secret, but keep state small)."""
    import hashlib  # only when a crash is recorded or checked
    import json

    canonical = json.dumps(section, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def config_file() -> str:
    """The config file's path, for messages."""
    import os

    from docker_pass.core.config import CONFIG_FILE
    from docker_pass.core.store import xdg_path

    return os.path.join(xdg_path("config"), CONFIG_FILE)


def set_state(
    state: RunState, status: RunStatus, message: str, cause: str = "", settings: str = ""
) -> None:
    """Record ``status`` with its ``message`` (and for a crash, its cause)."""
    state.status = status
    state.message = message
    state.cause = cause
    state.settings = settings


def running(state: RunState) -> None:
    """Record a healthy start."""
    set_state(state, RunStatus.RUNNING, "")
    state.failures = 0


def cleared(state: RunState) -> None:
    """Record a crash cleared (``plugins enable``, or its cause gone)."""
    set_state(state, RunStatus.STOPPED, "")
    state.failures = 0


def _stop_quietly(plugin: Plugin) -> None:
    try:
        plugin.stop()
    except Exception:  # noqa: BLE001 - stopping must not fail the command that is ending
        return
