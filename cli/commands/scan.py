"""`scan [TARGET…]`: search Docker's surfaces and files for the values of stored secrets."""

from __future__ import annotations

import argparse
from pathlib import Path

EXAMPLES = """\
examples:
  docker pass scan                          # containers, images, history; ./compose.yaml, .env
  docker pass scan --layers --logs          # also the files of every image layer, and logs
  docker pass scan --no-engine src/ .env    # only these paths (a folder is walked)
  docker pass scan --pattern 'prod/**' --json
  docker pass scan --no-engine . || exit 1  # in a pre-push hook or CI

What is searched, straight from the Docker engine (never through the docker-pass proxy):
every container's Env, Cmd, Entrypoint and Labels; every image's (docker images) Env, Cmd,
Entrypoint, Labels and history (CreatedBy holds build args); with --layers, every regular file
in every image layer (streamed from 'docker save', never unpacked to disk); with --logs, every
container's logs, by line. Then the paths given, or else the files docker compose would read
here (the Compose file, its override file and .env, as check finds them) and the env files its
services name.

Each value is searched as its exact bytes, as base64 and URL-safe base64 (at any alignment,
padded or not, alone or inside a longer blob), URL-encoded, escaped as in a JSON string or a
double-quoted .env value (\\n, \\", \\uXXXX) and with each $ doubled as in a Compose
file (encodings raw, base64, base64url, url, escaped, compose). Values shorter than
--min-length bytes (default 8) are not searched: the report says how many and which.

Not searched: the files inside containers (only images' layers), volumes, build caches,
registries, .git/.hg/.svn folders (compressed), files reached through symbolic links in a
walked folder, FIFOs and devices (each said on stderr), compressed or encrypted data, values
split by something other than a chunk boundary (a line wrap in base64, a line continuation).

A variable the docker-pass proxy resolved into a container it created is listed as expected
and does not fail the scan. Values are held in memory only; no output holds one.
Exit status: 0 when nothing is found; 1 when a value is found, or a source asked for could
not be read (the engine, a path given, a plugin that failed); 130 when interrupted (what was
found so far is printed)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "scan",
        help="Search containers, images, layers, logs and files for stored secret values",
        description=(
            "Load the values of the secrets --pattern selects into memory once and search "
            "Docker's surfaces and files for them. Reports the secret's ID, plugin, where it "
            "was found and in which encoding; never the value."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "targets",
        nargs="*",
        type=Path,
        metavar="TARGET",
        help="a file or folder to search (default: this project's Compose and env files)",
    )
    parser.add_argument(
        "--pattern", default="**", help="the secrets whose values to look for (default: **)"
    )
    parser.add_argument(
        "--min-length",
        type=_min_length,
        default=None,
        metavar="N",
        help="skip values shorter than N bytes (default: 8)",
    )
    parser.add_argument("--layers", action="store_true", help="also search image layers' files")
    parser.add_argument("--logs", action="store_true", help="also search containers' logs")
    parser.add_argument(
        "--no-engine", action="store_true", help="do not search the Docker engine, only files"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run)


def _min_length(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def run(args: argparse.Namespace) -> int:
    from docker_pass.cli.commands.engine import engine_for
    from docker_pass.cli.scan_render import TerminalProgress, render_report
    from docker_pass.core.hardening import make_non_dumpable
    from docker_pass.core.ids import Pattern
    from docker_pass.core.scan.files import project_files
    from docker_pass.core.scan.matcher import DEFAULT_MIN_LENGTH, Matcher
    from docker_pass.core.scan.scanner import ScanPlan, load_values, new_report, run_scan

    pattern = Pattern.parse(args.pattern)
    make_non_dumpable()  # every selected value is held in memory for the whole scan
    with engine_for(args) as engine:
        values, problems, notes = load_values(engine.resolve, pattern)
    min_length = args.min_length if args.min_length is not None else DEFAULT_MIN_LENGTH
    matcher = Matcher(values, min_length=min_length)
    del values  # the matcher holds what is searched; nothing else keeps the values
    report = new_report(matcher)
    report.problems.extend(problems)
    report.notes.extend(notes)
    paths = list(args.targets) or project_files(Path(), report)
    api = None
    if not args.no_engine:
        from docker_pass.core.docker.engine_api import upstream_engine

        api = upstream_engine()
    plan = ScanPlan(api, paths, layers=args.layers, logs=args.logs)
    progress = TerminalProgress.for_stderr()
    try:
        with progress:
            run_scan(plan, matcher, report, progress)
    except KeyboardInterrupt:
        report.interrupted = True
    return render_report(report, as_json=args.json)
