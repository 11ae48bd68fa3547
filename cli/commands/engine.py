"""`engine run|status|stop`: the optional engine daemon, and how other verbs choose an engine.

``engine run`` serves the secrets engine API on a Unix socket in the foreground (for a terminal
or ``systemd --user``; with ``Type=notify`` it reports ready once plugins are up).  While it
runs, ``run`` and ``plugins …`` use it unless ``--no-daemon`` is given.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from docker_pass.core.remote.front import EngineFront
    from docker_pass.core.results import PluginStatus
    from docker_pass.daemon.docker.wiring import DockerProxySettings

SYSTEMD_UNIT = """\
to run it as a systemd user service (Type=notify, restarted on failure):
  docker pass engine install-service"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "engine",
        aliases=["daemon"],
        help="Run the secrets engine daemon, or show or stop it",
        description=(
            "The secrets engine daemon keeps plugins warm and serves Docker's secrets engine "
            "API on a Unix socket ($DOCKER_PASS_ENGINE_SOCKET, config engine.socket, or "
            "~/.cache/docker-secrets-engine/engine.sock). While it runs, 'run' and 'plugins' "
            "use it; '--no-daemon' makes them use an embedded engine."
        ),
    )
    verbs = parser.add_subparsers(dest="engine_command", metavar="COMMAND", title="commands")
    run = verbs.add_parser(
        "run",
        help="Run the engine in the foreground",
        description="Run the engine in the foreground until SIGTERM or Ctrl-C.",
        epilog=SYSTEMD_UNIT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--refresh-interval",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how often plugins that cache (1Password) refresh (default: config "
        "engine.refresh_interval, or 300)",
    )
    run.add_argument(
        "--request-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long a request may take when its client sets no deadline "
        "(Connect-Timeout-Ms) (default: config engine.request_timeout, or 30)",
    )
    run.add_argument(
        "--idle-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="close connections idle this long (default: config engine.idle_timeout, or 5)",
    )
    run.add_argument(
        "--max-connections",
        type=int,
        default=None,
        metavar="N",
        help="refuse connections past N open ones (default: config engine.max_connections, "
        "or 1024; less if file descriptors are short)",
    )
    run.add_argument(
        "--docker-host",
        default=None,
        metavar="URL",
        help="the Docker engine the container proxy forwards to (default: config "
        "engine.docker_host, $DOCKER_HOST, the current docker context's, else "
        "unix:///var/run/docker.sock)",
    )
    run.add_argument(
        "--no-docker-proxy",
        action="store_true",
        help="do not serve the Docker API proxy (default: config engine.docker_proxy, or on)",
    )
    run.add_argument(
        "--empty-env-lookup",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a container variable sent empty (-e GH_TOKEN=) takes the secret named like it, "
        "if there is one (default: $DOCKER_PASS_EMPTY_ENV_LOOKUP, config "
        "engine.empty_env_lookup, or on)",
    )
    run.set_defaults(handler=run_engine)
    status = verbs.add_parser(
        "status", help="Show whether the engine runs", description="Show the engine's status."
    )
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=run_status)
    stop = verbs.add_parser("stop", help="Stop the engine", description="Stop the engine.")
    stop.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for it to stop (default: 10)",
    )
    stop.set_defaults(handler=run_stop)
    service = verbs.add_parser(
        "install-service",
        help="Run the engine as a systemd user service",
        description=(
            "Write a systemd user unit (~/.config/systemd/user/docker-pass-engine.service) that "
            "runs 'docker-pass engine run' (Type=notify, restarted on failure), and say how to "
            "enable it. --uninstall removes it."
        ),
    )
    service.add_argument("--uninstall", action="store_true", help="remove the unit file")
    service.add_argument(
        "--print", action="store_true", help="print the unit instead of writing it"
    )
    service.set_defaults(handler=_install_service)
    parser.set_defaults(handler=lambda _args: _help(parser))


def _install_service(args: argparse.Namespace) -> int:
    from docker_pass.cli.commands.engine_service import run_install_service

    if args.uninstall and args.print:
        from docker_pass.core.errors import UsageError

        raise UsageError("--print and --uninstall do not go together")
    return run_install_service(args)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def engine_for(args: argparse.Namespace) -> EngineFront:
    """The engine a command uses: the daemon's when it answers, else an embedded one.

    ``--no-daemon`` forces the embedded engine; under ``--debug`` one line on stderr says why
    the embedded engine is used when a daemon was looked for.
    """
    from docker_pass.core.remote.front import open_engine

    return open_engine(
        no_daemon=bool(getattr(args, "no_daemon", False)),
        on_fallback=_print_fallback if _debug(args) else None,
    )


def front_for_plugin(args: argparse.Namespace) -> EngineFront:
    """The engine a write to ``args.plugin`` goes through: the daemon's when it answers (its
    warm plugins and caches then see the change at once), else an embedded engine that starts
    only that plugin."""
    from docker_pass.core.remote.front import open_engine

    return open_engine(
        no_daemon=bool(getattr(args, "no_daemon", False)),
        on_fallback=_print_fallback if _debug(args) else None,
        plugin=args.plugin,
    )


def _debug(args: argparse.Namespace) -> bool:
    from docker_pass.cli.main import DEBUG_ENV

    return bool(getattr(args, "debug", False)) or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def _print_fallback(reason: str) -> None:
    print(f"docker-pass: {reason}; using the embedded engine", file=sys.stderr)


# -- engine run ---------------------------------------------------------------------------------


def run_engine(args: argparse.Namespace) -> int:
    import logging

    from docker_pass.core.remote.endpoint import socket_location
    from docker_pass.daemon import limits
    from docker_pass.daemon.server import DEFAULT_REFRESH_INTERVAL
    from docker_pass.daemon.server import run_engine as serve

    debug = _debug(args)
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # uvicorn's own start-up chatter repeats what the engine logs; keep its warnings.
    logging.getLogger("uvicorn").setLevel(logging.DEBUG if debug else logging.WARNING)
    interval = _setting(args.refresh_interval, "refresh_interval", DEFAULT_REFRESH_INTERVAL)
    server_limits = limits.ServerLimits(
        request_timeout=_setting(
            args.request_timeout, "request_timeout", limits.DEFAULT_REQUEST_TIMEOUT
        ),
        idle_timeout=_setting(args.idle_timeout, "idle_timeout", limits.DEFAULT_IDLE_TIMEOUT),
        max_connections=int(
            _setting(args.max_connections, "max_connections", limits.DEFAULT_MAX_CONNECTIONS)
        ),
    )
    location = socket_location()
    serve(
        location,
        refresh_interval=interval,
        on_ready=_ready,
        limits=server_limits,
        docker=_docker_proxy(args, location.path),
    )
    return 0


def _docker_proxy(args: argparse.Namespace, engine_socket: Path) -> DockerProxySettings | None:
    """Where the Docker API proxy listens and what it forwards to (``None``: turned off)."""
    from docker_pass.core.config import load_config
    from docker_pass.core.docker.endpoint import proxy_socket_path, upstream_host
    from docker_pass.daemon.docker.wiring import DockerProxySettings

    section = load_config().get("engine", {})
    enabled = section.get("docker_proxy", True) if isinstance(section, dict) else True
    if args.no_docker_proxy or enabled in (False, "off", "false", "no"):
        if args.docker_host:
            from docker_pass.core.errors import UsageError

            raise UsageError("--docker-host needs the Docker proxy (drop --no-docker-proxy)")
        return None
    path = proxy_socket_path(engine_socket)
    from docker_pass.core.docker.container import empty_lookup_setting

    if args.empty_env_lookup is None:
        lookup, lookup_source = empty_lookup_setting()
    else:
        lookup, lookup_source = args.empty_env_lookup, "--[no-]empty-env-lookup"
    upstream = upstream_host(args.docker_host, own_socket=path)
    return DockerProxySettings(path, upstream, empty_lookup=(lookup, lookup_source))


def _setting(given: float | None, key: str, default: float) -> float:
    """An ``engine run`` number: the option, else config ``engine.<key>``, else ``default``;
    it must be positive."""
    from docker_pass.core.config import load_config
    from docker_pass.core.errors import UsageError

    value = given
    if value is None:
        section = load_config().get("engine", {})
        configured = section.get(key) if isinstance(section, dict) else None
        try:
            value = float(configured) if configured is not None else default
        except (TypeError, ValueError):
            raise UsageError(f"config engine.{key} must be a number") from None
    if not value > 0:
        what = "a positive number" if key == "max_connections" else "a positive number of seconds"
        raise UsageError(f"--{key.replace('_', '-')} must be {what}")
    return value


def _ready(statuses: list[PluginStatus]) -> None:
    import logging

    log = logging.getLogger("docker_pass.engine")
    for status in statuses:
        detail = f": {status.message}" if status.message else ""
        log.info("plugin %s %s %s%s", status.name, status.version, status.status, detail)
    _notify_systemd()


def _notify_systemd() -> None:
    """Tell systemd (``Type=notify``) the engine is ready: plugins up, socket listening."""
    import socket

    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]  # an abstract socket
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(b"READY=1", address)
        except OSError:
            return  # systemd still sees the process run; readiness is a courtesy


# -- engine status ------------------------------------------------------------------------------


#: Seconds ``engine status`` waits for the plugins' states: it is a glance (a plugin stuck in a
#: call holds only its own turn, but a daemon may be an older one, or overloaded).
STATUS_TIMEOUT = 5.0


def run_status(args: argparse.Namespace) -> int:
    from docker_pass.core.remote.client import DaemonClient, DaemonUnavailableError
    from docker_pass.core.remote.endpoint import lock_holder, socket_location
    from docker_pass.core.remote.front import find_daemon

    location = socket_location()
    client, reason = find_daemon(timeout=2.0)
    doc: dict[str, Any] = {
        "running": client is not None,
        "socket": str(location.path),
        "source": location.source,
    }
    if client is None:
        holder = lock_holder()
        if holder is not None:
            # The lock is held but nothing answers yet: plugins are still starting.
            doc["starting"] = True
            doc["pid"] = holder.get("pid")
        doc["reason"] = reason
    else:
        holder = lock_holder() or {}
        doc["abstract_socket"] = holder.get("abstract_socket")
        doc["docker_socket"] = holder.get("docker_socket")
        doc["docker_upstream"] = holder.get("docker_upstream")
        doc["empty_env_lookup"] = holder.get("empty_env_lookup")
        doc["empty_env_lookup_source"] = holder.get("empty_env_lookup_source")
        with client:
            info = client.info()  # answered without the engine thread
        try:
            with DaemonClient(client.path, timeout=STATUS_TIMEOUT) as glance:
                plugins: dict[str, str] | None = {p.name: p.status for p in glance.plugins()}
        except DaemonUnavailableError as exc:
            plugins = None
            doc["plugins_error"] = str(exc)
        doc.update(
            version=info.version,
            pid=info.pid,
            started_at=info.started_at.isoformat() if info.started_at else None,
            requests=info.requests,
            plugins=plugins,
        )
    if args.json:
        import json  # only `engine status --json`; `run` imports this module too

        print(json.dumps(doc, indent=2))
        return 0 if client is not None else 1
    if client is None:
        state = "starting" if doc.get("starting") else "not running"
        print(f"engine: {state}")
        print(f"socket: {location.path} ({location.source})")
        return 1
    _print_running(doc, location, info.requests)
    return 0


def _print_running(doc: dict[str, Any], location: Any, requests: dict[str, int]) -> None:
    print(f"engine: running (pid {doc['pid']}, {doc['version']})")
    print(f"socket: {location.path} ({location.source})")
    if doc["abstract_socket"]:
        from docker_pass.core.remote.endpoint import default_abstract_name

        default = doc["abstract_socket"] == default_abstract_name()
        note = " (where Docker's clients look by default)" if default else ""
        print(f"abstract socket: {doc['abstract_socket']}{note}")
    if doc["docker_socket"]:
        print(f"docker proxy: unix://{doc['docker_socket']} -> {doc['docker_upstream']}")
        if doc["empty_env_lookup"] is not None:
            state = "on" if doc["empty_env_lookup"] else "off"
            source = doc["empty_env_lookup_source"]
            print(f"empty env lookup: {state}" + (f" ({source})" if source else ""))
    if doc["started_at"]:
        print(f"started: {doc['started_at']}")
    total = sum(requests.values())
    by_method = ", ".join(
        f"{path.rpartition('/')[2]} {count}" for path, count in sorted(requests.items())
    )
    print(f"requests: {total}" + (f" ({by_method})" if by_method else ""))
    if doc["plugins"] is None:
        print("plugins: not answering (a plugin call has not returned)")
    else:
        print("plugins: " + ", ".join(f"{name} {state}" for name, state in doc["plugins"].items()))


# -- engine stop --------------------------------------------------------------------------------


def run_stop(args: argparse.Namespace) -> int:
    import signal

    from docker_pass.core.errors import DockerPassError
    from docker_pass.core.remote.endpoint import lock_holder

    # The lock names the engine's pid, and is held only while that very process lives (the
    # kernel drops an flock with its holder), so the pid cannot be a stale one.
    holder = lock_holder()
    pid = holder.get("pid") if holder is not None else None
    if not isinstance(pid, int):
        print("engine: not running")
        return 0
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        print("engine: not running")
        return 0
    except PermissionError:
        raise DockerPassError(f"the engine (pid {pid}) belongs to another user") from None
    deadline = time.monotonic() + args.timeout
    while lock_holder() is not None:
        if time.monotonic() > deadline:
            raise DockerPassError(f"the engine (pid {pid}) did not stop within {args.timeout:g} s")
        time.sleep(0.05)
    print(f"engine: stopped (pid {pid})")
    return 0
