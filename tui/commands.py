"""The command palette (ctrl+p): the actions of the keys, per-plugin and per-realm ones, and
a jump to any listed secret (:class:`SecretsProvider`)."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.app import SystemCommand
from textual.command import Hit, Hits, Provider
from textual.content import Content

from docker_pass.core.state import RunStatus
from docker_pass.tui.model.search import palette_candidates, palette_matches
from docker_pass.tui.text import plural

if TYPE_CHECKING:
    from collections.abc import Iterator

    from docker_pass.tui.app import DockerPassApp
    from docker_pass.tui.model.realms import RealmIndex

#: Realms offered as "Jump to realm …": the first levels only (there may be 100,000 IDs).
JUMP_DEPTH = 3
JUMP_LIMIT = 300
#: Secrets the cheap first pass hands to the palette's fuzzy matcher, and hits shown.
SECRET_CANDIDATES = 200
SECRET_HITS = 50


def palette_commands(app: DockerPassApp) -> Iterator[SystemCommand]:
    """Every command the palette offers, for the app's current data."""
    on_main = app.view.run_on_main
    yield SystemCommand(
        "New secret", "Open the editor for a new secret (n)", app.secrets.new_secret
    )
    yield SystemCommand(
        "Reveal value", "Show the selected secret's value (r)", partial(on_main, app.secrets.reveal)
    )
    yield SystemCommand(
        "Copy value",
        "Copy the selected secret's value; the clipboard is cleared after a while (c)",
        partial(on_main, app.secrets.copy_value),
    )
    yield SystemCommand(
        "Copy reference",
        "Copy se://<id> of the selected secret (y)",
        partial(on_main, app.secrets.copy_reference),
    )
    yield SystemCommand(
        "Edit secret", "Edit the selected secret (e)", partial(on_main, app.secrets.edit_secret)
    )
    yield SystemCommand(
        "Delete secret",
        "Delete the selected secret (d)",
        partial(on_main, app.secrets.delete_secret),
    )
    yield SystemCommand(
        "Move secret or realm",
        "Move or rename the selected secret, or every secret of the selected realm (m)",
        partial(on_main, app.secrets.move),
    )
    yield SystemCommand(
        "Undelete secret",
        "Restore the selected deleted secret's latest version (U)",
        partial(on_main, app.secrets.undelete),
    )
    yield SystemCommand(
        "Purge secret",
        "Remove every version of the selected secret, for good; asks first (X)",
        partial(on_main, app.secrets.purge),
    )
    yield SystemCommand(
        "Filter by pattern", "Type a pattern to narrow the tree (/)", app.view.focus_pattern
    )
    yield SystemCommand("Show plugins", "The plugins panel (p)", app.action_plugins)
    yield SystemCommand("Help", "Every key (?)", app.action_help)
    yield SystemCommand("Reload", "Ask every plugin again (ctrl+r)", app.action_reload)
    forms = app.setup.forms
    for status in app.plugins.statuses:
        if status.name in forms:
            yield SystemCommand(
                f"Set up plugin {status.name}",
                f"{forms[status.name].title}: what {status.name} needs, stored",
                partial(app.setup.request, status.name),
            )
        if not status.configurable:
            continue
        if status.is_down:
            # A crashed plugin can be brought back, or turned off for good.
            yield SystemCommand(
                f"Re-enable plugin {status.name}",
                f"{status.name} is {status.status}: start it again",
                partial(app.plugins.request_toggle, status),
            )
            yield SystemCommand(
                f"Disable plugin {status.name}",
                f"{status.name} is {status.status}: leave it off",
                partial(app.plugins.request_disable, status),
            )
            continue
        verb = "Enable" if status.status == RunStatus.DISABLED else "Disable"
        yield SystemCommand(
            f"{verb} plugin {status.name}",
            f"{status.name} is {status.status}",
            partial(app.plugins.request_toggle, status),
        )
    index = app.listing.index
    for path in index.realm_paths(JUMP_DEPTH, JUMP_LIMIT):
        count = index.count(path)
        yield SystemCommand(
            f"Jump to realm {path}",
            f"{plural(count, 'secret')} under it",
            partial(app.view.jump_to_realm, path),
            discover=False,
        )


class SecretsProvider(Provider):
    """ "Jump to secret …" for every listed secret, matched fuzzily on its ID.

    With 100,000 secrets the palette's fuzzy matcher (tens of microseconds a call) cannot see
    every ID on each key: a cheap pass in a thread (characters in order, possessive regex)
    picks :data:`SECRET_CANDIDATES`, the matcher scores those, and the best
    :data:`SECRET_HITS` are shown.
    """

    #: The last query's index, folded text and matching positions (see ``search``).
    _last: tuple[RealmIndex, str, list[int]] | None = None

    async def search(self, query: str) -> Hits:
        app = cast("DockerPassApp", self.app)
        index = app.listing.index
        if not query.strip() or not len(index):
            return
        needle = "".join(query.casefold().split())
        # What the last query kept, when this one extends it: typing on narrows that.
        last = self._last
        within = (
            last[2]
            if last is not None and last[0] is index and needle.startswith(last[1])
            else None
        )

        def first_pass() -> tuple[list[int], list[int]]:
            found = palette_matches(index.folded_ids, needle, within)
            return found, palette_candidates(index.folded_ids, needle, SECRET_CANDIDATES, found)

        # Folding the IDs (once per listing) and the first pass run off the event loop.
        found, picked = await asyncio.to_thread(first_pass)
        self._last = (index, needle, found)
        matcher = self.matcher(query)
        scored = []
        for position in picked:
            entry = index.entries[position]
            id_ = entry.id.value
            score = matcher.match(id_)
            if score > 0:
                scored.append((score, position, id_, entry.provider))
        scored.sort(key=lambda s: (-s[0], s[1]))
        for score, _position, id_, provider in scored[:SECRET_HITS]:
            yield Hit(
                score,
                Content("Jump to secret ") + matcher.highlight(id_),
                partial(app.view.jump_to_secret, id_, provider),
                text=f"Jump to secret {id_}",
                help=f"in {provider}",
            )
