"""``plugins setup NAME [--FIELD VALUE …]`` and ``plugins purge NAME``, generated from the setup
form plugin NAME describes (:class:`~docker_pass.core.setup.Setup`): no plugin has code here.

argparse learns NAME before it needs NAME's options: when it checks the word against the
subcommands it knows (:class:`ParsersByName`), the form is read through the plugin registry
(:func:`~docker_pass.core.setup.setup_called`) and that plugin's parser is added there and then.
So only the named plugin's class is loaded, and a plugin installed through the
``docker_pass.plugins`` entry-point group gets its commands, its ``--help`` and its messages
from its form alone.

Each setting of the form is a flag (``--ca-cert FILE`` for ``ca_cert``; its help, default and
kind from the form); a secret never is: the one in play is read from stdin
(:mod:`docker_pass.cli.plugin_setup`).  ``plugins NAME setup|purge`` are the same commands
under the plugin's name or one of its form's aliases (``plugins 1password setup``, as Docker
documents it).
"""

from __future__ import annotations

import argparse
from functools import partial
from typing import TYPE_CHECKING, Any

from docker_pass.core.errors import UsageError, shorten

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeAlias

    from docker_pass.core.setup import Setup, SetupField

    Verbs: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

#: Parsed answers are kept under this prefix, apart from every other option's attribute.
ANSWER = "answer:"
#: How the listing of plugins with a setup form begins.
SETUPS_TITLE = "plugins that can be set up"
#: Where a secret is read from, whatever the plugin.
STDIN_ONLY = (
    "is read from stdin only, never from the command line (on a terminal: at a prompt that does "
    "not echo)."
)


def register(verbs: Verbs) -> None:
    """Add ``setup`` and ``purge`` to the ``plugins`` verbs, and let a plugin's name (or an
    alias of its form) be a verb too: ``plugins vault setup``."""
    setup = verbs.add_parser(
        "setup",
        help="Set up a plugin: store what it asks for, and enable it",
        description=(
            "Store what plugin NAME asks for (a secret from stdin, settings from its options),\n"
            "checked first, and enable it. Each plugin's options: 'plugins setup NAME --help'."
        ),
        add_help=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_listing_help(setup)
    names = setup.add_subparsers(dest="setup_plugin", metavar="NAME", title="plugins")
    ParsersByName.install(names, partial(_add_named, names, _setup_parser))
    setup.set_defaults(handler=partial(print_help_with_listing, setup))

    purge = verbs.add_parser(
        "purge",
        help="Disable a plugin and remove the secrets its setup stored",
        description="Disable plugin NAME and remove the secrets its setup stored.",
        add_help=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_listing_help(purge)
    purged = purge.add_subparsers(dest="purge_plugin", metavar="NAME", title="plugins")
    ParsersByName.install(purged, partial(_add_named, purged, _purge_parser))
    purge.set_defaults(handler=partial(print_help_with_listing, purge))

    ParsersByName.install(verbs, partial(_add_plugin_verb, verbs))


class ParsersByName(dict[str, argparse.ArgumentParser]):
    """A subcommand action's parsers by name, where a name argparse asks about (the word it
    checks against the subcommands, before it parses what follows) is first given to ``build``,
    which may add its parser."""

    def __init__(self, build: Callable[[str], object]) -> None:
        super().__init__()
        self._build = build
        self._building = False

    @classmethod
    def install(cls, action: Verbs, build: Callable[[str], object]) -> None:
        """Make ``action``'s subcommands (those it has, and more) found through ``build``."""
        parsers = cls(build)
        parsers.update(action.choices or {})
        # argparse keeps the parsers in this one dict, under two names: it checks a word with
        # ``in action.choices`` and then takes its parser from ``_name_parser_map``.
        action.choices = action._name_parser_map = parsers

    def __contains__(self, word: object) -> bool:
        # add_parser checks its name is new: no build while one is under way.
        if not self._building and isinstance(word, str) and not super().__contains__(word):
            self._building = True
            try:
                self._build(word)
            finally:
                self._building = False
        return super().__contains__(word)


# -- help that lists the plugins with a form ---------------------------------------------------


def setups_listing() -> str:
    """Which plugins can be set up (every registered plugin's class is loaded to know)."""
    from docker_pass.core.setup import setups_available

    setups = setups_available()
    if not setups:
        return f"{SETUPS_TITLE}: none"
    lines = [f"{SETUPS_TITLE} (docker pass plugins setup NAME --help):"]
    for name, form in sorted(setups.items()):
        also = f" (or: {', '.join(form.aliases)})" if form.aliases else ""
        lines.append(f"  {name}{also}")
    return "\n".join(lines)


class _ListingHelp(argparse.Action):
    """``-h``/``--help`` that adds the listing of plugins with a setup form (read only when
    help is asked for: it loads every plugin's class)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **_: Any) -> None:
        super().__init__(
            option_strings,
            dest,
            default=argparse.SUPPRESS,
            nargs=0,
            help="show this help message and exit",
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        print_help_with_listing(parser)
        parser.exit()


def add_listing_help(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` (made with ``add_help=False``) the help that lists plugins to set up."""
    parser.add_argument("-h", "--help", action=_ListingHelp)


def print_help_with_listing(parser: argparse.ArgumentParser, _args: object = None) -> int:
    """Print ``parser``'s help, its epilog the listing of plugins that can be set up."""
    parser.epilog = setups_listing()
    parser.print_help()
    return 0


# -- the parsers made from a form ---------------------------------------------------------------


def _add_named(names: Verbs, build: Callable[[Verbs, str, Setup, str], None], word: str) -> None:
    """``plugins setup|purge WORD``: add WORD's parser, made from its plugin's form."""
    from docker_pass.core.setup import setup_called

    setup = setup_called(word)
    if setup is None:
        raise no_setup_form(word)
    build(names, word, setup, f"docker pass plugins {{verb}} {word}")


def _add_plugin_verb(verbs: Verbs, word: str) -> None:
    """``plugins WORD setup|purge``: a word that is no verb may name a plugin with a form (or
    be an alias of one); anything else is left to argparse's "invalid choice"."""
    from docker_pass.core.setup import setup_called

    setup = setup_called(word)
    if setup is None:
        return
    spelling = f"docker pass plugins {word} {{verb}}"
    parser = verbs.add_parser(
        word,
        help=f"Set up or remove the {setup.plugin} plugin",
        description=_wrapped(setup.intro or f"Set up or remove the {setup.plugin} plugin."),
        epilog=_epilog(setup, spelling),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="plugin_command", metavar="COMMAND", title="commands")
    _setup_parser(sub, "setup", setup, spelling)
    _purge_parser(sub, "purge", setup, spelling)
    parser.set_defaults(handler=partial(_print_help, parser))
    _accept_global_flags(parser)


def _setup_parser(sub: Verbs, word: str, setup: Setup, spelling: str) -> None:
    """The parser of ``setup`` for ``setup``'s plugin: a flag per setting."""
    secrets = " or ".join(_noun(f) for f in setup.secret_fields)
    parser = sub.add_parser(
        word,
        help=f"Check and store what {setup.plugin} asks for, and enable it",
        description=_wrapped(
            (setup.intro + " " if setup.intro else "")
            + f"The answers are checked before anything is stored; then {setup.plugin} is enabled."
            + (f" The {secrets} {STDIN_ONLY}" if secrets else "")
        ),
        epilog=_epilog(setup, spelling),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for item in setup.settings_fields:
        brings = [_noun(f) for f in setup.secret_fields if f.only_with == item.name]
        text = item.help or f"{item.label}."
        if item.default:
            text += f" (default: {item.default})"
        if brings:
            text += f" Stdin then holds the {' or '.join(brings)}."
        parser.add_argument(
            item.option,
            dest=ANSWER + item.name,
            metavar=item.placeholder,
            default=item.default,
            required=item.required and not item.default,
            help=text.replace("%", "%%"),  # argparse formats help with %
        )
    from docker_pass.cli.plugin_setup import run_setup

    parser.set_defaults(handler=partial(run_setup, setup))
    _accept_global_flags(parser)


def _purge_parser(sub: Verbs, word: str, setup: Setup, spelling: str) -> None:
    """The parser of ``purge`` for ``setup``'s plugin."""
    parser = sub.add_parser(
        word,
        help=f"Disable {setup.plugin} and remove the secrets its setup stored",
        description=f"Disable the {setup.plugin} plugin and remove the secrets its setup stored.",
    )
    from docker_pass.cli.plugin_setup import run_purge

    parser.set_defaults(handler=partial(run_purge, setup))
    _accept_global_flags(parser)


def answers_given(setup: Setup, args: argparse.Namespace) -> dict[str, str]:
    """The settings as the command line gave them (a path made absolute, by its kind)."""
    return {
        item.name: item.from_command_line(str(getattr(args, ANSWER + item.name, item.default)))
        for item in setup.settings_fields
    }


def no_setup_form(word: str) -> UsageError:
    """The error for ``plugins setup WORD`` when no plugin of that name describes a form."""
    from docker_pass.core.registry import plugin_specs
    from docker_pass.core.setup import setups_available

    have = ", ".join(sorted(setups_available())) or "none"
    if word in plugin_specs():
        return UsageError(f"plugin {word} has no setup form (plugins that have one: {have})")
    return UsageError(f"unknown plugin {shorten(word)!r} (plugins with a setup form: {have})")


def _epilog(setup: Setup, spelling: str) -> str:
    lines = ["examples:"]
    lines += [f"  {setup.example(item)}" for item in setup.secret_fields]
    if not setup.secret_fields:
        lines.append(f"  {spelling.format(verb='setup')}")
    lines.append(f"  {spelling.format(verb='purge')}")
    return "\n".join(lines)


def _noun(item: SetupField) -> str:
    return item.noun or item.lower_label


def _wrapped(text: str) -> str:
    import textwrap  # only for help

    return textwrap.fill(text, width=96)


def _print_help(parser: argparse.ArgumentParser, _args: object = None) -> int:
    parser.print_help()
    return 0


def _accept_global_flags(parser: argparse.ArgumentParser) -> None:
    from docker_pass.cli.main import accept_global_flags

    accept_global_flags(parser)
