"""A plugin's setup form, built from the :class:`~docker_pass.core.setup.Setup` it describes.

Secret fields are masked inputs, the others plain ones; Save asks the app (``SaveRequested``),
which applies the answers in a thread worker and reports back: ``error`` / :meth:`show_error`
put the reason under the field it concerns.  Nothing here stores anything, and no answer is
ever shown outside its (masked) input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from docker_pass.core.setup import Answers
from docker_pass.tui.widgets.dialog_footer import DialogFooter

if TYPE_CHECKING:
    from collections.abc import Mapping

    from textual.app import ComposeResult

    from docker_pass.core.setup import Setup, SetupField


class SecretInput(Input):
    """A masked input whose messages never show what it holds: Input's messages are dataclasses,
    whose ``repr`` (which reaches Textual's log and devtools) holds the value."""

    class Changed(Input.Changed, namespace="input"):
        """The value changed (``repr`` without it)."""

        def __repr__(self) -> str:
            return "SecretInput.Changed(value=<hidden>)"

    class Submitted(Input.Submitted, namespace="input"):
        """Enter was pressed (``repr`` without the value)."""

        def __repr__(self) -> str:
            return "SecretInput.Submitted(value=<hidden>)"

    class Blurred(Input.Blurred, namespace="input"):
        """The input lost focus (``repr`` without the value)."""

        def __repr__(self) -> str:
            return "SecretInput.Blurred(value=<hidden>)"


class SetupScreen(ModalScreen[None]):
    """The setup form of one plugin; dismissed by the app once the answers are applied."""

    #: Its keys are the only keys while it is open (:func:`~docker_pass.tui.screens.is_dialog`).
    OWN_KEYS_ONLY: ClassVar[bool] = True

    DEFAULT_CSS = """
    SetupScreen {
        align: center middle;
        background: $background 60%;
    }
    #setup-dialog {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 1 2;
        border: round $accent;
        background: $surface;
    }
    #setup-title {
        text-style: bold;
    }
    #setup-intro {
        color: $text-muted;
        margin-bottom: 1;
    }
    .setup-help {
        color: $text-muted;
    }
    .setup-error {
        color: $error;
        height: auto;
    }
    #setup-footer {
        dock: bottom;
        height: auto;
    }
    #setup-fields {
        height: auto;
        max-height: 100%;
        scrollbar-size-vertical: 1;
    }
    #setup-buttons {
        height: auto;
        margin-top: 1;
    }
    #setup-buttons Button {
        margin-right: 2;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True, id="setup.save"),
        Binding("escape", "cancel", "Cancel", id="setup.cancel"),
    ]

    #: A reason that concerns the whole form (the plugin did not come up, the store failed).
    error: reactive[str] = reactive("", init=False)
    #: Whether the app is applying the answers (Save does nothing meanwhile).
    saving: reactive[bool] = reactive(False, init=False)

    class SaveRequested(Message):
        """Save was pressed: apply ``answers`` to ``setup``."""

        def __init__(self, screen: SetupScreen, setup: Setup, answers: Answers) -> None:
            super().__init__()
            self.screen = screen
            self.setup = setup
            self.answers = answers

        @property
        def control(self) -> SetupScreen:
            """The form."""
            return self.screen

    def __init__(
        self,
        setup: Setup,
        current: Mapping[str, str] | None = None,
        *,
        stored: frozenset[str] = frozenset(),
        keys: tuple[str, str] = ("ctrl+s", "esc"),
    ) -> None:
        """``current``: the non-secret answers to start from; ``stored``: the secret fields
        with an answer stored already; ``keys``: Save's and Cancel's keys in effect, for the
        button labels."""
        super().__init__()
        self.setup = setup
        self._current = dict(current or {})
        self._stored = stored
        self._keys = keys

    def compose(self) -> ComposeResult:
        setup = self.setup
        # Only the fields scroll when a form is taller than the terminal (the vault plugin
        # asks for 8 fields): the title, the form's error and the buttons stay in sight.
        with Vertical(id="setup-dialog"):
            yield Static(Text(f"Set up {setup.plugin}"), id="setup-title")
            if setup.intro:
                yield Static(Text(setup.intro), id="setup-intro")
            with Vertical(id="setup-footer"):
                yield Static("", id="setup-error", classes="setup-error")
                save, cancel = self._keys
                with Horizontal(id="setup-buttons"):
                    yield Button(f"Save ({save})", variant="primary", id="setup-save", compact=True)
                    yield Button(f"Cancel ({cancel})", id="setup-cancel", compact=True)
            with VerticalScroll(id="setup-fields"):
                for index, field in enumerate(setup.fields):
                    yield Label(Text(self._label(field)), classes="setup-label")
                    # Compact, like the editor's: at 80x24 the fields, the error and the
                    # buttons all fit.
                    if field.secret:
                        yield SecretInput(password=True, compact=True, id=f"setup-field-{index}")
                    else:
                        yield Input(
                            value=self._current.get(field.name, field.default),
                            placeholder=field.default,
                            compact=True,
                            id=f"setup-field-{index}",
                        )
                    if field.help:
                        yield Static(Text(field.help), classes="setup-help")
                    yield Static("", id=f"setup-error-{index}", classes="setup-error")
        yield DialogFooter()

    def _label(self, field: SetupField) -> str:
        """A field's label, saying what an empty answer does."""
        if field.secret and field.name in self._stored:
            # apply_setup keeps a stored secret for an empty optional answer.
            hint = (
                "stored; leave empty to keep" if not field.required else "stored; type to replace"
            )
            return f"{field.label} ({hint})"
        return field.label + ("" if field.required else " (optional)")

    def on_mount(self) -> None:
        self.query_one("#setup-field-0", Input).focus()

    def answers(self) -> Answers:
        """What the fields hold now (``repr`` names the fields only)."""
        return Answers(
            {
                field.name: self.query_one(f"#setup-field-{i}", Input).value
                for i, field in enumerate(self.setup.fields)
            }
        )

    def show_error(self, field_name: str, message: str) -> None:
        """Put ``message`` under the field called ``field_name`` (or under the form)."""
        self.saving = False
        index = self._index(field_name)
        if index is None:
            self.error = message
            return
        self.query_one(f"#setup-error-{index}", Static).update(Text(message))
        # Next to the buttons too: the field may be scrolled out of a short terminal's view,
        # and the status line is behind this dialog.
        self.error = f"{self.setup.fields[index].label}: {message}"
        field = self.query_one(f"#setup-field-{index}", Input)
        field.add_class("-invalid")
        field.focus()

    def clear_errors(self) -> None:
        """Remove every error shown."""
        self.error = ""
        for index, _ in enumerate(self.setup.fields):
            self.query_one(f"#setup-error-{index}", Static).update("")
            self.query_one(f"#setup-field-{index}", Input).remove_class("-invalid")

    def watch_error(self, error: str) -> None:
        self.query_one("#setup-error", Static).update(Text(error))

    def watch_saving(self, saving: bool) -> None:
        self.query_one("#setup-save", Button).disabled = saving

    def action_save(self) -> None:
        """Ask the app to apply the answers."""
        if self.saving:
            return
        self.clear_errors()
        self.saving = True
        self.post_message(self.SaveRequested(self, self.setup, self.answers()))

    def action_cancel(self) -> None:
        """Close without storing anything."""
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = list(self.query(Input))
        position = inputs.index(event.input) if event.input in inputs else len(inputs) - 1
        if position + 1 < len(inputs):
            inputs[position + 1].focus()  # enter moves on; on the last field it saves
        else:
            self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "setup-save":
            self.action_save()
        else:
            self.action_cancel()

    def _index(self, field_name: str) -> int | None:
        for index, field in enumerate(self.setup.fields):
            if field.name == field_name:
                return index
        return None
