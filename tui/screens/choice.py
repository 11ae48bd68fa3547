"""A question with more than two answers, in a modal dialog (a save that met a change made
elsewhere: overwrite, reload, or cancel).  Each answer has a key; Escape is the last one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from docker_pass.tui.widgets.dialog_footer import DialogFooter

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual import events
    from textual.app import ComposeResult
    from textual.widgets.button import ButtonVariant


@dataclass(frozen=True, slots=True)
class Choice:
    """One answer: what it returns (``name``), its key, its button's words and style."""

    name: str
    key: str
    label: str
    #: The button's variant: "primary", "error" (it destroys something) or "default".
    variant: ButtonVariant = "default"


class ChoiceScreen(ModalScreen[str]):
    """Asks one question; dismisses with the chosen answer's ``name``.  Escape answers the
    last choice (the one that changes nothing), which has the focus to begin with, so that
    Enter alone is harmless too."""

    #: Its keys are the only keys while it is open (:func:`~docker_pass.tui.screens.is_dialog`).
    OWN_KEYS_ONLY: ClassVar[bool] = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "escape", "Cancel", show=False, id="choice.cancel"),
    ]

    def __init__(
        self, title: str, body: Text | str, choices: Sequence[Choice], *, danger: bool = False
    ) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._choices = tuple(choices)
        self._danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="-danger" if self._danger else ""):
            yield Static(Text(self._title), id="confirm-title")
            yield Static(self._body, id="confirm-body")
            with Horizontal(id="confirm-buttons"):
                for choice in self._choices:
                    yield Button(
                        f"{choice.label} ({choice.key})",
                        variant=choice.variant,
                        id=f"choice-{choice.name}",
                        compact=True,
                    )
        yield DialogFooter()

    def on_mount(self) -> None:
        self.query_one(f"#choice-{self._choices[-1].name}", Button).focus()

    def on_key(self, event: events.Key) -> None:
        # The answers' keys are the choices' own (no BINDINGS: they differ per question).
        for choice in self._choices:
            if event.key == choice.key:
                event.stop()
                self.dismiss(choice.name)
                return

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        name = (event.button.id or "").removeprefix("choice-")
        self.dismiss(name)

    def action_escape(self) -> None:
        """Answer the last choice (the one that changes nothing)."""
        self.dismiss(self._choices[-1].name)
