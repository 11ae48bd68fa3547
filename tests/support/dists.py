"""Installing a test plugin the way any third-party plugin is installed: a dist-info with an
entry point in ``docker_pass.plugins``, on a folder that goes on ``PYTHONPATH``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.core.registry import ENTRY_POINT_GROUP

if TYPE_CHECKING:
    from pathlib import Path


def install_plugin_dist(
    site: Path, dist: str, version: str, plugin: str, module: str, cls: str, source: str
) -> Path:
    """Write ``module.py`` (``source``) and the dist ``dist`` (version ``version``) whose entry
    point names ``plugin`` as ``module:cls`` into ``site``; returns ``site``."""
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{plugin} = {module}:{cls}\n")
    (site / f"{module}.py").write_text(source)
    return site
