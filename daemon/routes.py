"""``GetSecrets`` on the event loop: a pattern asked before is answered again without an engine
thread, while nothing its answer depends on has changed.

The engine decides which plugins serve a pattern (:meth:`~docker_pass.core.engine.Engine.route`)
on an engine thread, with every check it makes on every call (the config and run state read
again when they changed, plugins started, each call within its deadline).  That decision is a
:class:`Route`, answered on the loop, when every plugin it names is running and is either

- a store that keeps values warm and whose answers depend on one directory alone (the file
  store in the daemon: :class:`~docker_pass.core.plugin.WarmDirectory`): its answer is kept in
  the route; or
- an external plugin (:mod:`.external`), asked on the loop, where its connection lives anyway,
  within the plugin's deadline: it holds no thread, and a hung one holds only its own stream,
  until that deadline.

Anything else (a 1Password plugin, a plugin down or late) is resolved by the engine as before.

A route is kept (:data:`MAX_ROUTES` patterns at most, each holding :data:`MAX_KEPT_VALUES`
values at most) and answers the same pattern again while

- the kernel reported no change to the config file, the run state file or the warm
  directories (:mod:`.changes`: a non-blocking read, so the loop never waits for the file
  system), none since before the engine made the route;
- it was made on the current engine generation, each plugin it names is still that same
  instance (not stopped, crashed or restarted since), and the registry of external plugins is
  unchanged.

Answers are merged by the engine's own rule (:func:`~docker_pass.core.results.merged_resolution`):
in scope, never the reserved realm, stamped now.  Kept answers hold values, as the warm file
store does, in the daemon's non-dumpable memory; nothing here logs one.
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from docker_pass.core.config import config_path
from docker_pass.core.errors import (
    DockerPassError,
    FatalPluginError,
    SecretNotFoundError,
    describe,
)
from docker_pass.core.results import Resolution, merged_resolution
from docker_pass.core.state import state_path
from docker_pass.daemon.external.plugin import ExternalPlugin
from docker_pass.daemon.route_view import RouteView, warm_answer

if TYPE_CHECKING:
    from collections.abc import Sequence

    from docker_pass.core.engine import Engine
    from docker_pass.core.envelope import Envelope
    from docker_pass.core.ids import Pattern
    from docker_pass.core.results import Answer
    from docker_pass.core.roster import PluginSlot
    from docker_pass.daemon.changes import ChangeWatch
    from docker_pass.daemon.engine_host import EngineHost

#: Patterns whose routes are kept, at most (the least recently used go first).
MAX_ROUTES = 1024
#: Values one kept route holds, at most.
MAX_KEPT_VALUES = 8


class Target:
    """One plugin of a route: its slot and instance, the part of the pattern it serves, and
    ``found``: its kept answer (or the message of its failure), ``None`` to ask it live."""

    __slots__ = ("found", "instance", "narrowed", "slot")

    def __init__(
        self, slot: PluginSlot, narrowed: Pattern, found: list[Envelope] | str | None
    ) -> None:
        self.slot = slot
        self.instance = slot.instance
        self.narrowed = narrowed
        self.found = found


class Route:
    """What the engine decided for one pattern (see the module's docstring): the engine it
    was made on, the external registry's generation then, its targets, and whether it may be
    kept (every kept answer an answer, every file it depends on watched)."""

    __slots__ = ("engine", "external_generation", "keep", "targets", "view")

    def __init__(
        self,
        engine: Engine,
        external_generation: int,
        targets: Sequence[Target],
        keep: bool,
        view: RouteView | None = None,
    ) -> None:
        self.engine = engine
        self.external_generation = external_generation
        self.targets = tuple(targets)
        self.keep = keep
        #: What the engine's routing saw of every plugin, to route other patterns on the loop.
        self.view = view


class _Planning:
    """A plan being made on an engine thread (``task``), under the watch's change count
    ``changes`` (``watched``: the config and run state were watched as it began), and how
    many requests wait for it."""

    __slots__ = ("changes", "task", "waiting", "watched")

    def __init__(
        self, changes: int, watched: bool, task: asyncio.Future[Route | Resolution]
    ) -> None:
        self.changes = changes
        self.watched = watched
        self.task = task
        self.waiting = 0


class Routes:
    """The kept routes of the daemon's engine (``host``), valid while ``watch`` sees no
    change.  Everything but :meth:`_plan` runs on the event loop."""

    def __init__(self, host: EngineHost, watch: ChangeWatch) -> None:
        self._host = host
        self._watch = watch
        self._kept: OrderedDict[str, Route] = OrderedDict()
        #: The watch's change count the kept routes were made under.
        self._changes = -1
        #: Plugin name -> (instance, its warm directory): asked once per instance.
        self._warm: dict[str, tuple[Any, str | None]] = {}
        #: Plans being made now, by pattern.
        self._planning: dict[str, _Planning] = {}
        #: The last routing the engine did, while it holds (:mod:`.route_view`).
        self._view: RouteView | None = None
        #: What every route depends on: the config file, the run state file.
        self._files = (os.path.abspath(config_path()), os.path.abspath(state_path()))

    def prepare(self, engine: Engine) -> None:
        """On an engine thread, before the daemon serves: watch the config, the run state and
        the warm directories of the plugins running now, so that the routes of the first
        burst are kept at once (a call reads them as it begins: they must be watched first),
        and keep what routing sees of the plugins now (:mod:`.route_view`), so that a first
        burst's patterns are routed on the loop too."""
        running = engine.running_slots()
        dirs = [d for slot in running if (d := self._warm_directory(engine, slot)) is not None]
        self._watch.arm(files=self._files, directories=dirs)
        # And route on the loop from the start (the loop does not run yet: polling is safe).
        if self._watch.armed().issuperset(self._files):
            view = RouteView.capture(engine, self._host.external.generation)
            if view is not None:
                view.changes = self._watch.poll()
                self._view = view

    async def resolve(self, pattern: Pattern) -> Resolution:
        """What the engine's ``resolve(pattern)`` answers: from a kept route when it holds,
        else from a route the engine makes now (or its own resolution, when it makes none)."""
        route = self._kept_route(pattern.value) or self._routed_here(pattern)
        if route is None:
            planned = await self._planned(pattern)
            if isinstance(planned, Resolution):
                return planned
            route = planned
        return await self._answer(route, pattern)

    async def _planned(self, pattern: Pattern) -> Route | Resolution:
        """The engine's plan for ``pattern``, made once for every request that asks while it
        is being made, unless something changed between: a burst of misses (the daemon's
        first, or the first after a change) is one engine call per pattern, not one each.
        The call is abandoned (as a request's is) once no request waits for it."""
        changes = self._watch.poll()
        planning = self._planning.get(pattern.value)
        # Joined only if whatever it read as it began (the config, the run state) was watched
        # then: a change since, which this request may have seen made, would show here.
        if planning is None or planning.changes != changes or not planning.watched:
            armed = self._watch.armed()
            call = self._host.call(lambda engine: self._plan(engine, pattern, armed))
            watched = armed.issuperset(self._files)
            planning = _Planning(changes, watched, asyncio.ensure_future(call))
            self._planning[pattern.value] = planning
            planning.task.add_done_callback(lambda _: self._planned_done(pattern, planning))
        planning.waiting += 1
        try:
            return await asyncio.shield(planning.task)
        finally:
            planning.waiting -= 1
            if not planning.waiting and not planning.task.done():
                planning.task.cancel()

    def _planned_done(self, pattern: Pattern, planning: _Planning) -> None:
        """A plan is made: keep its route if nothing changed since it began."""
        if self._planning.get(pattern.value) is planning:
            del self._planning[pattern.value]
        task = planning.task
        if task.cancelled() or task.exception() is not None:
            return
        route = task.result()
        if not isinstance(route, Route) or self._watch.poll() != planning.changes:
            return
        if route.keep:
            self._keep(pattern.value, route, planning.changes)
        if route.view is not None and planning.watched:
            route.view.changes = planning.changes
            self._view = route.view

    def _routed_here(self, pattern: Pattern) -> Route | None:
        """A route for ``pattern`` made on the loop from the engine's last routing, when
        every plugin serving it answers here (:mod:`.route_view`); kept as a planned one is.
        ``None``: the engine routes it."""
        view = self._view
        if view is None:
            return None
        changes = self._watch.poll()
        host = self._host
        if (
            view.changes != changes
            or view.engine is not host.current_engine()
            or view.external_generation != host.external.generation
        ):
            self._view = None
            return None
        serving = view.targets(pattern)
        if serving is None:
            return None
        armed = self._watch.armed()
        chosen = []
        for slot, instance, narrowed in serving:
            found: list[Envelope] | None = None
            if not isinstance(instance, ExternalPlugin):
                known = self._warm.get(slot.name)
                if known is None or known[0] is not instance or known[1] is None:
                    return None
                if os.path.abspath(known[1]) not in armed:
                    return None
                try:
                    found = warm_answer(instance, narrowed)
                except Exception:  # noqa: BLE001 - the engine asks it, and reports what fails
                    return None
                if found is None:
                    return None
            chosen.append(Target(slot, narrowed, found))
        values = sum(len(t.found) for t in chosen if isinstance(t.found, list))
        route = Route(view.engine, view.external_generation, chosen, values <= MAX_KEPT_VALUES)
        if route.keep:
            self._keep(pattern.value, route, changes)
        return route

    def _kept_route(self, pattern: str) -> Route | None:
        """The kept route of ``pattern`` if it still holds (on the loop: nothing here waits)."""
        changes = self._watch.poll()
        if changes != self._changes:
            self._kept.clear()
            return None
        route = self._kept.get(pattern)
        if route is None:
            return None
        host = self._host
        if (
            route.engine is not host.current_engine()
            or route.external_generation != host.external.generation
            or any(t.slot.instance is not t.instance for t in route.targets)
        ):
            self._kept.clear()  # a plugin or the engine changed: every route may have
            return None
        self._kept.move_to_end(pattern)
        return route

    def _keep(self, pattern: str, route: Route, changes: int) -> None:
        if changes != self._changes:
            self._kept.clear()
            self._changes = changes
        self._kept[pattern] = route
        self._kept.move_to_end(pattern)
        while len(self._kept) > MAX_ROUTES:
            self._kept.popitem(last=False)

    def _plan(self, engine: Engine, pattern: Pattern, armed: frozenset[str]) -> Route | Resolution:
        """On an engine thread: the route of ``pattern``, or the engine's own resolution when
        a plugin it needs cannot be answered on the loop (or is down, or late).  ``armed``:
        what the watch covered before this call began; the route may be kept if that covered
        the config and run state, and the warm directories are covered before they are read
        (armed here if need be)."""
        generation = self._host.external.generation  # before routing: never newer than it
        targets, down, late = engine.route(pattern)
        if down or late:
            return engine.resolve(pattern)  # the ordinary way (it routes again)
        dirs: list[str] = []
        warm = []
        for slot, narrowed in targets:
            if isinstance(slot.instance, ExternalPlugin):
                continue
            directory = self._warm_directory(engine, slot)
            if directory is None:
                return engine.resolve(pattern)
            dirs.append(os.path.abspath(directory))  # as the watch names what it armed
            warm.append((slot, narrowed))
        # The config and run state were read as this call began (EngineHost): watched
        # since before then, or the route is not kept.  The stores are read below: watched
        # from now on is soon enough.
        keep = armed.issuperset(self._files)
        if not (keep and armed.issuperset(dirs)):
            keep = self._watch.arm(files=self._files, directories=dirs) and keep
        found = {slot.name: answer for slot, _, answer in engine.ask(warm)}
        kept = [answer for answer in found.values() if not isinstance(answer, str)]
        # Every answer an answer, and few values: a route of one ID (or a few) is kept, not
        # the whole store behind a wildcard (the file store keeps single values warm too).
        keep = keep and len(kept) == len(found) and sum(map(len, kept)) <= MAX_KEPT_VALUES
        chosen = [Target(slot, narrowed, found.get(slot.name)) for slot, narrowed in targets]
        return Route(engine, generation, chosen, keep, RouteView.capture(engine, generation))

    def _warm_directory(self, engine: Engine, slot: PluginSlot) -> str | None:
        """The warm directory of ``slot``'s running instance (asked once per instance)."""
        instance = slot.instance
        known = self._warm.get(slot.name)
        if known is not None and known[0] is instance:
            return known[1]
        try:
            directory = engine.warm_directory(slot.name)
        except DockerPassError:  # it did not say in time: the ordinary way, and ask again
            return None
        self._warm[slot.name] = (instance, directory)
        return directory

    async def _answer(self, route: Route, pattern: Pattern) -> Resolution:
        """The resolution of ``route``: kept answers, and the external plugins asked now (all
        at once, each within its deadline)."""
        live = [t for t in route.targets if t.found is None]
        if len(live) == 1:  # one plugin to ask (the usual case): no task to gather it in
            asked = [await self._ask(live[0])]
        else:
            asked = await asyncio.gather(*(self._ask(t) for t in live))
        outcomes = dict(zip((t.slot.name for t in live), asked, strict=True))
        answers: list[Answer] = []
        errors: dict[str, str] = {}
        for target in route.targets:
            name, slot = target.slot.name, target.slot
            outcome = target.found if target.found is not None else outcomes[name]
            if isinstance(outcome, str):
                errors[name] = outcome
            else:
                answers.append((name, slot.pattern or target.narrowed, target.narrowed, outcome))
        names = [t.slot.name for t in route.targets]
        return merged_resolution(pattern, answers, names, errors, {})

    async def _ask(self, target: Target) -> list[Envelope] | str:
        """An external plugin's answer, or the message of its failure (a fatal one is
        recorded by the engine, which crashes the plugin: not something the loop does)."""
        plugin = target.instance
        assert isinstance(plugin, ExternalPlugin)  # noqa: S101 - only they are asked live
        try:
            return await plugin.resolve_here(target.narrowed, target.slot.line.seconds)
        except SecretNotFoundError:
            return []
        except Exception as exc:  # noqa: BLE001 - one plugin's failure is its own
            if isinstance(exc, FatalPluginError):
                name, fatal = target.slot.name, exc
                message: str = await self._host.call(lambda e: e.record_failure(name, fatal))
                return message
            return describe(exc)  # what the engine records of a plugin that still runs
