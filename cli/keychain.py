"""Access to the ``docker-pass`` keychain plugin for the secret verbs (set, get, ls, rm)."""

from __future__ import annotations

from docker_pass.core.errors import DockerPassError
from docker_pass.core.plugin import WritablePlugin
from docker_pass.core.registry import create_plugin

KEYCHAIN_PLUGIN = "docker-pass"


def open_keychain() -> WritablePlugin:
    """The keychain plugin, through the registry like any other plugin."""
    plugin = create_plugin(KEYCHAIN_PLUGIN)
    if not isinstance(plugin, WritablePlugin):
        raise DockerPassError(f"plugin {KEYCHAIN_PLUGIN} does not store secrets")
    return plugin
