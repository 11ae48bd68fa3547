"""What ``plugins setup NAME`` and ``plugins purge NAME`` do, whatever the plugin: the commands
are made from the plugin's setup form (:mod:`docker_pass.cli.setup_commands`), and so is every
message here.

A secret is read from stdin only, or typed at a prompt that does not echo when stdin is a
terminal: never from argv.  Which secret stdin holds is the form's to say
(:meth:`~docker_pass.core.setup.Setup.secrets_in_play`: vault's token, or with ``--role-id``
its AppRole secret ID); stdin being the only way to give it, it is required.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from docker_pass.core.errors import DockerPassError, UsageError
from docker_pass.core.names import KEYCHAIN_PLUGIN

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping, Sequence

    from docker_pass.core.ids import ID
    from docker_pass.core.setup import Answers, Setup, Wording


def run_setup(setup: Setup, args: argparse.Namespace) -> int:
    """Read the secret in play, then check and store the answers and enable the plugin; exit 1
    if the plugin does not come up."""
    from docker_pass.cli.setup_commands import answers_given
    from docker_pass.core.setup import Answers

    settings = answers_given(setup, args)
    wording = setup.stdin_wording(settings)
    secrets = read_secrets(setup, settings, sys.stdin, wording)
    answers = {f.name: secrets.get(f.name, "") for f in setup.secret_fields}
    return apply_answers(setup, Answers({**settings, **answers}), wording)


def run_purge(setup: Setup, args: argparse.Namespace) -> int:
    """Disable the plugin, then remove every secret its setup may have stored."""
    from docker_pass.core.setup import secret_id

    ids = [secret_id(setup.plugin, f.name) for f in setup.secret_fields]
    removed = purge(setup.plugin, ids, setup.secret_noun)
    if ids:
        print(setup.purged(removed))
    return 0


def read_secrets(
    setup: Setup, settings: Mapping[str, str], stdin: TextIO, wording: Wording | None = None
) -> dict[str, str]:
    """The secrets in play given ``settings``, from ``stdin`` (several: one line each, in the
    form's order) or typed at prompts without echo when it is a terminal; each checked by the
    form's rules, worded for stdin."""
    from dataclasses import replace

    fields = setup.secrets_in_play(settings)
    if not fields:
        return {}
    wording = wording or setup.stdin_wording(settings)
    if stdin.isatty():
        import getpass

        title = setup.title[:1].upper() + setup.title[1:]
        raws = [getpass.getpass(f"{title} {item.lower_label}: ") for item in fields]
    else:
        try:
            text = stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError:
            what = f"{fields[0].noun or fields[0].lower_label} on stdin is"
            raise UsageError(
                f"the {what if len(fields) == 1 else 'secrets on stdin are'} not UTF-8 text"
            ) from None
        raws = [text] if len(fields) == 1 else [*text.splitlines(), *[""] * len(fields)]
    # Stdin is the only way to give a secret in play: an empty one is missing, whatever the
    # form says of the field (vault's token is optional there: an AppRole may replace it).
    return {
        item.name: replace(item, required=True).clean(raw, wording)
        for item, raw in zip(fields, raws, strict=False)
    }


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
    if not ids:
        return False
    with Engine.for_plugin(KEYCHAIN_PLUGIN) as keychain:
        removal = keychain.remove(list(ids))
    removed = False
    for _, outcome in removal.outcomes:
        if outcome not in (Removal.REMOVED, Removal.MISSING):
            raise DockerPassError(f"removing the {noun}: {outcome}")
        removed = removed or outcome == Removal.REMOVED
    return removed
