"""The pattern field's live preview: which listed secrets the typed pattern (or filter)
matches, computed as fast as typing.

Up to ``inline_limit`` secrets the preview is computed right in the key handler (well under
a frame); above it, in a thread worker, one computation at a time, keys typed meanwhile
folded into the next one, so typing never waits for matching.

While the person types, the text's last term reads as a prefix (``typing``); Enter finishes
it (:meth:`PatternController.finish`): the same text is then read exactly.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Protocol

from docker_pass.tui.messages import PreviewComputed
from docker_pass.tui.model.preview import Preview, compute_preview, is_cheap
from docker_pass.tui.workers import WorkerGroup

if TYPE_CHECKING:
    from docker_pass.core.results import PluginStatus
    from docker_pass.tui.controllers.listing import ListingController
    from docker_pass.tui.controllers.plugins import PluginsController
    from docker_pass.tui.controllers.ports import Runner
    from docker_pass.tui.model.realms import RealmIndex

#: Up to this many secrets a preview is computed in the key handler; above it in a worker.
#: Matching 10,000 IDs in any mode takes a few ms, less than a worker's round trip
#: (thread, message, wake-up), which alone put the keystroke over 10 ms at 10,000.
INLINE_PREVIEW_LIMIT = 10_000


class PreviewView(Protocol):
    """Where a preview is shown (the main screen's pattern bar and tree)."""

    def show_preview(self, preview: Preview) -> None:
        """Show ``preview`` (the tree is rebuilt with it)."""
        ...


class PatternController:
    """The preview of the pattern field (``preview``), over the listing's index."""

    def __init__(
        self,
        runner: Runner,
        listing: ListingController,
        plugins: PluginsController,
        view: PreviewView,
        *,
        inline_limit: int = INLINE_PREVIEW_LIMIT,
    ) -> None:
        self._runner = runner
        self._listing = listing
        self._plugins = plugins
        self._view = view
        self.inline_limit = inline_limit
        self.preview = Preview("", None)
        #: The text the preview should be of (typing may be ahead of a worker's result).
        self.wanted = ""
        #: Whether the wanted text is still being typed (Enter makes it exact).
        self.typing = True
        self._running = False

    def edited(self, text: str, error: str) -> Preview | None:
        """The field now holds ``text``; an invalid one (``error``) gets its preview at once,
        returned for the bar that sent it; a valid one is scheduled (:meth:`schedule`)."""
        self.wanted = text
        self.typing = True
        if error:
            self.preview = Preview(text, None, error=error, total=len(self._listing.index))
            return self.preview
        self.schedule(text)
        return None

    def finish(self) -> None:
        """Enter: the text is typed; read it exactly from now on (until the next edit)."""
        self.typing = False
        self.schedule(self.wanted)

    def schedule(self, text: str) -> None:
        """Compute the preview of ``text`` now (small listings) or in a worker."""
        self.wanted = text
        index = self._listing.index
        statuses = self._plugins.statuses
        typing = self.typing
        if len(index) <= self.inline_limit or not text or is_cheap(text):
            self._apply(compute_preview(text, index, statuses, typing=typing))
        elif not self._running:
            # One computation at a time; keys typed meanwhile are folded into the next one.
            self._running = True
            work = partial(self._compute, text, index, statuses, typing)
            self._runner.run_in_thread(WorkerGroup.PREVIEW, work)

    def refresh(self) -> None:
        """The listing changed: compute the preview of the wanted text again."""
        self.schedule(self.wanted)

    def listing_changed(self) -> None:
        """The listing changed: warm a large index for the search, then :meth:`refresh`."""
        index = self._listing.index
        if len(index) > self.inline_limit:
            # Folding 100,000 IDs for the search takes a while: not on the first key typed.
            # Started once the tree is painted: the folding holds the GIL (~60 ms at 100,000),
            # and a thread running it meanwhile would hold up the tree's first paint as long.
            self._runner.call_after_refresh(partial(self._warm, index))
        self.refresh()

    def _warm(self, index: RealmIndex) -> None:
        if index is self._listing.index:  # a newer listing warms its own index
            self._runner.run_in_thread(WorkerGroup.WARM_INDEX, index.warm, exclusive=False)

    def computed(self, message: PreviewComputed) -> None:
        """A worker's preview: shown if still wanted, else the wanted one is scheduled."""
        self._running = False
        current = message.source is self._listing.index
        preview = message.preview
        if current and preview.text == self.wanted and preview.typing == self.typing:
            self._apply(message.preview)
        else:
            self.schedule(self.wanted)  # typed on, or the listing changed

    def failed(self) -> None:
        """The worker failed (the app says so): the next key may start another."""
        self._running = False

    def _apply(self, preview: Preview) -> None:
        self.preview = preview
        self._view.show_preview(preview)

    def _compute(
        self, text: str, index: RealmIndex, plugins: tuple[PluginStatus, ...], typing: bool
    ) -> None:
        """In a worker: match a pattern against a large listing."""
        preview = compute_preview(text, index, plugins, typing=typing)
        self._runner.post_message(PreviewComputed(preview, index))
