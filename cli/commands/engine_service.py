"""`engine install-service [--uninstall] [--print]`: the engine as a systemd user service.

The unit runs ``docker-pass engine run`` with ``Type=notify`` (the engine reports ready once its
plugins are up and its sockets listen), restarts it when it fails, and keeps secrets out of
core dumps.  Only this verb imports this module.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from docker_pass.core.names import PROGRAM

if TYPE_CHECKING:
    import argparse

UNIT_NAME = "docker-pass-engine.service"


def unit_path() -> Path:
    """``$XDG_CONFIG_HOME/systemd/user/docker-pass-engine.service`` (``~/.config`` without it)."""
    base = os.environ.get("XDG_CONFIG_HOME")
    root = Path(base) if base else Path.home() / ".config"
    return root / "systemd" / "user" / UNIT_NAME


def engine_command() -> list[str]:
    """How to start the engine: this installation's ``docker-pass`` script, by absolute path
    (a user unit does not see the login shell's ``PATH``)."""
    script = Path(sys.executable).parent / PROGRAM
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script), "engine", "run"]
    found = shutil.which(PROGRAM)
    if found:
        return [str(Path(found).resolve()), "engine", "run"]
    return [sys.executable, "-m", "docker_pass.cli.main", "engine", "run"]


def _quote(arg: str) -> str:
    """A systemd command-line word: quoted when it holds a space or a quote (systemd.syntax)."""
    if arg and not any(c in arg for c in " \t\"'\\;$%"):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"'


def unit_text(command: list[str]) -> str:
    """The unit file's content."""
    exec_start = " ".join(_quote(a) for a in command)
    return f"""\
# Written by `docker pass engine install-service`; remove it with `--uninstall`.
[Unit]
Description=docker-pass secrets engine (Docker's secrets engine API, plugins kept warm)
# The keychain plugin talks to the Secret Service on the session bus.
After=dbus.socket

[Service]
Type=notify
NotifyAccess=main
ExecStart={exec_start}
Restart=on-failure
RestartSec=2s
TimeoutStartSec=60s
TimeoutStopSec=15s
# Secret values never land in a core dump, and the engine never gains privileges.
LimitCORE=0
NoNewPrivileges=yes
UMask=0077

[Install]
WantedBy=default.target
"""


def run_install_service(args: argparse.Namespace) -> int:
    """Write (or with ``--uninstall`` remove) the user unit, and say what to run next."""
    path = unit_path()
    if args.uninstall:
        return _uninstall(path)
    text = unit_text(engine_command())
    if args.print:
        sys.stdout.write(text)
        return 0
    from docker_pass.core.regular_files import FileReadError, read_regular_file

    try:
        old: str | None = read_regular_file(path, "systemd unit").decode("utf-8", "replace")
    except FileReadError as exc:
        if not exc.missing:
            raise
        old = None
    if old == text:
        print(f"{path} is up to date.")
    else:
        # Not a private folder: systemd's, which may hold other units (a unit is no secret).
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
        print(("Replaced " if old is not None else "Wrote ") + str(path))
    print("Start it now and at every login with:")
    print("  systemctl --user daemon-reload")
    print(f"  systemctl --user enable --now {UNIT_NAME}")
    print(f"Its log: journalctl --user -u {UNIT_NAME}")
    return 0


def _uninstall(path: Path) -> int:
    try:
        path.unlink()
    except FileNotFoundError:
        print(f"No service is installed ({path} does not exist).")
        return 0
    print(f"Removed {path}")
    print("If it was enabled, stop it and forget it with:")
    print(f"  systemctl --user disable --now {UNIT_NAME}")
    print("  systemctl --user daemon-reload")
    return 0
