"""The package layout as pyproject.toml declares it, once, for the tests that walk it.

``[tool.setuptools.package-dir]`` maps each top-level folder to a ``docker_pass`` subpackage;
setup.py builds from the same table.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pyproject() -> dict[str, object]:
    """pyproject.toml, parsed."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def _layout() -> dict[str, str]:
    tool = pyproject()["tool"]
    assert isinstance(tool, dict)
    package_dir = tool["setuptools"]["package-dir"]
    assert isinstance(package_dir, dict)
    return {str(folder): str(package) for package, folder in package_dir.items()}


#: Top-level folder -> the import package it is (``core`` -> ``docker_pass.core``).
LAYERS: dict[str, str] = _layout()
