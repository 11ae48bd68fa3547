"""`set id[=value]`: store a secret in the keychain or another writable plugin (store, save)."""

from __future__ import annotations

import argparse
import os
import sys

from docker_pass.cli.plugin_choice import add_plugin_option
from docker_pass.core.errors import UsageError
from docker_pass.core.ids import ID

EXAMPLES = """\
examples:
  # the value on the command line (it lands in your shell history):
  docker pass set POSTGRES_PASSWORD=my-secret-password
  # the value on stdin, byte for byte (so mind echo's newline):
  printf %s "$TOKEN" | docker pass set gh/token
  # JSON on stdin with metadata:
  echo '{"secret": "s3cr3t", "metadata": {"env": "prod"}}' | docker pass set db/prod
  # no value and a terminal: you are prompted (no echo) and asked to confirm
  docker pass set db/prod --metadata owner=alice

Setting an ID that exists replaces its value and metadata, with or without --force
(as Docker's own tool does on Linux)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "set",
        aliases=["store", "save"],
        help="Set a secret",
        description="Set a secret. Without '=value', the value is read from stdin.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("secret", metavar="id[=value]", help="the secret's ID, optionally =value")
    parser.add_argument(
        "--metadata",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="metadata to store with the secret (repeatable; wins over JSON metadata)",
    )
    parser.add_argument(
        "-f", "--force", action="store_true", help="replace an existing secret (the default)"
    )
    add_plugin_option(parser, "store the secret in")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from docker_pass.cli.secret_input import parse_metadata_pairs, read_secret_from_stdin

    raw_id, has_value, inline_value = str(args.secret).partition("=")
    id_ = ID.parse(raw_id)
    flag_metadata = parse_metadata_pairs(args.metadata)
    if has_value:
        # The bytes as given: argv holds a non-UTF-8 byte surrogate-escaped, and fsencode
        # gives it back (``set a=$'\xff'`` stores the byte 0xff).
        value = os.fsencode(inline_value)
        metadata: dict[str, str] = {}
    else:
        value, metadata = read_secret_from_stdin(sys.stdin)
    metadata.update(flag_metadata)
    from docker_pass.core.envelope import metadata_key_problem

    for key in metadata:
        problem = metadata_key_problem(key)
        if problem:
            raise UsageError(problem)
    from docker_pass.cli.commands.engine import front_for_plugin

    with front_for_plugin(args) as engine:
        engine.save(id_, value, metadata, plugin=args.plugin)
    return 0
