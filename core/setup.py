"""One setup form any plugin can describe, and the one function that applies the answers.

A plugin that needs something from a person before it can start (a service account token; a
vault's address, mount and token) describes it as a :class:`Setup`: a list of
:class:`SetupField`\\ s and, optionally, a ``check`` of the answers against what the plugin can
check without storing anything.  The plugin class exposes it as the optional protocol member
``setup_form()`` (a classmethod, so nothing is started to read it); :func:`find_setup` reads it
through the plugin registry.

:func:`apply_setup` is what every front calls (``docker pass plugins 1password setup``, the TUI's
setup form): it validates each answer's shape, then runs the plugin's check, and only then stores
the secret answers with the ``docker-pass`` keychain plugin under
``docker/secrets-engine/plugins/<plugin>/<field>``, writes the other answers to the plugin's
section of the config file, and enables the plugin.  The messages are worded once, here, for
where the answer came from (:class:`Wording`: stdin on the command line, a field in the form).

Standard library only.  No answer ever reaches a message, a ``repr`` or an exception.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Any, Protocol

from docker_pass.core.errors import DockerPassError, UsageError
from docker_pass.core.ids import ID
from docker_pass.core.names import KEYCHAIN_PLUGIN, SETUP_REALM

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from docker_pass.core.results import PluginStatus, Saved


#: The shape rules, worded for where an answer came from (see :class:`Wording`).
MISSING = "no {noun} given: {remedy}"
MORE_THAN_ONE_WORD = "{where} holds more than one word: give exactly one {label}"
NOT_TEXT = "{where} holds a control character: give the {label} as plain text"


class SetupError(UsageError):
    """Raised when an answer to a setup form is missing, malformed or refused by the plugin's
    check; ``field`` names the field (empty when it concerns the whole form).  Raised before
    anything is stored.  The message never holds the answer."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Wording:
    """How messages name where an answer came from: ``where`` ("stdin", "the field") and
    ``remedy``, what to do when it is missing."""

    where: str
    remedy: str


#: The wording of the TUI's form (the error is shown under the field it is about).
FIELD_WORDING = Wording("the field", "type it in the field")


@dataclass(frozen=True, slots=True)
class SetupField:
    """One thing a plugin asks for.

    ``name`` keys the answer, the config setting (``plugins.<plugin>.<name>``) and, for a
    ``secret`` field, the leaf of the secret's ID.  ``noun`` is what "no … given" says
    (default: the label in lower case); ``one_word`` refuses answers holding whitespace
    (tokens, addresses).
    """

    name: str
    label: str
    secret: bool = False
    required: bool = True
    help: str = ""
    default: str = ""
    one_word: bool = False
    noun: str = ""

    def problem(self, raw: str, wording: Wording = FIELD_WORDING) -> tuple[str, str]:
        """``(cleaned answer, "")``, or ``("", why it is refused)``; never quotes ``raw``."""
        value = raw.strip()
        label = self.label[:1].lower() + self.label[1:]
        if not value:
            if self.required:
                noun = self.noun or label
                return "", MISSING.format(noun=noun, remedy=wording.remedy)
            return "", ""
        if self.one_word and any(char.isspace() for char in value):
            return "", MORE_THAN_ONE_WORD.format(where=wording.where, label=label)
        if not all(char.isprintable() or char == " " for char in value):
            return "", NOT_TEXT.format(where=wording.where, label=label)
        return value, ""

    def clean(self, raw: str, wording: Wording = FIELD_WORDING) -> str:
        """The answer stripped; raise :class:`SetupError` if it breaks a rule."""
        value, problem = self.problem(raw, wording)
        if problem:
            raise SetupError(problem, self.name)
        return value


class Answers(Mapping[str, str]):
    """What a person gave for each field; its ``repr`` names the fields only, so answers never
    reach a log, a worker's description or a traceback."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Answers({', '.join(sorted(self._values))})"


@dataclass(frozen=True, slots=True)
class Setup:
    """What plugin ``plugin`` asks for before it can start.

    ``title`` names the service in messages ("Stored the {title} {field label}"); ``intro``
    says what the form is for; ``check`` refuses answers the plugin can tell are wrong without
    storing them (it may ask the service: the vault plugin checks its token with lookup-self;
    every front calls it off its event loop).
    """

    plugin: str
    title: str
    fields: tuple[SetupField, ...]
    intro: str = ""
    check: Callable[[Mapping[str, str]], None] | None = dataclass_field(default=None, compare=False)

    def field_named(self, name: str) -> SetupField:
        """The field called ``name``."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    def validate(self, answers: Mapping[str, str], wording: Wording = FIELD_WORDING) -> Answers:
        """Every answer cleaned, then the plugin's check; raise :class:`SetupError` at the
        first problem."""
        cleaned = {f.name: f.clean(answers.get(f.name, ""), wording) for f in self.fields}
        values = Answers(cleaned)
        if self.check is not None:
            self.check(values)
        return values


def secret_id(plugin: str, field_name: str) -> ID:
    """Where the ``docker-pass`` plugin keeps the secret answer ``field_name`` of ``plugin``."""
    return ID(f"{SETUP_REALM}/{plugin}/{field_name}")


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
            label = item.field.label[:1].lower() + item.field.label[1:]
            out.append(
                f"Stored the {self.setup.title} {label}"
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
    settings = {f.name: values[f.name] for f in setup.fields if not f.secret}
    if settings:
        write_settings(setup.plugin, settings)
    storage = ""
    if stored:
        storage = next((s.storage for s in keychain.plugins() if s.name == KEYCHAIN_PLUGIN), "")
    status = plugins.enable(setup.plugin)
    written = tuple(name for name, value in settings.items() if value)
    return SetupResult(setup, tuple(stored), storage, written, status)


def write_settings(plugin: str, settings: Mapping[str, str]) -> None:
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


def current_settings(setup: Setup) -> dict[str, str]:
    """The non-secret answers as the config file holds them now (defaults where it does not)."""
    from docker_pass.core.config import load_config

    section: Any = load_config().get("plugins", {})
    section = section.get(setup.plugin, {}) if isinstance(section, dict) else {}
    if not isinstance(section, dict):
        section = {}
    out: dict[str, str] = {}
    for item in setup.fields:
        if not item.secret:
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
    """The setups of every plugin in ``names`` that describes one."""
    out: dict[str, Setup] = {}
    for name in names:
        setup = find_setup(name)
        if setup is not None:
            out[name] = setup
    return out
