"""`uses [PATTERN]`: every place that refers to the secrets a pattern matches (containers,
Compose services, files), never a value."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docker_pass.core.docker.engine_api import DockerApi
    from docker_pass.core.docker.usage import Gathered, Referrer
    from docker_pass.core.ids import Pattern

EXAMPLES = """\
examples:
  docker pass uses                         # every secret that something refers to
  docker pass uses db/password             # who would see a change of db/password
  docker pass uses 'db/**' --json
  docker pass uses --file compose.yaml --file .env.prod
  docker pass uses --dangling              # references no plugin has a secret for
  docker pass uses --unused                # secrets nothing refers to

Containers are read from the Docker engine the proxy forwards to (asked straight, running or
not): the variables the proxy resolved at their create (label docker-pass.references) and their
x-secret:<ID>=/path labels. Compose projects named by their containers' labels are read from
their config files, so a service that refers to a secret but has no container yet is listed
(marked "no container"). A reference by pattern (se://db/*) counts for every ID it matches and
says "by pattern". Expired and soon-expiring secrets are marked.
Without a reachable Docker engine one line on stderr says so, and the files are still read.
Exit status: 0 (also when nothing uses the secrets), 1 on a bad pattern or an unreadable --file."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "uses",
        help="List the containers, Compose services and files that use secrets",
        description=(
            "For each secret ID the pattern matches, every place that refers to it: containers "
            "(name, state, the variable or file label, the reference, their Compose project and "
            "service), Compose services (project/service, working dir, the file; 'no container' "
            "when none exists), and the files given with --file. IDs and metadata only: no "
            "value is read."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "pattern",
        nargs="?",
        default="**",
        metavar="PATTERN",
        help="the secrets to look for (default: every one)",
    )
    parser.add_argument(
        "--file",
        "-f",
        dest="files",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="also read this Compose or env file (repeatable), as 'check' reads it",
    )
    parser.add_argument(
        "--dangling",
        action="store_true",
        help="also list references that no plugin has a secret for (or that are not valid)",
    )
    parser.add_argument(
        "--unused", action="store_true", help="also list the matched secrets nothing refers to"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print one JSON document: {"uses": {ID: [places]}, "expiry", "dangling", '
        '"unused", "docker" ("" when the containers were read, else why not), "problems"}',
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from docker_pass.cli import render_uses
    from docker_pass.cli.commands.engine import engine_for
    from docker_pass.core.docker.uses import match_uses
    from docker_pass.core.ids import Pattern

    pattern = Pattern.parse(args.pattern)
    # The engine's listing and Docker's answer are both waits: asked at the same time (the
    # Docker client's import too: http.client is ~20 ms).
    gathering = _Gathering(args.files)
    gathering.start()
    everything = Pattern.parse("**")
    try:
        with engine_for(args) as engine:
            listing = engine.list_secrets(everything if args.dangling else pattern)
    finally:
        gathering.join()
    gathered = gathering.outcome()
    matched = [info for info in listing.infos if pattern.matches(info.id)]
    report = match_uses(gathered, matched, unused=args.unused)
    if args.dangling:
        every = match_uses(gathered, listing.infos, dangling=True)
        report.dangling = [r for r in every.dangling if _concerns(r, pattern)]
    return render_uses.uses(report, listing, pattern.value, as_json=args.json)


class _Gathering(threading.Thread):
    """:func:`~docker_pass.core.docker.uses.gather` in a thread; its error raised on
    :meth:`outcome`, in the command's thread."""

    def __init__(self, files: list[Path]) -> None:
        super().__init__(name="uses-gather", daemon=True)
        self._files = files
        self._found: Gathered | None = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            from docker_pass.core.docker.uses import gather

            docker, why_not = _upstream()
            found = gather(docker, self._files)
            if why_not:
                found.docker = why_not
            self._found = found
        except BaseException as exc:  # noqa: BLE001 - raised again in the command's thread
            self._error = exc

    def outcome(self) -> Gathered:
        """What was gathered, or the error gathering raised."""
        if self._error is not None or self._found is None:
            raise self._error or RuntimeError("gathering did not finish")
        return self._found


def _concerns(referrer: Referrer, pattern: Pattern) -> bool:
    """Whether a dangling referrer is about IDs ``pattern`` matches (one whose target is no
    ID or pattern at all concerns every pattern that matches everything)."""
    from docker_pass.core.docker.uses import target_pattern

    target = target_pattern(referrer)
    if target is None:
        return pattern.includes("**")
    return pattern.overlaps(target)


def _upstream() -> tuple[DockerApi | None, str]:
    """The engine the proxy forwards to, or ``None`` and why it cannot be named."""
    from docker_pass.core.docker.engine_api import upstream_engine
    from docker_pass.core.errors import DockerPassError

    try:
        return upstream_engine(timeout=15.0), ""
    except DockerPassError as exc:
        return None, f"containers not listed: {exc}"
