"""Finding plugins: built-ins and third-party ones share one entry-point group.

Three grains, as in Harlequin: :func:`plugin_specs` lists names without importing any plugin;
:func:`load_plugin_class` loads one and fails loudly, naming the known ones; the engine loads all
and isolates each failure.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError, UnknownPluginError
from docker_pass.core.names import KEYCHAIN_PLUGIN
from docker_pass.core.store import xdg_path

if TYPE_CHECKING:
    from docker_pass.core.plugin import Plugin

ENTRY_POINT_GROUP = "docker_pass.plugins"

#: The built-in plugins, exactly as pyproject.toml declares them in ENTRY_POINT_GROUP (a test
#: checks they agree).  Commands that need only these (``get``, ``ls``, ``set``, ``rm``) use this
#: table and skip scanning every installed distribution's metadata, which costs ~90 ms.
BUILTIN_PLUGINS: dict[str, str] = {
    KEYCHAIN_PLUGIN: "docker_pass.backends.keychain:KeychainPlugin",
    "1password-cli": "docker_pass.backends.onepassword.cli_plugin:OnePasswordCliPlugin",
    "1password-sdk": "docker_pass.backends.onepassword.sdk_plugin:OnePasswordSdkPlugin",
    "vault": "docker_pass.backends.vault.plugin:VaultPlugin",
}


def plugin_specs(*, third_party: bool = True) -> dict[str, str]:
    """Plugin names mapped to ``module:attribute``, built-ins first, nothing imported."""
    specs = dict(BUILTIN_PLUGINS)
    if third_party:
        for name, value in _entry_point_specs().items():
            specs.setdefault(name, value)
    return specs


def _entry_point_specs() -> dict[str, str]:
    """The entry points of the group, from a cache while no ``sys.path`` folder has changed.

    Scanning every installed distribution's metadata takes ~90 ms, too much for ``run``;
    installing or removing a distribution changes its site folder's modification time, which
    invalidates the cache.  The cache is lines of text (``json`` would cost ``run`` ~1.6 ms).
    """
    key = _path_key()
    cache = os.path.join(xdg_path("cache"), CACHE_FILE)
    from docker_pass.core.regular_files import FileReadError, read_regular_file

    try:
        cached = _read_cache(read_regular_file(cache, "plugin cache").decode("utf-8"), key)
    except (FileReadError, ValueError):
        cached = None  # no cache, or an unreadable one (a FIFO, a huge file): scan
    if cached is not None:
        return cached
    from importlib.metadata import entry_points

    specs = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    text = _cache_text(key, specs)
    if text is not None:
        with contextlib.suppress(OSError):  # a read-only cache dir costs speed, not correctness
            _write_atomic(cache, text)
    return specs


#: The cache of the group's entry points, in the user cache dir.
CACHE_FILE = "plugins.cache"


def _path_key() -> list[str]:
    """One line per ``sys.path`` folder: its name and modification time."""
    key = []
    for entry in sys.path:
        try:
            stamp = str(os.stat(entry or ".").st_mtime_ns)
        except OSError:
            stamp = "-"
        key.append(f"path\t{entry}\t{stamp}")
    return key


def _cache_text(key: list[str], specs: dict[str, str]) -> str | None:
    """The cache's text, or ``None`` when a name would not survive the line format."""
    lines = [*key, *(f"plugin\t{name}\t{value}" for name, value in sorted(specs.items()))]
    if any(line.count("\t") != 2 or "\n" in line or "\r" in line for line in lines):
        return None
    return "\n".join(lines) + "\n"


def _read_cache(text: str, key: list[str]) -> dict[str, str] | None:
    """The specs the cache holds, or ``None`` when it was written for other folders."""
    lines = text.splitlines()
    if lines[: len(key)] != key or any(line.startswith("path\t") for line in lines[len(key) :]):
        return None
    specs = {}
    for line in lines[len(key) :]:
        kind, name, value = line.split("\t")  # ValueError for a damaged line: scan again
        if kind != "plugin":
            raise ValueError(line)
        specs[name] = value
    return specs


def _write_atomic(path: str, text: str) -> None:
    from docker_pass.core.private_files import ensure_private_dir

    folder = os.path.dirname(path)
    ensure_private_dir(folder)
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def load_plugin_class(name: str, specs: dict[str, str] | None = None) -> type[Plugin]:
    """Import the plugin called ``name``; raise :class:`UnknownPluginError` if there is none."""
    specs = specs if specs is not None else plugin_specs(third_party=name not in BUILTIN_PLUGINS)
    try:
        spec = specs[name]
    except KeyError:
        raise UnknownPluginError(name, list(specs)) from None
    module_name, _, attribute = spec.partition(":")
    try:
        __import__(module_name)  # not importlib: that package costs ~0.1 ms of every start
        module = sys.modules[module_name]
        cls: type[Plugin] = getattr(module, attribute)
    except (ImportError, AttributeError) as exc:
        raise DockerPassError(f"plugin {name}: cannot load {spec}: {exc}") from None
    return cls


def create_plugin(name: str) -> Plugin:
    """A new, not yet started instance of the plugin called ``name``."""
    return load_plugin_class(name)()
