"""The keychain verbs stay lean: no entry-point scan, no heavy library, whatever the store."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from tests.test_boundaries import HEAVY_FOR_FAST_PATH

if TYPE_CHECKING:
    from pathlib import Path

RUN_VERBS = """
import contextlib, io, json, sys
from docker_pass.cli.main import main
codes = []
for argv in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        codes.append(main(argv))
print(json.dumps({"codes": codes, "modules": sorted(sys.modules)}))
"""
VERBS = [
    ["set", "app/key=v"],
    ["get", "app/key"],
    ["get", "--json", "app/key"],
    ["ls"],
    ["ls", "--long", "app/**"],
    ["rm", "app/key"],
]


@pytest.mark.parametrize("argv", VERBS, ids=" ".join)
def test_keychain_verbs_scan_no_entry_points_and_import_nothing_heavy(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    # The secret the verbs read, made by a process of its own first.  `set` asks every running
    # plugin whether it holds the ID already (one ID, one answer: issue 23), so it knows the
    # installed plugins: the first `set` after an install scans them once into the registry's
    # cache (as `run` does), and later ones read the cache.
    setup = subprocess.run(
        [sys.executable, "-c", RUN_VERBS, json.dumps([["set", "app/key=v"]])],
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(setup.stdout.splitlines()[-1])["codes"] == [0]
    out = subprocess.run(
        [sys.executable, "-c", RUN_VERBS, json.dumps([argv])],
        check=True,
        capture_output=True,
        text=True,
    )
    report = json.loads(out.stdout.splitlines()[-1])
    assert report["codes"] == [0]
    modules = set(report["modules"])
    # The registry scans installed distributions through importlib.metadata; the keychain
    # verbs use the built-in table instead.
    assert "importlib.metadata" not in modules
    heavy = {m.split(".")[0] for m in modules} & set(HEAVY_FOR_FAST_PATH)
    assert not heavy
    assert not {m for m in modules if m.startswith(("docker_pass.tui", "docker_pass.daemon"))}
