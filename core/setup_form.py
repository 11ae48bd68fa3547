"""A plugin's setup form: what it asks for (:class:`Setup`, :class:`SetupField`), the rules an
answer must follow, and how those rules are worded for where the answer came from.

The form is a description only: :mod:`docker_pass.core.setup` applies the answers, and each
front (the TUI's setup screen, the CLI's ``plugins setup NAME``) is generated from it.

Standard library only.  No answer ever reaches a message, a ``repr`` or an exception.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import StrEnum
from typing import TYPE_CHECKING

from docker_pass.core.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable


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
#: The remedy for a secret missing on stdin, around a command line that pipes it in.
STDIN_REMEDY = "pipe it on stdin, as in: {example}"


class FieldKind(StrEnum):
    """What kind of answer a field takes, where that changes how an answer is taken."""

    TEXT = "text"
    #: A file's path.  Given on a command line it is made absolute: the plugin reads it later,
    #: from another process and another directory (the engine daemon).
    PATH = "path"


@dataclass(frozen=True, slots=True)
class SetupField:
    """One thing a plugin asks for.

    ``name`` keys the answer, the config setting (``plugins.<plugin>.<name>``), the command
    line's option (``--ca-cert`` for ``ca_cert``) and, for a ``secret`` field, the leaf of the
    secret's ID.  ``noun`` is what "no … given" says (default: the label in lower case);
    ``one_word`` refuses answers holding whitespace (tokens, addresses); ``metavar`` is what
    the answer looks like in a command's usage (``URL``; default: the name in capitals).

    A field may be in play only when another one is answered (``only_with``: the AppRole's
    secret ID, with a role ID) or is not (``only_without``: the token, without a role ID).  A
    secret field's ``example`` is a command line that pipes it in: the remedy when it is
    missing on stdin (default: one made from the form).
    """

    name: str
    label: str
    secret: bool = False
    required: bool = True
    help: str = ""
    default: str = ""
    one_word: bool = False
    noun: str = ""
    kind: FieldKind = FieldKind.TEXT
    metavar: str = ""
    only_with: str = ""
    only_without: str = ""
    example: str = ""

    @property
    def option(self) -> str:
        """How a command line names it: ``--ca-cert`` for ``ca_cert``."""
        return "--" + self.name.replace("_", "-")

    @property
    def placeholder(self) -> str:
        """What its answer looks like in a command's usage (``URL``, ``FILE``)."""
        return self.metavar or self.name.upper().replace("-", "_")

    @property
    def lower_label(self) -> str:
        """The label as a sentence says it ("service account token"; "API key" stays)."""
        if self.label[1:2].isupper():  # an acronym
            return self.label
        return self.label[:1].lower() + self.label[1:]

    def in_play(self, answers: Mapping[str, str]) -> bool:
        """Whether the field is asked for, given the other ``answers``."""
        if self.only_with and not answers.get(self.only_with, "").strip():
            return False
        return not (self.only_without and answers.get(self.only_without, "").strip())

    def from_command_line(self, raw: str) -> str:
        """An answer as given on a command line, where a path is relative to the directory the
        command runs in (:attr:`FieldKind.PATH`: made absolute)."""
        if self.kind is FieldKind.PATH and raw.strip():
            return os.path.abspath(raw.strip())
        return raw

    def problem(self, raw: str, wording: Wording = FIELD_WORDING) -> tuple[str, str]:
        """``(cleaned answer, "")``, or ``("", why it is refused)``; never quotes ``raw``."""
        value = raw.strip()
        label = self.lower_label
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
    every front calls it off its event loop).  ``aliases`` are other names a command line may
    call the plugin by (``docker pass plugins 1password setup``, as Docker spells it).
    """

    plugin: str
    title: str
    fields: tuple[SetupField, ...]
    intro: str = ""
    check: Callable[[Mapping[str, str]], None] | None = dataclass_field(default=None, compare=False)
    aliases: tuple[str, ...] = ()

    def field_named(self, name: str) -> SetupField:
        """The field called ``name``."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    @property
    def secret_fields(self) -> tuple[SetupField, ...]:
        """The fields whose answers go to the keychain."""
        return tuple(f for f in self.fields if f.secret)

    @property
    def settings_fields(self) -> tuple[SetupField, ...]:
        """The fields whose answers go to the config file."""
        return tuple(f for f in self.fields if not f.secret)

    def secrets_in_play(self, settings: Mapping[str, str]) -> tuple[SetupField, ...]:
        """The secret fields asked for, given the answers to the settings: what a command line
        reads from stdin (vault: the token, or with a role ID the AppRole's secret ID)."""
        return tuple(f for f in self.secret_fields if f.in_play(settings))

    def example(self, secret: SetupField) -> str:
        """A command line that gives ``secret`` on stdin: the field's own, or one made from the
        form (its required settings, and a field that brings ``secret`` into play)."""
        if secret.example:
            return secret.example
        words = [setup_command(self.plugin)]
        for item in self.settings_fields:
            if (item.required and not item.default) or item.name == secret.only_with:
                words.append(f"{item.option} {item.placeholder}")
        variable = secret.name.upper().replace("-", "_")
        return f'echo "${variable}" | ' + " ".join(words)

    def stdin_wording(self, settings: Mapping[str, str] | None = None) -> Wording:
        """The form's rules worded for stdin, with the example of the secret in play."""
        in_play = self.secrets_in_play(settings or {}) or self.secret_fields
        example = self.example(in_play[0]) if in_play else ""
        return Wording("stdin", STDIN_REMEDY.format(example=example))

    @property
    def secret_noun(self) -> str:
        """What its stored secrets are called, after the first secret field ("vault token")."""
        first = self.secret_fields[:1]
        return f"{self.title} {first[0].lower_label}" if first else f"{self.title} secrets"

    def purged(self, removed: bool) -> str:
        """What removing the stored secrets did, for people."""
        if removed:
            return f"Removed the {self.secret_noun}."
        return f"No {self.secret_noun} was stored."

    def validate(self, answers: Mapping[str, str], wording: Wording = FIELD_WORDING) -> Answers:
        """Every answer cleaned, then the plugin's check; raise :class:`SetupError` at the
        first problem."""
        cleaned = {f.name: f.clean(answers.get(f.name, ""), wording) for f in self.fields}
        values = Answers(cleaned)
        if self.check is not None:
            self.check(values)
        return values


def setup_command(plugin: str) -> str:
    """The command that sets plugin ``plugin`` up."""
    return f"docker pass plugins setup {plugin}"
