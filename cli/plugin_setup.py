"""What ``plugins <name> setup`` and ``plugins <name> purge`` share, whatever the plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError
from docker_pass.core.names import KEYCHAIN_PLUGIN

if TYPE_CHECKING:
    from collections.abc import Sequence

    from docker_pass.core.ids import ID
    from docker_pass.core.setup import Answers, Setup, Wording


def apply_answers(setup: Setup, answers: Answers, wording: Wording) -> int:
    """Check and store the answers, enable the plugin (:func:`apply_setup`, as the TUI's form
    does), print what was done; exit 1 if the plugin does not come up."""
    from docker_pass.cli import render
    from docker_pass.core.engine import Engine
    from docker_pass.core.setup import apply_setup

    with Engine.for_plugin(KEYCHAIN_PLUGIN) as keychain, Engine() as engine:
        result = apply_setup(setup, answers, keychain=keychain, plugins=engine, wording=wording)
    for line in result.lines():
        print(line)
    return render.plugin_change(result.status)


def purge(plugin: str, ids: Sequence[ID], noun: str) -> bool:
    """Disable ``plugin``, then remove its setup secrets ``ids`` from the keychain; whether any
    was stored (``noun`` names them in an error)."""
    from docker_pass.cli import render
    from docker_pass.core.engine import Engine
    from docker_pass.core.results import Removal

    with Engine() as engine:
        status = engine.disable(plugin)
    render.plugin_change(status)
    with Engine.for_plugin(KEYCHAIN_PLUGIN) as keychain:
        removal = keychain.remove(list(ids))
    removed = False
    for _, outcome in removal.outcomes:
        if outcome not in (Removal.REMOVED, Removal.MISSING):
            raise DockerPassError(f"removing the {noun}: {outcome}")
        removed = removed or outcome == Removal.REMOVED
    return removed
