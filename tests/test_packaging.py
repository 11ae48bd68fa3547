"""A regular (non-editable) install holds every module and data file of every package folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.layout import LAYERS, ROOT, pyproject

FOLDERS = {folder: package.replace(".", "/") for folder, package in LAYERS.items()}
DATA_SUFFIXES = (".py", ".tcss", ".proto", ".typed")


def source_files() -> set[str]:
    """Every file a wheel must carry, as its path inside the wheel."""
    found = set()
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in DATA_SUFFIXES and "__pycache__" not in path.parts:
                found.add(f"{package}/{path.relative_to(ROOT / folder).as_posix()}")
    return found


#: What a build never reads: the venvs, earlier builds (a stale build/lib would be packaged).
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv*", "build", "*.egg-info", "__pycache__", ".cache", ".*_cache", ".hypothesis"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source") / "docker-pass"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
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
            str(source),
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


def test_the_type_checker_reads_every_package_of_the_layout() -> None:
    # [tool.mypy] cannot read [tool.setuptools.package-dir]: it names the packages again.
    mypy = pyproject()["tool"]["mypy"]  # type: ignore[index]
    assert set(LAYERS.values()) <= set(mypy["packages"])
    assert "mypy_path" not in mypy


PROBE = """
import json, sys
import docker_pass.core, docker_pass.tui
print(json.dumps({
    "core": docker_pass.core.__file__,
    "tui": docker_pass.tui.__file__,
    "finders": [type(f).__module__ for f in sys.meta_path],
}))
"""


def test_the_development_install_is_a_plain_path_to_links_to_the_source() -> None:
    """scripts/test installs in setuptools' strict editable mode: no import hook."""
    import json

    out = subprocess.run(
        [sys.executable, "-c", PROBE], check=True, capture_output=True, text=True, cwd="/"
    )
    found = json.loads(out.stdout)
    assert not [f for f in found["finders"] if "editable" in f], found["finders"]
    for folder in ("core", "tui"):
        installed = Path(found[folder])
        assert installed.is_symlink(), installed
        assert installed.resolve() == ROOT / folder / "__init__.py"
