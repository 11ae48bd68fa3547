"""`rm NAME…` / `rm --all`: remove secrets from the keychain or another plugin (delete, erase,
remove)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from docker_pass.cli.plugin_choice import add_plugin_option
from docker_pass.core.errors import UsageError
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.names import ENGINE_REALM

if TYPE_CHECKING:
    import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "rm",
        aliases=["delete", "erase", "remove"],
        help="Remove secrets from local keychain",
        description=(
            "Remove secrets from the local keychain. Prints 'RM: <id>' for each removed secret "
            "and 'ERR: <id>: <error>' for each failure. Removing an ID that does not exist is "
            "not an error."
        ),
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="IDs to remove")
    parser.add_argument("--all", action="store_true", help="remove all secrets")
    parser.add_argument(
        "-y", "--yes", action="store_true", help="do not ask for confirmation with --all"
    )
    parser.add_argument(
        "--all-realms",
        action="store_true",
        help=f"with --all, also remove internal secrets ({ENGINE_REALM}/**)",
    )
    parser.add_argument(
        "--purge-versions",
        action="store_true",
        help="also remove every older version and the history (plugins that keep versions: "
        "vault), of deleted secrets too; without it vault deletes only the latest version "
        "('undelete' restores it)",
    )
    add_plugin_option(parser, "remove from")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from docker_pass.cli import render
    from docker_pass.cli.commands.engine import front_for_plugin

    if bool(args.names) == bool(args.all):
        raise UsageError("either provide a secret name or use --all to remove all secrets")
    ids = [ID.parse(name) for name in args.names]
    # Through the daemon when it runs (--purge-versions too): its warm plugins and caches see
    # the removal at once.
    with front_for_plugin(args) as engine:
        if args.all:
            # With --purge-versions every version of every secret: the deleted ones too
            # (rm --all alone deletes the latest version of the live ones).
            listing = engine.list_secrets(
                Pattern("**"),
                plugin=args.plugin,
                reserved=args.all_realms,
                deleted=args.purge_versions,
            )
            ids = [i.id for i in listing.infos]
            if not ids:
                print("Nothing to remove.", file=sys.stderr)
                return 0
            if sys.stdin.isatty() and not args.yes and not _confirm(len(ids)):
                print("Nothing removed.", file=sys.stderr)
                return 1
        unique = sorted(set(ids))
        return render.removal(
            engine.remove(unique, plugin=args.plugin, purge_versions=args.purge_versions)
        )


def _confirm(count: int) -> bool:
    noun = "secret" if count == 1 else "secrets"
    answer = input(f"Remove all {count} {noun}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")
