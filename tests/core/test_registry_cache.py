"""The cache of the plugin entry points: one scan of the installed distributions, reused until
a ``sys.path`` folder changes, and never trusted when damaged or written for other folders."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import pytest

from docker_pass.core import registry
from docker_pass.core.registry import BUILTIN_PLUGINS, ENTRY_POINT_GROUP, plugin_specs
from docker_pass.core.store import xdg_path

if TYPE_CHECKING:
    from pathlib import Path


def add_dist(site: Path, name: str, plugins: dict[str, str]) -> None:
    dist = site / f"{name}-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    lines = "".join(f"{plugin} = {spec}\n" for plugin, spec in plugins.items())
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


def scans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the scans of the installed distributions from now on."""
    import importlib.metadata

    counted: list[int] = []
    real = importlib.metadata.entry_points

    def counting(**kwargs: str) -> object:
        counted.append(1)
        return real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", counting)
    return counted


def test_a_scan_is_cached_until_a_path_folder_changes(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_dist(site, "first", {"first-plugin": "first_mod:Plugin"})
    counted = scans(monkeypatch)
    assert plugin_specs()["first-plugin"] == "first_mod:Plugin"
    assert plugin_specs()["first-plugin"] == "first_mod:Plugin"
    assert len(counted) == 1  # the second answer came from the cache
    add_dist(site, "second", {"second-plugin": "second_mod:Plugin"})
    os.utime(site, ns=(1, os.stat(site).st_mtime_ns + 1_000_000))  # a coarse clock: move it
    specs = plugin_specs()
    assert specs["second-plugin"] == "second_mod:Plugin"
    assert len(counted) == 2
    assert list(specs)[: len(BUILTIN_PLUGINS)] == list(BUILTIN_PLUGINS)


@pytest.mark.parametrize(
    "damage",
    ["", "garbage\n", "path\tx\n", "plugin\tonly-two\n"],
    ids=["empty", "garbage", "other-folders", "short-line"],
)
def test_a_damaged_cache_means_a_fresh_scan(
    site: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    add_dist(site, "first", {"first-plugin": "first_mod:Plugin"})
    plugin_specs()
    cache = os.path.join(xdg_path("cache"), registry.CACHE_FILE)
    with open(cache, encoding="utf-8") as handle:
        written = handle.read()
    key = "".join(line + "\n" for line in registry._path_key())
    assert written.startswith(key)
    mangled = damage if damage in ("", "garbage\n") else key + damage
    with open(cache, "w", encoding="utf-8") as handle:
        handle.write(mangled)
    counted = scans(monkeypatch)
    assert plugin_specs()["first-plugin"] == "first_mod:Plugin"
    assert len(counted) == 1


def test_a_cache_of_other_folders_is_not_used(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add_dist(site, "first", {"first-plugin": "first_mod:Plugin"})
    plugin_specs()
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(site)])
    counted = scans(monkeypatch)
    assert "first-plugin" not in plugin_specs()
    assert len(counted) == 1


def test_names_the_line_format_cannot_hold_are_never_cached() -> None:
    assert registry._cache_text(["path\t/x\t1"], {"bad\tname": "m:C"}) is None
    assert registry._cache_text(["path\t/x\t1"], {"ok": "m:C"}) == "path\t/x\t1\nplugin\tok\tm:C\n"
