"""The detail pane: what the cursor is on, with the value masked unless revealed.

Enter on a secret in the tree focuses the pane (the screen does that); the secret keys work
from here as from the tree, and Escape goes back to the tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Label, Static

from docker_pass.core.envelope import SecretInfo
from docker_pass.core.expiry import ExpiryState, expiry_of
from docker_pass.core.references.syntax import reference_for
from docker_pass.tui.fit import fit
from docker_pass.tui.keys import key_for
from docker_pass.tui.model.realms import Notice
from docker_pass.tui.model.versions import shown_version
from docker_pass.tui.text import plural
from docker_pass.tui.widgets.used_by import UsedBy

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    from textual.app import ComposeResult

    from docker_pass.tui.model.ambiguity import Ambiguity
    from docker_pass.tui.model.usage import UsageSummary

MASK = "••••••••"


@dataclass(frozen=True, slots=True)
class RealmSummary:
    """A realm as the detail pane describes it."""

    path: str
    count: int


@dataclass(frozen=True, slots=True)
class DeletedSummary:
    """The line above the deleted secrets, as the detail pane describes it."""

    count: int


Subject = SecretInfo | RealmSummary | DeletedSummary | Notice | None


class DetailPane(VerticalScroll):
    """Shows a secret (ID, provider, reference, masked value, expiry, who uses it, metadata),
    a realm or a notice."""

    DEFAULT_CSS = """
    DetailPane {
        padding: 0 1;
        &:focus { background-tint: $foreground 5%; }
        &:focus #detail-title { text-style: bold reverse; }
        #detail-title {
            text-style: bold; color: $text-accent; margin-bottom: 1;
            text-wrap: nowrap; text-overflow: ellipsis;
        }
        #detail-metadata-label { margin-top: 1; text-style: bold; }
        #detail-metadata { height: auto; max-height: 12; overflow-x: hidden; }
        #detail-hint { margin-top: 1; color: $text-muted; }
        .-hidden { display: none; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "leave",
            "Back",
            tooltip="Back to the realm tree",
            id="detail.leave",
        ),
    ]

    class Left(Message):
        """Escape: the person is done here (the screen puts the focus back on the tree)."""

        def __init__(self, pane: DetailPane) -> None:
            super().__init__()
            self.pane = pane

        @property
        def control(self) -> DetailPane:
            """The pane."""
            return self.pane

    #: What the cursor is on; the app sets it.
    subject: reactive[Subject] = reactive(None, init=False)
    #: The value as text while revealed, ``None`` while masked; the app sets it.
    revealed: reactive[str | None] = reactive(None, init=False)
    #: Whether the subject's plugin is read-only; the app sets it.
    read_only: reactive[bool] = reactive(False, init=False)
    #: How the subject's ID is ambiguous (more than one plugin lists it); the app sets it
    #: before the subject.
    ambiguity: reactive[Ambiguity | None] = reactive(None, init=False)
    #: The metadata rows as last drawn (fitted to the width then).
    _fitted: tuple[tuple[Text, Text], ...] = ()

    def compose(self) -> ComposeResult:
        yield Static("", id="detail-title")
        yield Static("", id="detail-fields")
        yield UsedBy(id="detail-used-by")
        yield Label("Metadata", id="detail-metadata-label")
        table: DataTable[str] = DataTable(
            id="detail-metadata", cursor_type="none", zebra_stripes=True, show_cursor=False
        )
        table.can_focus = False
        yield table
        yield Static("", id="detail-hint")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        #: "Now" for the expiry row (tests fix it); ``None`` is the clock.
        self.expiry_now: date | None = None

    def on_mount(self) -> None:
        self.query_one("#detail-metadata", DataTable).add_columns("Key", "Value")
        self._render_subject()

    def show_usage(self, summary: UsageSummary | None) -> None:
        """Who uses the secret shown (``None``: no "Used by" section)."""
        self.query_one(UsedBy).summary = summary

    def action_leave(self) -> None:
        """Go back to the tree."""
        self.post_message(self.Left(self))

    def on_focus(self) -> None:
        # Later: Widget's own focus handler (which sets has_focus) runs after this one.
        self.call_later(self._render_subject)  # the hint says how to go back

    def on_blur(self) -> None:
        self.call_later(self._render_subject)

    def watch_subject(self) -> None:
        self._render_subject()

    def watch_revealed(self) -> None:
        self._render_subject()

    def watch_read_only(self) -> None:
        self._render_subject()

    def watch_ambiguity(self) -> None:
        self._render_subject()

    def on_resize(self) -> None:
        # The metadata is fitted to the width: redraw only if that fit changed.
        subject = self.subject
        if isinstance(subject, SecretInfo) and self._fitted != self._fit_metadata(subject):
            self._render_subject()

    def _render_subject(self) -> None:
        subject = self.subject
        title = self.query_one("#detail-title", Static)
        fields = self.query_one("#detail-fields", Static)
        hint = self.query_one("#detail-hint", Static)

        def bound(binding_id: str, default: str) -> str:  # the key in effect, for the hint
            return key_for(self.app, binding_id, default)

        metadata = self.query_one("#detail-metadata", DataTable)
        show_metadata = isinstance(subject, SecretInfo)
        for widget in (metadata, self.query_one("#detail-metadata-label")):
            widget.set_class(not show_metadata, "-hidden")
        metadata.clear()
        if isinstance(subject, SecretInfo):
            title.update(Text(subject.id.value))
            fields.update(self._secret_fields(subject))
            self._fitted = self._fit_metadata(subject)
            for key, value in self._fitted:
                metadata.add_row(key, value)
            if not subject.metadata:
                metadata.add_row(Text("(none)", style="dim"), Text(""))
            keys = self._secret_keys(subject, bound)
            hint.update(keys + (" · esc back to the tree" if self.has_focus else ""))
        elif isinstance(subject, RealmSummary):
            title.update(Text(f"{subject.path}/"))
            fields.update(Text(f"Realm with {plural(subject.count, 'secret')} under it."))
            hint.update(
                f"{bound('tree.right', 'l,right')} opens it · "
                f"{bound('main.pattern', 'slash')} filters by pattern · "
                f"{bound('main.new', 'n')} adds a secret · {bound('main.move', 'm')} moves it"
            )
        elif isinstance(subject, DeletedSummary):
            title.update(Text("deleted"))
            fields.update(
                Text(
                    f"{plural(subject.count, 'secret')} whose latest version was deleted: no "
                    "live secrets (not counted, and references to them fail). Their plugin "
                    "keeps their versions until they are purged."
                )
            )
            hint.update(
                f"{bound('tree.right', 'l,right')} opens the list · "
                f"{bound('main.undelete', 'U')} undeletes one · "
                f"{bound('main.purge', 'X')} purges every version of one"
            )
        elif isinstance(subject, Notice):
            title.update(Text(subject.plugin or "docker pass"))
            fields.update(Text(subject.message))
            hint.update(
                f"{bound('app.plugins', 'p')} opens the plugins panel (there "
                f"{bound('plugins.toggle', 'space,enter')} re-enables a crashed plugin, "
                f"{bound('plugins.disable', 'x')} disables it)"
                if subject.plugin
                else f"{bound('main.new', 'n')} adds a secret"
            )
        else:
            title.update("")
            fields.update(Text("Nothing selected."))
            hint.update("")

    def _secret_keys(self, info: SecretInfo, bound: Callable[[str, str], str]) -> str:
        """The keys that work on ``info``, in a line."""
        if info.deleted:
            return (
                f"{bound('main.undelete', 'U')} undelete · "
                f"{bound('main.purge', 'X')} purge every version (irreversible)"
            )
        # An ambiguous ID's reference fails: y copies the command that reads this copy.
        copied = "copy get --plugin" if self._ambiguous(info) else "copy reference"
        if self.read_only:
            return (
                f"{info.provider} is read-only here: {bound('main.reveal', 'r')} reveal · "
                f"{bound('main.copy', 'c')} copy · "
                f"{bound('main.copy_reference', 'y')} {copied}"
            )
        return (
            f"{bound('main.reveal', 'r')} reveal · {bound('main.copy', 'c')} copy value · "
            f"{bound('main.copy_reference', 'y')} {copied} · "
            f"{bound('main.edit', 'e')} edit · {bound('main.move', 'm')} move · "
            f"{bound('main.delete', 'd')} delete"
        )

    def _ambiguous(self, info: SecretInfo) -> bool:
        """Whether ``info``'s ID is ambiguous (the ambiguity set is about this ID)."""
        ambiguity = self.ambiguity
        return ambiguity is not None and ambiguity.id == info.id.value

    def _fit_metadata(self, info: SecretInfo) -> tuple[tuple[Text, Text], ...]:
        """Keys and values, sorted by key, long ones ending in … inside the pane."""
        # Two columns of one cell padding each side, a vertical scrollbar's cell, and the
        # table's own last cell.
        room = self.scrollable_content_region.width - 6
        longest = max((len(key) for key in info.metadata), default=0)
        key_room = min(longest, max(8, room // 3))
        value_room = max(room - key_room, 8)
        items = sorted(info.metadata.items())
        return tuple((fit(key, key_room), fit(value, value_room)) for key, value in items)

    def _secret_fields(self, info: SecretInfo) -> Table:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row("ID", Text(info.id.value))
        grid.add_row("Provider", Text(info.provider))
        if info.deleted:
            latest = f" (version {shown_version(info.version)})" if info.version else ""
            grid.add_row("State", Text(f"deleted: its latest version{latest} was deleted"))
            reference = f"{reference_for(info.id)} does not resolve while it is deleted"
            grid.add_row("Reference", Text(reference, style="dim"))
            return grid
        ambiguity = self.ambiguity if self._ambiguous(info) else None
        if ambiguity is None:
            grid.add_row("Reference", Text(reference_for(info.id)))
        else:
            # Not a reference to copy: it fails while more than one plugin holds the ID.
            grid.add_row("Reference", Text(f"✗ {ambiguity.problem()}", style="bold yellow"))
            grid.add_row("Read with", Text("\n".join(ambiguity.commands())))
            grid.add_row("To fix", Text(ambiguity.remedy()))
        if self.revealed is None:
            grid.add_row("Value", Text(MASK))
        else:
            grid.add_row("Value", Text(self.revealed, style="bold reverse"))
        expiry = expiry_of(info.metadata, self.expiry_now)
        if expiry is not None:
            style = {ExpiryState.EXPIRED: "bold red", ExpiryState.SOON: "yellow"}
            grid.add_row("Expires", Text(expiry.describe(), style=style.get(expiry.state, "")))
        return grid
