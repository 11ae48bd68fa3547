"""The secret editor: a new secret (``n``) or the selected one (``e``), saved with ctrl+s.

The editor only collects and checks what is typed, and asks before anything a person may not
mean: replacing a secret that exists (from "New", in the plugin chosen to save to), saving an
empty value, and discarding an edited form.  The app saves in a worker and either closes the
editor or sets ``error``, so a failed save keeps everything typed and says why.  An error
found in the fields goes as soon as its cause does.

A save carries the version of the secret the editor opened (its
:class:`~docker_pass.tui.model.versions.EditBasis`: the version read as it opens, or with
ctrl+r); when another process changed the secret meanwhile, nothing is written and the
editor asks what to do (:mod:`.editor_answers`): nothing typed is lost whatever the answer.
A plugin that keeps no versions is said to, quietly, under the title.

Opening the editor never shows a value: ctrl+r (editing only) asks the app for the stored
one (:class:`EditorScreen.CurrentValueRequested`), which it reads in a worker and hands back
with :meth:`EditorScreen.load_current_value`, still masked.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, Input, Select, Static, Switch, TextArea

from docker_pass.core.ids import ID
from docker_pass.core.names import KEYCHAIN_PLUGIN
from docker_pass.core.plugin import new_id_problem
from docker_pass.tui.model.gateway import SecretDraft
from docker_pass.tui.model.versions import EditBasis, expected_version
from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.editor_answers import EditorAnswers
from docker_pass.tui.screens.editor_layout import EditorLayout, compose_editor
from docker_pass.tui.screens.editor_words import (
    LOADED_HINT,
    VALUE_HINT,
    Question,
    id_hint,
    rename_hint,
    save_questions,
    version_line,
    where_line,
)
from docker_pass.tui.widgets.metadata_rows import MetadataRow, MetadataRows
from docker_pass.tui.widgets.value_area import ValueArea, describe_value

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from textual.app import ComposeResult

    from docker_pass.core.envelope import SecretInfo
    from docker_pass.core.results import PluginStatus

    #: ``lookup(id, plugin)``: the secret a plugin lists under that ID, if any.
    Lookup = Callable[[str, str], SecretInfo | None]


class EditorScreen(EditorAnswers):
    """Edits one secret; posts :class:`SaveRequested` and waits for the app's answer."""

    #: Its keys are the only keys while it is open (:func:`~docker_pass.tui.screens.is_dialog`).
    OWN_KEYS_ONLY: ClassVar[bool] = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True, id="editor.save"),
        Binding(
            "escape", "cancel", "Cancel", tooltip="Cancel (asks if edited)", id="editor.cancel"
        ),
        Binding("ctrl+t", "toggle_value", "Show/hide value", id="editor.show_value"),
        Binding("ctrl+n", "add_metadata", "Add metadata", id="editor.add_metadata"),
        Binding(
            "ctrl+r",
            "load_current",
            "Load current value",
            tooltip="Load the stored value to edit it",
            id="editor.load_current",
        ),
        Binding(
            "ctrl+b",
            "swap_aside",
            "Swap in my edit",
            tooltip="Swap in the edit a reload kept aside",
            id="editor.swap_aside",
        ),
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

    class CurrentValueRequested(Message):
        """ctrl+r while editing: load the stored value of ``info`` into the value area (or,
        ``reload``, the stored secret after a conflict: value and metadata).

        The app reads it in a worker and hands it to :meth:`EditorScreen.load_current_value`
        (or :meth:`EditorScreen.reloaded`).
        """

        def __init__(self, editor: EditorScreen, info: SecretInfo, *, reload: bool = False):
            super().__init__()
            self.editor = editor
            self.info = info
            self.reload = reload

    def __init__(
        self,
        info: SecretInfo | None = None,
        *,
        provider: str = KEYCHAIN_PLUGIN,
        status: PluginStatus | None = None,
        targets: Mapping[str, PluginStatus | None] | None = None,
        id_text: str = "",
        lookup: Lookup | None = None,
        holders: Callable[[str], list[str]] | None = None,
        versioned: Callable[[str], bool | None] | None = None,
    ) -> None:
        """``status``: the status of the plugin the secret is saved to (its kind of store);
        ``targets``: the writable plugins "New" may save to (name -> status), with
        ``provider`` chosen first; more than one shows a choice.  ``id_text`` pre-fills the
        ID of a new secret (the realm under the cursor).  ``lookup(id, plugin)`` is the
        secret a plugin lists under that ID (to ask before replacing it), ``holders(id)`` the
        plugins that list it, ``versioned(plugin)`` whether a plugin keeps versions."""
        super().__init__()
        self.info = info
        self.provider = info.provider if info is not None else provider
        if info is not None or not targets:
            targets = {self.provider: status}
        elif self.provider not in targets:
            self.provider = next(iter(targets))
        self.targets: Mapping[str, PluginStatus | None] = MappingProxyType(dict(targets))
        self._id_text = info.id.value if info is not None else id_text
        self._lookup: Lookup = lookup or (lambda _id, _plugin: None)
        self._holders = holders or (lambda _id: [])
        self._versioned = versioned or (lambda _plugin: None)
        if info is not None:
            # The listed version, until the one read as the editor opens replaces it.
            self.basis = EditBasis(info.id.value, info.provider, info.version or None)
        #: The error ``_draft`` found in the fields (cleared once the fields are fixed).
        self._field_error = ""
        # The form as it opens (the rows are composed from the metadata, sorted by key).
        self._untouched: tuple[object, ...] = (
            self._id_text,
            "",
            tuple(sorted(info.metadata.items())) if info else (),
        )

    @property
    def creating(self) -> bool:
        """Whether this is a new secret (not an edit)."""
        return self.info is None

    @property
    def edited(self) -> bool:
        """Whether the form differs from how it opened (ID, value or metadata), or holds an
        edit kept aside by a reload."""
        return self._form_state() != self._untouched or self.aside is not None

    def compose(self) -> ComposeResult:
        info = self.info
        return compose_editor(
            EditorLayout(
                title="New secret" if info is None else f"Edit {info.id.value}",
                where=where_line(self.provider, self.targets[self.provider]),
                version=self._version_text(),
                targets=tuple(self.targets),
                provider=self.provider,
                id_text=self._id_text,
                editing=info is not None,
                metadata=dict(info.metadata) if info else {},
                keys={
                    binding.id: self._key(binding.id, binding.key)
                    for binding in self.BINDINGS
                    if isinstance(binding, Binding) and binding.id
                },
            )
        )

    def on_mount(self) -> None:
        self.set_class(self.info is not None, "-editing")
        if self.info is not None:
            self.query_one("#editor-value").focus()
            return
        field = self.query_one("#editor-id", Input)
        field.focus()
        # A pre-filled realm is selected: a whole ID typed replaces it (appended, it made
        # docker/docker/auth/…); → or End keeps it, with the cursor after its "/".
        field.select_all()
        self.watch(field, "selection", lambda: self._show_id_hint(field.value.strip()))

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
            (typed_id, "bold") if not new_id_problem(typed_id) else "the new secret",
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

    def action_load_current(self) -> None:
        """Ask the app for the stored value (editing only; nothing is read until asked)."""
        if self.info is None:
            return
        self.query_one("#editor-value-hint", Static).update(Text("reading the current value…"))
        self.post_message(self.CurrentValueRequested(self, self.info))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A new secret has no stored value to load; nothing kept aside, nothing to swap.
        if action == "swap_aside":
            return self.aside is not None
        return not (action == "load_current" and self.info is None)

    # -- what the app hands down ------------------------------------------------------------

    def load_current_value(self, text: str, version: str | None = None) -> None:
        """Put the stored value (read on ctrl+r) into the value area, still masked; a save
        then expects ``version``, the one loaded."""
        if version is not None and self.basis is not None:
            self._show_basis(replace(self.basis, version=version, how="loaded"))
        area = self.query_one(ValueArea)
        area.load_text(text)
        area.move_cursor(area.document.end)
        area.focus()
        # Loaded but not changed is not an edit: Escape still closes at once.
        id_text, _, rows = self._untouched
        self._untouched = (id_text, area.text, rows)
        self.query_one("#editor-value-hint", Static).update(Text(LOADED_HINT))

    def current_value_unavailable(self, reason: str) -> None:
        """The stored value could not be loaded (binary, or the read failed)."""
        self.query_one("#editor-value-hint", Static).update(Text(VALUE_HINT))
        self.error = reason

    # -- events -----------------------------------------------------------------------------

    def on_switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        self.query_one(ValueArea).masked = not event.value

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.id == "editor-id":
            self._show_id_hint(event.value.strip())
        self._recheck_fields()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        hint = self.query_one("#editor-value-hint", Static)
        text = event.text_area.text
        if text and text == self._untouched[1]:
            hint.update(Text(LOADED_HINT))  # as loaded by ctrl+r, unchanged
        else:
            hint.update(Text(describe_value(text) or VALUE_HINT))

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id != "editor-plugin" or not isinstance(event.value, str):
            return
        self.provider = event.value
        where = where_line(self.provider, self.targets[self.provider])
        self.query_one("#editor-where", Static).update(Text(where))
        self.query_one("#editor-version", Static).update(Text(self._version_text()))
        self._show_id_hint(self.query_one("#editor-id", Input).value.strip())

    def on_metadata_rows_changed(self, event: MetadataRows.Changed) -> None:
        event.stop()
        self._recheck_fields()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "editor-save":
            self.action_save()
        elif event.button.id == "editor-cancel":
            self.action_cancel()
        elif event.button.id == "editor-add":
            self.action_add_metadata()
        elif event.button.id == "editor-load":
            self.action_load_current()

    def watch_error(self, error: str) -> None:
        widget = self.query_one("#editor-error", Static)
        widget.update(Text(f"✗ {error}" if error else ""))
        widget.set_class(bool(error), "-error")
        if error != self._field_error:
            self._field_error = ""  # a save's failure, or an answer: not the fields' to clear

    def watch_saving(self, saving: bool) -> None:
        button = self.query_one("#editor-save", Button)
        button.disabled = saving
        button.label = "Saving…" if saving else self._save_label()

    # -- internals --------------------------------------------------------------------------

    def _key(self, binding_id: str, default: str) -> str:
        """The key in effect for ``binding_id`` (the keymap may change it), as hints show it."""
        from docker_pass.tui.keys import key_for

        return key_for(self.app, binding_id, default)

    def _save_label(self) -> str:
        return f"Save ({self._key('editor.save', 'ctrl+s')})"

    def _version_text(self) -> str:
        return version_line(self.basis, self._versioned(self.provider))

    def _send(self, draft: SecretDraft) -> None:
        """Ask the app to save ``draft``, expecting the version the edit started from (a
        save waits while that version is still being read)."""
        self.saving = True
        basis = self.basis
        # A rename saves the edit to the old ID first: that is the secret the basis is of.
        id_text = (draft.renamed_from or draft.id).value
        if basis is not None and basis.covers(id_text, draft.provider) and basis.version is None:
            self._pending = draft
            return
        if draft.expected_version is None:
            listed = self._lookup(id_text, draft.provider) if self.creating else None
            expected = expected_version(
                basis,
                id_text,
                draft.provider,
                versioned=self._versioned(draft.provider),
                replacing=None if listed is None else listed.version,
            )
            draft = replace(draft, expected_version=expected)
        self.post_message(self.SaveRequested(self, draft, created=self.info is None))

    def _request_reload(self, info: SecretInfo) -> None:
        self.post_message(self.CurrentValueRequested(self, info, reload=True))

    def _mark_untouched(self) -> None:
        id_text, value, _ = self._form_state()
        self._untouched = (id_text, value, tuple(sorted(self._form()[1])))

    def _draft(self) -> SecretDraft | None:
        """What to save, or ``None`` with ``error`` saying what is wrong."""
        problem = self._fields_problem()
        if problem:
            self._field_error = problem
            self.error = problem
            return None
        id_text = self.query_one("#editor-id", Input).value.strip()
        metadata, _ = self.query_one(MetadataRows).collect()
        typed = self.query_one(ValueArea).text
        value = None if (self.info is not None and typed == "") else typed.encode()
        draft = SecretDraft(ID.parse(id_text), value, metadata, self.provider)
        if self.info is not None and draft.id != self.info.id:
            # The ID field renamed it: the save is a move (replacing a secret there, asked).
            taken = self._lookup(id_text, self.provider) is not None
            return replace(draft, renamed_from=self.info.id, replace=taken)
        return draft

    def _fields_problem(self) -> str:
        """What is wrong with the ID or the metadata, or ""."""
        problem = new_id_problem(self.query_one("#editor-id", Input).value.strip())
        if problem:
            return f"ID: {problem}"
        return self.query_one(MetadataRows).collect()[1]

    def _recheck_fields(self) -> None:
        """After an edit: an error the fields caused goes (or changes) with its cause."""
        if not self._field_error or self.error != self._field_error:
            return
        problem = self._fields_problem()
        self._field_error = problem
        self.error = problem

    def _questions(self, draft: SecretDraft) -> list[Question]:
        """What to confirm before saving ``draft``."""
        renamed = draft.renamed_from is not None
        listed = self._lookup(draft.id.value, self.provider) is not None
        return save_questions(draft, self.provider, replaces=(self.creating or renamed) and listed)

    def _form_state(self) -> tuple[object, ...]:
        """What a person can change, to tell an edited form from an untouched one."""
        id_text = self.query_one("#editor-id", Input).value
        value = self.query_one(ValueArea).text
        rows = tuple(sorted(r.pair for r in self.query(MetadataRow) if r.pair != ("", "")))
        return id_text, value, rows

    def _show_id_hint(self, id_text: str) -> None:
        hint = self.query_one("#editor-id-hint", Static)
        info = self.info
        if info is not None:
            renamed = id_text != info.id.value
            self.set_class(renamed, "-renaming")
            if renamed:
                text, wrong = rename_hint(
                    info.id.value,
                    id_text,
                    self.provider,
                    self._lookup(id_text, self.provider) is not None,
                    [p for p in self._holders(id_text) if p != self.provider],
                )
                hint.update(Text(text))
                hint.set_class(wrong, "-error")
            return
        prefilled = id_text == self._id_text and id_text.endswith("/")
        text, wrong = id_hint(
            id_text,
            prefilled,
            lambda: self._lookup(id_text, self.provider) is not None,
            lambda: [p for p in self._holders(id_text) if p != self.provider],
            selected=not self.query_one("#editor-id", Input).selection.is_empty,
        )
        hint.update(Text(text))
        hint.set_class(wrong, "-error")
