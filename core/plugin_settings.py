"""A plugin's own section of the config file, ``plugins.<name>``: how it is read and written.

One rule for every plugin (vault, both 1Password plugins, a third party's): a setting comes
from its environment variable when it has one and it is set, else from the section, else its
default.  A value of the wrong kind raises :class:`~docker_pass.core.errors.FatalPluginError`
naming where it came from (``$DOCKER_PASS_OP_TIMEOUT``, ``config plugins.vault.timeout``) and
how to bring the plugin back, so the engine shows the plugin crashed with that message.

The engine checks the settings it reads of every plugin (``pattern``, ``refresh_interval``,
``timeout``) before the plugin starts, with :func:`is_seconds` and :data:`SECONDS`
(:func:`docker_pass.core.config_schema.plugin_setting_problem`); a plugin reads the rest here.
:func:`write_plugin_settings` is what a setup form's answers are written with.

Standard library only, and nothing imported at module level but the errors: the engine imports
this module while loading the config.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from docker_pass.core.errors import DockerPassError, FatalPluginError, shorten

if TYPE_CHECKING:
    from collections.abc import Mapping

#: What a setting in seconds must be (the wording of every message about one).
SECONDS = "a number of seconds (0 or more)"
#: What a count or other plain number must be.
NUMBER = "a number (0 or more)"
#: At most this many characters of a bad value reach a message.
SHOWN_CHARS = 40


def is_seconds(value: object) -> bool:
    """Whether ``value`` (as JSON gives it) is a number of seconds: finite, 0 or more."""
    import math  # built in: costs nothing

    # json accepts NaN and Infinity; neither is a number of seconds.  A bool is an int to Python.
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


class PluginSettings:
    """The settings of plugin ``plugin``: its section of the config file (read on first use,
    once) under the environment variables a setting may name."""

    __slots__ = ("_section", "plugin")

    def __init__(self, plugin: str, section: Mapping[str, Any] | None = None) -> None:
        """``section`` stands for the config file's (tests, or a caller that has it)."""
        self.plugin = plugin
        self._section = section

    def __repr__(self) -> str:
        return f"PluginSettings({self.plugin!r})"

    @property
    def section(self) -> Mapping[str, Any]:
        """``plugins.<plugin>`` of the config file (empty when absent)."""
        if self._section is None:
            from docker_pass.core.config import load_config
            from docker_pass.core.state import plugin_settings

            self._section = plugin_settings(load_config(), self.plugin)
        return self._section

    def where(self, key: str, env: str = "") -> str:
        """Where ``key`` comes from: ``$ENV``, ``config plugins.<plugin>.<key>`` or
        ``default``."""
        if env and os.environ.get(env, "").strip():
            return f"${env}"
        if self.section.get(key) is not None:
            return f"config plugins.{self.plugin}.{key}"
        return "default"

    def text(self, key: str, default: str = "", *, env: str = "") -> str:
        """A text setting, stripped; ``default`` when unset or blank."""
        raw: Any = os.environ.get(env, "").strip() if env else ""
        if not raw:
            raw = self.section.get(key)
            if raw is None:
                return default
            if not isinstance(raw, str):
                raise self._fatal(f"{self.where(key)} must be a string")
        return raw.strip() or default

    def seconds(self, key: str, default: float, *, env: str = "") -> float:
        """A number of seconds (0 or more)."""
        return self._number(key, default, env, SECONDS)

    def number(self, key: str, default: float, *, env: str = "") -> float:
        """A plain number, 0 or more (a count: how many calls may be in flight)."""
        return self._number(key, default, env, NUMBER)

    def _number(self, key: str, default: float, env: str, what: str) -> float:
        raw: Any = os.environ.get(env, "").strip() if env else ""
        if not raw:
            raw = self.section.get(key)
            if raw is None:
                return default
        value: float | None = None
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            value = float(raw)
        elif isinstance(raw, str):
            try:
                value = float(raw)
            except ValueError:
                value = None
        if value is None or not is_seconds(value):  # the same bounds, whatever the unit
            shown = shorten(str(raw), SHOWN_CHARS)
            raise self._fatal(f"{self.where(key, env)}: {shown!r} is not {what}")
        return value

    def _fatal(self, problem: str) -> FatalPluginError:
        from docker_pass.core.plugin import enable_remedy

        return FatalPluginError(f"{problem}; fix it, then run: {enable_remedy(self.plugin)}")


def write_plugin_settings(plugin: str, settings: Mapping[str, str]) -> None:
    """Set (or, for an empty answer, remove) ``plugins.<plugin>.<name>`` in the config file."""
    from docker_pass.core.config import config_path, load_config, save_config
    from docker_pass.core.state import locked

    try:
        with locked():
            config = load_config()
            sections = config.setdefault("plugins", {})
            if not isinstance(sections, dict):
                raise DockerPassError(f"config {config_path()}: 'plugins' must be an object")
            section = sections.setdefault(plugin, {})
            if not isinstance(section, dict):
                raise DockerPassError(
                    f"config {config_path()}: 'plugins.{plugin}' must be an object"
                )
            for name, value in settings.items():
                if value:
                    section[name] = value
                else:
                    section.pop(name, None)
            save_config(config)
    except OSError as exc:
        raise DockerPassError(f"writing plugins.{plugin} settings: {exc.strerror}") from None
