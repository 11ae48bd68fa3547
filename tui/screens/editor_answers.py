"""What the editor does with the app's answers to a save: a change made elsewhere (a version
conflict), an ID another plugin holds, and the stored secret read back after a conflict.

Nothing typed is lost on any path.  A conflict asks: overwrite (save over the change the
question names, and only over that one), reload (the stored secret comes into the form, the
person's edit is kept aside, and ctrl+b swaps the two), or cancel (back to the form as it
was).  The form itself is :class:`~docker_pass.tui.screens.editor.EditorScreen`'s; this base
class holds the answers, so that the screen's module stays about its layout and fields.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rich.text import Text
from textual.screen import ModalScreen
from textual.widgets import Static

from docker_pass.core.duplicates import duplicate_warning
from docker_pass.core.envelope import SecretInfo
from docker_pass.tui.model.versions import EditBasis
from docker_pass.tui.screens.choice import Choice, ChoiceScreen
from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.editor_words import (
    LOADED_HINT,
    Aside,
    Question,
    aside_line,
    conflict_body,
    version_line,
)
from docker_pass.tui.widgets.metadata_rows import MetadataRow, MetadataRows
from docker_pass.tui.widgets.value_area import ValueArea

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from docker_pass.tui.model.gateway import SecretDraft
    from docker_pass.tui.model.versions import Conflict

#: What the person's own edit is called once it is kept aside, and what it was swapped with.
YOUR_EDIT = "Your edit"
STORED = "The stored secret"

Rows = tuple[tuple[str, str], ...]


class EditorAnswers(ModalScreen[SecretInfo | None]):
    """The editor's answers to conflicts, duplicates and reloads (see the module)."""

    #: The stored secret the edit started from (``None``: a new secret, none yet).
    basis: EditBasis | None = None
    #: What a reload put aside (the person's edit), while the editor is open.
    aside: Aside | None = None
    #: A save that waits for the version the editor opened (read in a worker).
    _pending: SecretDraft | None = None
    error: str
    saving: bool

    # -- what the screen provides -----------------------------------------------------------

    def _send(self, draft: SecretDraft) -> None:
        """Ask the app to save ``draft`` (with the version to expect)."""
        raise NotImplementedError

    def _key(self, binding_id: str, default: str) -> str:
        """The key in effect for ``binding_id``."""
        raise NotImplementedError

    def _request_reload(self, info: SecretInfo) -> None:
        """Ask the app for the stored secret ``info`` (value, metadata, version)."""
        raise NotImplementedError

    def _mark_untouched(self) -> None:
        """The form as it is now counts as unchanged (Escape closes without asking)."""
        raise NotImplementedError

    def _ask_then_save(self, draft: SecretDraft, questions: list[Question]) -> None:
        """Ask each question in turn; save only if every answer is yes."""
        if not questions:
            self._send(draft)
            return
        first, rest = questions[0], questions[1:]

        def answered(yes: bool | None) -> None:
            if yes:
                self._ask_then_save(draft, rest)
            else:
                self.error = "Not saved."

        screen = ConfirmScreen(first.title, first.body, first.yes, danger=first.danger)
        self.app.push_screen(screen, answered)

    # -- the version the edit started from ---------------------------------------------------

    def version_read(self, version: str) -> None:
        """The version of the secret as the editor opened it (read in a worker): what a save
        expects, unless ctrl+r loaded another since."""
        basis = self.basis
        if basis is None or basis.how != "opened":
            return
        self._show_basis(replace(basis, version=version))
        pending, self._pending = self._pending, None
        if pending is not None:
            self._send(pending)

    def version_unavailable(self, reason: str) -> None:
        """The version could not be read as the editor opened: a save would write blind."""
        basis = self.basis
        if basis is not None and basis.how == "opened" and basis.version is None:
            self.version_read("")
            self.error = f"Its version could not be read ({reason}): a save replaces it."

    def rename_stopped(self, version: str, text: str) -> None:
        """A rename saved the edit under the old ID but did not move it: a save (of the
        rename again) expects the version just saved."""
        self.saving = False
        basis = self.basis
        if basis is not None:
            self._show_basis(EditBasis(basis.id, basis.provider, version, "saved"))
        self.error = text

    # -- a conflict -------------------------------------------------------------------------

    def save_conflicted(self, draft: SecretDraft, conflict: Conflict) -> None:
        """The save of ``draft`` met a change made elsewhere: ask what to do."""
        self.saving = False
        basis = self.basis
        # A rename met it saving the edit to the old ID: that is the secret in question.
        target = draft.renamed_from or draft.id
        covers = basis is not None and basis.covers(target.value, draft.provider)
        since = basis.since if basis is not None and covers else "since you opened the editor"
        save_key = self._key("editor.save", "ctrl+s")
        if conflict.gone and draft.value is None:
            # Nothing typed to store: the value that was to be kept is gone with the secret.
            self.error = f"Not saved: {conflict.describe(since)} Type a value to store it again."
            self._show_basis(EditBasis(target.value, draft.provider, conflict.found, "found"))
            return
        if conflict.gone:
            title = f"{target.value} was deleted"
            choices = [Choice("overwrite", "o", "Save again", "primary")]
        else:
            title = f"{target.value} changed elsewhere"
            choices = [
                Choice("overwrite", "o", "Overwrite", "error"),
                Choice("reload", "r", "Reload"),
            ]
        choices.append(Choice("cancel", "c", "Cancel"))
        body = conflict_body(conflict, since, self._key("editor.swap_aside", "ctrl+b"))

        def answered(answer: str | None) -> None:
            if answer == "overwrite":
                # Over the change the question named only: a later one is asked about again.
                found = EditBasis(target.value, draft.provider, conflict.found, "overwrote")
                self._show_basis(found)
                self._send(replace(draft, expected_version=conflict.overwrite_version))
            elif answer == "reload":
                self.query_one("#editor-value-hint", Static).update(
                    Text("reading the stored secret…")
                )
                self._request_reload(SecretInfo(target, draft.provider))
            else:
                self.error = f"Not saved: {conflict.describe(since)} {save_key} asks again."

        self.app.push_screen(ChoiceScreen(title, body, choices, danger=True), answered)

    async def reloaded(
        self, info: SecretInfo, text: str, version: str, metadata: Mapping[str, str]
    ) -> None:
        """The stored secret, read after a conflict: into the form, the edit kept aside."""
        value, rows = self._form()
        self.aside = Aside(YOUR_EDIT, value, rows)
        await self._set_form(text, tuple(sorted(metadata.items())))
        self._show_basis(EditBasis(info.id.value, info.provider, version, "reloaded"))
        self._mark_untouched()
        self.query_one("#editor-value-hint", Static).update(Text(LOADED_HINT))
        self._show_aside()
        self.error = ""

    async def action_swap_aside(self) -> None:
        """Swap what is kept aside (the person's edit) with what the form holds."""
        aside = self.aside
        if aside is None:
            return
        value, rows = self._form()
        self.aside = Aside(STORED if aside.what == YOUR_EDIT else YOUR_EDIT, value, rows)
        await self._set_form(aside.value, aside.rows)
        self._show_aside()

    # -- an ID another plugin holds ---------------------------------------------------------

    def duplicate_found(self, draft: SecretDraft, others: Sequence[str]) -> None:
        """Saving ``draft`` would make a second plugin hold its ID: ask first."""
        self.saving = False
        warning = duplicate_warning(draft.id, draft.provider, list(others))
        body = Text.assemble(
            warning,
            ".\nSave it anyway? Reference one of them with docker pass get --plugin NAME, or",
            " move one away (m) afterwards.",
        )
        title = f"{', '.join(others)} holds {draft.id.value}"

        def answered(yes: bool | None) -> None:
            if yes:
                self._send(replace(draft, allow_duplicate=True))
            else:
                self.error = f"Not saved: {warning}."

        self.app.push_screen(ConfirmScreen(title, body, "Save anyway", danger=True), answered)

    # -- internals --------------------------------------------------------------------------

    def _form(self) -> tuple[str, Rows]:
        """The value and metadata rows as typed."""
        rows = tuple(r.pair for r in self.query(MetadataRow) if r.pair != ("", ""))
        return self.query_one(ValueArea).text, rows

    async def _set_form(self, value: str, rows: Rows) -> None:
        """Put ``value`` and metadata ``rows`` into the form (masked)."""
        area = self.query_one(ValueArea)
        area.load_text(value)
        area.move_cursor(area.document.end)
        await self.query_one(MetadataRows).replace_rows(dict(rows))

    def _show_basis(self, basis: EditBasis) -> None:
        self.basis = basis
        self.query_one("#editor-version", Static).update(Text(version_line(basis, None)))

    def _show_aside(self) -> None:
        line = self.query_one("#editor-aside", Static)
        aside = self.aside
        if aside is None:
            line.update("")
            line.set_class(False, "-shown")
            return
        text = aside_line(aside.what, len(aside.value), self._key("editor.swap_aside", "ctrl+b"))
        line.update(Text(text))
        line.set_class(True, "-shown")
