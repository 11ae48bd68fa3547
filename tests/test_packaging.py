"""A regular (non-editable) install holds every module and data file of every package folder."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {
    "core": "docker_pass/core",
    "backends": "docker_pass/backends",
    "cli": "docker_pass/cli",
    "tui": "docker_pass/tui",
    "daemon": "docker_pass/daemon",
}
DATA_SUFFIXES = (".py", ".tcss", ".proto")


def source_files() -> set[str]:
    """Every file a wheel must carry, as its path inside the wheel."""
    found = set()
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in DATA_SUFFIXES and "__pycache__" not in path.parts:
                found.add(f"{package}/{path.relative_to(ROOT / folder).as_posix()}")
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("docker_pass-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {name for name in archive.namelist() if name.startswith("docker_pass/")}


def test_the_wheel_holds_every_module_and_data_file(wheel_files: set[str]) -> None:
    missing = source_files() - wheel_files
    assert not missing, f"not packaged: {sorted(missing)}"


def test_the_wheel_holds_nothing_but_the_package_folders(wheel_files: set[str]) -> None:
    assert wheel_files - source_files() == set()


def test_the_distribution_version_is_the_package_version(wheel: Path) -> None:
    from docker_pass.core import __version__

    assert wheel.name.startswith(f"docker_pass-{__version__}-")


def test_every_package_folder_is_a_package() -> None:
    # A folder of modules without __init__.py would be skipped by find_packages.
    for folder in FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            assert (path.parent / "__init__.py").exists(), f"{path.parent} has no __init__.py"
