"""`mv OLD NEW`: rename a secret or a realm, maybe into another plugin (alias: move, rename)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from docker_pass.cli.plugin_choice import add_plugin_option
from docker_pass.core.errors import SecretNotFoundError, UsageError
from docker_pass.core.ids import ID, Pattern

if TYPE_CHECKING:
    from docker_pass.core.remote.front import EngineFront

EXAMPLES = """\
examples:
  docker pass mv db/prod/password db/prod/pg-password    # rename
  docker pass mv db/prod/password vault-db/ --to-plugin vault   # into vault, as vault-db/password
  docker pass mv team/old/ team/new/ -y                  # a realm: every secret under it

How a move goes: the old secret is read, the new one is written (refused if the new ID exists,
unless --replace), then the old one is removed only if it is still the version that was
copied. Whatever fails, or wherever it is stopped, the value is kept in the old place, the new
one, or both; never neither, and the message says what exists where. Plugins that keep no
versions are compared by value before the old secret goes.

OLD ending in / is a realm: every secret under it moves to the same place under NEW (which
then names a realm too); it is confirmed on a terminal ("Move N secrets from A/ to B/?") and
needs -y otherwise. NEW ending in / with a secret OLD moves it into that realm, keeping its
last component.

One ID, one answer: a new ID that another running plugin holds is warned about, asked about on
a terminal, and refused without one unless --allow-duplicate (se://ID would match two secrets).

After a move, the se:// references to the old IDs in this folder's Compose and env files (or
the --file ones) are listed as "still referring to OLD: FILE:LINE (service S, VARIABLE)"."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "mv",
        aliases=["move", "rename"],
        help="Rename or move a secret or a realm",
        description="Rename a secret, or every secret of a realm (OLD/), maybe into another "
        "plugin, without ever losing its value.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("old", metavar="OLD", help="the secret's ID, or a realm ending in /")
    parser.add_argument("new", metavar="NEW", help="the new ID (or realm, or a realm to move into)")
    add_plugin_option(parser, "move from")
    parser.add_argument(
        "--to-plugin", metavar="NAME", help="the plugin to move into (default: the same one)"
    )
    parser.add_argument(
        "--replace", action="store_true", help="overwrite NEW if it exists (else: refused)"
    )
    parser.add_argument(
        "-y", "--yes", action="store_true", help="move a realm without asking for confirmation"
    )
    parser.add_argument(
        "--allow-duplicate",
        action="store_true",
        help="move even when another running plugin holds the new ID (se://ID then fails)",
    )
    parser.add_argument(
        "--file",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a Compose or env file to list references to the old ID(s) in (repeatable; "
        "default: this folder's Compose file and .env)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from docker_pass.cli.commands.engine import engine_for

    old_text, new_text = _realm_spelling(str(args.old)), _realm_spelling(str(args.new))
    realm = old_text.endswith("/")
    old = ID.parse(old_text.removesuffix("/"))
    new = _new_id(old, new_text, realm=realm)
    target = args.to_plugin or args.plugin
    with engine_for(args) as engine:
        if realm:
            return _move_realm(args, engine, old, new, target)
        return _move_one(args, engine, old, new, target)


def _realm_spelling(text: str) -> str:
    """``A/**`` (the pattern of everything under A) is spelled ``A/`` here too."""
    return text.removesuffix("**") if text.endswith("/**") else text


def _new_id(old: ID, text: str, *, realm: bool) -> ID:
    """NEW as an ID: a realm's new realm (a trailing / allowed), or for a secret, NEW itself
    or, ending in /, the realm it moves into under its own last component."""
    if realm or not text.endswith("/"):
        return ID.parse(text.removesuffix("/") if realm else text)
    return ID.parse(text + old.components[-1])


def _move_one(args: argparse.Namespace, front: EngineFront, old: ID, new: ID, target: str) -> int:
    from docker_pass.cli.moved import print_moved, print_references
    from docker_pass.cli.questions import allow_duplicates, duplicates_of

    duplicates = duplicates_of(front, {new: old}, target, moving_from=args.plugin)
    allow_duplicates(duplicates, target, allowed=args.allow_duplicate, verb="move")
    try:
        moved = front.move(old, new, plugin=args.plugin, to_plugin=target, replace=args.replace)
    except SecretNotFoundError:
        _say_if_realm(front, old, args.plugin)
        raise
    code = print_moved([moved], as_json=args.json)
    if moved.moved:
        print_references([moved.old], args.file)
    return code


def _say_if_realm(front: EngineFront, old: ID, plugin: str) -> None:
    """OLD is no secret: if it is a realm written without its slash, say so."""
    from docker_pass.core.moves import realm_ids

    count = len(realm_ids(front, old, plugin=plugin))
    if count:
        noun = "secret" if count == 1 else "secrets"
        raise UsageError(
            f"{old.value} is a realm ({count} {noun} under {old.value}/ in {plugin}), not a "
            f"secret: write {old.value}/ to move them all"
        )


def _move_realm(args: argparse.Namespace, front: EngineFront, old: ID, new: ID, target: str) -> int:
    from docker_pass.cli.moved import print_realm, print_references
    from docker_pass.cli.questions import allow_duplicates, ask, duplicates_of, on_terminal
    from docker_pass.core.moves import realm_ids

    ids = realm_ids(front, old, plugin=args.plugin)
    if not ids:
        raise SecretNotFoundError(f"{args.plugin}:{old.value}/ (no secret under it)")
    renamed = {ID(new.value + id_.value[len(old.value) :]): id_ for id_ in ids}
    duplicates = duplicates_of(
        front, renamed, target, moving_from=args.plugin, within=Pattern(new.value + "/**")
    )
    allow_duplicates(duplicates, target, allowed=args.allow_duplicate, verb="move")
    count = len(ids)
    noun = "secret" if count == 1 else "secrets"
    places = f"{old.value}/ to {new.value}/"
    if target != args.plugin:
        places = f"{args.plugin}:{old.value}/ to {target}:{new.value}/"
    if not args.yes:
        if not on_terminal():
            raise UsageError(f"moving a realm ({count} {noun} from {places}) needs -y")
        if not ask(f"Move {count} {noun} from {places}?"):
            raise UsageError("nothing moved")
    result = front.move_realm(old, new, plugin=args.plugin, to_plugin=target, replace=args.replace)
    code = print_realm(result, as_json=args.json)
    print_references([m.old for m in result.moved], args.file)
    return code
