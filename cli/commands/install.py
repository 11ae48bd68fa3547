"""`install`: link this executable into Docker's CLI plugin directory so `docker pass` runs it."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError
from docker_pass.core.names import PROGRAM

if TYPE_CHECKING:
    import argparse

EXECUTABLE = PROGRAM


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "install",
        help="Install as the `docker pass` CLI plugin",
        description=(
            "Link the docker-pass executable into Docker's CLI plugin directory "
            "($DOCKER_CONFIG/cli-plugins, default ~/.docker/cli-plugins), so that "
            "`docker pass …` runs it."
        ),
    )
    parser.add_argument("--uninstall", action="store_true", help="remove the link instead")
    parser.add_argument(
        "--context",
        action="store_true",
        help="create (or update) the docker context 'docker-pass', which sends docker, "
        "Compose and Docker SDKs through the engine's container proxy (with --uninstall: "
        "remove it)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace (or remove) a docker-pass plugin that is not a link to this one",
    )
    parser.set_defaults(handler=run)


def plugin_dir() -> Path:
    """Docker's per-user CLI plugin directory, honouring ``DOCKER_CONFIG``."""
    config = os.environ.get("DOCKER_CONFIG")
    base = Path(config).expanduser() if config else Path.home() / ".docker"
    return base / "cli-plugins"


def this_executable() -> Path:
    """The ``docker-pass`` console script of this installation."""
    beside_python = Path(sys.executable).parent / EXECUTABLE
    if beside_python.is_file():
        return beside_python.absolute()
    argv0 = Path(sys.argv[0])
    if argv0.name == EXECUTABLE and argv0.exists():
        return argv0.resolve()
    raise DockerPassError(
        f"cannot find the {EXECUTABLE} executable beside {sys.executable}; "
        "install the package with pip first"
    )


def run(args: argparse.Namespace) -> int:
    if args.context:
        return _context(args)
    link = plugin_dir() / EXECUTABLE
    target = this_executable()
    if args.uninstall:
        return _uninstall(link, target, force=args.force)
    if link.is_symlink() or link.exists():
        if link.is_symlink() and link.resolve() == target.resolve():
            print(f"Already installed: {link} -> {target}")
            return 0
        if not link.is_symlink() and not args.force:
            raise DockerPassError(
                f"{link} exists and is not a link (another docker-pass plugin, perhaps "
                "Docker's own); use --force to replace it"
            )
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    print(f"Installed: {link} -> {target}")
    print("Try: docker pass --help")
    return 0


def _uninstall(link: Path, target: Path, *, force: bool) -> int:
    if not (link.is_symlink() or link.exists()):
        print(f"Not installed: {link} does not exist")
        return 0
    ours = link.is_symlink() and link.resolve() == target.resolve()
    if not ours and not force:
        raise DockerPassError(
            f"{link} is not a link to this docker-pass ({target}); use --force to remove it"
        )
    link.unlink()
    print(f"Removed: {link}")
    return 0


def _context(args: argparse.Namespace) -> int:
    """``install --context``: the docker context whose endpoint is the container proxy."""
    from docker_pass.core.docker.endpoint import (
        CONTEXT_NAME,
        current_context,
        proxy_socket_path,
        remove_context,
        write_context,
    )
    from docker_pass.core.remote.endpoint import socket_location

    if args.uninstall:
        if not remove_context(CONTEXT_NAME):
            print(f"No docker context {CONTEXT_NAME}")
            return 0
        print(f"Removed docker context {CONTEXT_NAME}")
        if current_context() == CONTEXT_NAME:
            print("It was the current context: run: docker context use default")
        return 0
    path = proxy_socket_path(socket_location().path)
    existed = write_context(
        CONTEXT_NAME,
        f"unix://{path}",
        "docker-pass: se:// references resolved at container create",
    )
    print(f"{'Updated' if existed else 'Created'} docker context {CONTEXT_NAME}: unix://{path}")
    print("It works while the engine runs (docker pass engine run). Use it with:")
    print(f"  docker context use {CONTEXT_NAME}     # or: docker --context {CONTEXT_NAME} …")
    return 0
