"""The ``docker pass ui`` app: one handler per message, each routed to what it concerns.

The controllers (:mod:`docker_pass.tui.controllers`) hold the state of one concern each — the
listing, the plugins' statuses, the pattern's preview, values read on request, setup forms,
undo — and start its workers; the views (:mod:`docker_pass.tui.views`) put their data on the
screens and open the dialogs.  The app builds them, routes messages and runs the actions.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from docker_pass.core.collecting import freeze_once
from docker_pass.core.engine import Engine
from docker_pass.core.errors import describe
from docker_pass.core.outside import clean_outside
from docker_pass.tui.commands import SecretsProvider, palette_commands
from docker_pass.tui.controllers.listing import REFRESH_SECONDS, ListingController
from docker_pass.tui.controllers.pattern import INLINE_PREVIEW_LIMIT, PatternController
from docker_pass.tui.controllers.place import PlaceController
from docker_pass.tui.controllers.plugins import PluginsController
from docker_pass.tui.controllers.rollout import RolloutController
from docker_pass.tui.controllers.secrets import KEY_VERBS
from docker_pass.tui.controllers.setup import SetupController
from docker_pass.tui.controllers.status import StatusBoard
from docker_pass.tui.controllers.usage import UsageController
from docker_pass.tui.desk import SecretDesk
from docker_pass.tui.keys import (
    KeyHelp,
    check_keymap,
    help_sections,
    key_for,
    keymap_warning,
    known_binding_ids,
)
from docker_pass.tui.messages import PluginListed
from docker_pass.tui.model.gateway import SecretsGateway
from docker_pass.tui.screens import is_dialog
from docker_pass.tui.screens.main import MainScreen
from docker_pass.tui.text import plural
from docker_pass.tui.threads import DaemonThreadExecutor
from docker_pass.tui.views.main import MainView
from docker_pass.tui.views.plugins import PluginsView
from docker_pass.tui.widgets.detail_pane import DeletedSummary, RealmSummary
from docker_pass.tui.widgets.status_line import STATUS_LIMIT, StatusLine
from docker_pass.tui.workers import UNKNOWN_WORK, AppRunner, WorkerGroup

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from rich.text import Text
    from textual import events
    from textual.app import SystemCommand
    from textual.notifications import SeverityLevel
    from textual.screen import Screen
    from textual.widgets import TextArea

    from docker_pass.core.remote.front import EngineFront
    from docker_pass.tui import messages as m
    from docker_pass.tui.fit import Part
    from docker_pass.tui.model.docker_door import UsageDoor
    from docker_pass.tui.screens.editor import EditorScreen
    from docker_pass.tui.screens.setup import SetupScreen
    from docker_pass.tui.widgets.detail_pane import Subject
    from docker_pass.tui.widgets.pattern_bar import PatternBar
    from docker_pass.tui.widgets.plugin_table import PluginTable
    from docker_pass.tui.widgets.realm_tree import RealmTree
    from docker_pass.tui.widgets.status_line import StatusMessage

REVEAL_SECONDS = 20.0
#: A status message is cleared this long after it was shown (if nothing replaced it).
STATUS_SECONDS = 20.0
CLIPBOARD_SECONDS = 30.0
POLL_SECONDS = 1.0


class DockerPassApp(App[None]):
    """Browse, edit and delete secrets; watch and toggle plugins."""

    TITLE = "docker pass"
    CSS_PATH = "app.tcss"

    #: The palette: the system commands (``palette_commands``) and every listed secret.
    COMMANDS = App.COMMANDS | {SecretsProvider}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("p", "plugins", "Plugins", id="app.plugins"),
        Binding(
            "L",
            "last_message",
            "Message",
            show=False,
            tooltip="Show the last message whole",
            id="app.message",
        ),
    ]

    def __init__(
        self,
        front_factory: Callable[[], EngineFront] = Engine,
        *,
        subtitle: str = "",
        keymap: Mapping[str, str] | None = None,
        reveal_seconds: float = REVEAL_SECONDS,
        clipboard_seconds: float = CLIPBOARD_SECONDS,
        poll_seconds: float | None = POLL_SECONDS,
        refresh_seconds: float | None = REFRESH_SECONDS,
        inline_preview_limit: int = INLINE_PREVIEW_LIMIT,
        cursor_blink: bool = True,
        status_seconds: float | None = STATUS_SECONDS,
        remember: bool = True,
        fresh: bool = False,
        tip: str = "",
        docker: UsageDoor | None = None,
    ) -> None:
        """``front_factory`` builds the engine front (in a worker, on first use); ``poll_seconds``
        ``None`` turns off watching other processes' plugin changes (tests trigger it);
        ``status_seconds`` ``None`` keeps status messages until the next one;
        ``refresh_seconds`` is how often plugins that cannot be watched are listed again;
        ``remember`` keeps the UI's place between runs (``fresh``: start without restoring
        it); ``tip`` is said when the plugins panel opens (the demo's offer of a crash);
        ``docker`` is the door to Docker for "Used by" and rollouts (``None``: neither)."""
        super().__init__()
        #: The front the gateway built last (the header says whether it is the daemon's).
        self.front: EngineFront | None = None
        self.gateway = SecretsGateway(self._noting_front(front_factory))
        self.user_keymap = dict(keymap or {})
        #: The keymap entries ignored on start, and why (also shown as a notification).
        self.keymap_warnings: list[str] = []
        self.poll_seconds = poll_seconds
        self.cursor_blink = cursor_blink
        self.subtitle = subtitle
        #: The header's line by worth (:class:`~.widgets.fit_header.FitHeader` fits it).
        self.header_parts: list[Part] = []
        runner = AppRunner(self)
        gateway = self.gateway
        self.status = StatusBoard(runner, self._broadcast_status, status_seconds)
        self.listing = ListingController(
            gateway, runner, self.listing_changed, refresh_seconds=refresh_seconds
        )
        self.panel = panel = PluginsView(self)
        self.plugins = PluginsController(gateway, runner, self.status, panel)
        self.view = MainView(self, self.listing, self.plugins, self.status)
        self.pattern = PatternController(
            runner, self.listing, self.plugins, self.view, inline_limit=inline_preview_limit
        )
        self.setup = SetupController(gateway, runner, self.status, panel)
        self.place = PlaceController(runner, self.status, self.listing, self.pattern, self.view)
        self.place.remember, self.place.fresh = remember, fresh
        self.tip = tip
        self.desk = desk = SecretDesk(
            self,
            gateway,
            runner,
            self.status,
            listing=self.listing,
            plugins=self.plugins,
            view=self.view,
            reveal_seconds=reveal_seconds,
            clipboard_seconds=clipboard_seconds,
            changed=self._listing_edited,
        )
        # The desk's parts by name: handlers and actions route to them.
        self.versions, self.dialogs, self.values = desk.versions, desk.dialogs, desk.values
        self.undo, self.moves, self.secrets = desk.undo, desk.moves, desk.secrets
        self.changes = desk.changes
        self.usage = UsageController(docker, runner, self._show_usage)
        self.rollout = RolloutController(self.usage, runner, self.status, self._ask)

    # -- set-up -----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[None]:
        return MainScreen()

    def on_mount(self) -> None:
        # Thread workers run in the loop's default executor: daemon threads, so that neither
        # the loop's shutdown nor the interpreter's exit waits for a plugin that hangs.
        asyncio.get_running_loop().set_default_executor(DaemonThreadExecutor())
        # What start-up made (Textual's modules and ours) lives as long as the process: out
        # of the collector's reach, so no full collection walks it again (~15 ms before the
        # first tree, and again at every later full collection).
        freeze_once("start-up")

    def on_ready(self) -> None:
        # "Ready" comes once the main screen is composed (on_mount is too early for queries).
        self._apply_keymap()
        self.sub_title = self.subtitle
        self._show_tree()
        self.status.show()
        self.place.read()  # applied once the listing is there
        self.listing.load_everything()
        self.usage.start()
        if self.poll_seconds:
            self.set_interval(self.poll_seconds, self.plugins.check_state)
        if self.listing.refresh_seconds:
            self.set_interval(self.listing.refresh_seconds, self.listing.refresh_unwatched)

    def on_unmount(self) -> None:
        self.gateway.close()
        self.undo.clear()  # the kept value goes with the session
        self.listing.stop()
        self.usage.stop()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Pictures and snapshots need a steady cursor: a blinking one is caught at random.
        widget = event.widget
        if not self.cursor_blink and isinstance(widget, _blinking_widgets()):
            widget.cursor_blink = False

    # -- what the workers report ------------------------------------------------------------

    def on_plugins_loaded(self, message: m.PluginsLoaded) -> None:
        self.plugins.arrived(message.plugins)
        if not self.listing.loaded:
            self._show_tree()
        self._update_subtitle()
        self.setup.look_up(s.name for s in message.plugins)

    def on_plugin_status_updated(self, message: m.PluginStatusUpdated) -> None:
        row_changed = self.plugins.updated(message.status)
        if row_changed is None:
            return
        self._update_subtitle()
        if row_changed:
            self._show_tree()  # its row: crashed, or listing

    def on_listing_started(self, message: m.ListingStarted) -> None:
        self.listing.started(message)

    def on_plugin_listed(self, message: m.PluginListed) -> None:
        self.versions.note_status(message.plugin, message.versioned)
        self.versions.note_listed(message.plugin, (i.version for i in message.infos))
        self.listing.listed(message)

    def on_secrets_changed(self, message: m.SecretsChanged) -> None:
        self.listing.secrets_changed(message.plugin)

    def on_feed_state_changed(self, message: m.FeedStateChanged) -> None:
        self.listing.feed.changed(message.state, message.reason)
        self._update_subtitle()

    def on_value_fetched(self, message: m.ValueFetched) -> None:
        self.changes.fetched(message, self.secrets.selected)

    def on_version_read(self, message: m.VersionRead) -> None:
        self.changes.version_read(message)

    def on_save_conflicted(self, message: m.SaveConflicted) -> None:
        self.changes.conflicted(message)

    def on_duplicate_found(self, message: m.DuplicateFound) -> None:
        self.dialogs.duplicate_found(message.draft, message.others)

    def on_undo_conflicted(self, message: m.UndoConflicted) -> None:
        self.undo.conflicted(message.kept, message.conflict, self.dialogs.ask_restore)

    def on_secret_saved(self, message: m.SecretSaved) -> None:
        self.changes.saved(message)
        self.rollout.saved(message.info)  # used by containers: "roll out?"

    def on_usage_gathered(self, message: m.UsageGathered) -> None:
        self.usage.arrived(message)

    def on_containers_changed(self, _message: m.ContainersChanged) -> None:
        self.usage.containers_changed()

    def on_rollout_planned(self, message: m.RolloutPlanned) -> None:
        self.rollout.planned(message)

    def on_rollout_progressed(self, message: m.RolloutProgressed) -> None:
        self.rollout.progressed(message)

    def on_rollout_finished(self, message: m.RolloutFinished) -> None:
        self.rollout.finished(message)

    def on_secret_deleted(self, message: m.SecretDeleted) -> None:
        self.changes.deleted(message)

    def on_secret_restored(self, message: m.SecretRestored) -> None:
        self.changes.restored(message)

    def on_secret_move_done(self, message: m.SecretMoveDone) -> None:
        self.changes.secret_moved(message)

    def on_rename_stopped(self, message: m.RenameStopped) -> None:
        self.changes.rename_stopped(message)

    def on_realm_move_done(self, message: m.RealmMoveDone) -> None:
        self.changes.realm_moved(message)

    def on_move_duplicate_found(self, message: m.MoveDuplicateFound) -> None:
        self.changes.duplicate(message)

    def on_secret_undeleted(self, message: m.SecretUndeleted) -> None:
        self.changes.undeleted(message)

    def on_secret_purged(self, message: m.SecretPurged) -> None:
        self.changes.purged(message)

    def on_plugin_toggled(self, message: m.PluginToggled) -> None:
        self.plugins.toggled(message.status)
        # Its secrets appear or disappear: list again (with the same engine).
        self.listing.load_everything()

    def on_plugin_state_changed(self, _message: m.PluginStateChanged) -> None:
        text = "Plugin state changed in another process: reloading."
        self.status.set_status(text, "warning", topic="listing")
        self.listing.load_everything(reload=True)

    def on_place_read(self, message: m.PlaceRead) -> None:
        self.place.arrived(message)

    def on_preview_computed(self, message: m.PreviewComputed) -> None:
        self.pattern.computed(message)

    def on_setup_forms_found(self, message: m.SetupFormsFound) -> None:
        self.setup.found(message)

    def on_setup_form_ready(self, message: m.SetupFormReady) -> None:
        self.setup.ready(message)

    def on_setup_refused(self, message: m.SetupRefused) -> None:
        self.setup.refused(message)

    def on_plugin_set_up(self, message: m.PluginSetUp) -> None:
        self.setup.done(message.result)
        self.listing.load_everything()  # its secrets appear, and the panel shows its new status

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker becomes a visible message."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        reason = describe(error) if error is not None else "unknown error"
        kind, plugin = WorkerGroup.parse(event.worker.group)
        label = kind.label if kind is not None else UNKNOWN_WORK
        self.status.set_status(f"{label} failed: {reason}", "error")
        if kind is WorkerGroup.SAVE:
            self.dialogs.save_failed(reason)
        elif kind is WorkerGroup.EDIT_VALUE:
            self.dialogs.value_unavailable(reason)

        elif kind is WorkerGroup.LISTING and not plugin:
            self.listing.failed(reason)
            self.plugins.loaded = True
            self._show_tree()
        elif kind is WorkerGroup.LISTING:  # one plugin's listing broke: say so in its row
            self.post_message(PluginListed(plugin, [], reason))
        elif kind is WorkerGroup.PREVIEW:
            self.pattern.failed()
        elif kind is WorkerGroup.SETUP:
            self.setup.failed(reason)
        elif kind is WorkerGroup.USAGE:
            self.usage.failed(reason)

    # -- what the widgets and screens report ------------------------------------------------

    def on_realm_tree_secret_highlighted(self, message: RealmTree.SecretHighlighted) -> None:
        self._select(message.info)

    def on_realm_tree_realm_highlighted(self, message: RealmTree.RealmHighlighted) -> None:
        self._select(RealmSummary(message.path, message.count))

    def on_realm_tree_notice_highlighted(self, message: RealmTree.NoticeHighlighted) -> None:
        self._select(message.notice)

    def on_realm_tree_deleted_highlighted(self, message: RealmTree.DeletedHighlighted) -> None:
        self._select(DeletedSummary(message.count))

    def on_pattern_bar_edited(self, message: PatternBar.Edited) -> None:
        invalid = self.pattern.edited(message.text, message.error)
        if invalid is not None:
            message.bar.preview = invalid

    def on_pattern_bar_finished(self, message: PatternBar.Finished) -> None:
        if message.cleared:
            return
        # Enter: the pattern is read exactly; the result chosen with Down/Up, or the single
        # secret left, is opened.
        chosen = message.chosen
        self.view.after_preview(lambda: self.view.open_result(chosen=chosen))
        self.pattern.finish()

    def on_editor_screen_save_requested(self, message: EditorScreen.SaveRequested) -> None:
        if message.draft.renamed_from is not None:
            self.moves.rename(message.draft)  # saved under a new ID: a move
        else:
            self.undo.save(message.draft, message.created)

    def on_editor_screen_current_value_requested(
        self, message: EditorScreen.CurrentValueRequested
    ) -> None:
        self.values.read_for_editor(message.info, reload=message.reload)

    def on_plugin_table_toggle_requested(self, message: PluginTable.ToggleRequested) -> None:
        self.plugins.request_toggle(message.status)

    def on_plugin_table_disable_requested(self, message: PluginTable.DisableRequested) -> None:
        self.plugins.request_disable(message.status)

    def on_plugin_table_setup_requested(self, message: PluginTable.SetupRequested) -> None:
        self.setup.request(message.status.name)

    def on_setup_screen_save_requested(self, message: SetupScreen.SaveRequested) -> None:
        self.setup.apply(message.setup, message.answers)

    # -- actions ----------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit; a copied value still on the clipboard is replaced by a blank first (OSC 52)."""
        # Written before exit, so it reaches the terminal ahead of the mode reset.
        self.values.clipboard.clear()
        self.place.save()  # where the UI was, for the next start
        self.exit()

    def action_help(self) -> None:
        """Show every key."""
        from docker_pass.tui.screens.help import HelpScreen  # imported when first opened

        self.push_screen(HelpScreen(self.help_sections()))

    def action_last_message(self) -> None:
        """Show the status line's last message whole (the line ends in … when it is cut)."""
        last = self.status.last
        severity: SeverityLevel = "information"
        if last.level in ("warning", "error"):
            severity = "warning" if last.level == "warning" else "error"
        text = clean_outside(last.text, STATUS_LIMIT)
        self.notify(text, title="Last message", severity=severity, markup=False, timeout=15)

    def action_plugins(self) -> None:
        """Open the plugins panel (and refresh what it shows)."""
        if self.panel.open_panel(self.plugins.statuses, frozenset(self.setup.forms)):
            if self.tip:
                self.status.set_status(self.tip)
            self.call_after_refresh(self.status.show)
            self.plugins.load()

    def action_reload(self) -> None:
        """Start afresh: a new engine, plugin statuses and listing."""
        self.status.set_status("Reloading…", topic="listing")
        self.listing.load_everything(reload=True)

    def action_secret(self, verb: str) -> None:
        """A main screen key on the secret (or realm) under the cursor: ``verb`` names the
        secrets controller's method (one of its ``KEY_VERBS``)."""
        if verb in KEY_VERBS:
            getattr(self.secrets, verb)()

    def action_used_by(self) -> None:
        """List everything that uses the secret under the cursor."""
        summary = self.usage.summary(self.secrets.selected)
        if summary is None:
            return
        if summary.note:
            self.status.set_status(f"Used by: {summary.note}", "warning")
            return
        from docker_pass.tui.screens.used_by import UsedByScreen  # imported when first opened

        self.push_screen(UsedByScreen(summary))

    def action_undo(self) -> None:
        """Restore the secret the last delete or replace of this session changed."""
        self.undo.undo()

    def action_sort(self) -> None:
        """Order the tree by the next key: name, provider, last update."""
        self.view.next_order(self.pattern.preview)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While a dialog is open its keys are the only keys: "q" must not drop an edit, nor
        # may a palette command pop the dialog away.
        focused = self.focused
        if action == "command_palette" and focused is not None and focused.id == "pattern-input":
            return False  # ctrl+p in the filter field steps back through results (PatternBar)
        if action == "used_by" and self.usage.summary(self.secrets.selected) is None:
            return False  # not here: its key undeletes a deleted secret, and hides in the footer
        return not (
            is_dialog(self.screen) and action in ("quit", "help", "plugins", "command_palette")
        )

    # -- the command palette and the help screen -------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from palette_commands(self)

    def help_sections(self) -> list[tuple[str, list[KeyHelp]]]:
        """Every key, by where it works, with the keymap applied."""
        return help_sections(self.BINDINGS, self.user_keymap)

    # -- internals --------------------------------------------------------------------------

    def listing_changed(self, first: bool) -> None:
        """A plugin's listing (ours or another process's change) altered the index."""
        self.pattern.listing_changed()
        self._update_subtitle()
        if first:
            help_key = key_for(self, "app.help", "question_mark")
            count = plural(len(self.listing.index), "secret")
            self.status.set_status(f"{count}. {help_key} shows every key.")
            self.place.listing_ready()
        else:
            self.status.end_status("listing")  # "Reloading…" is done

    def _apply_keymap(self) -> None:
        """Apply the valid keymap entries; name the ignored ones (status line, notification)."""
        if not self.user_keymap:
            return
        valid, self.keymap_warnings = check_keymap(
            self.user_keymap, known_binding_ids(self.BINDINGS)
        )
        self.user_keymap = valid
        if valid:
            self.set_keymap(valid)
        if self.keymap_warnings:
            text = keymap_warning(self.keymap_warnings)
            self.status.set_status(text, "warning")
            self.notify(text, title="Keymap", severity="warning", timeout=12)

    def _broadcast_status(self, message: StatusMessage) -> None:
        for screen in self.screen_stack:
            for line in screen.query(StatusLine):
                line.message = message

    def _show_tree(self) -> None:
        self.view.show_tree(self.pattern.preview)

    def _select(self, subject: Subject) -> None:
        had_usage = self.usage.summary(self.secrets.selected) is not None
        self.secrets.select(subject)
        self.view.select(subject)
        summary = self.usage.summary(self.secrets.selected)
        self.view.show_usage(summary)
        if (summary is not None) != had_usage:
            self.screen.refresh_bindings()  # the footer shows "Used by" where it applies

    def _show_usage(self) -> None:
        """The users were gathered again: the pane shows the selected secret's."""
        self.view.show_usage(self.usage.summary(self.secrets.selected))

    def _ask(
        self, title: str, body: Text, yes: str, answered: Callable[[bool | None], None]
    ) -> None:
        from docker_pass.tui.screens.confirm import ConfirmScreen

        self.push_screen(ConfirmScreen(title, body, yes), answered)

    def _noting_front(self, factory: Callable[[], EngineFront]) -> Callable[[], EngineFront]:
        def build() -> EngineFront:
            self.front = factory()  # in a worker; read on the event loop once results arrive
            return self.front

        return build

    def _listing_edited(self) -> None:
        """This app changed the listing (a save, a move…): the preview and counts follow."""
        self.pattern.refresh()
        self._update_subtitle()

    def _update_subtitle(self) -> None:
        # The parts first: the header fits them when ``sub_title`` changes.
        self.header_parts = self.view.header_parts(self.subtitle, self.front)
        self.sub_title = self.view.subtitle(self.subtitle, self.front)


def _blinking_widgets() -> tuple[type[Input | TextArea], ...]:
    """The widgets with a blinking cursor: ``Input``, and ``TextArea`` once the editor has
    imported it (importing it here would cost ~7 ms before the first tree; no TextArea can
    exist before its module does)."""
    text_area = sys.modules.get("textual.widgets._text_area")
    return (Input,) if text_area is None else (Input, text_area.TextArea)
