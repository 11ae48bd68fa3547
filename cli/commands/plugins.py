"""`plugins ls|enable|disable`: see and change the health of the secrets engine's plugins."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "plugins",
        help="Manage secrets engine plugins",
        description="List plugins and their health; enable or disable configurable ones.",
    )
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
    from docker_pass.cli.commands import (
        onepassword,  # `plugins 1password setup|purge`
        vault,  # `plugins vault setup|purge`
    )

    onepassword.register(verbs)
    vault.register(verbs)
    parser.set_defaults(handler=lambda _args: _help(parser))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


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
