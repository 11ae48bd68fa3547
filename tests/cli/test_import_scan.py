"""After `import`, `scan` finds no value in the file (and finds them in the backup, which is why
the output says to delete it)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.cli.test_import import ENV_TEXT, VALUES
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(autouse=True)
def file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")


def test_scan_finds_no_value_in_an_imported_file(tmp_path: Path) -> None:
    folder = tmp_path / "myapp"
    folder.mkdir()
    env = folder / ".env"
    env.write_bytes(ENV_TEXT.encode())
    assert docker_pass("set", "shared/thing=shared-value-1").returncode == 0
    assert docker_pass("import", str(env)).returncode == 0
    clean = docker_pass("scan", "--no-engine", str(env))
    assert clean.returncode == 0, clean.stdout
    backup = docker_pass("scan", "--no-engine", "--json", str(env) + ".docker-pass-backup")
    assert backup.returncode == 1
    found = {finding["secret"] for finding in json.loads(backup.stdout)["findings"]}
    # Every value the backup holds as written (not escaped), of scan's minimum length or more.
    written = {k for k, v in VALUES.items() if v in ENV_TEXT and len(v.encode()) >= 8}
    assert len(written) >= 5
    assert {f"myapp/{key.lower()}" for key in written} <= found
    for value in VALUES.values():
        assert value.encode() not in clean.stdout + backup.stdout
