"""`check [FILE…]`: list the se:// references in Compose and env files and how each resolves."""

from __future__ import annotations

import argparse
from pathlib import Path

from docker_pass.core.expiry import SOON_DAYS

EXAMPLES = """\
examples:
  docker pass check                              # compose.yaml (or docker-compose.yml…) and .env
  docker pass check deploy/compose.yaml .env.prod
  docker pass check --json compose.yaml
  docker pass check --fail-on-expiry            # CI: exit 1 when a secret expires within 14 days
  docker pass check --fail-on-expiry --expiry-days 0   # only when one has expired

Only values that start with se:// as written are references (Compose's ${VAR} interpolation is
not applied first). Each must name one ID and resolve to exactly one value, as 'run' requires.
A variable that reaches the container empty (GH_TOKEN=, GH_TOKEN: with no value, or GH_TOKEN
alone with nothing in this shell) is listed as a lookup by name: it takes the secret whose ID
is its name, or is left empty (which never fails the check).
A reference whose secret has expired, or expires within --expiry-days (its "expires" metadata),
is marked in an EXPIRY column (JSON: an "expiry" field on that row).
Exit status: 0 when every reference resolves (or there are none), 1 when any does not, and with
--fail-on-expiry also 1 when a referenced secret is expired or expires within the window."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "check",
        help="Check the se:// references in Compose and env files",
        description=(
            "List every se:// reference in Compose files and env files, with its file, "
            "service, variable and status: resolves (with the provider), not found, ambiguous "
            "(which plugins answered), invalid (why the ID is not one), or error. Never a "
            "value. A Compose file's env_file: entries are read too, relative to its folder. "
            "Without FILE: the files docker compose would read here: those COMPOSE_FILE "
            "names, else the first of compose.yaml, compose.yml, docker-compose.yml, "
            "docker-compose.yaml in this folder or the nearest one above, with its override "
            "file (compose.override.yml ...); and this folder's .env, else the project's."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="a Compose file (.yaml/.yml, or YAML with services:) or an env file",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--fail-on-expiry",
        action="store_true",
        help="exit 1 when a referenced secret is expired or expires within --expiry-days "
        "(each is named on stderr)",
    )
    parser.add_argument(
        "--expiry-days",
        type=_days,
        default=None,
        metavar="N",
        help=f"the window of 'expires soon', in days (default {SOON_DAYS}; 0: expired only)",
    )
    parser.set_defaults(handler=run)


def _days(text: str) -> int:
    """``--expiry-days``: a whole number of days, 0 or more."""
    try:
        days = int(text)
    except ValueError:
        days = -1
    if days < 0 or days > 100_000:
        raise argparse.ArgumentTypeError(f"not a number of days (0 or more): {text!r}")
    return days


def run(args: argparse.Namespace) -> int:
    from docker_pass.cli import render
    from docker_pass.core.docker.compose import check_references, default_files, find_references

    files = list(args.files) or default_files(Path())
    found = find_references(files)
    checked = []
    if found:
        from docker_pass.cli.commands.engine import engine_for
        from docker_pass.core.hardening import make_non_dumpable

        make_non_dumpable()  # values are read (and dropped at once) to check each reference
        lookup_off = _lookup_off() if any(ref.lookup for ref in found) else ""
        with engine_for(args) as engine:
            checked = check_references(found, engine.resolve, lookup_off=lookup_off)
    return render.check(
        checked,
        files,
        as_json=args.json,
        expiry_days=args.expiry_days,
        fail_on_expiry=args.fail_on_expiry,
    )


def _lookup_off() -> str:
    """What turned the empty-value lookup off, or "" while it is on: the running engine's own
    setting when one serves the Docker proxy, else what it would start with."""
    from docker_pass.core.docker.container import empty_lookup_setting
    from docker_pass.core.remote.endpoint import lock_holder

    holder = lock_holder() or {}
    if isinstance(holder.get("empty_env_lookup"), bool):
        on, source = bool(holder["empty_env_lookup"]), "the running engine's setting"
        if holder.get("empty_env_lookup_source"):
            source += f": {holder['empty_env_lookup_source']}"
    else:
        on, source = empty_lookup_setting()
    return "" if on else source
