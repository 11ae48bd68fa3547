"""`run` and `plugins …` through the daemon, the fallback when it is gone, and `--no-daemon`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from tests.daemon.engines import RunningEngine

PRINT_A = ["run", "--", "sh", "-c", 'printf %s "$A"']
GET_SECRETS = "/resolver.v1.ResolverService/GetSecrets"


def get_secrets_count(engine: RunningEngine) -> int:
    with engine.client() as client:
        return client.info().requests.get(GET_SECRETS, 0)


def test_run_goes_through_the_daemon(engine: RunningEngine, snapshot_data: Path) -> None:
    # A secret added after the daemon started its plugins: only a fresh (embedded) snapshot
    # instance knows it, so each answer shows which engine gave it.
    snapshot_data.write_text(json.dumps({"app/db": "db-secret-1", "app/new": "fresh"}))
    before = get_secrets_count(engine)

    warm = docker_pass("--debug", *PRINT_A, env={"A": "se://app/db"})
    assert (warm.returncode, warm.stdout, warm.stderr) == (0, b"db-secret-1", b"")
    assert get_secrets_count(engine) == before + 1

    unknown_to_daemon = docker_pass(*PRINT_A, env={"A": "se://app/new"})
    assert unknown_to_daemon.returncode == 1
    assert unknown_to_daemon.stderr == b"Error: resolving A: secret not found: app/new\n"

    embedded = docker_pass("--no-daemon", "--debug", *PRINT_A, env={"A": "se://app/new"})
    assert (embedded.returncode, embedded.stdout, embedded.stderr) == (0, b"fresh", b"")
    assert get_secrets_count(engine) == before + 2  # --no-daemon never asked it

    starts = Path(f"{snapshot_data}.starts").read_text().split()
    assert starts[0] == str(engine.pid)
    assert len(starts) == 2  # the daemon's instance, then the --no-daemon command's


def test_run_output_matches_the_embedded_engine(engine: RunningEngine) -> None:
    # A second holder of shared/x on purpose (snapshot holds it: set needs --allow-duplicate).
    assert docker_pass("set", "--allow-duplicate", "shared/x=from-keychain").returncode == 0
    value = bytes(range(1, 256))
    assert docker_pass("set", "bin/value", input=value).returncode == 0
    for flags in ([], ["--no-daemon"]):
        explain = docker_pass(*flags, "run", "--explain", env={"A": "se://app/db"})
        assert explain.stderr == (
            b"A: se://app/db -> provider snapshot "
            b"(asked: docker-pass, snapshot; answered: docker-pass, snapshot)\n"
        ), flags
        clash = docker_pass(*flags, "run", "--", "true", env={"T": "se://shared/x"})
        assert clash.returncode == 1
        assert clash.stderr == (
            b"Error: resolving T: 2 secrets matched shared/x (docker-pass, snapshot)\n"
        )
        binary = docker_pass(
            *flags,
            "run",
            "--",
            sys.executable,
            "-c",
            "import os, sys; sys.stdout.buffer.write(os.environb[b'BIN'])",
            env={"BIN": "se://bin/value"},
        )
        assert (binary.returncode, binary.stdout) == (0, value)
        invalid = docker_pass(*flags, "run", "--", "true", env={"X": "se://a//b"})
        assert invalid.returncode == 1
        assert invalid.stderr.startswith(b'Error: resolving X: invalid identifier: "a//b"')


def test_run_falls_back_when_the_daemon_is_gone(engine: RunningEngine) -> None:
    engine.kill()  # the socket file stays behind, with nobody listening
    quiet = docker_pass(*PRINT_A, env={"A": "se://app/db"})
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, b"db-secret-1", b"")
    debug = docker_pass("--debug", *PRINT_A, env={"A": "se://app/db"})
    assert (debug.returncode, debug.stdout) == (0, b"db-secret-1")
    assert debug.stderr.decode() == (
        f"docker-pass: no engine daemon answers on {engine.socket} (stale socket); "
        "using the embedded engine\n"
    )
    engine.socket.unlink()
    debug = docker_pass("--debug", *PRINT_A, env={"A": "se://app/db"})
    assert debug.stderr.decode() == (
        f"docker-pass: no engine daemon (no socket at {engine.socket}); using the embedded engine\n"
    )
    # --no-daemon is a choice, not a fallback: nothing to report.
    forced = docker_pass("--no-daemon", "--debug", *PRINT_A, env={"A": "se://app/db"})
    assert (forced.stdout, forced.stderr) == (b"db-secret-1", b"")


def test_plugins_verbs_through_the_daemon(engine: RunningEngine) -> None:
    through_daemon = json.loads(docker_pass("plugins", "ls", "--json").stdout)
    embedded = json.loads(docker_pass("--no-daemon", "plugins", "ls", "--json").stdout)
    assert through_daemon == embedded
    assert {p["name"]: p["status"] for p in through_daemon}["snapshot"] == "running"

    table = docker_pass("plugins", "ls")
    assert table.returncode == 0
    assert b"snapshot at start" in table.stdout

    disabled = docker_pass("plugins", "disable", "snapshot")
    assert (disabled.returncode, disabled.stdout) == (0, b"snapshot: disabled\n")
    # Persisted: an embedded engine sees it too.
    embedded = json.loads(docker_pass("--no-daemon", "plugins", "ls", "--json").stdout)
    assert {p["name"]: p["status"] for p in embedded}["snapshot"] == "disabled"

    enabled = docker_pass("plugins", "enable", "snapshot")
    assert (enabled.returncode, enabled.stdout) == (0, b"snapshot: running\n")

    for flags in ([], ["--no-daemon"]):
        unknown = docker_pass(*flags, "plugins", "enable", "nope")
        assert unknown.returncode == 1
        assert unknown.stderr.startswith(b"Error: unknown plugin 'nope' (known: ")
        always_on = docker_pass(*flags, "plugins", "disable", "docker-pass")
        assert (
            always_on.stderr == b"Error: plugin docker-pass is not configurable: it is always on\n"
        )

    with engine.client() as client:
        requests = client.info().requests
    assert requests["/plugins.v1.PluginManagementService/DisablePlugin"] == 2
    assert requests["/plugins.v1.PluginManagementService/EnablePlugin"] == 2


def test_a_crash_is_seen_by_every_client(engine: RunningEngine) -> None:
    crash = docker_pass("run", "--", "true", env={"C": "se://crash/now"})
    assert crash.returncode == 1
    message = "snapshot broke on purpose; run: docker pass plugins enable snapshot"
    assert crash.stderr.decode() == f"Error: resolving C: snapshot: {message}\n"

    for flags in ([], ["--no-daemon"]):
        listed = json.loads(docker_pass(*flags, "plugins", "ls", "--json").stdout)
        snapshot = {p["name"]: p for p in listed}["snapshot"]
        assert (snapshot["status"], snapshot["message"]) == ("crashed", message), flags

    # Other clients: the crashed plugin is no longer asked, and the hint says why it was not.
    for flags in ([], ["--no-daemon"]):
        explain = docker_pass(*flags, "run", "--explain", env={"A": "se://shared/x"})
        assert explain.returncode == 1
        assert explain.stderr.decode() == (
            "A: se://shared/x -> failed: secret not found: shared/x (asked: docker-pass; "
            "answered: docker-pass)\n"
            f"Hint: plugin snapshot is crashed: {message}\n"
        ), flags

    assert docker_pass("plugins", "enable", "snapshot").stdout == b"snapshot: running\n"
    assert docker_pass(*PRINT_A, env={"A": "se://app/db"}).stdout == b"db-secret-1"


def test_daemon_logs_hold_no_values(engine: RunningEngine) -> None:
    docker_pass("set", "kc/token=kc-value-123")
    for ref in ("se://app/db", "se://kc/token", "se://crash/now", "se://no/such"):
        docker_pass("run", "--", "true", env={"A": ref})
    docker_pass("plugins", "ls")
    log = engine.log()
    assert "GetSecrets app/db: 1 envelope(s)" in log  # --debug logs each request
    for value in ("db-secret-1", "kc-value-123", "api-secret-2"):
        assert value not in log


def test_hints_cross_the_socket(engine: RunningEngine, isolated_home: Path) -> None:
    config = isolated_home / ".config/docker-pass/config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    narrowed = {"docker-pass": {"pattern": "kc/**"}, "snapshot": {"pattern": "app/**"}}
    config.write_text(json.dumps({"plugins": narrowed}))
    assert docker_pass("run", "--", "true", env={"C": "se://app/crash/now"}).returncode == 1
    # Only the crashed plugin serves app/**: no plugin matches, and the hint names it.
    outputs = [
        docker_pass(*flags, "run", "--", "true", env={"A": "se://app/db"}).stderr.decode()
        for flags in ([], ["--no-daemon"])
    ]
    assert outputs[0] == outputs[1]
    assert outputs[0].splitlines() == [
        "Error: no plugin matches app/db",
        "Hint: plugin snapshot is crashed: snapshot broke on purpose; run: docker pass plugins "
        "enable snapshot",
    ]
