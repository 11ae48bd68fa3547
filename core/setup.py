"""One setup form any plugin can describe, the one function that applies the answers, and the
one that reads a stored answer back.

A plugin that needs something from a person before it can start (a service account token; a
vault's address, mount and token) describes it as a :class:`Setup` (:mod:`.setup_form`: the
fields, their rules and how those are worded).  The plugin class exposes it as the optional
protocol member ``setup_form()`` (a classmethod, so nothing is started to read it);
:func:`find_setup` reads it through the plugin registry.  Every front is generated from the
form: the TUI's setup screen, and the CLI's ``docker pass plugins setup NAME [--FIELD VALUE …]``
(a flag per setting, the secret in play read from stdin) and ``plugins purge NAME``; a plugin
adds no code outside its own package.

:func:`apply_setup` is what every front calls: it validates each answer's shape, then runs the
plugin's check, and only then stores the secret answers with the ``docker-pass`` keychain
plugin under ``docker/secrets-engine/plugins/<plugin>/<field>`` (:func:`secret_id`), writes the
other answers to the plugin's section of the config file, and enables the plugin.  The plugin
reads its secret back with :func:`read_setup_secret` when it starts.

Standard library only.  No answer ever reaches a message, a ``repr`` or an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from docker_pass.core.errors import DockerPassError
from docker_pass.core.ids import ID
from docker_pass.core.names import KEYCHAIN_PLUGIN, SETUP_REALM
from docker_pass.core.setup_form import (
    FIELD_WORDING,
    MISSING,
    MORE_THAN_ONE_WORD,
    NOT_TEXT,
    STDIN_REMEDY,
    Answers,
    FieldKind,
    Setup,
    SetupError,
    SetupField,
    Wording,
    setup_command,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from docker_pass.core.results import PluginStatus, Saved

__all__ = [  # the form's names, for every front that imports them from here
    "FIELD_WORDING",
    "MISSING",
    "MORE_THAN_ONE_WORD",
    "NOT_TEXT",
    "STDIN_REMEDY",
    "Answers",
    "FieldKind",
    "Setup",
    "SetupError",
    "SetupField",
    "Wording",
    "apply_setup",
    "current_settings",
    "find_setup",
    "find_setups",
    "read_setup_secret",
    "secret_id",
    "setup_called",
    "setup_command",
    "setups_available",
]


def secret_id(plugin: str, field_name: str) -> ID:
    """Where the ``docker-pass`` plugin keeps the secret answer ``field_name`` of ``plugin``."""
    return ID(f"{SETUP_REALM}/{plugin}/{field_name}")


def read_setup_secret(plugin: str, field_name: str) -> str | None:
    """The secret answer ``field_name`` of ``plugin``, read back through the ``docker-pass``
    plugin (what a plugin does when it starts); ``None`` when none is stored (or what is
    stored is blank, or not text: set it up again).

    Raises :class:`~docker_pass.core.errors.FatalPluginError` when the keychain cannot be
    used, and :class:`~docker_pass.core.errors.PluginError` for a failed read.
    """
    from docker_pass.core.errors import FatalPluginError, PluginError, SecretNotFoundError
    from docker_pass.core.plugin import WritablePlugin
    from docker_pass.core.registry import create_plugin

    keychain = create_plugin(KEYCHAIN_PLUGIN)
    what = f"{plugin}'s {field_name.replace('_', ' ')}"
    if not isinstance(keychain, WritablePlugin):
        raise FatalPluginError(f"plugin {KEYCHAIN_PLUGIN} cannot hold {what}")
    try:
        keychain.start()
        envelope = keychain.get(secret_id(plugin, field_name))
    except SecretNotFoundError:
        return None
    except FatalPluginError:
        raise
    except DockerPassError as exc:
        raise PluginError(f"reading {what} from plugin {KEYCHAIN_PLUGIN}: {exc}") from None
    finally:
        keychain.stop()
    try:
        text = envelope.value.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    return text or None


@dataclass(frozen=True, slots=True)
class StoredSecret:
    """A secret answer stored: which field, under which ID, and whether it replaced one."""

    field: SetupField
    id: ID
    replaced: bool


@dataclass(frozen=True, slots=True)
class SetupResult:
    """What :func:`apply_setup` did: secrets stored (and where), settings written, and the
    plugin's status once enabled."""

    setup: Setup
    stored: tuple[StoredSecret, ...]
    storage: str
    settings: tuple[str, ...]
    status: PluginStatus

    def lines(self) -> list[str]:
        """What happened, for people (the status is each front's to render)."""
        out = []
        for item in self.stored:
            out.append(
                f"Stored the {self.setup.title} {item.field.lower_label}"
                + (", replacing the earlier one," if item.replaced else "")
                + f" with the {KEYCHAIN_PLUGIN} plugin"
                + (f": {self.storage}" if self.storage else ".")
            )
        if self.settings:
            keys = ", ".join(f"plugins.{self.setup.plugin}.{name}" for name in self.settings)
            out.append(f"Wrote {keys} to the config file.")
        return out


class SecretSink(Protocol):
    """Where secret answers go: an engine (or front) with the ``docker-pass`` plugin."""

    def save(
        self, id_: ID, value: bytes, metadata: Mapping[str, str], *, plugin: str = ...
    ) -> Saved: ...

    def plugins(self, *, start: bool = True) -> list[PluginStatus]: ...


class PluginSwitch(Protocol):
    """What enables the plugin afterwards: an engine (or front)."""

    def enable(self, name: str) -> PluginStatus: ...


def apply_setup(
    setup: Setup,
    answers: Mapping[str, str],
    *,
    keychain: SecretSink,
    plugins: PluginSwitch,
    wording: Wording = FIELD_WORDING,
) -> SetupResult:
    """Validate ``answers`` (shape, then the plugin's check), store the secret ones with the
    keychain plugin, write the others to the config file, and enable the plugin.

    Raises :class:`SetupError` before anything is stored when an answer is refused.  An empty
    answer to an optional field keeps the stored secret, and removes the setting.
    """
    values = setup.validate(answers, wording)
    stored: list[StoredSecret] = []
    for item in setup.fields:
        if item.secret and values[item.name]:
            id_ = secret_id(setup.plugin, item.name)
            saved = keychain.save(id_, values[item.name].encode(), {}, plugin=KEYCHAIN_PLUGIN)
            stored.append(StoredSecret(item, id_, saved.replaced))
    settings = {f.name: values[f.name] for f in setup.settings_fields}
    if settings:
        from docker_pass.core.plugin_settings import write_plugin_settings

        write_plugin_settings(setup.plugin, settings)
    storage = ""
    if stored:
        storage = next((s.storage for s in keychain.plugins() if s.name == KEYCHAIN_PLUGIN), "")
    status = plugins.enable(setup.plugin)
    written = tuple(name for name, value in settings.items() if value)
    return SetupResult(setup, tuple(stored), storage, written, status)


def current_settings(setup: Setup) -> dict[str, str]:
    """The non-secret answers as the config file holds them now (defaults where it does not)."""
    from docker_pass.core.config import load_config

    section: Any = load_config().get("plugins", {})
    section = section.get(setup.plugin, {}) if isinstance(section, dict) else {}
    if not isinstance(section, dict):
        section = {}
    out: dict[str, str] = {}
    for item in setup.settings_fields:
        value = section.get(item.name, item.default)
        out[item.name] = value if isinstance(value, str) else item.default
    return out


def setup_of(plugin_class: object) -> Setup | None:
    """The setup a plugin class (or instance) describes, if it has one."""
    describe = getattr(plugin_class, "setup_form", None)
    if describe is None:
        return None
    setup = describe()
    return setup if isinstance(setup, Setup) else None


def find_setup(name: str) -> Setup | None:
    """The setup plugin ``name`` describes, read from its class through the registry (the
    plugin is not started); ``None`` when it has none or cannot be loaded."""
    from docker_pass.core.registry import load_plugin_class

    try:
        return setup_of(load_plugin_class(name))
    except DockerPassError:
        return None


def find_setups(names: Sequence[str]) -> dict[str, Setup]:
    """The setups of every plugin in ``names`` that describes one; a plugin whose form cannot
    be read is left out, so one broken plugin never hides the others' (or breaks a help)."""
    out: dict[str, Setup] = {}
    for name in names:
        try:
            setup = find_setup(name)
        except Exception as exc:  # noqa: BLE001 - a third party's setup_form() may raise anything
            import logging

            from docker_pass.core.errors import describe_unexpected

            # By its type only: a library's message could hold data.
            logging.getLogger("docker_pass.setup").debug(
                "plugin %s: its setup form cannot be read (%s)", name, describe_unexpected(exc)
            )
            continue
        if setup is not None:
            out[name] = setup
    return out


def setups_available() -> dict[str, Setup]:
    """The setup form of every registered plugin that describes one (each class is loaded;
    none is started)."""
    from docker_pass.core.registry import plugin_specs

    return find_setups(list(plugin_specs()))


def setup_called(word: str) -> Setup | None:
    """The form of the plugin a command line calls ``word``: by its name, else by one of its
    form's aliases (``1password``)."""
    setup = find_setup(word)
    if setup is not None:
        return setup
    return next((s for s in setups_available().values() if word in s.aliases), None)
