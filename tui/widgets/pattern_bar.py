"""The filter field and its count line: the mode, the matches, routing, or the rule broken."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label, Static

from docker_pass.tui.fit import COUNT, DETAIL, LEAST, STATE, Part, fit, fit_parts, split_parts
from docker_pass.tui.model.preview import Preview, validate_filter
from docker_pass.tui.model.realms import SortOrder
from docker_pass.tui.model.search import FilterMode
from docker_pass.tui.text import plural

if TYPE_CHECKING:
    from textual.app import ComposeResult

PLACEHOLDER = "prefix docker/au · word alice · pattern **/token · key=value owner=alice"


class PatternValidator(Validator):
    """Fails with the rule the field's text breaks (an empty field is valid)."""

    def validate(self, value: str) -> ValidationResult:
        reason = validate_filter(value)
        return self.failure(reason) if reason else self.success()


class PatternBar(Vertical):
    """The filter field; it reports edits, and shows the preview the app computes for them."""

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
        # The results are a key away while typing: the tree's cursor moves, the keys stay here.
        Binding(
            "down,ctrl+n",
            "step(1)",
            "Next result",
            show=False,
            tooltip="Next result: the tree's cursor moves, the keys stay here",
            id="pattern.next",
        ),
        Binding(
            "up",
            "step(-1)",
            "Previous result",
            show=False,
            tooltip="Previous result (ctrl+p too)",
            id="pattern.previous",
        ),
        # ctrl+p is the palette's key elsewhere; the app lets it through here (check_action),
        # and only a priority binding comes before the app's own.  No description: the help
        # names it on the line above.
        Binding("ctrl+p", "step(-1)", show=False, priority=True, id="pattern.previous_ctrl"),
    ]

    #: The preview of the current text, set by the app.
    preview: reactive[Preview | None] = reactive(None, layout=False)
    #: The tree's order, set by the app (the count line says it).
    order: reactive[SortOrder] = reactive(SortOrder.NAME, layout=False, init=False)

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
        """The person left the field: with Enter (``cleared`` false) or Escape (true);
        ``chosen``: with Down/Up they put the tree's cursor on a result since the last edit."""

        def __init__(self, bar: PatternBar, cleared: bool, chosen: bool = False) -> None:
            super().__init__()
            self.bar = bar
            self.cleared = cleared
            self.chosen = chosen

        @property
        def control(self) -> PatternBar:
            """The pattern bar that was left."""
            return self.bar

    class Stepped(Message):
        """Down/Up (ctrl+n/ctrl+p) in the field: move the tree's cursor ``delta`` results."""

        def __init__(self, bar: PatternBar, delta: int) -> None:
            super().__init__()
            self.bar = bar
            self.delta = delta

        @property
        def control(self) -> PatternBar:
            """The pattern bar the keys were typed in."""
            return self.bar

    #: Whether Down/Up chose a result since the field last changed (Enter then opens it).
    _chosen = False

    #: The count line as built, before it is fitted to the width.
    _summary: Text | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="pattern-row"):
            yield Label("Filter /", id="pattern-label")
            yield Input(
                placeholder=PLACEHOLDER,
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

    def action_step(self, delta: int) -> None:
        """Move the tree's cursor to the next (1) or previous (-1) result."""
        self._chosen = True
        self.post_message(self.Stepped(self, delta))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._chosen = False
        error = validate_filter(event.value)
        if error:
            # Say which rule broke at once; the matches stay as they were until it is valid.
            self._show_summary(Text(f"✗ {error}"), error=True)
        self.post_message(self.Edited(self, event.value, error))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        chosen, self._chosen = self._chosen, False
        self.post_message(self.Finished(self, cleared=False, chosen=chosen))

    def watch_preview(self, preview: Preview | None) -> None:
        if preview is None:
            self._show_summary(Text("Loading…"))
        elif preview.error:
            self._show_summary(Text(f"✗ {preview.error}"), error=True)
        else:
            self._show_summary(summary_text(preview, self.order))

    def watch_order(self) -> None:
        self.watch_preview(self.preview)

    def _show_summary(self, text: Text, *, error: bool = False) -> None:
        summary = self.query_one("#pattern-summary", Static)
        summary.set_class(error, "-error")
        self._summary = text
        # One line: at 80 columns the count line keeps the mode and the count, then gives up
        # its detail from the end, each cut ending in "…" (never cut mid-word at the edge).
        room = summary.size.width or max(self.size.width - 2, 0)
        if room <= 0:
            summary.update(fit(text, 1000))
        elif error:
            summary.update(fit(text, room))
        else:
            summary.update(fit_parts(summary_parts(text, self.order), room))

    def on_resize(self) -> None:
        # Fitted to the width: fitted again when it changes.
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        summary = self.query_one("#pattern-summary", Static)
        if self._summary is not None:
            self._show_summary(self._summary, error=summary.has_class("-error"))


def summary_parts(text: Text, order: SortOrder) -> list[Part]:
    """The count line's parts by worth: the mode and the count (or the number of secrets) stay,
    the detail after them goes from the end, shortened where it may be; the tree's order
    (last) stays too when it is not the usual one (so a sort is seen at 80 columns)."""
    pieces = split_parts(text)
    parts = [
        Part(piece, STATE if i < 2 else DETAIL, shrink=i >= 1) for i, piece in enumerate(pieces)
    ]
    if len(parts) > 1:
        if order is SortOrder.NAME:
            parts[-1] = Part(pieces[-1], LEAST)
        else:
            # Not the usual order: bold, and kept, so the eye finds why the tree looks new.
            parts[-1] = Part(Text(pieces[-1].plain, style="bold"), COUNT)
    return parts


_TERM_WORDS = {
    FilterMode.PREFIX: "under",
    FilterMode.SEARCH: "containing",
    FilterMode.PATTERN: "matching",
}


def summary_text(preview: Preview, order: SortOrder = SortOrder.NAME) -> Text:
    """The count line: the mode first, then the matches and what the mode adds.

    ``prefix · 3 of 15 under docker/au…``, ``search · 2 of 15 · components containing alice ·
    as a pattern: **/alice/** or **/alice``, ``pattern · 2 of 15 match · routed to docker-pass``,
    ``metadata · 4 of 15 with owner=platform-team``; the tree's order last.
    """
    mode = preview.mode
    if mode is FilterMode.ALL:
        text = Text(f"{plural(preview.total, 'secret')} · press / to filter")
    else:
        text = Text(f"{mode} · ", style="bold")
        text.append(f"{preview.matched:,} of {preview.total:,}")
        _append_mode(text, preview)
        for extra in preview.more:
            text.append(f" · and {_TERM_WORDS[extra.mode]} {extra.text}")
            text.append("…" if extra.mode is FilterMode.PREFIX else "")
        if preview.metadata and mode is not FilterMode.METADATA:
            text.append(" · with " + " ".join(str(t) for t in preview.metadata))
        if mode is not FilterMode.PATTERN:
            _append_reading(text, preview)
    text.append(f" · {order.label}")
    return text


def _append_mode(text: Text, preview: Preview) -> None:
    mode = preview.mode
    term = preview.id_term
    if mode is FilterMode.PREFIX:
        text.append(f" under {term}…")
    elif mode is FilterMode.SEARCH:
        text.append(f" · components containing {term}")
        offer = preview.offer
        if preview.more:
            pass  # more terms follow: no single pattern to offer
        elif offer.equivalent:
            text.append(" · as a pattern: ")
            text.append(" or ".join(offer.equivalent), style="bold")
        elif offer.partial:
            text.append(f" · whole components: {offer.partial} ({offer.partial_count:,})")
        elif preview.matched:
            text.append(" · no pattern equivalent")
    elif mode is FilterMode.METADATA:
        text.append(" with " + " ".join(str(t) for t in preview.metadata))
    else:
        text.append(" matches" if preview.matched == 1 else " match")
        typed = bool(preview.as_you_type)
        if preview.pattern is not None and preview.pattern.value != term and not typed:
            text.append(f" {preview.pattern.value}")  # a trailing / reads as "below": P/*/**
        # How the text is read, before the routing: at 80 columns the detail goes from the end.
        _append_reading(text, preview)
        routing = preview.routing
        if routing.running:
            text.append(" · routed to ")
            text.append(", ".join(routing.running), style="bold")
        else:
            text.append(" · no running plugin serves it", style="bold")
        if routing.idle:
            text.append(f" · not running: {', '.join(routing.idle)}")


def _append_reading(text: Text, preview: Preview) -> None:
    """Say how the last term was read: as you type (a prefix) or, after Enter, exactly."""
    if preview.as_you_type:
        text.append(f" · as you type: {preview.as_you_type}", style="italic")
    elif preview.exact:
        text.append(" · exact (Enter)")
