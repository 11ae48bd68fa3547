"""The package list, from the layout that pyproject.toml declares once.

``[tool.setuptools.package-dir]`` maps each top-level folder to a ``docker_pass`` subpackage;
setuptools' ``find`` cannot map several folders into one namespace, so these lines list the
subpackages below each folder (a new subfolder with an ``__init__.py`` is packaged without
editing anything).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages, setup  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent
with (ROOT / "pyproject.toml").open("rb") as file:
    LAYOUT: dict[str, str] = tomllib.load(file)["tool"]["setuptools"]["package-dir"]

packages = []
for package, folder in LAYOUT.items():
    packages.append(package)
    packages += [f"{package}.{sub}" for sub in find_packages(str(ROOT / folder))]

setup(packages=packages)
