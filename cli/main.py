"""The ``docker-pass`` command: argument parsing, dispatch, and the one place errors are printed.

Only light modules are imported here; each verb imports what it needs when it runs, so
``version``, ``get``, ``ls`` and ``run`` never pay for Textual, Rich or the 1Password SDK.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import suppress
from typing import TYPE_CHECKING, Any, NoReturn

from docker_pass.cli import commands
from docker_pass.cli.plugin_protocol import (
    METADATA_COMMAND,
    print_metadata,
    program_name,
    running_under_docker,
)
from docker_pass.core.errors import DockerPassError, UsageError, describe_unexpected, shorten

if TYPE_CHECKING:
    from collections.abc import Sequence

DEBUG_ENV = "DOCKER_PASS_DEBUG"
#: How argparse starts its message about words it could not place.
UNRECOGNIZED = "unrecognized arguments:"


def _untranslated(message: str) -> str:
    return message


def _skip_gettext_lookups() -> None:
    """argparse passes each of its strings through ``gettext``, which searches the locale
    folders for a catalog on every call (~1 ms each, a dozen per command).  Python ships no
    catalog for argparse; when none is installed, the strings are returned as they are.

    A catalog can only be in gettext's locale folder: when that folder does not exist (the
    usual case) one stat says so, and ``gettext.find`` (which imports ``locale``, ~1 ms) is
    never called."""
    import gettext

    folder = getattr(gettext, "_default_localedir", "")
    if not os.path.isdir(folder) or gettext.find("messages") is None:
        argparse._ = _untranslated  # type: ignore[attr-defined]


_skip_gettext_lookups()


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` finds it, without importing shutil
    (argparse imports it for every parser it builds: a few ms of every command's start-up)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno() if sys.__stdout__ else 1).columns
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        width = width if width is not None else _columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


class _RawFormatter(_Formatter, argparse.RawDescriptionHelpFormatter):
    pass


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help formatters measure the terminal without shutil, and whose
    mistakes are ordinary errors: ``Error: <argparse's message>`` with a hint, exit 1."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        chosen = kwargs.get("formatter_class", argparse.HelpFormatter)
        raw = issubclass(chosen, argparse.RawDescriptionHelpFormatter)
        kwargs["formatter_class"] = _RawFormatter if raw else _Formatter
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        # argparse would print its usage and exit 2; a mistake on the command line is an error
        # like any other (one line, exit 1), and the hint says where the usage is.
        if message.startswith(UNRECOGNIZED):
            # Words we did not expect may be a secret typed in the wrong place (a token after
            # `plugins 1password setup`): count them, never echo them.
            count = len(message[len(UNRECOGNIZED) :].split())
            noun = "argument" if count == 1 else "arguments"
            message = f"{count} unexpected {noun} (not shown, in case one is a secret)"
        raise UsageError(shorten(message, 300)).with_hints(f"run '{self.prog} --help' for usage")


def build_parser(prog: str, only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; each verb module adds its own subparser (``only``: just that one)."""
    parser = _Parser(
        prog=prog,
        description=(
            "Manage secrets in your OS keychain and other stores, and resolve se:// references "
            "into a command's environment. Compatible with Docker's `docker pass`."
        ),
        epilog=f"Run '{prog} COMMAND --help' for more information on a command.",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help=f"show tracebacks and diagnostics on stderr (also: {DEBUG_ENV}=1)",
    )
    parser.add_argument(
        "--no-daemon",
        action="store_true",
        help="use an embedded engine even when the engine daemon runs",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in commands.load([only] if only else None):
        module.register(sub)
    _accept_debug_anywhere(sub)
    return parser


def _accept_debug_anywhere(sub: argparse._SubParsersAction[Any]) -> None:
    """Let the global flags follow the verb too (``docker pass run --no-daemon -- …``)."""
    for parser in set(sub.choices.values()):
        accept_global_flags(parser)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                _accept_debug_anywhere(action)


def accept_global_flags(parser: argparse.ArgumentParser) -> None:
    """Let ``--debug`` and ``--no-daemon`` follow a (sub)command's own words; for a parser
    added while parsing (``plugins setup NAME``'s, built from NAME's setup form)."""
    for flag in ("--debug", "--no-daemon"):
        if flag not in parser._option_string_actions:
            parser.add_argument(
                flag, action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
            )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == [METADATA_COMMAND]:
        print_metadata()
        return 0
    under_docker = running_under_docker(args_list)
    if under_docker:
        args_list = args_list[1:]  # docker passes the plugin's name first
    first = next((a for a in args_list if not a.startswith("-")), None)
    parser = build_parser(program_name(under_docker), commands.verb_for(first) if first else None)
    try:
        args = parser.parse_args(args_list)
    except DockerPassError as exc:
        return _report(exc)
    debug = bool(args.debug) or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        code: int = handler(args)
    except DockerPassError as exc:
        if debug:
            raise
        return _report(exc)
    except RecursionError:
        if debug:
            raise
        # A pattern, ID or document so long or deeply nested that a recursive step ran out of
        # stack: the input's fault, not ours (see the matcher's overlap test in core/ids.py).
        print("Error: the input is too long or too deeply nested to process", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # stdout closed early (``docker pass ls | head``): not an error of ours.
        _silence_stdout()
        return 0
    except Exception as exc:
        if debug:
            raise
        # An unexpected error's text may come from a library and could hold data; show its kind.
        print(f"Error: {describe_unexpected(exc)}; run with --debug for details", file=sys.stderr)
        return 1
    return code


#: The longest ``Error:`` or ``Hint:`` line printed (a message quotes at most 200 characters
#: of any one input, so only a flood from outside comes near it).
MESSAGE_LIMIT = 1000


def _report(exc: DockerPassError) -> int:
    """Print ``exc`` as the one ``Error:`` line and its ``Hint:`` lines; the exit code.

    Messages quote files, servers and other programs: whatever reached one uncleaned leaves
    here as one line of printable text (no escape sequence or control byte reaches the
    terminal), through the one sanitizer."""
    from docker_pass.core.outside import clean_outside

    message = str(exc)
    lines = [f"Error: {clean_outside(message, MESSAGE_LIMIT)}"]
    for hint in exc.hints:
        if hint not in message:  # a remedy the message already gives is not said twice
            lines.append(f"Hint: {clean_outside(hint, MESSAGE_LIMIT)}")
    with suppress(OSError, ValueError):  # a reader that went away takes nothing more
        sys.stdout.flush()  # whatever the verb printed comes before its failure
    print("\n".join(lines), file=sys.stderr, flush=True)
    return 1


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def entry() -> NoReturn:
    """The ``docker-pass`` executable: :func:`main`, then the process ends at once.

    Python's finalisation tears down every module and object before a process exits: ~5 ms of
    a ``get`` that takes ~45 ms.  Nothing of ours needs it: the engine, its plugins and every
    file are closed by ``with`` blocks before :func:`main` returns, and worker threads a hung
    plugin keeps are not worth waiting for (the daemon ends the same way).  So the standard
    streams are flushed, logging's handlers too when a verb used them, and the process exits.
    Tests and other callers use :func:`main`, which returns.
    """
    code = main()
    if "logging" in sys.modules:
        import logging

        logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        # A reader that went away (`docker pass ls | head`) takes nothing more.
        with suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
