"""`rm NAME…` / `rm --all`: remove secrets from the keychain (aliases: delete, erase, remove)."""

from __future__ import annotations

import argparse
import sys

from docker_pass.core.errors import DockerPassError, UsageError
from docker_pass.core.ids import ID, Pattern


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
        help="with --all, also remove internal secrets (docker/secrets-engine/**)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from docker_pass.cli.keychain import open_keychain
    from docker_pass.core.plugin import INTERNAL_REALM

    if bool(args.names) == bool(args.all):
        raise UsageError("either provide a secret name or use --all to remove all secrets")
    ids = [ID.parse(name) for name in args.names]
    keychain = open_keychain()
    try:
        if args.all:
            ids = [i.id for i in keychain.list(Pattern.parse("**"))]
            if not args.all_realms:
                ids = [i for i in ids if not INTERNAL_REALM.matches(i)]
            if not ids:
                print("Nothing to remove.", file=sys.stderr)
                return 0
            if sys.stdin.isatty() and not args.yes and not _confirm(len(ids)):
                print("Nothing removed.", file=sys.stderr)
                return 1
        failed = False
        for id_ in sorted(set(ids)):
            try:
                existed = keychain.delete(id_)
            except DockerPassError as exc:
                failed = True
                print(f"ERR: {id_.value}: {exc}", flush=True)
                continue
            if existed:
                print(f"RM: {id_.value}", flush=True)
            else:
                print(f"{id_.value}: secret not found, nothing to remove", file=sys.stderr)
    finally:
        keychain.stop()
    return 1 if failed else 0


def _confirm(count: int) -> bool:
    noun = "secret" if count == 1 else "secrets"
    answer = input(f"Remove all {count} {noun}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")
