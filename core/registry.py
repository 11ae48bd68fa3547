"""Finding plugins: built-ins and third-party ones share one entry-point group.

Three grains, as in Harlequin: :func:`plugin_specs` lists names without importing any plugin;
:func:`load_plugin_class` loads one and fails loudly, naming the known ones; the engine loads all
and isolates each failure.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError, UnknownPluginError
from docker_pass.core.names import KEYCHAIN_PLUGIN
from docker_pass.core.store import xdg_dir

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
    invalidates the cache.
    """
    import json  # only `run`, `plugins` and the TUI scan for plugins

    key = _path_key()
    cache = xdg_dir("cache") / "plugins.json"
    try:
        doc = json.loads(cache.read_text(encoding="utf-8"))
        if doc.get("key") == key and isinstance(doc.get("specs"), dict):
            return {str(k): str(v) for k, v in doc["specs"].items()}
    except (OSError, ValueError, AttributeError):
        pass  # no cache, or an unreadable one: scan
    from importlib.metadata import entry_points

    specs = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    try:
        from docker_pass.core.config import write_json_atomic

        write_json_atomic(cache, {"key": key, "specs": specs})
    except OSError:
        pass  # a read-only cache dir costs speed, not correctness
    return specs


def _path_key() -> list[list[object]]:
    key: list[list[object]] = []
    for entry in sys.path:
        try:
            key.append([entry, os.stat(entry or ".").st_mtime_ns])
        except OSError:
            key.append([entry, None])
    return key


def load_plugin_class(name: str, specs: dict[str, str] | None = None) -> type[Plugin]:
    """Import the plugin called ``name``; raise :class:`UnknownPluginError` if there is none."""
    specs = specs if specs is not None else plugin_specs(third_party=name not in BUILTIN_PLUGINS)
    try:
        spec = specs[name]
    except KeyError:
        raise UnknownPluginError(name, list(specs)) from None
    module_name, _, attribute = spec.partition(":")
    try:
        module = import_module(module_name)
        cls: type[Plugin] = getattr(module, attribute)
    except (ImportError, AttributeError) as exc:
        raise DockerPassError(f"plugin {name}: cannot load {spec}: {exc}") from None
    return cls


def create_plugin(name: str) -> Plugin:
    """A new, not yet started instance of the plugin called ``name``."""
    return load_plugin_class(name)()
