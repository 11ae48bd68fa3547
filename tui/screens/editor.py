"""The secret editor: a new secret (``n``) or the selected one (``e``), saved with ctrl+s.

The editor only collects and checks what is typed, and asks before anything a person may not
mean: replacing a secret that exists (from "New"), saving an empty value, and discarding an
edited form.  The app saves in a worker and either closes the editor or sets ``error``, so a
failed save keeps everything typed and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, Static, Switch, TextArea

from docker_pass.core.envelope import SecretInfo
from docker_pass.core.ids import ID
from docker_pass.core.plugin import KEYCHAIN_PLUGIN, is_reserved
from docker_pass.tui.gateway import SecretDraft
from docker_pass.tui.preview import validate_pattern
from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.search import WILDCARDS
from docker_pass.tui.text import tilde
from docker_pass.tui.widgets.metadata_rows import MetadataRow, MetadataRows
from docker_pass.tui.widgets.value_area import ValueArea, describe_value

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.app import ComposeResult

#: Under an empty value area; once it holds something, what it holds (size, lines).
VALUE_HINT = "enter adds a line · a paste is kept whole · ctrl+t shows it"


def id_problem(text: str) -> str:
    """Why ``text`` is not a valid secret ID, or "" when it is one."""
    reason = validate_pattern(text) if text else "an ID cannot be empty"
    if not reason and any(c in WILDCARDS for c in text.split("/")):
        reason = "an ID cannot hold * or ** (those make it a pattern)"
    if not reason and is_reserved(text):
        reason = "docker/secrets-engine/… is reserved for the engine's own secrets"
    return reason


class IdValidator(Validator):
    """Fails with the rule the text breaks as a secret ID."""

    def validate(self, value: str) -> ValidationResult:
        problem = id_problem(value)
        return self.failure(problem) if problem else self.success()


@dataclass(frozen=True, slots=True)
class Question:
    """One thing to confirm before saving."""

    title: str
    body: Text
    yes: str
    danger: bool = False


class EditorScreen(ModalScreen[SecretInfo | None]):
    """Edits one secret; posts :class:`SaveRequested` and waits for the app's answer."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True, id="editor.save"),
        Binding(
            "escape", "cancel", "Cancel", tooltip="Cancel (asks if edited)", id="editor.cancel"
        ),
        Binding("ctrl+t", "toggle_value", "Show/hide value", id="editor.show_value"),
        Binding("ctrl+n", "add_metadata", "Add metadata", id="editor.add_metadata"),
    ]

    #: Why the last save failed (set by the app); "" when there is nothing to say.
    error: reactive[str] = reactive("", init=False)
    #: Whether a save is in flight (set here, cleared by the app on failure).
    saving: reactive[bool] = reactive(False, init=False)

    class SaveRequested(Message):
        """ctrl+s with valid fields, confirmed: save ``draft``.

        ``created``: the draft comes from "New" (it may replace a listed secret, which the
        person agreed to), not from editing the selected secret.
        """

        def __init__(self, editor: EditorScreen, draft: SecretDraft, created: bool) -> None:
            super().__init__()
            self.editor = editor
            self.draft = draft
            self.created = created

    def __init__(
        self,
        info: SecretInfo | None = None,
        *,
        provider: str = KEYCHAIN_PLUGIN,
        storage: str = "",
        exists: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__()
        self.info = info
        self.provider = info.provider if info is not None else provider
        self._storage = storage
        self._exists = exists or (lambda _id: False)
        # The form as it opens (the rows are composed from the metadata, sorted by key).
        self._untouched: tuple[object, ...] = (
            info.id.value if info else "",
            "",
            tuple(sorted(info.metadata.items())) if info else (),
        )

    @property
    def creating(self) -> bool:
        """Whether this is a new secret (not an edit)."""
        return self.info is None

    @property
    def edited(self) -> bool:
        """Whether the form differs from how it opened (ID, value or metadata)."""
        return self._form_state() != self._untouched

    def compose(self) -> ComposeResult:
        info = self.info
        title = "New secret" if info is None else f"Edit {info.id.value}"
        with Vertical(id="editor-dialog"), VerticalScroll(id="editor-body"):
            yield Static(Text(title), id="editor-title")
            where = f"Saved to {self.provider}" + (
                f": {tilde(self._storage)}" if self._storage else ""
            )
            yield Static(Text(where), id="editor-where")
            with Horizontal(classes="editor-row"):
                yield Label("ID", classes="editor-label")
                yield Input(
                    info.id.value if info else "",
                    placeholder="myapp/prod/postgres/password",
                    validators=[IdValidator()],
                    disabled=info is not None,
                    compact=True,
                    id="editor-id",
                )
            yield Static(
                "" if info else "components of A-Z a-z 0-9 . _ - : separated by /",
                id="editor-id-hint",
            )
            with Horizontal(classes="editor-row", id="editor-value-row"):
                yield Label("Value", classes="editor-label")
                # Never pre-filled: an edit shows an empty area, and what is typed replaces
                # the value (empty keeps it), so opening the editor never reads a value.
                yield ValueArea(
                    placeholder="leave empty to keep the current value" if info else "the secret",
                    id="editor-value",
                )
                yield Switch(False, id="editor-show", tooltip="Show the value (ctrl+t)")
                yield Label("show", id="editor-show-label")
            yield Static(VALUE_HINT, id="editor-value-hint")
            yield Label("Metadata", id="editor-metadata-label")
            yield MetadataRows(dict(info.metadata) if info else {}, id="editor-metadata")
            yield Button("+ metadata (ctrl+n)", id="editor-add", compact=True)
            yield Static("", id="editor-error")
            with Horizontal(id="editor-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="editor-save", compact=True)
                yield Button("Cancel (esc)", id="editor-cancel", compact=True)

    def on_mount(self) -> None:
        self.set_class(self.info is not None, "-editing")
        target = "#editor-value" if self.info is not None else "#editor-id"
        self.query_one(target).focus()

    # -- actions ----------------------------------------------------------------------------

    def action_save(self) -> None:
        """Check the fields, ask what needs asking, then ask the app to save them."""
        if self.saving:
            return
        draft = self._draft()
        if draft is None:
            return
        self.error = ""
        self._ask_then_save(draft, self._questions(draft))

    def action_cancel(self) -> None:
        """Close without saving; an edited form asks first."""
        if not self.edited:
            self.dismiss(None)
            return
        typed_id = self.query_one("#editor-id", Input).value.strip()
        body = Text.assemble(
            "Close the editor and discard what you typed for ",
            (typed_id, "bold") if not id_problem(typed_id) else "the new secret",
            "?\nNothing is saved.",
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen("Discard changes", body, "Discard", danger=True), answered
        )

    def action_toggle_value(self) -> None:
        """Show or hide the value as typed."""
        switch = self.query_one("#editor-show", Switch)
        switch.value = not switch.value

    def action_add_metadata(self) -> None:
        """Add an empty metadata row."""
        self.query_one(MetadataRows).add_row()

    # -- events -----------------------------------------------------------------------------

    def on_switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        self.query_one(ValueArea).masked = not event.value

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "editor-id":
            event.stop()
            self._show_id_hint(event.value.strip())

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        hint = self.query_one("#editor-value-hint", Static)
        hint.update(Text(describe_value(event.text_area.text) or VALUE_HINT))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "editor-save":
            self.action_save()
        elif event.button.id == "editor-cancel":
            self.action_cancel()
        elif event.button.id == "editor-add":
            self.action_add_metadata()

    def watch_error(self, error: str) -> None:
        widget = self.query_one("#editor-error", Static)
        widget.update(Text(f"✗ {error}" if error else ""))
        widget.set_class(bool(error), "-error")

    def watch_saving(self, saving: bool) -> None:
        button = self.query_one("#editor-save", Button)
        button.disabled = saving
        button.label = "Saving…" if saving else "Save (ctrl+s)"

    # -- internals --------------------------------------------------------------------------

    def _draft(self) -> SecretDraft | None:
        """What to save, or ``None`` with ``error`` saying what is wrong."""
        id_text = self.query_one("#editor-id", Input).value.strip()
        problem = id_problem(id_text)
        if problem:
            self.error = f"ID: {problem}"
            return None
        metadata, problem = self.query_one(MetadataRows).collect()
        if problem:
            self.error = problem
            return None
        typed = self.query_one(ValueArea).text
        value = None if (self.info is not None and typed == "") else typed.encode()
        return SecretDraft(ID.parse(id_text), value, metadata, self.provider)

    def _questions(self, draft: SecretDraft) -> list[Question]:
        """What to confirm before saving ``draft``."""
        questions: list[Question] = []
        id_text = draft.id.value
        if self.creating and self._exists(id_text):
            body = Text.assemble(
                (id_text, "bold"),
                f" exists in {self.provider}.\nSaving replaces its value and metadata with "
                "what you typed.",
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

    def _ask_then_save(self, draft: SecretDraft, questions: list[Question]) -> None:
        """Ask each question in turn; save only if every answer is yes."""
        if not questions:
            self.saving = True
            self.post_message(self.SaveRequested(self, draft, created=self.info is None))
            return
        first, rest = questions[0], questions[1:]

        def answered(yes: bool | None) -> None:
            if yes:
                self._ask_then_save(draft, rest)
            else:
                self.error = "Not saved."

        screen = ConfirmScreen(first.title, first.body, first.yes, danger=first.danger)
        self.app.push_screen(screen, answered)

    def _form_state(self) -> tuple[object, ...]:
        """What a person can change, to tell an edited form from an untouched one."""
        id_text = self.query_one("#editor-id", Input).value
        value = self.query_one(ValueArea).text
        rows = tuple(sorted(r.pair for r in self.query(MetadataRow) if r.pair != ("", "")))
        return id_text, value, rows

    def _show_id_hint(self, id_text: str) -> None:
        if self.info is not None:
            return
        hint = self.query_one("#editor-id-hint", Static)
        if not id_text:
            hint.update(Text("components of A-Z a-z 0-9 . _ - : separated by /"))
            hint.set_class(False, "-error")
            return
        problem = id_problem(id_text)
        if problem:
            hint.update(Text(f"✗ {problem}"))
        elif self._exists(id_text):
            hint.update(Text(f"{id_text} exists: saving replaces its value and metadata"))
        else:
            hint.update(Text("✓ a valid new ID"))
        hint.set_class(bool(problem), "-error")
