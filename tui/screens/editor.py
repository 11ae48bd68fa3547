"""The secret editor: a new secret (``n``) or the selected one (``e``), saved with ctrl+s.

The editor only collects and checks what is typed; the app saves it in a worker and either
closes the editor or sets ``error``, so a failed save keeps everything typed and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, Static, Switch

from docker_pass.core.envelope import SecretInfo
from docker_pass.core.ids import ID
from docker_pass.core.plugin import KEYCHAIN_PLUGIN, is_reserved
from docker_pass.tui.gateway import SecretDraft
from docker_pass.tui.preview import WILDCARDS, validate_pattern
from docker_pass.tui.text import tilde
from docker_pass.tui.widgets.metadata_rows import MetadataRows


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


class EditorScreen(ModalScreen[SecretInfo | None]):
    """Edits one secret; posts :class:`SaveRequested` and waits for the app's answer."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True, id="editor.save"),
        Binding("escape", "cancel", "Cancel", id="editor.cancel"),
        Binding("ctrl+t", "toggle_value", "Show/hide value", id="editor.show_value"),
        Binding("ctrl+n", "add_metadata", "Add metadata", id="editor.add_metadata"),
    ]

    #: Why the last save failed (set by the app); "" when there is nothing to say.
    error: reactive[str] = reactive("", init=False)
    #: Whether a save is in flight (set here, cleared by the app on failure).
    saving: reactive[bool] = reactive(False, init=False)

    class SaveRequested(Message):
        """ctrl+s with valid fields: save ``draft`` (``created`` for a new secret)."""

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

    @property
    def creating(self) -> bool:
        """Whether this is a new secret (not an edit)."""
        return self.info is None

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
            with Horizontal(classes="editor-row"):
                yield Label("Value", classes="editor-label")
                yield Input(
                    placeholder="leave empty to keep the current value" if info else "the secret",
                    password=True,
                    compact=True,
                    id="editor-value",
                )
                yield Switch(False, id="editor-show", tooltip="Show the value (ctrl+t)")
                yield Label("show", id="editor-show-label")
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
        self.query_one(target, Input).focus()

    # -- actions ----------------------------------------------------------------------------

    def action_save(self) -> None:
        """Check the fields and ask the app to save them."""
        if self.saving:
            return
        id_text = self.query_one("#editor-id", Input).value.strip()
        problem = id_problem(id_text)
        if problem:
            self.error = f"ID: {problem}"
            return
        metadata, problem = self.query_one(MetadataRows).collect()
        if problem:
            self.error = problem
            return
        typed = self.query_one("#editor-value", Input).value
        value = None if (self.info is not None and typed == "") else typed.encode()
        draft = SecretDraft(ID.parse(id_text), value, metadata, self.provider)
        self.error = ""
        self.saving = True
        self.post_message(self.SaveRequested(self, draft, created=self.info is None))

    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)

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
        self.query_one("#editor-value", Input).password = not event.value

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "editor-id":
            event.stop()
            self._show_id_hint(event.value.strip())

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
