"""The editor's metadata: key/value rows that can be added and removed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input

from docker_pass.core.envelope import metadata_key_problem

if TYPE_CHECKING:
    from textual.app import ComposeResult


class MetadataRow(Horizontal):
    """One key and value, with a button that removes the row."""

    DEFAULT_CSS = """
    MetadataRow {
        height: 1;
        margin-bottom: 1;
        Input { background: $boost; }
        .metadata-key { width: 2fr; margin-right: 1; }
        .metadata-value { width: 3fr; margin-right: 1; }
        Button { min-width: 3; width: 3; height: 1; border: none; }
    }
    """

    def __init__(self, key: str = "", value: str = "") -> None:
        super().__init__()
        self._key = key
        self._value = value

    def compose(self) -> ComposeResult:
        # Tab into a field keeps its text as it is (no select-all to type over by mistake).
        yield Input(
            self._key,
            placeholder="key",
            compact=True,
            select_on_focus=False,
            classes="metadata-key",
        )
        yield Input(
            self._value,
            placeholder="value",
            compact=True,
            select_on_focus=False,
            classes="metadata-value",
        )
        yield Button("✕", classes="metadata-remove", compact=True, tooltip="Remove this row")

    @property
    def pair(self) -> tuple[str, str]:
        """The row's key (trimmed) and value."""
        key, value = self.query(Input)
        return key.value.strip(), value.value


class MetadataRows(Vertical):
    """Any number of metadata rows.  Typing in a row posts ``Input.Changed`` as usual;
    removing one posts :class:`MetadataRows.Changed`."""

    DEFAULT_CSS = """
    MetadataRows { height: auto; }
    """

    class Changed(Message):
        """A row was removed (what :meth:`MetadataRows.collect` returns may differ)."""

        def __init__(self, rows: MetadataRows) -> None:
            super().__init__()
            self.rows = rows

        @property
        def control(self) -> MetadataRows:
            """The rows."""
            return self.rows

    def __init__(self, metadata: dict[str, str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._initial = metadata

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        row = event.button.parent
        if not event.button.has_class("metadata-remove") or not isinstance(row, MetadataRow):
            return
        event.stop()
        await row.remove()
        self.post_message(self.Changed(self))

    def compose(self) -> ComposeResult:
        for key, value in sorted(self._initial.items()):
            yield MetadataRow(key, value)

    async def replace_rows(self, metadata: dict[str, str]) -> None:
        """Show ``metadata`` instead of the rows there are (a reload, a swap); done when
        the new rows are mounted (so that reading them back sees them)."""
        await self.remove_children(MetadataRow)
        await self.mount_all(MetadataRow(key, value) for key, value in sorted(metadata.items()))
        self.post_message(self.Changed(self))

    def add_row(self) -> None:
        """Add an empty row and put the cursor in its key."""
        row = MetadataRow()
        self.mount(row)
        self.call_after_refresh(lambda: row.query(Input).first().focus())

    def collect(self) -> tuple[dict[str, str], str]:
        """The metadata, or an empty dict and the reason it is not valid."""
        out: dict[str, str] = {}
        for row in self.query(MetadataRow):
            key, value = row.pair
            if not key and not value:
                continue  # an untouched row
            if not key:
                return {}, "a metadata row has a value but no key"
            problem = metadata_key_problem(key)
            if problem:
                return {}, problem
            if key in out:
                return {}, f"metadata key {key!r} appears twice"
            out[key] = value
        return out, ""
