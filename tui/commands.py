"""The command palette (ctrl+p): the actions of the keys, plus per-plugin and per-realm ones."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from docker_pass.core.state import RunStatus

if TYPE_CHECKING:
    from collections.abc import Iterator

    from docker_pass.tui.app import DockerPassApp

#: Realms offered as "Jump to realm …": the first levels only (there may be 100,000 IDs).
JUMP_DEPTH = 3
JUMP_LIMIT = 300


def palette_commands(app: DockerPassApp) -> Iterator[SystemCommand]:
    """Every command the palette offers, for the app's current data."""
    on_main = app.run_on_main
    yield SystemCommand("New secret", "Open the editor for a new secret (n)", app.action_new_secret)
    yield SystemCommand(
        "Reveal value", "Show the selected secret's value (r)", partial(on_main, app.action_reveal)
    )
    yield SystemCommand(
        "Copy value",
        "Copy the selected secret's value; the clipboard is cleared after a while (c)",
        partial(on_main, app.action_copy_value),
    )
    yield SystemCommand(
        "Copy reference",
        "Copy se://<id> of the selected secret (y)",
        partial(on_main, app.action_copy_reference),
    )
    yield SystemCommand(
        "Edit secret", "Edit the selected secret (e)", partial(on_main, app.action_edit_secret)
    )
    yield SystemCommand(
        "Delete secret",
        "Delete the selected secret (d)",
        partial(on_main, app.action_delete_secret),
    )
    yield SystemCommand(
        "Filter by pattern", "Type a pattern to narrow the tree (/)", app.focus_pattern
    )
    yield SystemCommand("Show plugins", "The plugins panel (p)", app.action_plugins)
    yield SystemCommand("Help", "Every key (?)", app.action_help)
    yield SystemCommand("Reload", "Ask every plugin again (ctrl+r)", app.action_reload)
    for status in app.plugin_statuses:
        if status.name in app.setup_forms:
            yield SystemCommand(
                f"Set up plugin {status.name}",
                f"{app.setup_forms[status.name].title}: what {status.name} needs, stored",
                partial(app.request_setup, status.name),
            )
        if not status.configurable:
            continue
        if status.is_down:
            # A crashed plugin can be brought back, or turned off for good.
            yield SystemCommand(
                f"Re-enable plugin {status.name}",
                f"{status.name} is {status.status}: start it again",
                partial(app.request_toggle, status),
            )
            yield SystemCommand(
                f"Disable plugin {status.name}",
                f"{status.name} is {status.status}: leave it off",
                partial(app.request_disable, status),
            )
            continue
        verb = "Enable" if status.status == RunStatus.DISABLED else "Disable"
        yield SystemCommand(
            f"{verb} plugin {status.name}",
            f"{status.name} is {status.status}",
            partial(app.request_toggle, status),
        )
    index = app.secrets_index
    for path in index.realm_paths(JUMP_DEPTH, JUMP_LIMIT):
        count = index.count(path)
        yield SystemCommand(
            f"Jump to realm {path}",
            f"{count:,} secret{'s' if count != 1 else ''} under it",
            partial(app.jump_to_realm, path),
            discover=False,
        )
