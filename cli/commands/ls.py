"""`ls [PATTERN]`: list secret IDs of a plugin, or of every plugin (alias: list)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.cli.plugin_choice import add_plugin_option, engine_with_plugin
from docker_pass.core.ids import Pattern
from docker_pass.core.names import ENGINE_REALM

if TYPE_CHECKING:
    import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "ls",
        aliases=["list"],
        help="List all secrets from local keychain",
        description=(
            "List the IDs of the secrets in the local keychain (or another plugin), sorted. "
            "With --all-plugins every running plugin is asked; one that fails is named on "
            "stderr and the others still list."
        ),
    )
    parser.add_argument(
        "pattern", nargs="?", default="**", metavar="PATTERN", help="only IDs matching this pattern"
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--json",
        action="store_true",
        help='print JSON (id, provider, metadata, version: "" where the listing does not know '
        "it; expires, expiry, expired where set; deleted with --deleted)",
    )
    output.add_argument(
        "-l", "--long", action="store_true", help="show provider, expiry (where set) and metadata"
    )
    parser.add_argument(
        "--all-realms",
        action="store_true",
        help=f"include internal secrets ({ENGINE_REALM}/**)",
    )
    parser.add_argument(
        "--deleted",
        action="store_true",
        help="also list secrets whose latest version is deleted, marked '(deleted)' "
        "(plugins that keep deleted versions: vault; restore one with 'undelete')",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--all-plugins", action="store_true", help="list the secrets of every running plugin"
    )
    add_plugin_option(which, "list")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from docker_pass.cli import render

    pattern = Pattern.parse(args.pattern)
    if args.all_plugins and args.deleted:
        from docker_pass.core.engine import Engine

        # Embedded: the daemon's listing carries no deleted secrets.
        with Engine() as engine:
            listing = engine.list_secrets(pattern, reserved=args.all_realms, deleted=True)
    elif args.all_plugins:
        from docker_pass.cli.commands.engine import engine_for

        with engine_for(args) as front:
            listing = front.list_secrets(pattern, reserved=args.all_realms)
    else:
        with engine_with_plugin(args) as engine:
            listing = engine.list_secrets(
                pattern, plugin=args.plugin, reserved=args.all_realms, deleted=args.deleted
            )
    return render.listing(listing, long=args.long, as_json=args.json, deleted=args.deleted)
