"""The move dialog (``m``): a secret to a new ID and maybe another plugin, or a realm (every
secret under it) to a new realm.

The new ID is checked as the editor checks one, and the line under it says what the move will
do: replace a secret there (asked first), make the ID one that another plugin holds too
(asked when moving), or simply move.  A realm's move is confirmed with its count.  The
dialog dismisses with a :class:`~docker_pass.tui.model.moving.MoveRequest` (``None``:
cancelled); the app moves in a worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from docker_pass.core.ids import ID
from docker_pass.core.plugin import new_id_problem
from docker_pass.core.references.syntax import reference_text
from docker_pass.tui.keys import key_for
from docker_pass.tui.model.moving import MoveRequest
from docker_pass.tui.model.typed_ids import doubled_realm_notice
from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.editor_words import IdValidator
from docker_pass.tui.text import plural
from docker_pass.tui.widgets.dialog_footer import DialogFooter

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from textual.app import ComposeResult

    from docker_pass.core.envelope import SecretInfo


@dataclass(frozen=True, slots=True)
class MoveSubject:
    """What is moved: a secret, or a realm (``realm``) with the secrets under it per plugin
    (``sources``: plugin -> the IDs under it there)."""

    secret: SecretInfo | None = None
    realm: str = ""
    sources: Mapping[str, Sequence[str]] | None = None

    @property
    def old(self) -> str:
        """The ID or realm moved."""
        return self.secret.id.value if self.secret is not None else self.realm


class MoveScreen(ModalScreen[MoveRequest | None]):
    """Asks where to move a secret or a realm."""

    #: Its keys are the only keys while it is open (:func:`~docker_pass.tui.screens.is_dialog`).
    OWN_KEYS_ONLY: ClassVar[bool] = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "move", "Move", priority=True, id="move.submit"),
        Binding("escape", "cancel", "Cancel", id="move.cancel"),
    ]

    def __init__(
        self,
        subject: MoveSubject,
        targets: Sequence[str],
        *,
        lookup: Callable[[str, str], SecretInfo | None],
        holders: Callable[[str], list[str]],
    ) -> None:
        """``targets``: the writable plugins it may go to; ``lookup(id, plugin)`` the secret a
        plugin lists under an ID; ``holders(id)`` the plugins that list it."""
        super().__init__()
        self.subject = subject
        secret = subject.secret
        sources = dict(subject.sources or {})
        self.source = secret.provider if secret is not None else next(iter(sources), "")
        self.targets = list(dict.fromkeys([self.source, *targets]))
        self.to_plugin = self.source
        self._sources = sources
        self._lookup = lookup
        self._holders = holders

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        subject = self.subject
        if subject.secret is not None:
            title = f"Move {subject.old}"
        else:
            title = f"Move realm {subject.old}/"
        with Vertical(id="move-dialog"):
            yield Static(Text(title), id="move-title")
            yield Static(Text(self._from_line()), id="move-from-line")
            if subject.secret is None and len(self._sources) > 1:
                with Horizontal(classes="move-row"):
                    yield Label("From", classes="move-label")
                    yield Select(
                        [(f"{n} ({len(ids)})", n) for n, ids in self._sources.items()],
                        value=self.source,
                        allow_blank=False,
                        compact=True,
                        id="move-source",
                    )
            with Horizontal(classes="move-row"):
                yield Label("To", classes="move-label")
                yield Input(
                    subject.old,
                    validators=[IdValidator()],
                    compact=True,
                    select_on_focus=False,
                    id="move-new",
                )
            if len(self.targets) > 1:
                with Horizontal(classes="move-row"):
                    yield Label("Plugin", classes="move-label")
                    yield Select(
                        [(n, n) for n in self.targets],
                        value=self.to_plugin,
                        allow_blank=False,
                        compact=True,
                        id="move-plugin",
                    )
            yield Static("", id="move-hint")
            yield Static("", id="move-error")
            move_key = key_for(self.app, "move.submit", "ctrl+s")
            cancel_key = key_for(self.app, "move.cancel", "escape")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"Move ({move_key})", variant="primary", id="move-go", compact=True)
                yield Button(f"Cancel ({cancel_key})", id="move-cancel", compact=True)
        yield DialogFooter()

    def on_mount(self) -> None:
        field = self.query_one("#move-new", Input)
        field.focus()
        field.cursor_position = len(field.value)
        self._show_hint()

    # -- events -----------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one("#move-error", Static).update("")  # said of the text before
        self._show_hint()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if not isinstance(event.value, str):
            return
        if event.select.id == "move-plugin":
            self.to_plugin = event.value
        elif event.select.id == "move-source":
            self.source = event.value
            self.query_one("#move-from-line", Static).update(Text(self._from_line()))
        self._show_hint()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "move-go":
            self.action_move()
        else:
            self.dismiss(None)

    # -- actions ----------------------------------------------------------------------------

    def action_cancel(self) -> None:
        """Close without moving."""
        self.dismiss(None)

    def action_move(self) -> None:
        """Check the new ID, ask what needs asking, then answer with the request."""
        text, wrong = self._hint()
        error = self.query_one("#move-error", Static)
        if wrong:
            error.update(Text(text))
            return
        error.update("")
        new = ID.parse(self._new_text())
        secret = self.subject.secret
        request = MoveRequest(
            new,
            self.to_plugin,
            self.source,
            secret=secret,
            realm=None if secret is not None else ID.parse(self.subject.old),
        )
        if secret is not None:
            taken = self._lookup(new.value, self.to_plugin)
            if taken is None:
                self.dismiss(request)
                return
            body = Text.assemble(
                (new.value, "bold"),
                f" exists in {self.to_plugin}.\nMoving {secret.id.value} there replaces its "
                "value and metadata.",
            )
            self._ask(
                ConfirmScreen(f"Replace {new.value}?", body, "Replace", danger=True),
                MoveRequest(new, self.to_plugin, self.source, secret=secret, replace=True),
            )
            return
        count = len(self._ids())
        body = Text.assemble(
            f"Move {plural(count, 'secret')} from ",
            (f"{self.source}:{self.subject.old}/", "bold"),
            " to ",
            (f"{self.to_plugin}:{new.value}/", "bold"),
            "?\nEach is copied, then its old ID removed only if it is unchanged since; one "
            "that exists there already is kept where it is.",
        )
        self._ask(ConfirmScreen(f"Move {plural(count, 'secret')}?", body, "Move"), request)

    # -- internals --------------------------------------------------------------------------

    def _ask(self, question: ConfirmScreen, request: MoveRequest) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(request)

        self.app.push_screen(question, answered)

    def _new_text(self) -> str:
        return self.query_one("#move-new", Input).value.strip().rstrip("/")

    def _ids(self) -> Sequence[str]:
        return self._sources.get(self.source, ())

    def _from_line(self) -> str:
        if self.subject.secret is not None:
            return f"from {self.source}"
        return f"{plural(len(self._ids()), 'secret')} under it in {self.source}"

    def _show_hint(self) -> None:
        text, wrong = self._hint()
        hint = self.query_one("#move-hint", Static)
        hint.update(Text(text))
        hint.set_class(wrong, "-error")

    def _hint(self) -> tuple[str, bool]:
        """The line under the new ID, and whether it is a mistake."""
        new = self._new_text()
        old = self.subject.old
        problem = new_id_problem(new)
        if problem:
            return f"✗ {problem}", True
        doubled = doubled_realm_notice(new) if self.subject.secret is not None else ""
        if doubled and not doubled_realm_notice(old):
            return doubled, True
        if new == old and self.to_plugin == self.source:
            what = "ID" if self.subject.secret is not None else "realm"
            return f"type the new {what}, or choose another plugin", True
        if self.subject.secret is None:
            return self._realm_hint(new, old)
        if self._lookup(new, self.to_plugin) is not None:
            return f"{new} exists in {self.to_plugin}: moving replaces it (asked first)", False
        others = [p for p in self._holders(new) if p != self.to_plugin]
        if new == old:
            others = [p for p in others if p != self.source]
        if others:
            count = len(others) + 1
            return (
                f"⚠ {', '.join(others)} has this ID: moving it here makes "
                f"{reference_text(new)} match {count} secrets (asked first)",
                False,
            )
        return f"✓ moves to {self.to_plugin}:{new}; the old ID goes once the copy is saved", False

    def _realm_hint(self, new: str, old: str) -> tuple[str, bool]:
        if self.to_plugin == self.source and new.startswith(old + "/"):
            return f"✗ cannot move {old}/ into itself", True
        ids = self._ids()
        taken = sum(1 for i in ids if self._lookup(new + i[len(old) :], self.to_plugin) is not None)
        goes = "goes" if len(ids) == 1 else "go"
        text = f"{plural(len(ids), 'secret')} {goes} from {old}/ to {self.to_plugin}:{new}/"
        if taken:
            text += f"; {taken} exist there already (kept where they are)"
        return text, False
