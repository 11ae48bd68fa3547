"""A yes/no question in a modal dialog (deleting a secret, re-enabling a crashed plugin)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from docker_pass.tui.widgets.dialog_footer import DialogFooter

if TYPE_CHECKING:
    from textual.app import ComposeResult


class ConfirmScreen(ModalScreen[bool]):
    """Asks one question; dismisses with ``True`` for yes."""

    #: Its keys are the only keys while it is open (:func:`~docker_pass.tui.screens.is_dialog`).
    OWN_KEYS_ONLY: ClassVar[bool] = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, body: Text | str, yes: str, *, danger: bool = False) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._yes = yes
        self._danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="-danger" if self._danger else ""):
            yield Static(Text(self._title), id="confirm-title")
            yield Static(self._body, id="confirm-body")
            # The dialogs' one button style: compact; the action primary (error when it
            # destroys something), Cancel in the default style.
            with Horizontal(id="confirm-buttons"):
                yield Button(
                    f"{self._yes} (y)",
                    variant="error" if self._danger else "primary",
                    id="confirm-yes",
                    compact=True,
                )
                yield Button("Cancel (n)", id="confirm-no", compact=True)
        yield DialogFooter()

    def on_mount(self) -> None:
        # Enter on the focused button answers; start on Cancel so Enter alone is harmless.
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        """Answer the question."""
        self.dismiss(yes)
