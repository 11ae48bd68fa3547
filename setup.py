"""The package list, from the folders: each top-level folder is one ``docker_pass`` subpackage.

pyproject.toml holds everything else; setuptools' ``find`` cannot map several folders to
subpackages of one namespace, so these few lines do (a new subfolder with an ``__init__.py``
is packaged without editing anything).
"""

from setuptools import find_packages, setup  # type: ignore[import-untyped]

#: Top-level folder -> the import package it is.
ROOTS = {
    "core": "docker_pass.core",
    "backends": "docker_pass.backends",
    "cli": "docker_pass.cli",
    "tui": "docker_pass.tui",
    "daemon": "docker_pass.daemon",
}

packages = []
for folder, package in ROOTS.items():
    packages.append(package)
    packages += [f"{package}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir={package: folder for folder, package in ROOTS.items()})
