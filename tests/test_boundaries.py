"""The layout's import boundaries, checked in fresh interpreters (sys.modules after import)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEADLESS_MODULES = [
    "docker_pass.core",
    "docker_pass.core.ids",
    "docker_pass.core.refs",
    "docker_pass.core.envelope",
    "docker_pass.core.errors",
    "docker_pass.cli.main",
    "docker_pass.cli.plugin_protocol",
    "docker_pass.cli.commands",
]
UI_LIBRARIES = ("textual", "rich")
HEAVY_FOR_FAST_PATH = ("textual", "rich", "keyring", "onepassword", "cryptography")


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.mark.parametrize("module", HEADLESS_MODULES)
def test_headless_modules_import_no_ui_library(module: str) -> None:
    loaded = top_level(modules_after(f"import {module}"))
    assert not loaded & set(UI_LIBRARIES), f"{module} pulled in {loaded & set(UI_LIBRARIES)}"


def test_core_imports_no_backend() -> None:
    loaded = modules_after("import docker_pass.core")
    assert not {m for m in loaded if m.startswith("docker_pass.backends")}
    assert not {m for m in loaded if m.startswith(("docker_pass.cli", "docker_pass.tui"))}


def test_version_fast_path_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from docker_pass.cli.main import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['version']) == 0\n"
    )
    loaded = top_level(modules_after(code))
    assert not loaded & set(HEAVY_FOR_FAST_PATH), loaded & set(HEAVY_FOR_FAST_PATH)
