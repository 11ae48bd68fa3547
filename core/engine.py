"""The engine: loads plugins, keeps their state, and carries out every verb across them.

One method per user verb — ``get``, ``save``, ``remove``, ``list_secrets``, ``resolve``,
``plugins``, ``enable``, ``disable`` — each returning a result object (:mod:`.results`) that the
CLI renders as text or JSON, the TUI posts as a message and the daemon sends as protobuf.
The secret verbs take the plugin they act on (default: the keychain plugin ``docker-pass``, as
Docker's tool has no other); ``list_secrets`` without one lists every running plugin.
"""

from __future__ import annotations

import _thread
import time
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from docker_pass.core.config import load_config
from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.errors import (
    DockerPassError,
    FatalPluginError,
    InvalidPatternError,
    NoPluginMatchesError,
    PluginError,
    ReadOnlyError,
    SecretNotFoundError,
    UnknownPluginError,
    UsageError,
    describe,
)
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import (
    INTERNAL_REALM,
    KEYCHAIN_PLUGIN,
    Capability,
    KnowsStoreKind,
    Plugin,
    WatchHint,
    WritablePlugin,
    capabilities_of,
    enable_remedy,
    is_reserved,
    remedy_hints,
)
from docker_pass.core.registry import load_plugin_class, plugin_specs
from docker_pass.core.results import (
    Listing,
    PluginStatus,
    Removal,
    Resolution,
    Saved,
    down_hints,
)
from docker_pass.core.state import (
    MAX_START_FAILURES,
    RunState,
    RunStatus,
    load_run_states,
    plugin_settings,
    set_enabled,
    update_run_state,
)
from docker_pass.core.writable import able_plugins

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence


class _Slot:
    """One registered plugin: its spec, its instance once started, and its flags."""

    __slots__ = (
        "calls",
        "capabilities",
        "configurable",
        "enabled",
        "instance",
        "load_cause",
        "load_error",
        "loading",
        "name",
        "pattern",
        "spec",
        "starting",
    )

    def __init__(self, name: str, spec: str) -> None:
        self.name = name
        self.spec = spec
        self.instance: Plugin | None = None
        self.load_error = ""
        #: ``"config"`` when ``load_error`` comes from a setting (re-checked on every load).
        self.load_cause = ""
        self.enabled = True
        self.configurable = True
        self.pattern: Pattern | None = None
        self.capabilities: frozenset[Capability] = frozenset()
        #: Held while the plugin starts, so two threads (the TUI's workers listing different
        #: plugins, or one listing while another reads statuses) never start it twice.
        #: (_thread's lock is threading.Lock itself, without importing threading: ~1 ms.)
        self.starting = _thread.allocate_lock()
        #: Held while its settings are read, so no thread sees them half re-checked.  Not the
        #: start lock: reading a plugin's status must not wait for its (slow) start.
        self.loading = _thread.allocate_lock()
        #: Held around each call into a plugin that may not be called concurrently (see
        #: :func:`calling`): requests for other plugins never wait for it.
        self.calls = _thread.allocate_lock()


#: The state of a plugin nothing was recorded about.
_UP = RunState()


class Engine:
    """Plugins, their state, and every verb.  Embedded in every command by default."""

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

    @classmethod
    def for_plugin(cls, name: str) -> Engine:
        """An engine that knows only plugin ``name``: what ``get``, ``ls``, ``set`` and ``rm``
        use, so a built-in plugin costs no scan of the installed distributions."""
        return cls(specs={name: plugin_spec(name)})

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
            # An always-on plugin's recorded crash is shown as it was observed (with the
            # remedy); the verbs that need the plugin try it again (see _start).
            shown_down = not slot.configurable and states.get(slot.name, _UP).status.is_down
            if start and slot.enabled and not shown_down:
                self._ensure_started(slot)
                states = load_run_states()
            out.append(self._status(slot, states.get(slot.name, RunState())))
        return out

    def status(self, name: str) -> PluginStatus:
        """Plugin ``name``'s status, as :meth:`plugins` shows it, without starting it or
        asking any other plugin (the TUI asks each plugin's status after listing it)."""
        slot = self._slots.get(name)
        if slot is None:
            raise UnknownPluginError(name, self.names())
        self._load(slot)
        return self._status(slot, load_run_states(only=name).get(name, RunState()))

    def enable(self, name: str) -> PluginStatus:
        """Enable a plugin, clear a crash, and try to start it.

        An always-on plugin cannot be disabled, but its crash is cleared the same way."""
        slot = self._slots.get(name)
        if slot is None:
            raise UnknownPluginError(name, self.names())
        self._load(slot)
        if slot.configurable:
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
        update_run_state(name, lambda s: _set(s, RunStatus.STOPPED, ""))
        self._load(slot)
        return self._status(slot, load_run_states().get(name, RunState()))

    # -- the secret verbs -------------------------------------------------------------------

    def get(self, id_: ID, *, plugin: str = KEYCHAIN_PLUGIN) -> Envelope:
        """One secret, with its value, from ``plugin``; ``secret not found`` when it has none."""
        slot, instance = self._capable(plugin, Capability.READ, "read")
        if isinstance(instance, WritablePlugin):
            try:
                with calling(slot, instance):
                    return instance.get(id_)
            except FatalPluginError as exc:
                self._record_failure(slot, exc)
                raise
        resolution = self._resolve_on(slot, instance, Pattern(id_.value))
        return resolution.envelopes_or_raise()[0]

    def save(
        self,
        id_: ID,
        value: bytes,
        metadata: Mapping[str, str],
        *,
        plugin: str = KEYCHAIN_PLUGIN,
    ) -> Saved:
        """Create or replace a secret in ``plugin`` (which must be writable)."""
        slot, instance = self._capable(plugin, Capability.WRITE, "write")
        assert isinstance(instance, WritablePlugin)  # noqa: S101 - _capable checked it
        try:
            with calling(slot, instance):  # the check and the write as one step
                replaced = bool(instance.list(Pattern(id_.value)))
                instance.save(id_, value, metadata)
        except FatalPluginError as exc:
            self._record_failure(slot, exc)
            raise
        return Saved(id_, slot.name, replaced)

    def remove(
        self, ids: Sequence[ID], *, plugin: str = KEYCHAIN_PLUGIN, purge_versions: bool = False
    ) -> Removal:
        """Remove each of ``ids`` from ``plugin``; one failure does not stop the others.

        ``purge_versions``: also every older version (a plugin that keeps versions says so
        with a ``purge`` method: the vault plugin); refused for the others.
        """
        slot, instance = self._capable(plugin, Capability.DELETE, "delete")
        assert isinstance(instance, WritablePlugin)  # noqa: S101 - _capable checked it
        delete = instance.delete
        if purge_versions:
            purge = getattr(instance, "purge", None)
            if not callable(purge):
                keeping = [n for n, cls in _classes(self).items() if hasattr(cls, "purge")]
                raise UsageError(
                    f"plugin {plugin} keeps no older versions: --purge-versions is only for "
                    f"plugins that do ({', '.join(keeping) or 'none'})"
                )
            delete = purge
        outcomes: list[tuple[ID, str]] = []
        for id_ in ids:
            try:
                with calling(slot, instance):
                    existed = delete(id_)
            except DockerPassError as exc:
                if isinstance(exc, FatalPluginError):
                    self._record_failure(slot, exc)
                outcomes.append((id_, str(exc)))
                continue
            outcomes.append((id_, Removal.REMOVED if existed else Removal.MISSING))
        return Removal(slot.name, tuple(outcomes))

    def list_secrets(
        self, pattern: Pattern, *, plugin: str | None = None, reserved: bool = False
    ) -> Listing:
        """IDs and metadata (no values), sorted by ID then provider.

        ``plugin`` lists that plugin only (its failure raises); without it every running plugin
        is asked and each failure, or inability to list, is reported in ``errors``.
        ``reserved`` includes the reserved realm (:func:`~docker_pass.core.plugin.is_reserved`).
        """
        errors: dict[str, str] = {}
        down: dict[str, str] = {}
        targets: list[tuple[_Slot, Pattern]] = []
        if plugin is not None:
            slot, _ = self._capable(plugin, Capability.LIST, "list")
            narrowed = (slot.pattern or pattern).narrow(pattern)
            targets = [(slot, narrowed)] if narrowed is not None else []
        else:
            found, down = self._targets_and_down(pattern)
            for slot, narrowed in found:
                if Capability.LIST in slot.capabilities:
                    targets.append((slot, narrowed))
                else:
                    errors[slot.name] = "cannot list its secrets (it resolves IDs it is asked for)"
        infos: list[SecretInfo] = []
        answered = 0
        for slot, narrowed, outcome in self._fan_out(targets, lambda p, n: p.list(n)):
            if isinstance(outcome, BaseException):
                message = self._record_failure(slot, outcome)
                if plugin is not None:
                    raise outcome if isinstance(outcome, DockerPassError) else PluginError(message)
                errors[slot.name] = message
                continue
            answered += 1
            infos.extend(_listed(outcome, slot.name, (pattern, slot.pattern or narrowed), reserved))
        # One plugin's listing usually comes sorted: checking costs a fraction of sorting.
        ids = [i.id.value for i in infos] if answered == 1 else []
        if answered > 1 or ids != sorted(ids):
            infos.sort(key=_BY_ID_THEN_PROVIDER)
        return Listing(infos, errors, down)

    def resolve(self, pattern: Pattern) -> Resolution:
        """Fan ``pattern`` out to every enabled, running plugin that serves part of it.

        Raises :class:`NoPluginMatchesError` when no plugin's pattern overlaps.  Per-plugin
        failures are reported in the result; the other plugins still answer.  Secrets of the
        reserved realm are never returned.
        """
        targets, down = self._targets_and_down(pattern)
        if not targets:
            raise NoPluginMatchesError(pattern.value).with_hints(*down_hints(down))
        return self._resolution(pattern, targets, down)

    def resolve_all(self, pattern: Pattern) -> list[Envelope]:
        """Envelopes for ``pattern`` (see :meth:`Resolution.envelopes_or_raise`)."""
        return self.resolve(pattern).envelopes_or_raise()

    def watch_hint(self, name: str) -> WatchHint | None:
        """How running plugin ``name`` can be watched for other processes' changes
        (:class:`~docker_pass.core.plugin.Watchable`); ``None`` if it does not say."""
        slot = self._slots.get(name)
        instance = slot.instance if slot is not None else None
        ask = getattr(instance, "watch_hint", None)
        return ask() if callable(ask) else None

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

    def _capable(self, name: str, capability: Capability, verb: str) -> tuple[_Slot, Plugin]:
        """Plugin ``name``'s slot and running instance, if it can ``capability``; else an error
        that says why and what to use instead."""
        slot = self._slots.get(name)
        if slot is None:
            raise UnknownPluginError(name, self.names())
        self._load(slot)
        if slot.load_error:
            crashed = DockerPassError(f"plugin {name} is crashed: {slot.load_error}")
            if slot.load_cause == "config":
                raise crashed  # fixing the file is the remedy: it then starts by itself
            raise crashed.with_hints(enable_remedy(name))
        if not slot.enabled:
            raise DockerPassError(f"plugin {name} is disabled ({enable_remedy(name)})")
        if capability not in slot.capabilities:
            if capability is Capability.LIST:
                raise UsageError(
                    f"plugin {name} cannot list its secrets: ask for an ID "
                    f"(docker pass get ID --plugin {name})"
                )
            raise ReadOnlyError(
                f"plugin {name} is read-only: it cannot {verb} secrets "
                f"({able_plugins(_classes(self), self._config, capability)})"
            )
        instance = self._ensure_started(slot)
        if instance is None:
            state = load_run_states().get(name, RunState())
            message = f"plugin {name} is {state.status}: {state.message}"
            raise DockerPassError(message).with_hints(*remedy_hints(name, message))
        return slot, instance

    def _resolve_on(self, slot: _Slot, instance: Plugin, pattern: Pattern) -> Resolution:
        """Resolve ``pattern`` on one plugin only (``get`` from a plugin without ``get``)."""
        narrowed = (slot.pattern or pattern).narrow(pattern)
        if narrowed is None:
            return Resolution(pattern, [], [], [])
        return self._resolution(pattern, [(slot, narrowed)], {})

    def _resolution(
        self, pattern: Pattern, targets: list[tuple[_Slot, Pattern]], down: dict[str, str]
    ) -> Resolution:
        now = time.time()  # POSIX seconds: read as a datetime only by those who ask
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
                if is_reserved(env.id):
                    continue
                envelopes.append(env.stamped(slot.name, now))
        envelopes.sort(key=lambda e: (e.id.value, e.provider))
        asked = [s.name for s, _ in targets]
        return Resolution(pattern, envelopes, asked, answered, errors, down)

    def _configurable_slot(self, name: str) -> _Slot:
        slot = self._slots.get(name)
        if slot is None:
            raise UnknownPluginError(name, self.names())
        self._load(slot)
        if not slot.configurable:
            raise UsageError(f"plugin {name} is not configurable: it is always on")
        return slot

    def _load(self, slot: _Slot) -> None:
        """Read the slot's settings and import its class (once); record why if that fails.

        A problem with the plugin's own settings (:func:`plugin_setting_problem`, a bad
        ``pattern``) shows it crashed with the reason, and is checked again on every load."""
        with slot.loading:
            self._load_settings(slot)

    def _load_settings(self, slot: _Slot) -> None:
        """:meth:`_load` under the slot's lock."""
        settings = plugin_settings(self._config, slot.name)
        if slot.load_cause == "config":
            slot.load_error = slot.load_cause = ""  # re-checked below against today's file
        if slot.instance is None and not slot.load_error:
            try:
                cls = self._class_for(slot)
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

            problem = plugin_setting_problem(settings, slot.name, _config_file())
        if problem:
            slot.load_error, slot.load_cause = problem, "config"
            return
        override = settings.get("pattern")
        if override is not None and slot.pattern is not None:
            try:
                narrowed = Pattern.parse(str(override))
            except InvalidPatternError as exc:
                where = _config_file()
                slot.load_error = f"config {where}: plugins.{slot.name}.pattern: {exc}"
                slot.load_cause = "config"
                return
            slot.pattern = slot.pattern.narrow(narrowed) or narrowed

    def _class_for(self, slot: _Slot) -> Any:
        factory = self._factories.get(slot.name)
        if factory is not None:
            return factory
        return load_plugin_class(slot.name, {slot.name: slot.spec})

    def _ensure_started(self, slot: _Slot) -> Plugin | None:
        """The running instance, starting it if the state allows; ``None`` if it is down.

        Threads may call this for the same plugin at once; one starts it, the others wait for
        that start (a plugin's own calls are the caller's to serialise: the TUI's gateway
        takes one lock per plugin, so different plugins never wait for each other here).
        """
        if slot.instance is not None:
            return slot.instance
        with slot.starting:
            return self._start(slot)

    def _start(self, slot: _Slot) -> Plugin | None:
        """:meth:`_ensure_started` under the slot's start lock."""
        if slot.instance is not None:
            return slot.instance  # another thread started it while we waited
        if slot.load_error:
            cause = slot.load_cause
            fingerprint = self._fingerprint(slot) if cause else ""
            update_run_state(
                slot.name,
                lambda s: _set(s, RunStatus.CRASHED, slot.load_error, cause, fingerprint),
            )
            return None
        states = load_run_states(only=slot.name)
        state = states.get(slot.name, RunState())
        if state.status.is_down:
            # An always-on plugin (the keychain) cannot be disabled and has no stand-in: a
            # recorded crash is only the last observation, so every start tries again (and a
            # failing one records the fresh reason).  Others stay down until `plugins enable`,
            # unless their settings crashed them and have changed since (the cause may be gone).
            stays_down = state.cause != "config" or state.settings == self._fingerprint(slot)
            if slot.configurable and stays_down:
                return None
            state = update_run_state(slot.name, _clear)
        try:
            factory = self._factories.get(slot.name) or self._class_for(slot)
            instance: Plugin = factory()
            instance.start()
        except FatalPluginError as exc:
            message = str(exc)
            # A setting it read at start (e.g. "config plugins.NAME.refresh_interval: ...").
            cause = "config" if message.startswith("config ") else ""
            fingerprint = self._fingerprint(slot) if cause else ""
            update_run_state(
                slot.name, lambda s: _set(s, RunStatus.CRASHED, message, cause, fingerprint)
            )
            return None
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the others
            self._record_failure(slot, exc)
            return None
        if state.status is not RunStatus.RUNNING or state.failures or state.message:
            update_run_state(slot.name, _running)  # only a change takes the lock and writes
        slot.instance = instance
        return instance

    def _fingerprint(self, slot: _Slot) -> str:
        """A digest of plugin ``slot``'s section of the config file, to notice it changed."""
        return settings_fingerprint(plugin_settings(self._config, slot.name))

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
                down[slot.name] = f"{RunStatus.CRASHED}: {slot.load_error}"
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
            instance = slot.instance
            if instance is None:
                return slot, narrowed, PluginError("not running")
            try:
                with calling(slot, instance):
                    return slot, narrowed, list(call(instance, narrowed))
            except SecretNotFoundError:
                return slot, narrowed, []
            except Exception as exc:  # noqa: BLE001 - isolate each plugin's failure
                return slot, narrowed, exc

        if len(targets) <= 1:
            return [one(t) for t in targets]
        from concurrent.futures import ThreadPoolExecutor  # only when plugins are asked at once

        token: AbandonToken | None = getattr(_calls_here, "token", None)

        def asked(target: tuple[_Slot, Pattern]) -> tuple[_Slot, Pattern, Any]:
            # The caller's abandon token follows it onto the fan-out's threads.
            if token is None:
                return one(target)
            result: tuple[_Slot, Pattern, Any] = under_token(token, lambda: one(target))
            return result

        with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
            return list(pool.map(asked, targets))

    def _record_failure(self, slot: _Slot, exc: BaseException) -> str:
        """Persist a plugin failure; a fatal one crashes it.  Returns the message to report."""
        message = describe(exc)
        if isinstance(exc, FatalPluginError):
            update_run_state(slot.name, lambda s: _set(s, RunStatus.CRASHED, message))
            if slot.instance is not None:
                _stop_quietly(slot.instance)
                slot.instance = None
        elif slot.instance is None:
            # A start that failed without being fatal: count it; give up after a few.
            def count(state: RunState) -> None:
                state.failures += 1
                if state.failures >= MAX_START_FAILURES:
                    gave_up = f"{message} (gave up after {state.failures} tries)"
                    _set(state, RunStatus.RETRIES_EXCEEDED, gave_up)
                else:
                    _set(state, RunStatus.STOPPED, message)

            update_run_state(slot.name, count)
        return message

    def _status(self, slot: _Slot, state: RunState) -> PluginStatus:
        if slot.load_error:
            status, message = RunStatus.CRASHED, slot.load_error
        elif not slot.enabled:
            status, message = RunStatus.DISABLED, ""
        elif slot.instance is not None:
            status, message = RunStatus.RUNNING, ""
        else:
            status, message = state.status, state.message
        instance = slot.instance
        storage = store_kind = ""
        if instance is not None:
            try:
                storage = instance.storage()
                if isinstance(instance, KnowsStoreKind):
                    store_kind = instance.store_kind()
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
            capabilities=slot.capabilities,
            changed_at=state.changed_at,
            store_kind=store_kind,
        )


#: The sort order of a listing: by ID, then by provider.
_BY_ID_THEN_PROVIDER = attrgetter("id.value", "provider")
#: Every ID in the reserved realm starts so (a cheap test before the pattern's).
_RESERVED_PREFIX = INTERNAL_REALM.value.removesuffix("/**")


class CallAbandonedError(DockerPassError):
    """Raised in an engine call whose caller stopped waiting (the daemon answered its request
    at its deadline) before it reached its plugin: it never calls the plugin late."""


class AbandonToken:
    """Set ``abandoned`` when nobody waits for the engine call running under this token any
    more (:func:`under_token`); a call still waiting for its plugin then gives up."""

    __slots__ = ("abandoned",)

    def __init__(self) -> None:
        self.abandoned = False


_calls_here = _thread._local()
#: Seconds between checks, while waiting for a plugin's turn, whether the caller gave up.
_TURN_POLL = 0.05


def under_token(token: AbandonToken, work: Callable[[], Any]) -> Any:
    """Run ``work`` (on this thread) so that :func:`calling` sees ``token``."""
    _calls_here.token = token
    try:
        return work()
    finally:
        _calls_here.token = None


class _Serialised:
    """Holds a slot's call lock for one call into a plugin that is not ``concurrent``."""

    __slots__ = ("_lock",)

    def __init__(self, lock: Any) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        token: AbandonToken | None = getattr(_calls_here, "token", None)
        lock = self._lock
        if lock is not None:
            if token is None:
                lock.acquire()
            else:
                while not lock.acquire(True, _TURN_POLL):
                    if token.abandoned:
                        raise CallAbandonedError("the request was abandoned")
        if token is not None and token.abandoned:
            if lock is not None:
                lock.release()
            raise CallAbandonedError("the request was abandoned")

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.release()


def calling(slot: _Slot, instance: object) -> _Serialised:
    """Around each call into a plugin: one call at a time unless the plugin's class says
    ``concurrent = True`` (it may be called from several threads at once, as the keychain
    plugin, whose stores lock what they share).  Plugins that say nothing are called one at
    a time, as they were written to be (a D-Bus connection, an ``op`` session); a slow call
    then delays only calls to that same plugin.  A call whose caller gave up
    (:class:`AbandonToken`) never reaches the plugin."""
    return _Serialised(None if getattr(type(instance), "concurrent", False) else slot.calls)


def _listed(
    found: Iterable[SecretInfo], provider: str, patterns: tuple[Pattern, ...], reserved: bool
) -> list[SecretInfo]:
    """``found`` with ``provider`` set, keeping what every one of ``patterns`` matches and,
    unless ``reserved``, what lies outside the reserved realm.  (At 100,000 secrets the
    per-secret work here is most of what listing costs the engine: it is kept to the least.)"""
    checks = [p for p in patterns if not all(c == "**" for c in p.components)]
    kept = list(found)
    if checks:
        kept = [i for i in kept if all(p.matches(i.id) for p in checks)]
    if not reserved:
        prefix = _RESERVED_PREFIX
        kept = [i for i in kept if not (i.id.value.startswith(prefix) and is_reserved(i.id))]
    return [
        i if i.provider == provider else SecretInfo(i.id, provider, i.metadata, i.updated_at)
        for i in kept
    ]


def plugin_spec(name: str) -> str:
    """``module:attribute`` of plugin ``name``; a built-in one without scanning entry points."""
    from docker_pass.core.registry import BUILTIN_PLUGINS

    spec = BUILTIN_PLUGINS.get(name)
    if spec is not None:
        return spec
    specs = plugin_specs()
    if name not in specs:
        raise UnknownPluginError(name, list(specs))
    return specs[name]


def _classes(engine: Engine) -> dict[str, Any]:
    """Every registered plugin's class (imported: error paths only)."""
    out: dict[str, Any] = {}
    names = dict.fromkeys([*plugin_specs(), *engine.names()])
    for name in names:
        try:
            out[name] = load_plugin_class(name)
        except DockerPassError:
            continue  # a plugin that cannot load is no alternative
    return out


def settings_fingerprint(section: Mapping[str, Any]) -> str:
    """A short digest of a plugin's settings (no setting is a secret, but keep state small)."""
    import hashlib  # only when a crash is recorded or checked
    import json

    canonical = json.dumps(section, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _config_file() -> str:
    import os

    from docker_pass.core.config import CONFIG_FILE
    from docker_pass.core.store import xdg_path

    return os.path.join(xdg_path("config"), CONFIG_FILE)


def _set(
    state: RunState, status: RunStatus, message: str, cause: str = "", settings: str = ""
) -> None:
    state.status = status
    state.message = message
    state.cause = cause
    state.settings = settings


def _running(state: RunState) -> None:
    _set(state, RunStatus.RUNNING, "")
    state.failures = 0


def _clear(state: RunState) -> None:
    _set(state, RunStatus.STOPPED, "")
    state.failures = 0


def _stop_quietly(plugin: Plugin) -> None:
    try:
        plugin.stop()
    except Exception:  # noqa: BLE001 - stopping must not fail the command that is ending
        return
