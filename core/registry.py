"""Finding plugins: built-ins and third-party ones share one entry-point group.

Three grains, as in Harlequin: :func:`plugin_specs` lists names without importing any plugin;
:func:`load_plugin_class` loads one and fails loudly, naming the known ones; the engine loads all
and isolates each failure.
"""

from __future__ import annotations

from importlib import import_module

from docker_pass.core.errors import DockerPassError, UnknownPluginError
from docker_pass.core.plugin import Plugin

ENTRY_POINT_GROUP = "docker_pass.plugins"

#: The built-in plugins, exactly as pyproject.toml declares them in ENTRY_POINT_GROUP (a test
#: checks they agree).  Commands that need only these (``get``, ``ls``, ``set``, ``rm``) use this
#: table and skip scanning every installed distribution's metadata, which costs ~90 ms.
BUILTIN_PLUGINS: dict[str, str] = {
    "docker-pass": "docker_pass.backends.keychain:KeychainPlugin",
}


def plugin_specs(*, third_party: bool = True) -> dict[str, str]:
    """Plugin names mapped to ``module:attribute``, built-ins first, nothing imported."""
    specs = dict(BUILTIN_PLUGINS)
    if third_party:
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            specs.setdefault(ep.name, ep.value)
    return specs


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
