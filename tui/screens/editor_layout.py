"""The editor's widgets, laid out: a docked header (title, where it saves, its version) and
footer (why a save failed, the buttons), and the fields between them, which scroll.

Header and footer are docked so that only the body scrolls: Save and Cancel (and why a save
failed) stay in sight in a 24-line terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.text import Text
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static, Switch

from docker_pass.tui.screens.editor_words import ID_HINT, VALUE_HINT, IdValidator
from docker_pass.tui.widgets.dialog_footer import DialogFooter
from docker_pass.tui.widgets.metadata_rows import MetadataRows
from docker_pass.tui.widgets.value_area import ValueArea

if TYPE_CHECKING:
    from collections.abc import Mapping

    from textual.app import ComposeResult


@dataclass(frozen=True, slots=True)
class EditorLayout:
    """What the editor's widgets start with."""

    title: str
    where: str
    version: str
    #: The plugins a new secret may be saved to (more than one: a choice), and the chosen one.
    targets: tuple[str, ...]
    provider: str
    id_text: str
    #: An existing secret (not "New"): the value starts empty, meaning "keep it".
    editing: bool
    metadata: Mapping[str, str] = field(default_factory=dict)
    #: The key in effect per binding id (the keymap may change them).
    keys: Mapping[str, str] = field(default_factory=dict)

    def key(self, binding_id: str, default: str) -> str:
        """The key of ``binding_id`` as the labels show it."""
        return self.keys.get(binding_id, default)


def compose_editor(layout: EditorLayout) -> ComposeResult:
    """The editor's widgets for ``layout``."""
    with Vertical(id="editor-dialog"):
        with Vertical(id="editor-header"):
            yield Static(Text(layout.title), id="editor-title")
            yield Static(Text(layout.where), id="editor-where")
            yield Static(Text(layout.version), id="editor-version")
        with Vertical(id="editor-footer"):
            yield Static("", id="editor-error")
            with Horizontal(id="editor-buttons"):
                if layout.editing:
                    yield Button(
                        f"Load current ({layout.key('editor.load_current', 'ctrl+r')})",
                        id="editor-load",
                        compact=True,
                    )
                yield Button(
                    f"Save ({layout.key('editor.save', 'ctrl+s')})",
                    variant="primary",
                    id="editor-save",
                    compact=True,
                )
                yield Button(
                    f"Cancel ({layout.key('editor.cancel', 'esc')})",
                    id="editor-cancel",
                    compact=True,
                )
        with VerticalScroll(id="editor-body"):
            yield from _fields(layout)
    yield DialogFooter()  # the editor's keys, not the main screen's behind it


def _fields(layout: EditorLayout) -> ComposeResult:
    if len(layout.targets) > 1:
        with Horizontal(classes="editor-row", id="editor-plugin-row"):
            yield Label("Plugin", classes="editor-label")
            yield Select(
                [(name, name) for name in layout.targets],
                value=layout.provider,
                allow_blank=False,
                compact=True,
                id="editor-plugin",
            )
    with Horizontal(classes="editor-row"):
        yield Label("ID", classes="editor-label")
        yield Input(
            layout.id_text,
            placeholder="myapp/prod/postgres/password",
            validators=[IdValidator()],
            compact=True,
            # Tab into the field keeps what is there (a pre-filled realm): no select-all.
            select_on_focus=False,
            id="editor-id",
        )
    yield Static("" if layout.editing else ID_HINT, id="editor-id-hint")
    with Horizontal(classes="editor-row", id="editor-value-row"):
        yield Label("Value", classes="editor-label")
        # Never pre-filled: an edit shows an empty area, and what is typed replaces the
        # value (empty keeps it); only ctrl+r reads the stored value into it.
        yield ValueArea(
            placeholder="leave empty to keep the current value" if layout.editing else "the secret",
            id="editor-value",
        )
        yield Switch(
            False,
            id="editor-show",
            tooltip=f"Show the value ({layout.key('editor.show_value', 'ctrl+t')})",
        )
        yield Label("show", id="editor-show-label")
    yield Static(VALUE_HINT, id="editor-value-hint")
    yield Static("", id="editor-aside")
    yield Label("Metadata", id="editor-metadata-label")
    yield MetadataRows(dict(layout.metadata), id="editor-metadata")
    yield Button(
        f"+ metadata ({layout.key('editor.add_metadata', 'ctrl+n')})",
        id="editor-add",
        compact=True,
    )
