"""What the secret editor says: its hints, where a save goes, the questions before a save.

Plain functions of what the editor holds, so the screen (:mod:`.editor`) only lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from rich.text import Text
from textual.validation import ValidationResult, Validator

from docker_pass.core.grammar import ALLOWED_IN_WORDS
from docker_pass.core.plugin import new_id_problem
from docker_pass.core.references.syntax import reference_text
from docker_pass.core.versions import NO_SECRET, UNVERSIONED
from docker_pass.tui.model.typed_ids import doubled_realm_notice
from docker_pass.tui.model.versions import shown_version

if TYPE_CHECKING:
    from collections.abc import Callable

    from docker_pass.core.results import PluginStatus
    from docker_pass.tui.model.gateway import SecretDraft
    from docker_pass.tui.model.versions import Conflict, EditBasis

#: Under an empty value area; once it holds something, what it holds (size, lines).
VALUE_HINT = "enter adds a line · a paste is kept whole · ctrl+t shows it"
#: Under the value area once the stored value was loaded into it (ctrl+r).
LOADED_HINT = "current value loaded: edit it, or leave it as it is"
ID_HINT = f"components of {ALLOWED_IN_WORDS} separated by /"


#: How the editor names each kind of store a plugin may say it keeps (``PluginStatus.store_kind``:
#: the ``docker-pass`` plugin's stores).
STORE_KIND_NAMES = MappingProxyType(
    {
        "secret-service": "Secret Service keychain",
        "file": "encrypted file store",
        "keyring": "system keyring",
    }
)


def storage_kind(status: PluginStatus | None) -> str:
    """What kind of store plugin ``status`` keeps its secrets in, in a few words.

    The editor says where a save goes in one short line; the full text (paths, object paths,
    what chose the store) is the plugins panel's to show.  The kind is the store's own word
    (``PluginStatus.store_kind``); a plugin that says none is named by the first clause of its
    storage text ("vault kv v2 mount secret/ at …").
    """
    if status is None:
        return ""
    named = STORE_KIND_NAMES.get(status.store_kind)
    if named is not None:
        return named
    return status.store_kind or status.storage.split(";", 1)[0].strip()


def where_line(provider: str, status: PluginStatus | None) -> str:
    """``Saves to <plugin> (<kind of store>)``."""
    kind = storage_kind(status)
    return f"Saves to {provider}" + (f" ({kind})" if kind else "")


class IdValidator(Validator):
    """Fails with the rule the text breaks as a secret ID."""

    def validate(self, value: str) -> ValidationResult:
        problem = new_id_problem(value)
        return self.failure(problem) if problem else self.success()


@dataclass(frozen=True, slots=True)
class Question:
    """One thing to confirm before saving."""

    title: str
    body: Text
    yes: str
    danger: bool = False


def save_questions(draft: SecretDraft, provider: str, *, replaces: bool) -> list[Question]:
    """What to confirm before saving ``draft`` to ``provider`` (``replaces``: "New" would
    overwrite a secret that exists there)."""
    questions: list[Question] = []
    id_text = draft.id.value
    if replaces:
        body = Text.assemble(
            (id_text, "bold"),
            f" exists in {provider}.\nSaving replaces its value and metadata with what you typed.",
        )
        questions.append(Question(f"Replace {id_text}?", body, "Replace", danger=True))
    if draft.value == b"":
        body = Text.assemble(
            "Save ",
            (id_text, "bold"),
            " with an empty value?\nNothing was typed or pasted into the value field.",
        )
        questions.append(Question("Empty value", body, "Save empty"))
    return questions


def id_hint(
    id_text: str,
    prefilled: bool,
    exists: Callable[[], bool],
    others: Callable[[], list[str]] = list,
    *,
    selected: bool = False,
) -> tuple[str, bool]:
    """The line under the ID of a new secret, and whether it reports a mistake.

    ``prefilled``: ``id_text`` is the realm "New" started with (not a mistake, not finished);
    ``selected``: that realm is still selected, so typing replaces it; ``exists``: whether
    saving would replace a secret; ``others``: the other plugins that list the ID (saving it
    here too makes its reference match more than one secret).
    """
    if not id_text:
        return ID_HINT, False
    if prefilled:
        realm = id_text.rstrip("/")
        if selected:
            return f"in {realm}: type the rest of the ID after →, or a whole ID", False
        return f"in {realm}: type the rest of the ID", False
    problem = new_id_problem(id_text)
    if problem:
        return f"✗ {problem}", True
    doubled = doubled_realm_notice(id_text)
    if doubled:
        return doubled, True
    if exists():
        return f"{id_text} exists: saving replaces its value and metadata", False
    holders = others()
    if holders:
        count = len(holders) + 1
        return (
            f"⚠ {', '.join(holders)} has this ID: saving it here too makes "
            f"{reference_text(id_text)} match {count} secrets",
            True,
        )
    return "✓ a valid new ID", False


def rename_hint(
    old: str, new: str, provider: str, taken: bool, others: list[str]
) -> tuple[str, bool]:
    """The line under an existing secret's ID once it was changed (saving moves it), and
    whether it reports a mistake."""
    problem = new_id_problem(new)
    if problem:
        return f"✗ {problem}", True
    doubled = doubled_realm_notice(new)
    if doubled and not doubled_realm_notice(old):  # an ID that was so already is not news
        return doubled, True
    if taken:
        return f"{new} exists in {provider}: saving moves {old} over it (asked first)", False
    if others:
        return (
            f"⚠ {', '.join(others)} has {new}: moving it here makes {reference_text(new)} "
            f"match {len(others) + 1} secrets (asked first)",
            True,
        )
    return f"saving moves {old} to {new} (the old ID goes once the copy is saved)", False


def version_line(basis: EditBasis | None, versioned: bool | None) -> str:
    """The editor's quiet line about versions: what the save will check, or that it cannot
    (``basis``: the secret the edit started from; ``versioned``: whether the plugin a new
    secret goes to keeps versions)."""
    if basis is None:
        return f"{UNVERSIONED}: saves replace whatever is stored" if versioned is False else ""
    version = basis.version
    if version is None:
        return "reading its version…"
    if version == "":
        return f"{UNVERSIONED}: saves replace whatever is stored"
    if version == NO_SECRET:
        return f"no longer in {basis.provider}: saving stores it again"
    return f"version {shown_version(version)} as you {basis.how} it: a save checks it is unchanged"


def conflict_body(conflict: Conflict, since: str, swap_key: str) -> Text:
    """What the conflict question says: what happened, and that nothing typed is lost."""
    if conflict.gone:
        choices = "\nsave again stores it once more; cancel goes back to the editor."
    else:
        choices = (
            "\noverwrite saves it over that change; reload shows the stored secret and keeps"
            f" your edit aside ({swap_key} swaps it back); cancel goes back to the editor."
        )
    return Text.assemble(
        conflict.describe(since),
        "\nNothing was saved. Your typing stays in the editor whatever you choose:",
        choices,
    )


def aside_line(what: str, size: int, swap_key: str) -> str:
    """The line that says what is kept aside (the person's edit, or the stored secret it
    was swapped with), and how to get it back."""
    chars = f"{size:,} char" + ("" if size == 1 else "s")
    return f"{what} is kept aside ({chars}): {swap_key} swaps it back"


@dataclass(frozen=True, slots=True)
class Aside:
    """What the editor keeps aside after a reload: a value and metadata rows (the person's
    edit, or the stored secret it was swapped with), never lost while the editor is open."""

    what: str
    value: str
    rows: tuple[tuple[str, str], ...]

    def __repr__(self) -> str:
        # Spelled out so that a value never reaches a log or a traceback.
        return f"Aside({self.what!r}, {len(self.rows)} rows)"
