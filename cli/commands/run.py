"""`run [--env-file FILE]… -- CMD [ARGS…]`: run a command with se:// references resolved."""

from __future__ import annotations

import argparse
import os
import sys

from docker_pass.core.errors import DockerPassError, UsageError

EXAMPLES = """\
examples:
  GH_TOKEN=se://gh-token docker pass run -- gh repo list
  docker pass run --env-file .env -- ./deploy.sh
  docker pass run --explain --env-file .env -- true
  docker pass run --mask --env-file .env -- ./deploy.sh   # values in its output concealed

Only values that start with se:// are references; each must name one ID and resolve to exactly
one value, or the command does not start. Exit status: the command's own, 128+N if signal N
killed it, 1 if a reference could not be resolved or the command could not be started.

--mask (or DOCKER_PASS_MASK=1; --no-mask or DOCKER_PASS_MASK=0 turns it off) passes the
command's stdout and stderr through a filter that replaces every resolved value, its base64
form and its form inside a JSON string, with <concealed by docker-pass>. On a terminal the
command gets a pseudo-terminal of its own, so colours, line editing and full-screen programs
keep working. A value written in pieces is still caught: bytes that could begin a value are
held back until the next bytes show they do not (or the output ends); everything else is
written at once. Masking protects logs and screens from an accidental print; it does not
protect against a command that wants to reveal a value: it can transform it (reverse, hex,
split) and print it. Without --mask the command runs exactly as before, with no filtering
process."""


#: Sets run's --mask default (read here: the fast path imports nothing for it).
MASK_ENV = "DOCKER_PASS_MASK"
_ON = frozenset({"1", "true", "yes", "on"})
_OFF = frozenset({"", "0", "false", "no", "off"})


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "run",
        help="Run a command with se:// environment references resolved",
        description=(
            "Run a command with every environment variable whose value is se://<id> replaced "
            "by the secret. The environment is this process's, then each --env-file in order "
            "(later files override earlier ones)."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--env-file",
        action="append",
        default=[],
        metavar="FILE",
        help="read variables from a dotenv file (repeatable)",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help=(
            "print how each reference resolves (plugins asked, which answered, the provider "
            "used; never the value; failing ones with their error) and exit without running "
            "the command: 0 if every reference resolves, else 1"
        ),
    )
    parser.add_argument(
        "--mask",
        action="store_true",
        default=None,
        help="conceal every resolved value (and its base64 form) in the command's output "
        "(default: DOCKER_PASS_MASK=1); protects logs, not against a command set on "
        "revealing a value",
    )
    parser.add_argument(
        "--no-mask", dest="mask", action="store_false", help="do not mask (over DOCKER_PASS_MASK)"
    )
    parser.add_argument("command_argv", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from docker_pass.cli.child import interruptible, run_child
    from docker_pass.cli.commands.engine import engine_for
    from docker_pass.core.envfiles import load_environment
    from docker_pass.core.hardening import make_non_dumpable
    from docker_pass.core.references.resolution import has_references, resolve_references

    # Before any value is read (env files may hold plain values; references resolve below);
    # the child gets the user's core limit back.
    user_limits = make_non_dumpable()
    interruptible()

    argv = list(args.command_argv)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv and not args.explain:
        raise UsageError("run needs a command: run [--env-file FILE]... -- CMD [ARGS...]")
    env_files = []
    if args.env_file:
        from pathlib import Path  # ~3.5 ms (urllib, ipaddress): only when there are files

        env_files = [Path(name) for name in args.env_file]
    env = load_environment(env_files, os.environb)
    given = env
    note = ""
    if has_references(env):
        with engine_for(args) as engine:
            try:
                # --explain tries every reference and reports each failure; a run stops at
                # the first.
                env, report = resolve_references(env, engine.resolve, keep_going=args.explain)
            except DockerPassError as exc:
                raise exc.with_hints(*exc.hints, *_not_asked(engine)) from None
            if any(item.failed for item in report):
                note = "".join(_not_asked(engine))
    else:
        report = []
    if args.explain:
        from docker_pass.cli import render

        code = render.explain(report)
        if note:
            print(f"Hint: {note}", file=sys.stderr)
        return code
    if _masking(args.mask):
        from docker_pass.cli.mask import masked_io

        resolved = [value for name, value in env.items() if given.get(name) != value]
        return run_child(argv, env, user_limits=user_limits, io=masked_io(resolved))
    return run_child(argv, env, user_limits=user_limits)


def _masking(flag: bool | None) -> bool:
    """--mask / --no-mask, else DOCKER_PASS_MASK (1/true/yes/on; 0/false/no/off/empty)."""
    if flag is not None:
        return flag
    text = os.environ.get(MASK_ENV, "").strip().lower()
    if text in _ON:
        return True
    if text in _OFF:
        return False
    raise UsageError(f"{MASK_ENV} must be 1 or 0 (true/false, yes/no, on/off)")


def _not_asked(engine: object) -> tuple[str, ...]:
    """The hint that the external plugins were not asked, when ``engine`` is an embedded
    one (only the daemon hosts them) and any are installed."""
    from docker_pass.core.remote.front import EMBEDDED_KIND, front_kind

    if front_kind(engine) != EMBEDDED_KIND:
        return ()
    from docker_pass.core.external import not_asked

    note = not_asked()
    return (note,) if note else ()
