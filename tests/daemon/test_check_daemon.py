"""`check` goes through the engine daemon when one runs, like `run` (and embedded without)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.helpers import docker_pass

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
