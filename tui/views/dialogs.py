"""The app's hands on the dialogs about one secret: the editor, the delete question, and the
questions a save or an undo may raise (a change made elsewhere, an ID two plugins hold).

Each dialog's module is imported where it is first opened, not at start
(:mod:`docker_pass.tui.screens` says what that saves)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from docker_pass.core.duplicates import duplicate_warning
from docker_pass.tui.model.versions import SINCE_THE_CHANGE

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from textual.app import App

    from docker_pass.core.envelope import SecretInfo
    from docker_pass.core.results import PluginStatus
    from docker_pass.tui.controllers.ports import StatusSink
    from docker_pass.tui.model.gateway import SecretDraft
    from docker_pass.tui.model.moving import MoveRequest
    from docker_pass.tui.model.undo import KeptSecret
    from docker_pass.tui.model.versions import Conflict
    from docker_pass.tui.screens.editor import EditorScreen
    from docker_pass.tui.screens.move import MoveSubject


class EditorSources:
    """What the editor asks of the listing: the secret a plugin lists under an ID, the plugins
    that list an ID, and whether a plugin keeps versions."""

    def __init__(
        self,
        lookup: Callable[[str, str], SecretInfo | None],
        holders: Callable[[str], list[str]],
        versioned: Callable[[str], bool | None],
    ) -> None:
        self.lookup = lookup
        self.holders = holders
        self.versioned = versioned


class SecretDialogs:
    """Opens the editor and the delete question of ``app``, and tells the open editor what
    its requests came to."""

    def __init__(self, app: App[None], status: StatusSink, sources: EditorSources) -> None:
        self._app = app
        self._status = status
        self._sources = sources

    def new_secret(self, targets: Mapping[str, PluginStatus], prefix: str) -> None:
        """The editor for a new secret: ``targets`` (plugin -> its status) to save to, the ID
        started with ``prefix``."""
        sources = self._sources
        from docker_pass.tui.screens.editor import EditorScreen

        editor = EditorScreen(
            targets=dict(targets),
            id_text=prefix,
            lookup=sources.lookup,
            holders=sources.holders,
            versioned=sources.versioned,
        )
        self._app.push_screen(editor)

    def edit_secret(self, info: SecretInfo, status: PluginStatus | None) -> None:
        """The editor on ``info`` (kept by the plugin whose status is ``status``)."""
        sources = self._sources
        from docker_pass.tui.screens.editor import EditorScreen

        editor = EditorScreen(
            info,
            status=status,
            lookup=sources.lookup,
            holders=sources.holders,
            versioned=sources.versioned,
        )
        self._app.push_screen(editor)

    def ask_delete(self, info: SecretInfo, answered: Callable[[bool | None], None]) -> None:
        """Ask whether to delete ``info`` (undoable until quitting)."""
        body = Text.assemble(
            "Delete ",
            (info.id.value, "bold"),
            f" from {info.provider}?\nu undoes it until you quit.",
        )
        from docker_pass.tui.screens.confirm import ConfirmScreen

        self._app.push_screen(ConfirmScreen("Delete secret", body, "Delete", danger=True), answered)

    def ask_purge(self, info: SecretInfo, answered: Callable[[bool | None], None]) -> None:
        """Ask whether to purge ``info``: every version, for good (its own question)."""
        body = Text.assemble(
            "Purge every version of ",
            (info.id.value, "bold"),
            f" from {info.provider}?\nAll its versions and its metadata go, for good: this ",
            "cannot be undone, and u cannot bring it back.",
        )
        title = f"Purge {info.id.value}"
        from docker_pass.tui.screens.confirm import ConfirmScreen

        self._app.push_screen(ConfirmScreen(title, body, "Purge", danger=True), answered)

    def ask_move(
        self,
        subject: MoveSubject,
        targets: Sequence[str],
        answered: Callable[[MoveRequest | None], None],
    ) -> None:
        """The move dialog for ``subject``, to one of ``targets``."""
        sources = self._sources
        from docker_pass.tui.screens.move import MoveScreen

        screen = MoveScreen(subject, targets, lookup=sources.lookup, holders=sources.holders)
        self._app.push_screen(screen, answered)

    def ask_duplicate_move(
        self, request: MoveRequest, others: Sequence[str], answered: Callable[[bool | None], None]
    ) -> None:
        """Moving would make a second plugin hold the new ID: move anyway?"""
        warning = duplicate_warning(request.new, request.to_plugin, list(others))
        body = Text.assemble(warning, ".\nMove it anyway?")
        title = f"{', '.join(others)} holds {request.new.value}"
        from docker_pass.tui.screens.confirm import ConfirmScreen

        self._app.push_screen(ConfirmScreen(title, body, "Move anyway", danger=True), answered)

    def show_result(self, title: str, lines: Sequence[str], *, trouble: bool) -> None:
        """A move's outcome, when one line of status is not enough (what exists where, the
        references left behind)."""
        body = Text("\n".join(lines))
        from docker_pass.tui.screens.choice import Choice, ChoiceScreen

        choice = Choice("close", "c", "Close")
        self._app.push_screen(ChoiceScreen(title, body, [choice], danger=trouble))

    def ask_restore(
        self, kept: KeptSecret, conflict: Conflict, answered: Callable[[bool | None], None]
    ) -> None:
        """``u`` found the secret changed since the change it undoes: restore anyway?"""
        body = Text.assemble(
            conflict.describe(SINCE_THE_CHANGE),
            "\nRestoring puts back ",
            (kept.id.value, "bold"),
            f" as it was before your {kept.change.value}, over that change.",
            "\nKeep leaves it as it is now (u asks again).",
        )
        from docker_pass.tui.screens.confirm import ConfirmScreen

        screen = ConfirmScreen(
            f"{kept.id.value} changed since", body, "Restore anyway", danger=True
        )
        self._app.push_screen(screen, answered)

    # -- what the editor asked for ----------------------------------------------------------

    def saved(self, info: SecretInfo) -> None:
        """The editor's secret was saved: close it."""
        editor = self._editor()
        if editor is not None:
            editor.dismiss(info)

    def save_failed(self, reason: str) -> None:
        """Saving failed: the editor says why, and can save again."""
        editor = self._editor()
        if editor is not None:
            editor.error = reason
            editor.saving = False

    def save_conflicted(self, draft: SecretDraft, conflict: Conflict) -> None:
        """The save met a change made elsewhere: the editor asks what to do."""
        editor = self._editor()
        if editor is not None:
            editor.save_conflicted(draft, conflict)

    def duplicate_found(self, draft: SecretDraft, others: Sequence[str]) -> None:
        """The save would make a second plugin hold the ID: the editor asks first."""
        editor = self._editor()
        if editor is not None:
            editor.duplicate_found(draft, others)

    def rename_stopped(self, saved: SecretInfo, text: str) -> None:
        """The editor's rename saved the edit under the old ID only: it stays open, and a
        save expects the version just saved."""
        editor = self._editor()
        if editor is not None:
            editor.rename_stopped(saved.version, text)

    def version_read(self, info: SecretInfo, version: str, error: str) -> None:
        """The version of the secret an editor opened on (if that editor is still open)."""
        editor = self._editor()
        if editor is None or editor.info != info:
            return
        if error:
            editor.version_unavailable(error)
        else:
            editor.version_read(version)

    def value_unavailable(self, reason: str) -> None:
        """The current value could not be read into the editor."""
        editor = self._editor()
        if editor is not None:
            editor.current_value_unavailable(reason)

    def load_value(
        self,
        info: SecretInfo,
        value: bytes,
        version: str,
        metadata: Mapping[str, str] | None = None,
        *,
        reload: bool = False,
    ) -> None:
        """The stored value of ``info``, read into its editor (if it is still open): on
        ctrl+r, or (``reload``) with its metadata after a conflict."""
        editor = self._editor()
        if editor is None or (not reload and editor.info != info):
            return  # the editor was closed meanwhile: the value goes nowhere
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            reason = f"{info.id.value} holds binary data: it cannot be edited as text."
            editor.current_value_unavailable(reason)
            self._status.set_status(reason, "error")
            return
        if reload:
            # Rows are replaced (mounted) before the form is read again: in its own turn.
            editor.call_later(editor.reloaded, info, text, version, dict(metadata or {}))
            self._status.set_status(f"Reloaded {info.id.value} as {info.provider} holds it now.")
            return
        editor.load_current_value(text, version)
        self._status.set_status(f"Loaded the current value of {info.id.value} into the editor.")

    def _editor(self) -> EditorScreen | None:
        from docker_pass.tui.screens.editor import EditorScreen

        screen = self._app.screen
        return screen if isinstance(screen, EditorScreen) else None
