"""What each key of ``config.json`` must hold, checked when the file is loaded.

Two grains, so that one plugin's bad setting never breaks the whole CLI:

- :func:`validate_config` runs on every load and raises one :class:`DockerPassError` naming the
  file and the dotted key: the shape of the file (objects where objects belong, nesting depth),
  ``storage``, ``engine.*`` (the launched plugins' ``plugins_dir``, ``plugin_backoff`` and
  ``plugin_retries`` among them), ``tui.keymap`` and every ``plugins.<name>.enabled``.
- :func:`plugin_setting_problem` checks the settings the engine reads of each plugin
  (``pattern``, ``refresh_interval``, ``timeout``; the rules of :mod:`.plugin_settings`, where a
  plugin reads the rest of its section); the engine shows that plugin crashed with the message,
  and brings it back once the file is fixed.

Unknown keys are kept and not checked (a newer version may have written them).  Standard library
only and no imports at module level: ``get`` loads the config on every run.
"""

from __future__ import annotations

from typing import Any

from docker_pass.core.errors import DockerPassError
from docker_pass.core.names import STORAGE_KINDS

#: Deeper nesting than this is no configuration a person wrote (and would exhaust recursion).
MAX_DEPTH = 16
#: At most this many characters of a bad value reach a message.
SHOWN_CHARS = 60


class ConfigError(DockerPassError):
    """Raised when the config file holds a value of the wrong type or shape."""


def shown(value: object) -> str:
    """``value`` as JSON would spell it, cut to :data:`SHOWN_CHARS` characters."""
    if value is True or value is False:
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, str):
        text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif isinstance(value, dict):
        text = "an object"
    elif isinstance(value, list):
        text = "a list"
    else:
        text = repr(value)
    # A value from the file is outside text: shown through the one sanitizer (no control
    # character or escape sequence, no URL credentials), cut short.
    from docker_pass.core.outside import clean_outside

    return clean_outside(text, SHOWN_CHARS)


def _is_number(value: object) -> bool:
    import math  # built in: costs nothing

    # json accepts NaN and Infinity; neither is a number of seconds.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


#: How a message says to write ``plugins.<name>.enabled``.
ENABLED_FIX = '"enabled": true or "enabled": false, without quotes'


def enabled_flag(value: object) -> bool | None:
    """``plugins.<name>.enabled`` read as a flag: ``true``/``false``, or the strings
    ``"true"``/``"false"`` in any case (a hand-written file often quotes them; ``bool("false")``
    would be ``True``); ``None`` for anything else, which :func:`validate_config` refuses."""
    if value is True or value is False:
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("true", "false"):
            return word == "true"
    return None


def validate_config(data: dict[str, Any], where: str) -> None:
    """Raise :class:`ConfigError` for the first key of ``data`` (read from ``where``) that
    holds the wrong type; plugin-local settings are left to :func:`plugin_setting_problem`."""
    if _too_deep(data, 1):
        raise ConfigError(f"config {where}: nested deeper than {MAX_DEPTH} levels")

    def fail(key: str, expected: str, value: object) -> None:
        raise ConfigError(f"config {where}: {key} must be {expected}, not {shown(value)}")

    storage = data.get("storage")
    if storage is not None and storage not in STORAGE_KINDS:
        fail("storage", f"one of {', '.join(STORAGE_KINDS)}", storage)
    engine = data.get("engine")
    if engine is not None:
        if not isinstance(engine, dict):
            fail("engine", "an object", engine)
        socket = engine.get("socket")
        if socket is not None and not isinstance(socket, str):
            fail("engine.socket", "a path (a string)", socket)
        for key in (
            "request_timeout",
            "idle_timeout",
            "refresh_interval",
            "plugin_timeout",
            "plugin_backoff",
        ):
            value = engine.get(key)
            if value is not None and not (_is_number(value) and value > 0):
                fail(f"engine.{key}", "a positive number of seconds", value)
        plugins_dir = engine.get("plugins_dir")
        if plugins_dir is not None and not isinstance(plugins_dir, str):
            fail("engine.plugins_dir", "a path (a string)", plugins_dir)
        lookup = engine.get("empty_env_lookup")
        if lookup is not None and not isinstance(lookup, bool):
            fail("engine.empty_env_lookup", "true or false", lookup)
        for key in ("max_connections", "plugin_retries", "max_external_plugins"):
            count = engine.get(key)
            if count is not None and not (
                isinstance(count, int) and not isinstance(count, bool) and count > 0
            ):
                fail(f"engine.{key}", "a positive whole number", count)
    tui = data.get("tui")
    if tui is not None:
        if not isinstance(tui, dict):
            fail("tui", "an object", tui)
        keymap = tui.get("keymap")
        if keymap is not None:
            if not isinstance(keymap, dict):
                fail("tui.keymap", "an object of binding id to keys", keymap)
            for binding, keys in keymap.items():
                if not isinstance(keys, str):
                    fail(f"tui.keymap.{binding}", "keys (a string)", keys)
    plugins = data.get("plugins")
    if plugins is not None:
        if not isinstance(plugins, dict):
            fail("plugins", "an object", plugins)
        for name, section in plugins.items():
            if not isinstance(section, dict):
                fail(f"plugins.{name}", "an object", section)
            enabled = section.get("enabled")
            if enabled is not None and enabled_flag(enabled) is None:
                # A word in quotes ("yes", "off") was meant as a flag: say how to write one.
                meant = isinstance(enabled, str) and len(enabled) <= 20
                raise ConfigError(
                    f"config {where}: plugins.{name}.enabled must be true or false, not "
                    f"{shown(enabled)}" + (f" (write {ENABLED_FIX})" if meant else "")
                )


def plugin_setting_problem(section: dict[str, Any], name: str, where: str) -> str:
    """Why plugin ``name``'s ``section`` of the config file cannot be used ("" when it can).

    Checks types only; the engine parses ``pattern`` itself (it needs :mod:`.ids`).
    """
    pattern = section.get("pattern")
    if pattern is not None and not isinstance(pattern, str):
        return f"config {where}: plugins.{name}.pattern must be a pattern (a string), not " + (
            shown(pattern)
        )
    from docker_pass.core.plugin_settings import SECONDS, is_seconds

    for key in ("refresh_interval", "timeout", "deadline"):
        value = section.get(key)
        if value is not None and not is_seconds(value):
            return f"config {where}: plugins.{name}.{key} must be {SECONDS}, not {shown(value)}"
    return ""


def _too_deep(value: object, depth: int) -> bool:
    if depth > MAX_DEPTH:
        return True
    if isinstance(value, dict):
        return any(_too_deep(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_too_deep(v, depth + 1) for v in value)
    return False
