"""Routing a pattern the daemon has not seen yet on its event loop, from the last routing the
engine did (:mod:`.routes`).

A cold lookup made on an engine thread is slow in a burst for no work of its own: each of its
steps (a ``stat``, a hand-over to a plugin-call thread) gives the interpreter lock up and waits
to get it back while the loop reads the burst, a switch interval each time.  So when the
engine routes a pattern, the daemon also keeps what that routing saw of every plugin: a
:class:`RouteView`.  While nothing it depends on has changed (the same conditions a kept route
holds under), a new pattern is routed from the view on the loop, and answered there when
every plugin serving it is external (asked on the loop anyway) or answers from its warm
values without waiting (:class:`~docker_pass.core.plugin.WarmAnswers`).  Anything else —
a plugin down, not running, not warm, not yet read — goes to the engine as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.core.plugin import WarmAnswers
from docker_pass.daemon.external.plugin import ExternalPlugin

if TYPE_CHECKING:
    from docker_pass.core.engine import Engine
    from docker_pass.core.envelope import Envelope
    from docker_pass.core.ids import Pattern
    from docker_pass.core.plugin import Plugin
    from docker_pass.core.roster import PluginSlot


class RouteView:
    """Every enabled plugin of ``engine`` as routing saw it (slot, pattern, instance or
    ``None`` when it was not running), made on an engine thread under the external registry's
    ``external_generation``; ``changes`` is the watch's change count it holds under (set on
    the loop once the plan it came with is known to hold)."""

    __slots__ = ("changes", "engine", "external_generation", "serving")

    def __init__(
        self,
        engine: Engine,
        external_generation: int,
        changes: int,
        serving: list[tuple[PluginSlot, Pattern, Plugin | None]],
    ) -> None:
        self.engine = engine
        self.external_generation = external_generation
        self.changes = changes
        self.serving = tuple(serving)

    @classmethod
    def capture(cls, engine: Engine, external_generation: int) -> RouteView | None:
        """On an engine thread, right after the engine routed a pattern (every slot loaded):
        the view, or ``None`` when a plugin that could not be loaded might serve any pattern
        (the engine names it down in every answer)."""
        serving: list[tuple[PluginSlot, Pattern, Plugin | None]] = []
        for slot in engine.slots():
            if not slot.enabled:
                continue
            pattern = slot.pattern
            if pattern is None:
                if slot.external is not None:
                    continue  # a launched plugin that never registered serves nothing yet
                return None
            serving.append((slot, pattern, slot.instance))
        return cls(engine, external_generation, -1, serving)

    def targets(self, pattern: Pattern) -> list[tuple[PluginSlot, Plugin, Pattern]] | None:
        """On the loop: the plugins serving ``pattern`` (slot, instance, the part it serves),
        as :meth:`~docker_pass.core.engine.Engine.route` would say; ``None`` when the loop
        cannot say (a plugin serving it not running, or not the instance seen; none at all)."""
        targets = []
        for slot, served, instance in self.serving:
            narrowed = served.narrow(pattern)
            if narrowed is None:
                continue
            if instance is None or slot.instance is not instance:
                return None
            targets.append((slot, instance, narrowed))
        return targets or None


def warm_answer(instance: Plugin, narrowed: Pattern) -> list[Envelope] | None:
    """``instance``'s answer for ``narrowed`` without waiting (its warm values), or ``None``."""
    if isinstance(instance, ExternalPlugin) or not isinstance(instance, WarmAnswers):
        return None
    return instance.peek_warm(narrowed)
