"""The app's hands on the dialogs about one secret: the editor, and the delete question."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.editor import EditorScreen

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from textual.app import App

    from docker_pass.core.envelope import SecretInfo
    from docker_pass.core.results import PluginStatus
    from docker_pass.tui.controllers.ports import StatusSink


class SecretDialogs:
    """Opens the editor and the delete question of ``app``, and tells the open editor what
    its requests came to."""

    def __init__(self, app: App[None], status: StatusSink) -> None:
        self._app = app
        self._status = status

    def new_secret(
        self,
        targets: Mapping[str, PluginStatus],
        prefix: str,
        exists: Callable[[str, str], bool],
    ) -> None:
        """The editor for a new secret: ``targets`` (plugin -> its status) to save to, the ID
        started with ``prefix``; ``exists(id, plugin)`` says whether saving would replace."""
        self._app.push_screen(EditorScreen(targets=dict(targets), id_text=prefix, exists=exists))

    def edit_secret(self, info: SecretInfo, status: PluginStatus | None) -> None:
        """The editor on ``info`` (kept by the plugin whose status is ``status``)."""
        self._app.push_screen(EditorScreen(info, status=status))

    def ask_delete(self, info: SecretInfo, answered: Callable[[bool | None], None]) -> None:
        """Ask whether to delete ``info`` (undoable until quitting)."""
        body = Text.assemble(
            "Delete ",
            (info.id.value, "bold"),
            f" from {info.provider}?\nu undoes it until you quit.",
        )
        self._app.push_screen(ConfirmScreen("Delete secret", body, "Delete", danger=True), answered)

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

    def value_unavailable(self, reason: str) -> None:
        """The current value could not be read into the editor."""
        editor = self._editor()
        if editor is not None:
            editor.current_value_unavailable(reason)

    def load_value(self, info: SecretInfo, value: bytes) -> None:
        """The current value of ``info``, read into its editor (if it is still open)."""
        editor = self._editor()
        if editor is None or editor.info != info:
            return  # the editor was closed meanwhile: the value goes nowhere
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            reason = f"{info.id.value} holds binary data: it cannot be edited as text."
            editor.current_value_unavailable(reason)
            self._status.set_status(reason, "error")
            return
        editor.load_current_value(text)
        self._status.set_status(f"Loaded the current value of {info.id.value} into the editor.")

    def _editor(self) -> EditorScreen | None:
        screen = self._app.screen
        return screen if isinstance(screen, EditorScreen) else None
