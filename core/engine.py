"""The engine: loads plugins, keeps their state, and fans resolution out across them.

One method per user verb (``plugins``, ``enable``, ``disable``, ``resolve``, ``list``), each
returning a result object that the CLI renders as text or JSON and the TUI posts as a message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from docker_pass.core.config import load_config
from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.errors import (
    DockerPassError,
    FatalPluginError,
    InvalidPatternError,
    NoPluginMatchesError,
    PluginError,
    SecretNotFoundError,
    UnknownPluginError,
    UsageError,
)
from docker_pass.core.ids import Pattern
from docker_pass.core.plugin import INTERNAL_REALM, Plugin
from docker_pass.core.registry import load_plugin_class, plugin_specs
from docker_pass.core.state import (
    CRASHED,
    DOWN_STATUSES,
    MAX_START_FAILURES,
    RETRIES_EXCEEDED,
    RUNNING,
    STOPPED,
    RunState,
    load_run_states,
    plugin_settings,
    set_enabled,
    update_run_state,
)
from docker_pass.core.value import FrozenValue

DISABLED = "disabled"


class PluginStatus(FrozenValue):
    """What ``plugins ls`` shows of one plugin."""

    __slots__ = (
        "changed_at",
        "configurable",
        "enabled",
        "message",
        "name",
        "pattern",
        "status",
        "storage",
        "version",
        "writable",
    )
    name: str
    version: str
    #: running, disabled, stopped, crashed or retries-exceeded
    status: str
    configurable: bool
    enabled: bool
    pattern: str
    message: str
    storage: str
    writable: bool
    changed_at: float

    def __init__(
        self,
        *,
        name: str,
        version: str,
        status: str,
        configurable: bool,
        enabled: bool,
        pattern: str,
        message: str = "",
        storage: str = "",
        writable: bool = False,
        changed_at: float = 0.0,
    ) -> None:
        for key, value in locals().items():
            if key != "self":
                self._set(key, value)

    def __repr__(self) -> str:
        return f"PluginStatus({self.name!r}, {self.status!r}, {self.message!r})"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "configurable": self.configurable,
            "enabled": self.enabled,
            "pattern": self.pattern,
            "message": self.message,
            "storage": self.storage,
            "writable": self.writable,
        }


class Resolution(FrozenValue):
    """The outcome of resolving one pattern across plugins (envelopes carry values)."""

    __slots__ = ("answered", "asked", "down", "envelopes", "errors", "pattern")
    pattern: Pattern
    envelopes: list[Envelope]
    #: plugins whose pattern overlaps the request, in the order they were asked
    asked: list[str]
    #: plugins that answered without an error (possibly with nothing)
    answered: list[str]
    #: plugin name -> error message, for plugins that failed this request
    errors: dict[str, str]
    #: plugin name -> why, for enabled plugins that serve the pattern but are down (crashed…)
    down: dict[str, str]

    def __init__(
        self,
        pattern: Pattern,
        envelopes: list[Envelope],
        asked: list[str],
        answered: list[str],
        errors: dict[str, str] | None = None,
        down: dict[str, str] | None = None,
    ) -> None:
        self._set("pattern", pattern)
        self._set("envelopes", envelopes)
        self._set("asked", asked)
        self._set("answered", answered)
        self._set("errors", errors or {})
        self._set("down", down or {})

    def envelopes_or_raise(self) -> list[Envelope]:
        """The envelopes; ``secret not found`` when there are none, or the error of a plugin
        that failed (naming the plugins that were down, as hints)."""
        if not self.envelopes:
            if self.errors:
                name, message = next(iter(self.errors.items()))
                raise PluginError(f"{name}: {message}")
            raise SecretNotFoundError().with_hints(*down_hints(self.down))
        return self.envelopes

    def __repr__(self) -> str:
        return (
            f"Resolution({self.pattern.value!r}, {len(self.envelopes)} envelopes, "
            f"asked={self.asked}, answered={self.answered}, errors={self.errors})"
        )


class Listing(FrozenValue):
    """IDs and metadata across plugins, with per-plugin errors."""

    __slots__ = ("errors", "infos")
    infos: list[SecretInfo]
    errors: dict[str, str]

    def __init__(self, infos: list[SecretInfo], errors: dict[str, str] | None = None) -> None:
        self._set("infos", infos)
        self._set("errors", errors or {})

    def __repr__(self) -> str:
        return f"Listing({len(self.infos)} secrets, errors={self.errors})"


class _Slot:
    """One registered plugin: its spec, its instance once started, and its flags."""

    __slots__ = ("configurable", "enabled", "instance", "load_error", "name", "pattern", "spec")

    def __init__(self, name: str, spec: str) -> None:
        self.name = name
        self.spec = spec
        self.instance: Plugin | None = None
        self.load_error = ""
        self.enabled = True
        self.configurable = True
        self.pattern: Pattern | None = None


class Engine:
    """Plugins, their state, and resolution.  Embedded in every command by default."""

    def __init__(
        self,
        specs: dict[str, str] | None = None,
        factories: Mapping[str, Callable[[], Plugin]] | None = None,
    ) -> None:
        """``specs`` (name -> ``module:attr``) default to the entry-point registry;
        ``factories`` supply ready-made plugin constructors (tests, the TUI's demo)."""
        self._factories = dict(factories or {})
        if specs is None:
            specs = {} if factories and not specs else plugin_specs()
        names = dict.fromkeys([*specs, *self._factories])
        self._slots = {name: _Slot(name, specs.get(name, "")) for name in names}
        self._config = load_config()

    # -- plugin management ------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every registered plugin's name."""
        return list(self._slots)

    def plugins(self, *, start: bool = True) -> list[PluginStatus]:
        """Every plugin's status; with ``start``, enabled plugins are started to show health."""
        states = load_run_states()
        out = []
        for slot in self._slots.values():
            self._load(slot)
            if start and slot.enabled:
                self._ensure_started(slot)
                states = load_run_states()
            out.append(self._status(slot, states.get(slot.name, RunState())))
        return out

    def enable(self, name: str) -> PluginStatus:
        """Enable a configurable plugin, clear a crash, and try to start it."""
        slot = self._configurable_slot(name)
        set_enabled(name, True)
        self._config = load_config()
        update_run_state(name, _clear)
        self._load(slot)
        self._ensure_started(slot)
        return self._status(slot, load_run_states().get(name, RunState()))

    def disable(self, name: str) -> PluginStatus:
        """Disable a configurable plugin (and stop it in this process)."""
        slot = self._configurable_slot(name)
        set_enabled(name, False)
        self._config = load_config()
        if slot.instance is not None:
            _stop_quietly(slot.instance)
            slot.instance = None
        update_run_state(name, lambda s: _set(s, STOPPED, ""))
        self._load(slot)
        return self._status(slot, load_run_states().get(name, RunState()))

    # -- resolution -------------------------------------------------------------------------

    def resolve(self, pattern: Pattern) -> Resolution:
        """Fan ``pattern`` out to every enabled, running plugin that serves part of it.

        Raises :class:`NoPluginMatchesError` when no plugin's pattern overlaps.  Per-plugin
        failures are reported in the result; the other plugins still answer.
        """
        targets, down = self._targets_and_down(pattern)
        if not targets:
            raise NoPluginMatchesError(pattern.value).with_hints(*down_hints(down))
        now = datetime.now(UTC)
        envelopes: list[Envelope] = []
        answered: list[str] = []
        errors: dict[str, str] = {}
        for slot, narrowed, outcome in self._fan_out(targets, lambda p, n: p.resolve(n)):
            if isinstance(outcome, BaseException):
                errors[slot.name] = self._record_failure(slot, outcome)
                continue
            answered.append(slot.name)
            scope = slot.pattern or narrowed
            for env in outcome:
                in_scope = pattern.matches(env.id) and scope.matches(env.id)
                if not (in_scope and narrowed.matches(env.id)):
                    continue  # out of scope: never reaches a caller
                if INTERNAL_REALM.matches(env.id):
                    continue
                envelopes.append(env.stamped(slot.name, now))
        envelopes.sort(key=lambda e: (e.id.value, e.provider))
        asked = [s.name for s, _ in targets]
        return Resolution(pattern, envelopes, asked, answered, errors, down)

    def resolve_all(self, pattern: Pattern) -> list[Envelope]:
        """Envelopes for ``pattern``; ``secret not found`` when there are none.

        If nothing was found and some plugin failed, its error is raised instead.
        """
        return self.resolve(pattern).envelopes_or_raise()

    def list_secrets(self, pattern: Pattern) -> Listing:
        """IDs and metadata across plugins (no values), sorted by ID then provider."""
        targets = self._targets(pattern)
        infos: list[SecretInfo] = []
        errors: dict[str, str] = {}
        for slot, narrowed, outcome in self._fan_out(targets, lambda p, n: p.list(n)):
            if isinstance(outcome, BaseException):
                errors[slot.name] = self._record_failure(slot, outcome)
                continue
            scope = slot.pattern or narrowed
            for info in outcome:
                if pattern.matches(info.id) and scope.matches(info.id):
                    infos.append(SecretInfo(info.id, slot.name, info.metadata))
        infos.sort(key=lambda i: (i.id.value, i.provider))
        return Listing(infos, errors)

    def plugin(self, name: str) -> Plugin:
        """The started instance of plugin ``name`` (for the keychain verbs and the TUI)."""
        slot = self._slots.get(name)
        if slot is None:
            raise UnknownPluginError(name, self.names())
        self._load(slot)
        if not slot.enabled:
            raise DockerPassError(f"plugin {name} is disabled (docker pass plugins enable {name})")
        instance = self._ensure_started(slot)
        if instance is None:
            state = load_run_states().get(name, RunState())
            raise DockerPassError(f"plugin {name} is {state.status}: {state.message}")
        return instance

    def close(self) -> None:
        """Stop every plugin this engine started."""
        for slot in self._slots.values():
            if slot.instance is not None:
                _stop_quietly(slot.instance)
                slot.instance = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------------

    def _configurable_slot(self, name: str) -> _Slot:
        slot = self._slots.get(name)
        if slot is None:
            raise UnknownPluginError(name, self.names())
        self._load(slot)
        if not slot.configurable:
            raise UsageError(f"plugin {name} is not configurable: it is always on")
        return slot

    def _load(self, slot: _Slot) -> None:
        """Read the slot's settings and import its class (once); record why if that fails."""
        settings = plugin_settings(self._config, slot.name)
        if slot.instance is None and not slot.load_error:
            try:
                cls = self._class_for(slot)
                slot.configurable = bool(getattr(cls, "configurable", True))
                declared = getattr(cls, "pattern", Pattern("**"))
                slot.pattern = declared if isinstance(declared, Pattern) else Pattern("**")
                default_enabled = bool(getattr(cls, "enabled_by_default", not slot.configurable))
            except DockerPassError as exc:
                slot.load_error = str(exc)
                default_enabled = True
            slot.enabled = bool(settings.get("enabled", default_enabled))
        if not slot.configurable:
            slot.enabled = True
        override = settings.get("pattern")
        if override is not None and slot.pattern is not None:
            try:
                narrowed = Pattern.parse(str(override))
            except InvalidPatternError as exc:
                slot.load_error = f"config plugins.{slot.name}.pattern: {exc}"
                return
            slot.pattern = slot.pattern.narrow(narrowed) or narrowed

    def _class_for(self, slot: _Slot) -> Any:
        factory = self._factories.get(slot.name)
        if factory is not None:
            return factory
        return load_plugin_class(slot.name, {slot.name: slot.spec})

    def _ensure_started(self, slot: _Slot) -> Plugin | None:
        """The running instance, starting it if the state allows; ``None`` if it is down."""
        if slot.instance is not None:
            return slot.instance
        if slot.load_error:
            update_run_state(slot.name, lambda s: _set(s, CRASHED, slot.load_error))
            return None
        state = load_run_states().get(slot.name, RunState())
        if state.status in DOWN_STATUSES:
            return None
        try:
            factory = self._factories.get(slot.name) or self._class_for(slot)
            instance: Plugin = factory()
            instance.start()
        except FatalPluginError as exc:
            message = str(exc)
            update_run_state(slot.name, lambda s: _set(s, CRASHED, message))
            return None
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the others
            self._record_failure(slot, exc)
            return None
        update_run_state(slot.name, _running)
        slot.instance = instance
        return instance

    def _targets(self, pattern: Pattern) -> list[tuple[_Slot, Pattern]]:
        return self._targets_and_down(pattern)[0]

    def _targets_and_down(
        self, pattern: Pattern
    ) -> tuple[list[tuple[_Slot, Pattern]], dict[str, str]]:
        """Running plugins serving part of ``pattern``, and the enabled ones that are down."""
        targets = []
        down: dict[str, str] = {}
        for slot in self._slots.values():
            self._load(slot)
            if not slot.enabled:
                continue
            if slot.pattern is None:  # it could not even be loaded: it might have served this
                down[slot.name] = f"{CRASHED}: {slot.load_error}"
                continue
            narrowed = slot.pattern.narrow(pattern)
            if narrowed is None:
                continue
            if self._ensure_started(slot) is None:
                state = load_run_states().get(slot.name, RunState())
                down[slot.name] = f"{state.status}: {slot.load_error or state.message}"
                continue
            targets.append((slot, narrowed))
        return targets, down

    def _fan_out(
        self,
        targets: list[tuple[_Slot, Pattern]],
        call: Callable[[Plugin, Pattern], Iterable[Any]],
    ) -> list[tuple[_Slot, Pattern, Any]]:
        """Call every target (concurrently when there are several); exceptions are returned."""

        def one(target: tuple[_Slot, Pattern]) -> tuple[_Slot, Pattern, Any]:
            slot, narrowed = target
            if slot.instance is None:
                return slot, narrowed, PluginError("not running")
            try:
                return slot, narrowed, list(call(slot.instance, narrowed))
            except SecretNotFoundError:
                return slot, narrowed, []
            except Exception as exc:  # noqa: BLE001 - isolate each plugin's failure
                return slot, narrowed, exc

        if len(targets) <= 1:
            return [one(t) for t in targets]
        from concurrent.futures import ThreadPoolExecutor  # only when plugins are asked at once

        with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
            return list(pool.map(one, targets))

    def _record_failure(self, slot: _Slot, exc: BaseException) -> str:
        """Persist a plugin failure; a fatal one crashes it.  Returns the message to report."""
        if isinstance(exc, DockerPassError):
            message = str(exc)
        else:
            message = f"internal error ({type(exc).__name__})"
        if isinstance(exc, FatalPluginError):
            update_run_state(slot.name, lambda s: _set(s, CRASHED, message))
            if slot.instance is not None:
                _stop_quietly(slot.instance)
                slot.instance = None
        elif slot.instance is None:
            # A start that failed without being fatal: count it; give up after a few.
            def count(state: RunState) -> None:
                state.failures += 1
                if state.failures >= MAX_START_FAILURES:
                    gave_up = f"{message} (gave up after {state.failures} tries)"
                    _set(state, RETRIES_EXCEEDED, gave_up)
                else:
                    _set(state, STOPPED, message)

            update_run_state(slot.name, count)
        return message

    def _status(self, slot: _Slot, state: RunState) -> PluginStatus:
        if slot.load_error:
            status, message = CRASHED, slot.load_error
        elif not slot.enabled:
            status, message = DISABLED, ""
        elif slot.instance is not None:
            status, message = RUNNING, ""
        else:
            status, message = state.status, state.message
        instance = slot.instance
        storage = ""
        if instance is not None:
            try:
                storage = instance.storage()
            except DockerPassError as exc:
                storage = f"unavailable: {exc}"
        cls = self._factories.get(slot.name)
        version = getattr(instance or cls, "version", "") if (instance or cls) else ""
        if not version and not slot.load_error and slot.spec:
            version = str(getattr(self._class_for(slot), "version", ""))
        return PluginStatus(
            name=slot.name,
            version=str(version),
            status=status,
            configurable=slot.configurable,
            enabled=slot.enabled,
            pattern=slot.pattern.value if slot.pattern else "",
            message=message,
            storage=storage,
            writable=bool(getattr(instance, "writable", False)),
            changed_at=state.changed_at,
        )


def down_hints(down: Mapping[str, str]) -> list[str]:
    """Hint lines for plugins that would have been asked but are down."""
    return [
        f"plugin {name} is {why} (docker pass plugins enable {name})" for name, why in down.items()
    ]


def _set(state: RunState, status: str, message: str) -> None:
    state.status = status
    state.message = message


def _running(state: RunState) -> None:
    _set(state, RUNNING, "")
    state.failures = 0


def _clear(state: RunState) -> None:
    _set(state, STOPPED, "")
    state.failures = 0


def _stop_quietly(plugin: Plugin) -> None:
    try:
        plugin.stop()
    except Exception:  # noqa: BLE001 - stopping must not fail the command that is ending
        return
