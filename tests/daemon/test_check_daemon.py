"""`check` goes through the engine daemon when one runs, like `run` (and embedded without)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from pathlib import Path

    from tests.daemon.engines import RunningEngine

GET_SECRETS = "/resolver.v1.ResolverService/GetSecrets"


def get_secrets_count(engine: RunningEngine) -> int:
    with engine.client() as client:
        return client.info().requests.get(GET_SECRETS, 0)


def test_check_asks_the_daemon(engine: RunningEngine, snapshot_data: Path, tmp_path: Path) -> None:
    # A secret added after the daemon started its plugins: only a fresh (embedded) snapshot
    # instance knows it, so each answer shows which engine gave it.
    snapshot_data.write_text(json.dumps({"app/db": "db-secret-1", "app/new": "fresh-value"}))
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  app:\n    environment:\n      DB: se://app/db\n      NEW: se://app/new\n"
    )
    before = get_secrets_count(engine)

    daemon = docker_pass("--debug", "check", "--json", str(compose))
    assert daemon.returncode == 1
    assert daemon.stderr == b""  # --debug would say so if it fell back to an embedded engine
    statuses = {r["variable"]: (r["status"], r["provider"]) for r in json.loads(daemon.stdout)}
    assert statuses == {"DB": ("resolves", "snapshot"), "NEW": ("not found", None)}
    assert get_secrets_count(engine) == before + 2

    embedded = docker_pass("--no-daemon", "check", "--json", str(compose))
    assert embedded.returncode == 0, embedded.stderr
    statuses = {r["variable"]: (r["status"], r["provider"]) for r in json.loads(embedded.stdout)}
    assert statuses == {"DB": ("resolves", "snapshot"), "NEW": ("resolves", "snapshot")}
    assert get_secrets_count(engine) == before + 2  # --no-daemon never asked it
    for output in (daemon.stdout, embedded.stdout, engine.log().encode()):
        assert b"db-secret-1" not in output
        assert b"fresh-value" not in output


def test_a_plugin_that_fails_is_an_error_then_a_hint(engine: RunningEngine, tmp_path: Path) -> None:
    env = tmp_path / "app.env"
    env.write_text("C=se://crash/now\n")
    crash = docker_pass("check", str(env))
    assert crash.returncode == 1
    message = "snapshot broke on purpose; run: docker pass plugins enable snapshot"
    assert crash.stdout.decode().splitlines()[1].split(None, 4) == [
        str(env),
        "C",
        "se://crash/now",
        "error",
        f"snapshot: {message}",
    ]

    # The plugin is now down: a reference only it held is not found, and the hint says why.
    env.write_text("A=se://shared/x\nB=se://app/db\n")
    for flags in ([], ["--no-daemon"]):
        down = docker_pass(*flags, "check", str(env))
        assert down.returncode == 1
        lines = down.stdout.decode().splitlines()
        assert len(lines) == 3, flags
        assert lines[1].endswith("se://shared/x  not found  secret not found: shared/x"), flags
        assert lines[2].endswith("se://app/db    not found  secret not found: app/db"), flags
        assert down.stderr.decode() == f"Hint: plugin snapshot is crashed: {message}\n", flags
