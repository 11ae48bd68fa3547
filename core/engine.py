"""The engine: loads plugins, keeps their state, and carries out every verb across them.

One method per user verb — ``get``, ``save``, ``remove``, ``list_secrets``, ``resolve``,
``plugins``, ``enable``, ``disable`` — each returning a result object (:mod:`.results`) that the
CLI renders as text or JSON, the TUI posts as a message and the daemon sends as protobuf.
The secret verbs take the plugin they act on (default: the keychain plugin ``docker-pass``, as
Docker's tool has no other); ``list_secrets`` without one lists every running plugin.

The plugins themselves — loading, starting, recording failures, statuses — are the
:class:`~docker_pass.core.roster.Roster`'s; every call into one has a deadline
(:mod:`~docker_pass.core.plugin_calls`), so one that hangs fails its own callers at that
deadline with ``plugin NAME did not answer within N s`` while the other plugins' answers arrive.
"""

from __future__ import annotations

from bisect import bisect_left
from functools import partial
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from docker_pass.core.errors import (
    DockerPassError,
    FatalPluginError,
    NoPluginMatchesError,
    PluginError,
    ReadOnlyError,
    SecretNotFoundError,
    UnknownPluginError,
    UsageError,
)
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import (
    INTERNAL_REALM,
    KEYCHAIN_PLUGIN,
    Capability,
    Plugin,
    WatchHint,
    WritablePlugin,
    enable_remedy,
    is_reserved,
    remedy_hints,
)
from docker_pass.core.plugin_calls import PluginTimeoutError
from docker_pass.core.registry import load_plugin_class, plugin_specs
from docker_pass.core.results import (
    CANNOT_LIST,
    Answer,
    Listing,
    PluginStatus,
    Removal,
    Resolution,
    Saved,
    down_hints,
    merged_resolution,
)
from docker_pass.core.roster import CONFIG_CAUSE, PluginSlot, Roster, cleared, set_state
from docker_pass.core.state import (
    RunState,
    RunStatus,
    load_run_states,
    set_enabled,
    update_run_state,
)
from docker_pass.core.versions import UNVERSIONED, is_versioned

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from docker_pass.core.envelope import Envelope, SecretInfo
    from docker_pass.core.external import ExternalPlugins
    from docker_pass.core.moves import Moved, RealmMoved
    from docker_pass.core.plugin import RunningWatcher
    from docker_pass.core.plugin_calls import PendingCall

Target = tuple[PluginSlot, Pattern]


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
        if specs is None:
            specs = {} if factories and not specs else plugin_specs()
        self._roster = Roster(specs, factories or {})

    @classmethod
    def for_plugin(cls, name: str) -> Engine:
        """An engine that knows only plugin ``name``: what ``get``, ``ls``, ``set`` and ``rm``
        use, so a built-in plugin costs no scan of the installed distributions."""
        return cls(specs={name: plugin_spec(name)})

    # -- plugin management ------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every registered plugin's name."""
        return list(self._roster.slots)

    def running_slots(self) -> list[PluginSlot]:
        """The slots of the plugins running in this engine now."""
        return [slot for slot in self._roster.slots.values() if slot.instance is not None]

    def slots(self) -> list[PluginSlot]:
        """Every plugin slot of this engine, running or not."""
        return list(self._roster.slots.values())

    def follow_external(self, external: ExternalPlugins) -> None:
        """Serve the external plugins of ``external`` (the daemon's registry) beside this
        engine's own, as they come and go."""
        self._roster.follow(external)

    def plugins(self, *, start: bool = True) -> list[PluginStatus]:
        """Every plugin's status; with ``start``, enabled plugins are started to show health."""
        roster = self._roster
        states = load_run_states()
        out = []
        for slot in roster.slots.values():
            roster.load(slot)
            # An always-on plugin's recorded crash is shown as it was observed (with the
            # remedy); the verbs that need the plugin try it again (Roster.start).
            shown_down = not slot.configurable and states.get(slot.name, _UP).status.is_down
            if start and slot.enabled and not shown_down:
                roster.ensure_started(slot)
                states = load_run_states()
            out.append(roster.status(slot, states.get(slot.name, RunState())))
        return out

    def status(self, name: str) -> PluginStatus:
        """Plugin ``name``'s status, as :meth:`plugins` shows it, without starting it or
        asking any other plugin (the TUI asks each plugin's status after listing it)."""
        slot = self._roster.slot(name)
        return self._roster.status(slot, load_run_states(only=name).get(name, RunState()))

    def enable(self, name: str) -> PluginStatus:
        """Enable a plugin, clear a crash, and try to start it.

        An always-on plugin cannot be disabled, but its crash is cleared the same way."""
        roster = self._roster
        slot = roster.slot(name)
        if slot.configurable:
            set_enabled(name, True)
            roster.reload_config()
        update_run_state(name, cleared)
        roster.load(slot)
        roster.ensure_started(slot)
        return roster.status(slot, load_run_states().get(name, RunState()))

    def disable(self, name: str) -> PluginStatus:
        """Disable a configurable plugin (and stop it in this process)."""
        roster = self._roster
        slot = roster.configurable_slot(name)
        set_enabled(name, False)
        roster.reload_config()
        roster.stop(slot)
        update_run_state(name, lambda s: set_state(s, RunStatus.STOPPED, ""))
        roster.load(slot)
        return roster.status(slot, load_run_states().get(name, RunState()))

    def follow_recorded_crashes(self) -> None:
        """Stop every running plugin that another process recorded as crashed since it
        started here: it stays down until ``plugins enable``, in every process alike."""
        states = load_run_states()
        for slot in self._roster.slots.values():
            if slot.instance is not None:
                self._roster.follow_recorded_crash(slot, states.get(slot.name, RunState()))

    # -- the secret verbs -------------------------------------------------------------------

    def get(self, id_: ID, *, plugin: str = KEYCHAIN_PLUGIN) -> Envelope:
        """One secret, with its value, from ``plugin``; ``secret not found`` when it has none."""
        slot, instance = self._capable(plugin, Capability.READ, "read")
        if isinstance(instance, WritablePlugin):
            try:
                return self._roster.call(slot, instance, lambda: instance.get(id_))
            except FatalPluginError as exc:
                self._roster.record_failure(slot, exc)
                raise
        resolution = self._resolve_on(slot, Pattern(id_.value))
        return resolution.envelopes_or_raise()[0]

    def save(
        self,
        id_: ID,
        value: bytes,
        metadata: Mapping[str, str],
        *,
        plugin: str = KEYCHAIN_PLUGIN,
        expected_version: str | None = None,
    ) -> Saved:
        """Create or replace a secret in ``plugin`` (which must be writable).

        ``expected_version`` (:mod:`docker_pass.core.versions`): ``None`` writes blind; a
        token or ``NO_SECRET`` makes the plugin refuse with
        :class:`~docker_pass.core.errors.VersionConflictError` unless the stored secret is
        that version (an unversioned plugin cannot check, and says so).
        """
        slot, instance = self._capable(plugin, Capability.WRITE, "write")
        assert isinstance(instance, WritablePlugin)  # noqa: S101 - _capable checked it
        check = _version_check(slot.name, instance, expected_version, "save")

        def check_and_write() -> tuple[bool, str]:  # one call: the check and the write
            replaced = bool(instance.list(Pattern(id_.value)))
            version = instance.save(id_, value, metadata, **check)
            return replaced, version or ""

        try:
            replaced, version = self._roster.call(slot, instance, check_and_write)
        except FatalPluginError as exc:
            self._roster.record_failure(slot, exc)
            raise
        return Saved(id_, slot.name, replaced, version)

    def remove(
        self,
        ids: Sequence[ID],
        *,
        plugin: str = KEYCHAIN_PLUGIN,
        purge_versions: bool = False,
        expected_versions: Mapping[ID, str] | None = None,
    ) -> Removal:
        """Remove each of ``ids`` from ``plugin``; one failure does not stop the others.

        ``purge_versions``: also every older version (a plugin that keeps versions says so
        with a ``purge`` method: the vault plugin); refused for the others.
        ``expected_versions``: an ID found there is removed only if it is still that version
        (its outcome is the conflict's message otherwise).
        """
        slot, instance = self._capable(plugin, Capability.DELETE, "delete")
        assert isinstance(instance, WritablePlugin)  # noqa: S101 - _capable checked it
        if expected_versions:
            for expected in expected_versions.values():
                _version_check(slot.name, instance, expected, "remove")
        delete: Callable[..., bool] = instance.delete
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
            wanted = (expected_versions or {}).get(id_)
            check = {} if wanted is None else {"expected_version": wanted}
            try:
                existed = self._roster.call(slot, instance, partial(delete, id_, **check))
            except DockerPassError as exc:
                if isinstance(exc, FatalPluginError):
                    self._roster.record_failure(slot, exc)
                outcomes.append((id_, str(exc)))
                continue
            outcomes.append((id_, Removal.REMOVED if existed else Removal.MISSING))
        return Removal(slot.name, tuple(outcomes))

    def undelete(self, ids: Sequence[ID], *, plugin: str) -> Removal:
        """Restore the deleted latest version of each of ``ids`` in ``plugin`` (one that keeps
        deleted versions says so with an ``undelete`` method: the vault plugin); one failure
        does not stop the others.  Outcomes: ``Removal.RESTORED``, ``Removal.MISSING`` (no
        deleted secret there), or why it could not be restored."""
        slot, instance = self._capable(plugin, Capability.DELETE, "undelete")
        undelete = _undelete_of(instance)
        if undelete is None:
            keeping = [n for n, cls in _classes(self).items() if hasattr(cls, "undelete")]
            raise UsageError(
                f"plugin {plugin} keeps no deleted secrets: undelete is only for plugins that "
                f"do ({', '.join(keeping) or 'none'})"
            )
        outcomes: list[tuple[ID, str]] = []
        for id_ in ids:
            try:
                restored = self._roster.call(slot, instance, partial(undelete, id_))
            except DockerPassError as exc:
                if isinstance(exc, FatalPluginError):
                    self._roster.record_failure(slot, exc)
                outcomes.append((id_, str(exc)))
                continue
            outcomes.append((id_, Removal.RESTORED if restored else Removal.MISSING))
        return Removal(slot.name, tuple(outcomes))

    def move(
        self, old: ID, new: ID, *, plugin: str, to_plugin: str | None = None, replace: bool = False
    ) -> Moved:
        """Rename secret ``old`` of ``plugin`` to ``new``, in ``to_plugin`` if given: copy,
        then remove the old one only if it is still the version copied
        (:func:`docker_pass.core.moves.move`)."""
        from docker_pass.core.moves import move  # only mv and the TUI's move need it

        return move(self, old, new, plugin=plugin, to_plugin=to_plugin, replace=replace)

    def move_realm(
        self, old: ID, new: ID, *, plugin: str, to_plugin: str | None = None, replace: bool = False
    ) -> RealmMoved:
        """Move every secret under realm ``old`` to the same place under ``new``
        (:func:`docker_pass.core.moves.move_realm`)."""
        from docker_pass.core.moves import move_realm

        return move_realm(self, old, new, plugin=plugin, to_plugin=to_plugin, replace=replace)

    def versioned(self, plugin: str) -> bool:
        """Whether running plugin ``plugin`` keeps versions (:mod:`.versions`): then a write
        may expect one."""
        _, instance = self._capable(plugin, Capability.READ, "read")
        return is_versioned(instance)

    def list_secrets(
        self,
        pattern: Pattern,
        *,
        plugin: str | None = None,
        reserved: bool = False,
        deleted: bool = False,
    ) -> Listing:
        """IDs and metadata (no values), sorted by ID then provider.

        ``plugin`` lists that plugin only (its failure raises); without it every running plugin
        is asked and each failure, or inability to list, is reported in ``errors``.
        ``reserved`` includes the reserved realm (:func:`~docker_pass.core.plugin.is_reserved`).
        ``deleted`` also lists secrets whose latest version is deleted
        (``SecretInfo.deleted``), from the plugins that keep them (those with ``undelete``,
        whose ``list`` takes ``deleted=True``); they are never listed otherwise.
        """
        errors: dict[str, str] = {}
        down: dict[str, str] = {}
        targets: list[Target] = []
        if plugin is not None:
            slot, _ = self._capable(plugin, Capability.LIST, "list")
            narrowed = (slot.pattern or pattern).narrow(pattern)
            targets = [(slot, narrowed)] if narrowed is not None else []
        else:
            found, down, errors = self._roster.targets(pattern)
            for slot, narrowed in found:
                if Capability.LIST in slot.capabilities:
                    targets.append((slot, narrowed))
                else:
                    errors[slot.name] = CANNOT_LIST
        infos: list[SecretInfo] = []
        ordered = True  # whether the last plugin's listing came sorted by ID
        answered = 0
        for slot, narrowed, outcome in self._fan_out(targets, partial(_list_of, deleted=deleted)):
            if isinstance(outcome, BaseException):
                message = self._roster.record_failure(slot, outcome)
                if plugin is not None:
                    raise outcome if isinstance(outcome, DockerPassError) else PluginError(message)
                errors[slot.name] = message
                continue
            answered += 1
            scope = (pattern, slot.pattern or narrowed)
            kept, ordered = _listed(outcome, slot.name, scope, reserved)
            infos.extend(kept)
        if answered > 1 or not ordered:
            infos.sort(key=_BY_ID_THEN_PROVIDER)
        return Listing(infos, errors, down)

    def resolve(self, pattern: Pattern) -> Resolution:
        """Fan ``pattern`` out to every enabled, running plugin that serves part of it.

        Raises :class:`NoPluginMatchesError` when no plugin's pattern overlaps.  Per-plugin
        failures (one that did not start, or answer, within its deadline among them) are
        reported in the result; the other plugins still answer.  Secrets of the reserved
        realm are never returned.
        """
        targets, down, late = self.route(pattern)
        return self._resolution(pattern, targets, down, late)

    def route(self, pattern: Pattern) -> tuple[list[Target], dict[str, str], dict[str, str]]:
        """Who serves ``pattern`` now: the running plugins serving part of it, each with that
        part (started first if need be); the enabled ones that are down (name -> why); those
        that did not start within their deadline (name -> message).

        Raises :class:`NoPluginMatchesError` when no plugin's pattern overlaps.  The daemon
        keeps a route to answer again on its event loop (:mod:`docker_pass.daemon.routes`).
        """
        targets, down, late = self._roster.targets(pattern)
        if not targets and not late:
            raise NoPluginMatchesError(pattern.value).with_hints(*down_hints(down))
        return targets, down, late

    def ask(self, targets: list[Target]) -> list[tuple[PluginSlot, Pattern, list[Envelope] | str]]:
        """Resolve on every target at once, each within its deadline: its envelopes as it
        sent them, or the message of its failure (recorded: a fatal one crashes it)."""
        out: list[tuple[PluginSlot, Pattern, list[Envelope] | str]] = []
        roster = self._roster
        for slot, narrowed, outcome in self._fan_out(targets, lambda p, n: p.resolve(n)):
            if isinstance(outcome, BaseException):
                out.append((slot, narrowed, roster.record_failure(slot, outcome)))
            else:
                out.append((slot, narrowed, outcome))
        return out

    def record_failure(self, name: str, exc: BaseException) -> str:
        """Record a failure of plugin ``name`` met outside the engine's own calls (the daemon
        calls external plugins on its loop) as the engine records its own; the message."""
        return self._roster.record_failure(self._roster.slot(name), exc)

    def resolve_all(self, pattern: Pattern) -> list[Envelope]:
        """Envelopes for ``pattern`` (see :meth:`Resolution.envelopes_or_raise`)."""
        return self.resolve(pattern).envelopes_or_raise()

    def watch_hint(self, name: str) -> WatchHint | None:
        """How running plugin ``name`` can be watched for other processes' changes
        (:class:`~docker_pass.core.plugin.Watchable`); ``None`` if it does not say."""
        hint: WatchHint | None = self._ask_running(name, "watch_hint")
        return hint

    def watcher(
        self, name: str, on_change: Callable[[], None], on_failure: Callable[[str], None]
    ) -> RunningWatcher | None:
        """Running plugin ``name``'s own watcher (:class:`~docker_pass.core.plugin.OwnWatcher`),
        not started; ``None`` if it makes none (its hint, if any, is followed by the front)."""
        slot = self._roster.slots.get(name)
        instance = slot.instance if slot is not None else None
        make = getattr(instance, "watcher", None)
        if not callable(make):
            return None
        made: RunningWatcher | None = make(on_change, on_failure)
        return made

    def warm_directory(self, name: str) -> str | None:
        """The directory whose entries alone decide what running plugin ``name`` resolves
        while it keeps values warm (:class:`~docker_pass.core.plugin.WarmDirectory`);
        ``None`` if it does not say."""
        found = self._ask_running(name, "warm_directory")
        return found if isinstance(found, str) and found else None

    def _ask_running(self, name: str, method: str) -> Any:
        """``method()`` of running plugin ``name``, within its deadline, if it has one."""
        slot = self._roster.slots.get(name)
        instance = slot.instance if slot is not None else None
        ask = getattr(instance, method, None)
        if slot is None or not callable(ask):
            return None
        return slot.line.call(ask, one_at_a_time=False)

    def close(self) -> None:
        """Stop every plugin this engine started, except one still in a call that did not
        end in time (:meth:`busy_plugins`): it is not stopped under that call."""
        self._roster.close()

    def busy_plugins(self) -> list[str]:
        """Plugins in a call right now (after :meth:`close`: those it left running)."""
        return [name for name, slot in self._roster.slots.items() if slot.line.running]

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------------

    def _capable(self, name: str, capability: Capability, verb: str) -> tuple[PluginSlot, Plugin]:
        """Plugin ``name``'s slot and running instance, if it can ``capability``; else an error
        that says why and what to use instead."""
        slot = self._roster.slot(name)
        if slot.load_error:
            crashed = DockerPassError(f"plugin {name} is crashed: {slot.load_error}")
            if slot.load_cause == CONFIG_CAUSE:
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
            from docker_pass.core.writable import able_plugins  # an error path only

            raise ReadOnlyError(
                f"plugin {name} is read-only: it cannot {verb} secrets "
                f"({able_plugins(_classes(self), self._roster.config, capability)})"
            )
        instance = self._roster.ensure_started(slot)
        if instance is None:
            late = slot.start_problem
            if late is not None:
                raise PluginTimeoutError(name, late.seconds)
            state = load_run_states().get(name, RunState())
            message = f"plugin {name} is {state.status}: {state.message}"
            raise DockerPassError(message).with_hints(*remedy_hints(name, message))
        return slot, instance

    def _resolve_on(self, slot: PluginSlot, pattern: Pattern) -> Resolution:
        """Resolve ``pattern`` on one plugin only (``get`` from a plugin without ``get``)."""
        narrowed = (slot.pattern or pattern).narrow(pattern)
        if narrowed is None:
            return Resolution(pattern, [], [], [])
        return self._resolution(pattern, [(slot, narrowed)], {}, {})

    def _resolution(
        self,
        pattern: Pattern,
        targets: list[Target],
        down: dict[str, str],
        late: dict[str, str],
    ) -> Resolution:
        answers: list[Answer] = []
        errors: dict[str, str] = dict(late)
        for slot, narrowed, outcome in self.ask(targets):
            if isinstance(outcome, str):
                errors[slot.name] = outcome
            else:
                answers.append((slot.name, slot.pattern or narrowed, narrowed, outcome))
        asked = [s.name for s, _ in targets] + list(late)
        return merged_resolution(pattern, answers, asked, errors, down)

    def _fan_out(
        self, targets: list[Target], call: Callable[[Plugin, Pattern], Iterable[Any]]
    ) -> list[tuple[PluginSlot, Pattern, Any]]:
        """Call every target at once, each on its own plugin-call thread and within its own
        deadline; results in order, exceptions returned (a miss is an empty answer)."""
        roster = self._roster
        pending: list[tuple[PluginSlot, Pattern, PendingCall | BaseException]] = []
        for slot, narrowed in targets:
            instance = slot.instance
            if instance is None:
                pending.append((slot, narrowed, PluginError("not running")))
                continue

            def asked(p: Plugin = instance, n: Pattern = narrowed) -> list[Any]:
                return list(call(p, n))  # a lazy answer is read on the plugin's thread too

            try:
                pending.append((slot, narrowed, roster.begin(slot, instance, asked)))
            except Exception as exc:  # noqa: BLE001 - isolate each plugin's failure
                pending.append((slot, narrowed, exc))
        out: list[tuple[PluginSlot, Pattern, Any]] = []
        for slot, narrowed, begun in pending:
            if isinstance(begun, BaseException):
                out.append((slot, narrowed, begun))
                continue
            try:
                out.append((slot, narrowed, begun.outcome()))
            except SecretNotFoundError:
                out.append((slot, narrowed, []))
            except Exception as exc:  # noqa: BLE001 - isolate each plugin's failure
                out.append((slot, narrowed, exc))
        return out


#: The sort order of a listing: by ID, then by provider.
_BY_ID_THEN_PROVIDER = attrgetter("id.value", "provider")
#: Every ID in the reserved realm starts so (a cheap test before the pattern's).
_RESERVED_PREFIX = INTERNAL_REALM.value.removesuffix("/**")


def _listed(
    found: Iterable[SecretInfo], provider: str, patterns: tuple[Pattern, ...], reserved: bool
) -> tuple[list[SecretInfo], bool]:
    """``found`` with ``provider`` set, keeping what every one of ``patterns`` matches and,
    unless ``reserved``, what lies outside the reserved realm; and whether it is sorted by ID.
    (At 100,000 secrets the per-secret work here is most of what listing costs the engine: it
    is kept to the least, and the ID texts are read once, here, for both checks.)"""
    checks = [p for p in patterns if not all(c == "**" for c in p.components)]
    kept = list(found)
    if checks:
        kept = [i for i in kept if all(p.matches(i.id) for p in checks)]
    texts = [i.id.value for i in kept]
    # One plugin's listing usually comes sorted: checking costs a fraction of sorting (and
    # an unsorted one is sorted after, by the caller, at a greater cost anyway).
    ordered = texts == sorted(texts)
    if not reserved and _may_hold_reserved(texts, ordered):
        prefix = _RESERVED_PREFIX
        kept = [i for i in kept if not (i.id.value.startswith(prefix) and is_reserved(i.id))]
    # Usually every entry names its provider already: one count says so (~3 ms less than
    # a comparison per entry at 100,000 secrets).
    if [i.provider for i in kept].count(provider) == len(kept):
        return kept, ordered
    return [i if i.provider == provider else i.stamped(provider) for i in kept], ordered


def _may_hold_reserved(texts: list[str], ordered: bool) -> bool:
    """Whether one of the ID ``texts`` (``ordered``: sorted) starts like the reserved
    realm's: sorted, one bisection finds where such an ID would be; else one search of the
    texts joined (~3 ms at 100,000 secrets, rather than ~5 for a ``startswith`` per entry)."""
    prefix = _RESERVED_PREFIX
    if ordered:
        at = bisect_left(texts, prefix)
        return at < len(texts) and texts[at].startswith(prefix)
    joined = "\n".join(texts)
    return joined.startswith(prefix) or f"\n{prefix}" in joined


def _list_of(instance: Plugin, pattern: Pattern, *, deleted: bool) -> Iterable[SecretInfo]:
    """What ``instance`` lists for ``pattern``; with ``deleted``, the deleted secrets too
    from a plugin that keeps them (its ``undelete`` says so)."""
    if deleted and _undelete_of(instance) is not None:
        listed: Iterable[SecretInfo] = instance.list(pattern, deleted=True)  # type: ignore[call-arg]
        return listed
    return instance.list(pattern)


def _undelete_of(instance: object) -> Callable[[ID], bool] | None:
    """The ``undelete`` of a plugin that keeps deleted secrets (and lists them when asked:
    ``list(pattern, deleted=True)``); ``None`` for the others."""
    undelete = getattr(instance, "undelete", None)
    return undelete if callable(undelete) else None


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


def _version_check(name: str, instance: object, expected: str | None, verb: str) -> dict[str, str]:
    """The keyword that asks plugin ``name`` to check a version (none for a blind write);
    a plugin that keeps no versions cannot, and a caller asking it is told so."""
    if expected is None:
        return {}
    if not is_versioned(instance):
        raise UsageError(
            f"plugin {name} keeps no versions ({UNVERSIONED}): it cannot {verb} only if the "
            "secret is unchanged; do it without a version"
        )
    return {"expected_version": expected}


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
