"""`rollout PATTERN`: recreate the containers and Compose services that use the secrets PATTERN
matches, so they get the current values."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError, UsageError
from docker_pass.core.ids import Pattern

if TYPE_CHECKING:
    from docker_pass.core.docker.rollout import RolloutOutcome, RolloutPlan

EXAMPLES = """\
examples:
  docker pass set db/password && docker pass rollout db/password
  docker pass set --rollout db/password          # the same in one step
  docker pass rollout --dry-run 'db/**'          # print the plan, change nothing
  docker pass rollout -y db/password             # scripts: no question

A rollout RESTARTS containers. What uses a secret is found as 'docker pass uses' finds it:
containers made through the docker-pass proxy (their docker-pass.references and x-secret:
labels) and the Compose services of their projects. Compose services are recreated by
Compose itself (docker compose -p P -f FILES up -d --force-recreate --no-deps SERVICES, in the
project's folder, through the proxy); a service with no container is not started. A plain
container is recreated from its inspected config with its references put back (same name,
image, networks, volumes, restart policy): the new one is created under a temporary name, the
old one stopped, the new one started, and only then is the old one removed (its volumes kept).
If the new one fails to start, it is removed and the old one started again.
Refused, with the reason and the command to run instead: a container started with --rm, one
keeping data in an anonymous volume, one not made through the proxy, one sharing the network
of a recreated container, a Compose project whose files are gone.
Needs the engine daemon with its Docker proxy ('docker pass engine run'), except --dry-run.
Exit status: 0 when everything planned was recreated (or nothing uses the secrets); 1 when
anything failed or was refused (the rest is still done), or the rollout was not confirmed."""


NO_TERMINAL = "a rollout restarts containers: pass -y to roll out without a terminal"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "rollout",
        help="Recreate the containers that use changed secrets",
        description=(
            "Recreate every container and Compose service that uses a secret PATTERN matches, "
            "so it gets the current value. Prints the plan first and asks on a terminal."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("pattern", metavar="PATTERN", help="the secret ID or pattern that changed")
    add_rollout_options(parser)
    parser.add_argument("--json", action="store_true", help="print the plan and outcome as JSON")
    parser.set_defaults(handler=run)


def add_rollout_options(parser: argparse.ArgumentParser) -> None:
    """``--dry-run`` and ``-y``, shared with ``set --rollout``."""
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be recreated, change nothing"
    )
    parser.add_argument(
        "-y", "--yes", action="store_true", help="do not ask before recreating (scripts)"
    )


def run(args: argparse.Namespace) -> int:
    pattern = Pattern.parse(str(args.pattern))
    return roll_out(args, pattern, dry_run=args.dry_run, yes=args.yes, as_json=args.json)


def rollout_possible(*, yes: bool) -> None:
    """Raise what a rollout would refuse with before it plans anything: no proxy running, or
    no ``-y`` and no terminal to ask on (``set --rollout`` checks this before it writes)."""
    from docker_pass.cli.questions import on_terminal
    from docker_pass.core.docker.engine_api import proxy_engine
    from docker_pass.core.docker.rollout import NO_PROXY

    if proxy_engine() is None:
        raise DockerPassError(NO_PROXY)
    if not yes and not on_terminal():
        raise UsageError(NO_TERMINAL)


def roll_out(
    args: argparse.Namespace, pattern: Pattern, *, dry_run: bool, yes: bool, as_json: bool
) -> int:
    """Find what uses the secrets ``pattern`` matches, print the plan, and (unless ``dry_run``,
    once confirmed) carry it out; the exit status."""
    from docker_pass.cli.commands.engine import engine_for
    from docker_pass.core.docker.engine_api import proxy_engine, upstream_engine
    from docker_pass.core.docker.rollout import DECLINED, NO_PROXY, carry_out, plan_rollout
    from docker_pass.core.docker.uses import gather, match_uses

    proxy = proxy_engine()
    if proxy is None and not dry_run:
        raise DockerPassError(NO_PROXY)
    with engine_for(args) as engine:
        infos = engine.list_secrets(pattern).infos
    if not infos:
        raise DockerPassError(f"no secret matches {pattern.value}")
    docker = upstream_engine()
    gathered = gather(docker)
    if gathered.docker:
        raise DockerPassError(f"cannot find what uses the secrets: {gathered.docker}")
    found = match_uses(gathered, infos)
    uses = [use for listed in found.uses.values() for use in listed]
    plan = plan_rollout(uses, docker)
    if plan.empty:
        if as_json:
            _print_json(plan, None)
        else:
            print(f"Nothing uses the secrets matching {pattern.value}: nothing to roll out.")
        return 0
    if not as_json:
        _print_plan(plan)
    if dry_run:
        if as_json:
            _print_json(plan, None)
        return 0
    if not (plan.projects or plan.containers or plan.leftovers):
        if as_json:
            _print_json(plan, None)
        print("Error: nothing can be rolled out (see refused above)", file=sys.stderr)
        return 1
    if not yes:
        from docker_pass.cli.questions import ask, on_terminal

        if not on_terminal():
            raise UsageError(NO_TERMINAL)
        if not ask("Roll out?"):
            print(DECLINED, file=sys.stderr)
            return 1
    if proxy is None:  # refused above unless dry_run
        return 1
    outcome = carry_out(plan, docker, proxy, report=_step)
    if as_json:
        _print_json(plan, outcome)
    else:
        _print_outcome(outcome)
    return 0 if outcome.ok else 1


def _step(line: str) -> None:
    from docker_pass.core.outside import clean_outside

    print(f"  {clean_outside(line, 600)}", file=sys.stderr, flush=True)


def _print_plan(plan: RolloutPlan) -> None:
    print(f"Rollout of {', '.join(plan.ids)}:")
    for line in plan.lines():
        print(f"  {line}")


def _print_outcome(outcome: RolloutOutcome) -> None:
    from docker_pass.core.outside import clean_outside

    for line in outcome.done:
        print(f"recreated {line}")
    for line in outcome.notes:
        print(f"note: {clean_outside(line, 600)}")
    for refused in outcome.refused:
        print(f"refused {clean_outside(refused.line(), 600)}")
    for line in outcome.failed:
        print(f"failed {clean_outside(line, 600)}")
    if not outcome.ok:
        left = len(outcome.failed) + len(outcome.refused)
        print(
            f"Error: {left} of the rollout's places were left as they were (see above)",
            file=sys.stderr,
        )


def _print_json(plan: RolloutPlan, outcome: RolloutOutcome | None) -> None:
    print(
        json.dumps(
            {"plan": plan.as_json(), "outcome": outcome.as_json() if outcome else None},
            indent=2,
        )
    )
