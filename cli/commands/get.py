"""`get NAME`: show a secret from a plugin (the keychain by default), masked unless --reveal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.cli.plugin_choice import add_plugin_option, engine_with_plugin
from docker_pass.core.ids import ID

if TYPE_CHECKING:
    import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "get",
        help="Get a secret from a keystore",
        description=(
            "Get a secret from a keystore. The value is masked unless you pass --reveal, "
            "which prints the value alone (for $(docker pass get --reveal NAME))."
        ),
    )
    parser.add_argument("name", metavar="NAME", help="the secret's ID")
    parser.add_argument("--reveal", action="store_true", help="print the value itself")
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--json",
        action="store_true",
        help="print id, provider, metadata, version (and value with --reveal)",
    )
    output.add_argument(
        "--version",
        action="store_true",
        help="print the secret's version alone (for 'set --if-version'); never the value",
    )
    add_plugin_option(parser, "read from")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from docker_pass.cli import render
    from docker_pass.core.errors import SecretNotFoundError

    id_ = ID.parse(args.name)
    with engine_with_plugin(args) as engine:
        try:
            envelope = engine.get(id_, plugin=args.plugin)
        except SecretNotFoundError as exc:
            # Stores say upstream's bare "secret not found"; the person asked for this ID.
            raise exc.naming(id_.value) from None
    if args.version:
        return render.version(envelope)
    render.envelope(envelope, reveal=args.reveal, as_json=args.json)
    return 0
