"""`ui [--demo [--demo-dir DIR]]`: browse and edit secrets and plugins in a terminal UI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from docker_pass.core.errors import UsageError

EXAMPLES = """\
keys: ? shows every key; ctrl+p the command palette; q quits.

A secret's detail shows what uses it ("Used by": containers made through the docker-pass
proxy, their Compose services, on the engine the proxy forwards to); U lists them all. After
a save of a used secret the UI offers to roll it out (docker pass rollout).

On quit the UI keeps its place (filter, open realms, order, cursor; never a value) in
$XDG_STATE_HOME/docker-pass/ui-state.json, per store, and comes back to it; --fresh starts
without it. The demo keeps its own.

examples:
  docker pass ui
  docker pass ui --demo     # a demo store of made-up secrets; never touches your keychain
  docker pass ui --fresh    # start at the top, not where the last session left off

Key bindings can be remapped in the config file, by binding id:
  {"tui": {"keymap": {"main.reveal": "v", "app.quit": "ctrl+q"}}}"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "ui",
        help="Browse and edit secrets in a terminal UI",
        description=(
            "Browse and edit secrets in a terminal UI: a realm tree, a detail pane with "
            "masked values, a live pattern preview and the plugins panel."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help=(
            "open a demo file store of made-up secrets (created and seeded on first use); "
            "your keychain and configuration are not touched"
        ),
    )
    parser.add_argument(
        "--demo-dir",
        type=Path,
        metavar="DIR",
        help="where the demo store lives (default: $XDG_DATA_HOME/docker-pass-demo)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="start at the top with no filter, not where the UI was when it last quit",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.demo_dir is not None and not args.demo:
        raise UsageError("--demo-dir goes with --demo")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("the terminal UI needs a terminal (stdin and stdout must be a TTY)")
    from docker_pass.core.hardening import make_non_dumpable

    make_non_dumpable()  # before the app (or the demo seeding) reads any value
    subtitle = tip = ""
    if args.demo:
        from docker_pass.tui.demo import crash_tip, default_demo_dir, enter_demo

        root = (args.demo_dir or default_demo_dir()).expanduser().resolve()
        enter_demo(root)
        subtitle = "demo store"  # where it lives: the plugins panel's storage column
        tip = crash_tip()

    from docker_pass.core.config import load_config

    # Read before Textual starts: the keymap must be in place for the first frame.
    settings = load_config().get("tui", {})
    keymap = settings.get("keymap", {}) if isinstance(settings, dict) else {}

    # Textual (~150 ms of imports) loads here, and only for this verb.
    from docker_pass.core.remote.front import open_engine
    from docker_pass.tui import load_app
    from docker_pass.tui.model.docker_door import DockerDoor

    DockerPassApp = load_app()
    entries = read_keymap(keymap)
    no_daemon = bool(getattr(args, "no_daemon", False))
    app = DockerPassApp(
        lambda: open_engine(no_daemon=no_daemon),
        subtitle=subtitle,
        keymap=entries,
        fresh=bool(getattr(args, "fresh", False)),
        tip=tip,
        docker=DockerDoor(),  # "Used by" and rollouts: the engine the Docker proxy forwards to
    )
    app.run()
    return 0 if app.return_code in (None, 0) else int(app.return_code or 1)


def read_keymap(raw: object) -> dict[str, str]:
    """The config's ``tui.keymap`` as binding id -> keys; entries that cannot apply are named on
    stderr before the screen is taken over (the app names them again, and ignores them)."""
    from docker_pass.tui.app import DockerPassApp
    from docker_pass.tui.keys import check_keymap, keymap_warning, known_binding_ids, parse_keymap

    entries = parse_keymap(raw)
    _, warnings = check_keymap(entries, known_binding_ids(DockerPassApp.BINDINGS))
    if warnings:
        print(f"docker pass ui: {keymap_warning(warnings)}", file=sys.stderr)
    return entries
