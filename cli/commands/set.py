"""`set id[=value]`: store a secret in the keychain or another writable plugin (store, save)."""

from __future__ import annotations

import argparse
import os
import sys

from docker_pass.cli.plugin_choice import add_plugin_option
from docker_pass.core.errors import DockerPassError, UsageError
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
  # only if it is still the version you read (scripts: read, decide, write):
  v=$(docker pass get --version db/prod) && docker pass set --if-version "$v" db/prod=new
  # only if there is no such secret yet:
  docker pass set --if-version absent db/prod=first
  # then recreate the containers and Compose services that use it (asks first; -y: no question):
  printf %s "$NEW" | docker pass set --rollout -y db/prod

Setting an ID that exists replaces its value and metadata, with or without --force
(as Docker's own tool does on Linux): a blind write, whatever changed since you last read it,
with or without the engine daemon. --if-version makes it conditional: when the stored secret
is another version, nothing is written and the exit status is 1 ("ID changed since version V:
it is now version W …"). Plugins that keep no versions refuse --if-version.

One ID, one answer: when another running plugin holds the ID already, saving it here too makes
se://ID match two secrets, so every reference to it fails. set then prints a Warning: naming
the other plugin and asks "Save anyway?" on a terminal; without one it refuses (exit 1) unless
--allow-duplicate is given."""


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
    parser.add_argument(
        "--if-version",
        metavar="V",
        help="write only if the stored secret is version V ('absent' or 'none': only if there "
        "is no such secret); see 'docker pass get --version'",
    )
    parser.add_argument(
        "--allow-duplicate",
        action="store_true",
        help="save even when another running plugin holds the same ID (se://ID then fails)",
    )
    parser.add_argument(
        "--rollout",
        action="store_true",
        help="then recreate what uses the secret so it gets the new value (see 'docker pass "
        "rollout --help'; it restarts containers)",
    )
    parser.add_argument(
        "-y", "--yes", action="store_true", help="with --rollout: do not ask before recreating"
    )
    add_plugin_option(parser, "store the secret in")
    parser.set_defaults(handler=run)


#: How --if-version names "there must be no such secret" (any case).
CREATE_ONLY = ("absent", "none")


def expected_version(text: str | None) -> str | None:
    """The version ``--if-version`` asks for (:mod:`docker_pass.core.versions`): ``None``
    without it (a blind write), ``NO_SECRET`` for a create-only write."""
    if text is None:
        return None
    from docker_pass.core.versions import NO_SECRET

    token = text.strip()
    if token.lower() in CREATE_ONLY:
        return NO_SECRET
    if not token:
        raise UsageError("--if-version needs a version (or 'absent' for a new secret)")
    return token


def run(args: argparse.Namespace) -> int:
    from docker_pass.cli.secret_input import parse_metadata_pairs

    raw_id, equals, inline_value = str(args.secret).partition("=")
    has_value = bool(equals)
    id_ = ID.parse(raw_id)
    flag_metadata = parse_metadata_pairs(args.metadata)
    expected = expected_version(args.if_version)
    if args.yes and not args.rollout:
        raise UsageError("-y/--yes goes with --rollout (set itself never asks)")
    if args.rollout:
        from docker_pass.cli.commands.rollout import rollout_possible

        rollout_possible(yes=args.yes)  # before anything is written: a refusal saves nothing
    # The value is read (and checked) first, unless a person is to type it: then the
    # duplicate question, if any, comes before the prompt.
    prompted = not has_value and sys.stdin.isatty()
    given = None if prompted else _value_and_metadata(has_value, inline_value, flag_metadata)
    from docker_pass.cli.commands.engine import engine_for

    # Every running plugin, not only the one written to: the duplicate rule asks them all.
    with engine_for(args) as engine:
        from docker_pass.cli.questions import allow_duplicates, duplicates_of

        duplicates = duplicates_of(engine, {id_: id_}, args.plugin)
        allow_duplicates(duplicates, args.plugin, allowed=args.allow_duplicate, verb="save")
        value, metadata = given or _value_and_metadata(has_value, inline_value, flag_metadata)
        from docker_pass.core.errors import VersionConflictError

        try:
            engine.save(id_, value, metadata, plugin=args.plugin, expected_version=expected)
        except VersionConflictError as exc:
            from docker_pass.cli.render import conflict

            raise DockerPassError(conflict(id_, exc)) from None
    if args.rollout:
        from docker_pass.cli.commands.rollout import roll_out
        from docker_pass.core.ids import Pattern

        return roll_out(args, Pattern.parse(id_.value), dry_run=False, yes=args.yes, as_json=False)
    return 0


def _value_and_metadata(
    has_value: bool, inline_value: str, flag_metadata: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    """The value given (inline or on stdin) and its metadata, the flags' over JSON's."""
    from docker_pass.cli.secret_input import read_secret_from_stdin

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
    return value, metadata
