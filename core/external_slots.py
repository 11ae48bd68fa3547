"""External plugins in a roster: their slots follow the daemon's registry, and they are
attached, not started.

A roster (:class:`~docker_pass.core.roster.Roster`) loads and starts the plugins it knows by
spec; an external plugin is already running elsewhere and connected to the daemon (or, when
launched by the daemon, being brought back by its supervisor).  So its slot is made from its
registry entry (:class:`~docker_pass.core.external.ExternalEntry`), its settings are only the
person's (enabled, ``pattern``, ``deadline``: the plugin itself is asked nothing), and
"starting" it attaches the connected plugin: every call into it then goes through the slot's
:class:`~docker_pass.core.plugin_calls.PluginLine`, with the same deadline as any plugin's.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from docker_pass.core.external import EXTERNAL_CAPABILITIES
from docker_pass.core.plugin import Capability
from docker_pass.core.plugin_calls import deadline_of
from docker_pass.core.state import RunState, RunStatus, load_run_states, update_run_state

if TYPE_CHECKING:
    from collections.abc import Mapping

    from docker_pass.core.external import ExternalEntry
    from docker_pass.core.plugin import Plugin
    from docker_pass.core.roster import PluginSlot


def sync_external_slots(
    slots: Mapping[str, PluginSlot], entries: Mapping[str, ExternalEntry]
) -> dict[str, PluginSlot]:
    """``slots`` made to follow ``entries``: the engine's own slots, each external slot whose
    entry is still registered, and a new slot for each new entry (a plugin that connected
    again gets a new slot: none of its old connection's calls, past their deadline or not,
    count against the new one).  A new mapping: the old one is never changed."""
    from docker_pass.core.roster import PluginSlot

    kept = {
        name: slot
        for name, slot in slots.items()
        if slot.external is None or entries.get(name) is slot.external
    }
    for name, entry in entries.items():
        if name not in kept:  # (a built-in's name is refused at registration)
            kept[name] = PluginSlot(name, "", entry)
    return kept


def load_external_settings(slot: PluginSlot, settings: Mapping[str, Any], timeout: float) -> None:
    """What an external plugin's slot holds: its registered pattern (narrowed by the config's
    ``plugins.NAME.pattern``), its deadline (``plugins.NAME.deadline``, else ``timeout``),
    whether it is enabled (by default it is), and that it resolves only (no listing: the
    SDK has no such call)."""
    from docker_pass.core.config_schema import enabled_flag, plugin_setting_problem
    from docker_pass.core.roster import CONFIG_CAUSE, config_file

    entry = slot.external
    assert entry is not None  # noqa: S101 - called for external slots only
    slot.configurable = True
    slot.capabilities = frozenset(Capability(c) for c in EXTERNAL_CAPABILITIES)
    flag = enabled_flag(settings.get("enabled"))
    slot.enabled = True if flag is None else flag
    slot.load_error = slot.load_cause = ""
    problem = plugin_setting_problem(dict(settings), slot.name, config_file()) if settings else ""
    if problem:
        slot.load_error, slot.load_cause = problem, CONFIG_CAUSE
        return
    slot.line.seconds = deadline_of(settings, timeout)
    slot.pattern = entry.pattern
    override = settings.get("pattern")
    if override is not None and entry.pattern is not None:
        from docker_pass.core.errors import InvalidPatternError
        from docker_pass.core.ids import Pattern

        try:
            narrowed = Pattern.parse(str(override))
        except InvalidPatternError as exc:
            slot.load_error = f"config {config_file()}: plugins.{slot.name}.pattern: {exc}"
            slot.load_cause = CONFIG_CAUSE
            return
        slot.pattern = entry.pattern.narrow(narrowed) or narrowed


def attach_external(slot: PluginSlot) -> Plugin | None:
    """The connected plugin of an external slot, attached to it; ``None`` when it is down or
    not connected (a launched one's supervisor is asked to bring it back now, unless it is
    recorded down: then it comes back by itself, or with ``plugins enable``)."""
    entry = slot.external
    assert entry is not None  # noqa: S101 - called for external slots only
    if slot.load_error:
        return None
    state = load_run_states(only=slot.name).get(slot.name, RunState())
    if state.status.is_down:
        return None
    plugin = entry.plugin
    if plugin is None:
        if entry.revive is not None:
            entry.revive()
        return None
    if state.status is not RunStatus.RUNNING or state.message:
        from docker_pass.core.roster import running

        update_run_state(slot.name, running)
    slot.started_at = time.time()
    slot.instance = plugin
    return plugin


#: How the specs of the plugins shipped with docker-pass begin (the others are external).
_SHIPPED = "docker_pass."


def is_external(slot: PluginSlot) -> bool:
    """Whether the plugin was not shipped with docker-pass (``external`` in the API): an
    installed distribution's plugin, or one the daemon hosts (Docker's SDK)."""
    return slot.external is not None or (bool(slot.spec) and not slot.spec.startswith(_SHIPPED))
