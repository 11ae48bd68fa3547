"""`plugins ls|enable|disable|setup|purge`: see and change the health of the secrets engine's
plugins, and set up the ones that ask for something first.

``setup`` and ``purge`` are made from each plugin's setup form
(:mod:`docker_pass.cli.setup_commands`), once the command line names the plugin: no plugin has
code here, and ``plugins vault setup`` or ``plugins 1password purge`` are the same commands.
"""

from __future__ import annotations

import argparse
from functools import partial


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from docker_pass.cli import setup_commands

    parser = sub.add_parser(
        "plugins",
        help="Manage secrets engine plugins",
        description=(
            "List plugins and their health; enable or disable configurable ones; set up the\n"
            "ones that ask for something (a token, an address) before they can start."
        ),
        add_help=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    setup_commands.add_listing_help(parser)
    verbs = parser.add_subparsers(dest="plugins_command", metavar="COMMAND", title="commands")
    ls = verbs.add_parser(
        "ls", aliases=["list"], help="List plugins", description="List plugins and their status."
    )
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=run_ls)
    for verb, text in (("enable", "Enable"), ("disable", "Disable")):
        cmd = verbs.add_parser(
            verb,
            help=f"{text} a configurable plugin",
            description=f"{text} a configurable plugin"
            + (
                " (also clears a crash and starts it again; for an always-on plugin such as "
                "docker-pass it only clears the crash)."
                if verb == "enable"
                else "."
            ),
        )
        cmd.add_argument("name", metavar="NAME", help="the plugin's name (see 'plugins ls')")
        cmd.set_defaults(handler=run_enable if verb == "enable" else run_disable)
    setup_commands.register(verbs)  # `plugins setup|purge NAME`, `plugins NAME setup|purge`
    parser.set_defaults(handler=partial(setup_commands.print_help_with_listing, parser))


def run_ls(args: argparse.Namespace) -> int:
    from docker_pass.cli import render
    from docker_pass.cli.commands.engine import engine_for

    with engine_for(args) as engine:
        statuses = engine.plugins()
    render.plugin_statuses(statuses, as_json=args.json)
    return 0


def run_enable(args: argparse.Namespace) -> int:
    from docker_pass.cli import render
    from docker_pass.cli.commands.engine import engine_for

    with engine_for(args) as engine:
        status = engine.enable(args.name)
    return render.plugin_change(status)


def run_disable(args: argparse.Namespace) -> int:
    from docker_pass.cli import render
    from docker_pass.cli.commands.engine import engine_for

    with engine_for(args) as engine:
        status = engine.disable(args.name)
    return render.plugin_change(status)
