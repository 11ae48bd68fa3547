"""The pattern field and its one-line summary: matches, routing, or the rule a pattern breaks."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label, Static

from docker_pass.tui.preview import Preview, validate_pattern
from docker_pass.tui.text import plural

if TYPE_CHECKING:
    from textual.app import ComposeResult

EXAMPLE = "docker/auth/**  */db/*/password  **/token"


class PatternValidator(Validator):
    """Fails with the rule the text breaks as a pattern (an empty field is valid)."""

    def validate(self, value: str) -> ValidationResult:
        reason = validate_pattern(value)
        return self.failure(reason) if reason else self.success()


class PatternBar(Vertical):
    """A pattern field; it reports edits, and shows the preview the app computes for them."""

    DEFAULT_CSS = """
    PatternBar {
        height: auto;
        padding: 0 1;
        background: $boost;
        #pattern-row { height: 1; }
        #pattern-label { width: auto; padding-right: 1; color: $text-muted; }
        #pattern-input { width: 1fr; }
        #pattern-summary { height: 1; color: $text-muted; }
        #pattern-summary.-error { color: $text-error; text-style: bold; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear pattern", id="pattern.clear"),
    ]

    #: The preview of the current text, set by the app.
    preview: reactive[Preview | None] = reactive(None, layout=False)

    class Edited(Message):
        """The text changed; ``error`` is the rule it breaks, or "" when it is valid."""

        def __init__(self, bar: PatternBar, text: str, error: str) -> None:
            super().__init__()
            self.bar = bar
            self.text = text
            self.error = error

        @property
        def control(self) -> PatternBar:
            """The pattern bar that changed."""
            return self.bar

    class Finished(Message):
        """The person left the field: with Enter (``cleared`` false) or Escape (true)."""

        def __init__(self, bar: PatternBar, cleared: bool) -> None:
            super().__init__()
            self.bar = bar
            self.cleared = cleared

        @property
        def control(self) -> PatternBar:
            """The pattern bar that was left."""
            return self.bar

    def compose(self) -> ComposeResult:
        with Horizontal(id="pattern-row"):
            yield Label("Pattern /", id="pattern-label")
            yield Input(
                placeholder=f"filter by pattern: {EXAMPLE}",
                validators=[PatternValidator()],
                compact=True,
                id="pattern-input",
            )
        yield Static("Loading…", id="pattern-summary")

    @property
    def text(self) -> str:
        """The pattern as typed."""
        return self.query_one(Input).value

    def set_text(self, text: str) -> None:
        """Replace the field's text (as if typed)."""
        self.query_one(Input).value = text

    def focus_field(self) -> None:
        """Put the cursor in the field, at once.

        ``Widget.focus`` moves focus only after the keys already queued are handled, so the
        text typed right after ``/`` would go to the tree (where ``p`` opens the plugins).
        """
        self.screen.set_focus(self.query_one(Input))

    def action_clear(self) -> None:
        """Empty the field and leave it."""
        self.set_text("")
        self.post_message(self.Finished(self, cleared=True))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        error = validate_pattern(event.value)
        if error:
            # Say which rule broke at once; the matches stay as they were until it is valid.
            self._show_summary(Text(f"✗ {error}"), error=True)
        self.post_message(self.Edited(self, event.value, error))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Finished(self, cleared=False))

    def watch_preview(self, preview: Preview | None) -> None:
        if preview is None:
            self._show_summary(Text("Loading…"))
        elif preview.error:
            self._show_summary(Text(f"✗ {preview.error}"), error=True)
        else:
            self._show_summary(summary_text(preview))

    def _show_summary(self, text: Text, *, error: bool = False) -> None:
        summary = self.query_one("#pattern-summary", Static)
        summary.set_class(error, "-error")
        summary.update(text)


def summary_text(preview: Preview) -> Text:
    """``37 of 1,204 match · routed to docker-pass`` (or the totals with no pattern)."""
    if preview.pattern is None:
        return Text(f"{plural(preview.total, 'secret')} · press / and type a pattern to filter")
    verb = "matches" if preview.matched == 1 else "match"
    text = Text(f"{preview.matched:,} of {preview.total:,} {verb}")
    routing = preview.routing
    if routing.running:
        text.append(" · routed to ")
        text.append(", ".join(routing.running), style="bold")
    else:
        text.append(" · no running plugin serves it", style="bold")
    if routing.idle:
        text.append(f" · not running: {', '.join(routing.idle)}")
    return text
