"""The ``docker pass ui`` app: it holds the data, runs the workers, and routes results down.

Widgets get data as attributes (``tree.content``, ``detail.subject``, ``bar.preview``) and
answer with messages (``RealmTree.SecretHighlighted``, ``PatternBar.Edited``); the app is
where the two meet.  Blocking calls live in :mod:`docker_pass.tui.workers`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.widgets import Input, TextArea
from textual.worker import Worker, WorkerState

from docker_pass.core.engine import Engine
from docker_pass.core.envelope import SecretInfo
from docker_pass.core.errors import DockerPassError
from docker_pass.core.names import KEYCHAIN_PLUGIN
from docker_pass.core.references.syntax import reference_for
from docker_pass.core.remote.front import front_kind
from docker_pass.core.state import RunStatus
from docker_pass.tui.clipboard import ClipboardGuard, Route, describe_copy
from docker_pass.tui.commands import SecretsProvider, palette_commands
from docker_pass.tui.keys import (
    KeyHelp,
    check_keymap,
    help_sections,
    key_for,
    keymap_warning,
    known_binding_ids,
)
from docker_pass.tui.model.gateway import SecretsGateway
from docker_pass.tui.model.preview import Preview, compute_preview, is_cheap
from docker_pass.tui.model.realms import RealmIndex, SortOrder
from docker_pass.tui.screens.confirm import ConfirmScreen
from docker_pass.tui.screens.editor import EditorScreen
from docker_pass.tui.screens.help import HelpScreen
from docker_pass.tui.screens.main import MainScreen
from docker_pass.tui.screens.setup import SetupScreen
from docker_pass.tui.setup_flow import SetupFlow
from docker_pass.tui.text import plural

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from textual import events
    from textual.app import SystemCommand
    from textual.screen import Screen
    from textual.timer import Timer

    from docker_pass.core.remote.front import EngineFront
    from docker_pass.core.results import PluginStatus
    from docker_pass.tui.messages import (
        PluginsLoaded,
        PluginStateChanged,
        PluginStatusUpdated,
        PluginToggled,
        PreviewComputed,
        SecretDeleted,
        SecretRestored,
        SecretSaved,
        ValueFetched,
    )
    from docker_pass.tui.widgets.plugin_table import PluginTable
from docker_pass.tui.live import REFRESH_SECONDS, LiveListing
from docker_pass.tui.messages import PluginListed
from docker_pass.tui.model.realms import Notice
from docker_pass.tui.screens.plugins import PluginsScreen
from docker_pass.tui.undo_workers import UndoWorkers
from docker_pass.tui.widgets.detail_pane import DetailPane, RealmSummary
from docker_pass.tui.widgets.pattern_bar import PatternBar
from docker_pass.tui.widgets.realm_tree import RealmTree, TreeContent
from docker_pass.tui.widgets.status_line import StatusLine, StatusMessage
from docker_pass.tui.workers import LISTING_GROUP, WORK_LABELS

REVEAL_SECONDS = 20.0
#: A status message is cleared this long after it was shown (if nothing replaced it).
STATUS_SECONDS = 20.0
CLIPBOARD_SECONDS = 30.0
POLL_SECONDS = 1.0
#: Up to this many secrets a preview is computed right in the key handler (well under a
#: frame); above it, in a thread worker, so typing never waits for matching.
INLINE_PREVIEW_LIMIT = 5_000


@dataclass(frozen=True, slots=True)
class MainWidgets:
    """The main screen's widgets the app sets data on."""

    tree: RealmTree
    detail: DetailPane
    bar: PatternBar


class DockerPassApp(SetupFlow, UndoWorkers, LiveListing):
    """Browse, edit and delete secrets; watch and toggle plugins."""

    TITLE = "docker pass"
    CSS_PATH = "app.tcss"

    #: The palette: the system commands (``palette_commands``) and every listed secret.
    COMMANDS = UndoWorkers.COMMANDS | {SecretsProvider}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("p", "plugins", "Plugins", id="app.plugins"),
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
    ) -> None:
        """``front_factory`` builds the engine front (in a worker, on first use); ``poll_seconds``
        ``None`` turns off watching other processes' plugin changes (tests trigger it);
        ``status_seconds`` ``None`` keeps status messages until the next one;
        ``refresh_seconds`` is how often plugins that cannot be watched are listed again."""
        super().__init__(refresh_seconds=refresh_seconds)
        #: The front the gateway built last (the header says whether it is the daemon's).
        self.front: EngineFront | None = None
        self.gateway = SecretsGateway(self._noting_front(front_factory))
        self.user_keymap = dict(keymap or {})
        #: The keymap entries ignored on start, and why (also shown as a notification).
        self.keymap_warnings: list[str] = []
        self.reveal_seconds = reveal_seconds
        self.clipboard_seconds = clipboard_seconds
        self.poll_seconds = poll_seconds
        self.inline_preview_limit = inline_preview_limit
        self.cursor_blink = cursor_blink
        self.subtitle = subtitle
        #: Every listed secret (all plugins), and the plugins that failed to list.
        self.secrets_index = RealmIndex([])
        self.listing_errors: Mapping[str, str] = {}
        self.listing_loaded = False
        self.plugin_statuses: tuple[PluginStatus, ...] = ()
        self.plugins_loaded = False
        self.preview = Preview("", None)
        #: The order of each realm's children in the tree (``s`` cycles it).
        self.sort_order = SortOrder.NAME
        #: The secret under the cursor, and the one whose value is shown (if any).
        self.selected: SecretInfo | None = None
        self.revealed_for: SecretInfo | None = None
        self.status_seconds = status_seconds
        self.status_message = StatusMessage("Loading…", topic="listing")
        self._status_timer: Timer | None = None
        self._reveal_timer: Timer | None = None
        self.clipboard_guard = ClipboardGuard(self, clipboard_seconds, self._clipboard_cleared)
        self._wanted_pattern = ""
        self._preview_running = False
        self._after_preview: list[Callable[[], None]] = []

    # -- set-up -----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[None]:
        return MainScreen()

    def on_ready(self) -> None:
        # "Ready" comes once the main screen is composed (on_mount is too early for queries).
        self._apply_keymap()
        self.sub_title = self.subtitle
        self._show_tree()
        self._broadcast_status()
        self.load_everything()
        if self.poll_seconds:
            self.set_interval(self.poll_seconds, self.check_plugin_state)

    def on_unmount(self) -> None:
        self.gateway.close()
        self.undo.clear()  # the kept value goes with the session

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Pictures and snapshots need a steady cursor: a blinking one is caught at random.
        if not self.cursor_blink and isinstance(event.widget, Input | TextArea):
            event.widget.cursor_blink = False

    # -- what the workers report ------------------------------------------------------------

    def on_plugins_loaded(self, message: PluginsLoaded) -> None:
        self.plugin_statuses = tuple(message.plugins)
        self.plugins_loaded = True
        for screen in self.screen_stack:
            if isinstance(screen, PluginsScreen):
                screen.plugins = self.plugin_statuses
        if not self.listing_loaded:
            self._show_tree()
        self._update_subtitle()

    def on_plugin_status_updated(self, message: PluginStatusUpdated) -> None:
        status = message.status
        before = self._plugin(status.name)
        if before == status:
            return
        self.plugin_statuses = tuple(
            s if s.name != status.name else status for s in self.plugin_statuses
        )
        for screen in self.screen_stack:
            if isinstance(screen, PluginsScreen):
                screen.plugins = self.plugin_statuses
        self._update_subtitle()
        if before is None or before.is_down != status.is_down:
            self._show_tree()  # its row: crashed, or listing

    def listing_changed(self, first: bool) -> None:
        """A plugin's listing (ours or another process's change) altered the index."""
        if len(self.secrets_index) > self.inline_preview_limit:
            # Folding 100,000 IDs for the search takes a while: not on the first key typed.
            self.run_worker(self.secrets_index.warm, thread=True, group="warm-index")
        self._schedule_preview(self._wanted_pattern)
        self._update_subtitle()
        if first:
            help_key = key_for(self, "app.help", "question_mark")
            count = plural(len(self.secrets_index), "secret")
            self.set_status(f"{count}. {help_key} shows every key.")
        else:
            self.end_status("listing")  # "Reloading…" is done

    def on_value_fetched(self, message: ValueFetched) -> None:
        info = message.info
        if message.purpose == "copy":
            self._copy_value(info, message.value)
        elif message.purpose == "edit":
            self._load_into_editor(info, message.value)
        elif info == self.selected:
            self._show_value(info, message.value)

    def on_secret_saved(self, message: SecretSaved) -> None:
        info = message.info
        # "New" on a listed ID replaced it (the editor asked first).
        listed = self.secrets_index.find(info.id.value, info.provider) is not None
        self.secrets_index = self.secrets_index.with_entry(info)
        self._after_preview.append(lambda: self._select_after_change(info))
        self._schedule_preview(self._wanted_pattern)
        if isinstance(self.screen, EditorScreen):
            self.screen.dismiss(info)
        verb = ("Replaced" if listed else "Created") if message.created else "Saved"
        text = f"{verb} {info.id.value} in {info.provider}."
        self.set_status(text + self._undo_hint(info), "success")
        self._update_subtitle()

    def on_secret_deleted(self, message: SecretDeleted) -> None:
        info = message.info
        self.secrets_index = self.secrets_index.without(info)
        if self.revealed_for == info:
            self._hide_value()
        self._schedule_preview(self._wanted_pattern)
        if message.existed:
            text = f"Deleted {info.id.value} from {info.provider}."
            self.set_status(text + self._undo_hint(info), "success")
        else:
            self.set_status(f"{info.id.value} was already gone from {info.provider}.", "warning")
        self._update_subtitle()

    def on_secret_restored(self, message: SecretRestored) -> None:
        info = message.info
        self.secrets_index = self.secrets_index.with_entry(info)
        self._after_preview.append(lambda: self._select_after_change(info))
        self._schedule_preview(self._wanted_pattern)
        self.set_status(message.text, "success")

    def on_plugin_toggled(self, message: PluginToggled) -> None:
        status = message.status
        detail = f": {status.message}" if status.message else ""
        level = "error" if status.is_down else "success"
        self.set_status(f"{status.name} is {status.status}{detail}", level)
        # Its secrets appear or disappear: list again (with the same engine).
        self.load_everything()

    def on_plugin_state_changed(self, _message: PluginStateChanged) -> None:
        self.set_status(
            "Plugin state changed in another process: reloading.", "warning", topic="listing"
        )
        self.load_everything(reload=True)

    def on_preview_computed(self, message: PreviewComputed) -> None:
        self._preview_running = False
        current = message.source is self.secrets_index
        if current and message.preview.text == self._wanted_pattern:
            self._apply_preview(message.preview)
        else:
            self._schedule_preview(self._wanted_pattern)  # typed on, or the listing changed

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker becomes a visible message."""
        if event.state != WorkerState.ERROR:
            return
        group = event.worker.group
        reason = describe_error(event.worker.error)
        label = WORK_LABELS.get(group.partition(":")[0], "A background task")
        self.set_status(f"{label} failed: {reason}", "error")
        if group == "save" and isinstance(self.screen, EditorScreen):
            self.screen.error = reason
            self.screen.saving = False
        elif group == "edit-value" and isinstance(self.screen, EditorScreen):
            self.screen.current_value_unavailable(reason)
        elif group == "listing":
            self.listing_loaded = self.plugins_loaded = True
            self.listing_errors = {"engine": reason}
            self._show_tree()
        elif group == "preview":
            self._preview_running = False
        elif group.startswith(LISTING_GROUP):  # one plugin's listing broke: say so in its row
            self.post_message(PluginListed(group.removeprefix(LISTING_GROUP), [], reason))

    # -- what the widgets report ------------------------------------------------------------

    def on_realm_tree_secret_highlighted(self, message: RealmTree.SecretHighlighted) -> None:
        self._select(message.info)

    def on_realm_tree_realm_highlighted(self, message: RealmTree.RealmHighlighted) -> None:
        self._select(RealmSummary(message.path, message.count))

    def on_realm_tree_notice_highlighted(self, message: RealmTree.NoticeHighlighted) -> None:
        self._select(message.notice)

    def on_pattern_bar_edited(self, message: PatternBar.Edited) -> None:
        self._wanted_pattern = message.text
        if message.error:
            invalid = Preview(
                message.text, None, error=message.error, total=len(self.secrets_index)
            )
            self.preview = invalid
            message.bar.preview = invalid
            return
        self._schedule_preview(message.text)

    def on_editor_screen_save_requested(self, message: EditorScreen.SaveRequested) -> None:
        self.save_keeping_undo(message.draft, message.created)

    def on_plugin_table_toggle_requested(self, message: PluginTable.ToggleRequested) -> None:
        self.request_toggle(message.status)

    def on_plugin_table_disable_requested(self, message: PluginTable.DisableRequested) -> None:
        self.request_disable(message.status)

    # -- actions ----------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit; a copied value still on the clipboard is replaced by a blank first (OSC 52)."""
        # Written before exit, so it reaches the terminal ahead of the mode reset.
        self.clipboard_guard.clear()
        self.exit()

    def action_help(self) -> None:
        """Show every key."""
        self.push_screen(HelpScreen(self.help_sections()))

    def action_plugins(self) -> None:
        """Open the plugins panel (and refresh what it shows)."""
        if isinstance(self.screen, PluginsScreen):
            return
        self.push_screen(PluginsScreen(self.plugin_statuses, frozenset(self.setup_forms)))
        self.call_after_refresh(self._broadcast_status)
        self.load_plugins()

    def action_reload(self) -> None:
        """Start afresh: a new engine, plugin statuses and listing."""
        self.set_status("Reloading…", topic="listing")
        self.load_everything(reload=True)

    def action_reveal(self) -> None:
        """Show the selected secret's value (read now), or hide it again."""
        info = self._selected_or_say()
        if info is None:
            return
        if self.revealed_for == info:
            self._hide_value()
            self.set_status("Value hidden.")
            return
        self.set_status(f"Reading the value of {info.id.value}…", topic="reveal")
        self.fetch_value_to_reveal(info)

    def action_copy_value(self) -> None:
        """Copy the selected secret's value to the clipboard, cleared after a while."""
        info = self._selected_or_say()
        if info is not None:
            self.set_status(f"Reading the value of {info.id.value} to copy it…", topic="copy")
            self.fetch_value_to_copy(info)

    def action_copy_reference(self) -> None:
        """Copy ``se://<id>`` of the selected secret."""
        info = self._selected_or_say()
        if info is None:
            return
        reference = reference_for(info.id)

        def report(route: Route) -> None:
            self.set_status(*describe_copy(route, reference))

        self.clipboard_guard.copy(reference, report)

    def action_new_secret(self) -> None:
        """Open the editor for a new secret in the realm under the cursor, saved to a writable
        plugin (a choice when several run; ``docker-pass`` first)."""
        targets = {
            s.name: s
            for s in sorted(self.plugin_statuses, key=lambda s: s.name != KEYCHAIN_PLUGIN)
            if s.writable and s.status == RunStatus.RUNNING
        }
        if not targets:
            self.set_status(f"{KEYCHAIN_PLUGIN} is not running: nowhere to save.", "error")
            return
        self.push_screen(
            EditorScreen(targets=targets, id_text=self._realm_prefix(), exists=self._exists)
        )

    def action_edit_secret(self) -> None:
        """Open the editor on the selected secret (value and metadata)."""
        info = self._selected_or_say()
        if info is None or not self._check_writable(info):
            return
        self._hide_value()
        status = self._plugin(info.provider)
        self.push_screen(EditorScreen(info, status=status))

    def on_editor_screen_current_value_requested(
        self, message: EditorScreen.CurrentValueRequested
    ) -> None:
        self.set_status(f"Reading the value of {message.info.id.value} into the editor…")
        self.fetch_value_to_edit(message.info)

    def action_delete_secret(self) -> None:
        """Ask, then delete the selected secret."""
        info = self._selected_or_say()
        if info is None or not self._check_writable(info):
            return
        body = Text.assemble(
            "Delete ",
            (info.id.value, "bold"),
            f" from {info.provider}?\nu undoes it until you quit.",
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.set_status(f"Deleting {info.id.value}…")
                self.delete_keeping_undo(info)
            else:
                self.set_status("Nothing deleted.")

        self.push_screen(ConfirmScreen("Delete secret", body, "Delete", danger=True), answered)

    def action_undo(self) -> None:
        """Restore the secret the last delete or replace of this session changed."""
        kept = self.undo.take()
        if kept is None:
            self.set_status(self.undo.nothing_text(), "warning")
            return
        self.set_status(f"Restoring {kept.id.value} in {kept.provider}…")
        self.restore_secret(kept)

    def action_sort(self) -> None:
        """Order the tree by the next key: name, provider, last update."""
        self.sort_order = self.sort_order.next()
        main = self._main()
        if main is not None:
            main.bar.order = self.sort_order
        self._show_tree()
        self.set_status(f"Sorted {self.sort_order.label} (s: next order).")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While a dialog is open its keys are the only keys: "q" must not drop an edit, nor
        # may a palette command pop the dialog away.
        in_dialog = isinstance(self.screen, EditorScreen | ConfirmScreen | SetupScreen)
        return not (in_dialog and action in ("quit", "help", "plugins", "command_palette"))

    # -- used by the command palette and the plugins panel ----------------------------------

    def request_toggle(self, status: PluginStatus) -> None:
        """Enable, disable or (after asking) re-enable a plugin."""
        if not status.configurable:
            self.set_status(f"{status.name} is always on: it is not configurable.", "warning")
            return
        if status.is_down:

            def answered(yes: bool | None) -> None:
                if yes:
                    self.set_status(f"Re-enabling {status.name}…")
                    self.toggle_plugin(status.name, True)

            disable = key_for(self, "plugins.disable", "x")
            body = Text.assemble(
                (status.message, "red"),
                "\n\nRe-enable it now? It starts again; if the cause is still there, it "
                f"crashes again and says so. (To disable it instead: {disable} in the panel.)",
            )
            title = f"{status.name} is {status.status}"
            self.push_screen(ConfirmScreen(title, body, "Re-enable"), answered)
            return
        enable = not status.enabled
        self.set_status(f"{'Enabling' if enable else 'Disabling'} {status.name}…")
        self.toggle_plugin(status.name, enable)

    def request_disable(self, status: PluginStatus) -> None:
        """Disable a plugin: an enabled one, or a crashed one (which then stays off)."""
        if not status.configurable:
            self.set_status(f"{status.name} is always on: it is not configurable.", "warning")
            return
        if not status.enabled and not status.is_down:
            self.set_status(f"{status.name} is already disabled.", "warning")
            return
        self.set_status(f"Disabling {status.name}…")
        self.toggle_plugin(status.name, False)

    def jump_to_realm(self, path: str) -> None:
        """Show the main screen with the cursor on realm ``path`` (clearing a filter if needed)."""
        self._to_main_screen()
        main = self._main()
        if main is None:
            return
        if main.tree.show_realm(path):
            main.tree.focus()
            return
        self._after_preview.append(lambda: self._show_realm_later(path))
        main.bar.set_text("")

    def jump_to_secret(self, id_: str, provider: str = "") -> None:
        """Show the main screen with the cursor on a secret (clearing a filter that hides it)."""
        self._to_main_screen()
        main = self._main()
        if main is None:
            return
        if main.tree.show_secret(id_, provider):
            main.tree.focus()
            return
        if not main.bar.text:
            self.set_status(f"{id_} is no longer listed.", "warning")
            return
        self._after_preview.append(lambda: self._show_secret_later(id_, provider))
        main.bar.set_text("")

    def run_on_main(self, action: Callable[[], None]) -> None:
        """Run a secret action from anywhere (the palette): on the main screen."""
        self._to_main_screen()
        action()

    def focus_pattern(self) -> None:
        """Put the cursor in the pattern field."""
        self._to_main_screen()
        main = self._main()
        if main is not None:
            main.bar.focus_field()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from palette_commands(self)

    def help_sections(self) -> list[tuple[str, list[KeyHelp]]]:
        """Every key, by where it works, with the keymap applied."""
        return help_sections(self.BINDINGS, self.user_keymap)

    # -- status -----------------------------------------------------------------------------

    def set_status(self, text: str, level: str = "info", *, topic: str = "") -> None:
        """Show ``text`` in the status line of every screen, until ``status_seconds`` pass,
        another message comes, or ``end_status(topic)`` says what it describes is over."""
        self.status_message = StatusMessage(text, level, topic)
        self._broadcast_status()
        if self._status_timer is not None:
            self._status_timer.stop()
            self._status_timer = None
        if text and self.status_seconds:
            self._status_timer = self.set_timer(self.status_seconds, self._expire_status)

    def end_status(self, topic: str) -> None:
        """Clear the status line if its message is about ``topic`` (which just ended)."""
        if topic and self.status_message.topic == topic:
            self.set_status("")

    def _expire_status(self) -> None:
        self._status_timer = None
        self.set_status("")

    def _broadcast_status(self) -> None:
        for screen in self.screen_stack:
            for line in screen.query(StatusLine):
                line.message = self.status_message

    # -- internals --------------------------------------------------------------------------

    def _apply_keymap(self) -> None:
        """Apply the valid keymap entries; name the ignored ones (status line, notification)."""
        if not self.user_keymap:
            return
        valid, warnings = check_keymap(self.user_keymap, known_binding_ids(self.BINDINGS))
        self.user_keymap = valid
        self.keymap_warnings = warnings
        if valid:
            self.set_keymap(valid)
        if warnings:
            text = keymap_warning(warnings)
            self.set_status(text, "warning")
            self.notify(text, title="Keymap", severity="warning", timeout=12)

    def _main(self) -> MainWidgets | None:
        """The main screen's widgets; ``None`` once the app is closing (results still arrive)."""
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                try:
                    return MainWidgets(
                        screen.query_one(RealmTree),
                        screen.query_one(DetailPane),
                        screen.query_one(PatternBar),
                    )
                except NoMatches:
                    return None
        return None

    def _to_main_screen(self) -> None:
        while not isinstance(self.screen, MainScreen) and len(self.screen_stack) > 1:
            self.pop_screen()

    def _plugin(self, name: str) -> PluginStatus | None:
        return next((s for s in self.plugin_statuses if s.name == name), None)

    def _exists(self, id_text: str, provider: str = KEYCHAIN_PLUGIN) -> bool:
        return self.secrets_index.find(id_text, provider) is not None

    def _realm_prefix(self) -> str:
        """``realm/`` of the realm under the cursor, or of the secret under it ("" elsewhere)."""
        main = self._main()
        subject = main.detail.subject if main is not None else None
        if isinstance(subject, RealmSummary):
            path = subject.path.strip("/")
        elif isinstance(subject, SecretInfo):
            path = subject.id.value.rpartition("/")[0]
        else:
            return ""
        return f"{path}/" if path else ""

    def _load_into_editor(self, info: SecretInfo, value: bytes) -> None:
        editor = self.screen
        if not isinstance(editor, EditorScreen) or editor.info != info:
            return  # the editor was closed meanwhile: the value goes nowhere
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            reason = f"{info.id.value} holds binary data: it cannot be edited as text."
            editor.current_value_unavailable(reason)
            self.set_status(reason, "error")
            return
        editor.load_current_value(text)
        self.set_status(f"Loaded the current value of {info.id.value} into the editor.")

    def _selected_or_say(self) -> SecretInfo | None:
        if self.selected is None:
            self.set_status("Put the cursor on a secret first.", "warning")
        return self.selected

    def _undo_hint(self, info: SecretInfo) -> str:
        kept = self.undo.last
        changed = kept is not None and (kept.id, kept.provider) == (info.id, info.provider)
        return " u undoes it." if changed else ""

    def _check_writable(self, info: SecretInfo) -> bool:
        status = self._plugin(info.provider)
        if status is not None and status.writable:
            return True
        self.set_status(
            f"{info.provider} is read-only: change {info.id.value} where it lives "
            f"(docker pass writes only to {KEYCHAIN_PLUGIN}).",
            "warning",
        )
        return False

    def _select(self, subject: SecretInfo | RealmSummary | Notice) -> None:
        previous = self.selected
        self.selected = subject if isinstance(subject, SecretInfo) else None
        if self.revealed_for is not None and self.revealed_for != self.selected:
            self._hide_value()  # moving away hides a shown value
        elif self.selected != previous:
            self.end_status("reveal")  # a value still being read will not be shown
        main = self._main()
        if main is None:
            return
        detail = main.detail
        detail.subject = subject
        if isinstance(subject, SecretInfo):
            status = self._plugin(subject.provider)
            detail.read_only = status is not None and not status.writable

    def _show_value(self, info: SecretInfo, value: bytes) -> None:
        main = self._main()
        if main is None:
            return
        main.detail.revealed = display_value(value)
        self.revealed_for = info
        if self._reveal_timer is not None:
            self._reveal_timer.stop()
        self._reveal_timer = self.set_timer(self.reveal_seconds, self._hide_value)
        self.set_status(
            f"Showing {info.id.value}: hidden again in {self.reveal_seconds:g} s or on moving.",
            "warning",
            topic="reveal",
        )

    def _hide_value(self) -> None:
        if self._reveal_timer is not None:
            self._reveal_timer.stop()
            self._reveal_timer = None
        self.revealed_for = None
        self.end_status("reveal")  # "Showing …" / "Reading the value …" is over
        main = self._main()
        if main is not None:
            main.detail.revealed = None

    def _copy_value(self, info: SecretInfo, value: bytes) -> None:
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            self.set_status(
                f"{info.id.value} holds binary data: it cannot be copied as text.", "error"
            )
            return

        def report(route: Route) -> None:
            what = f"the value of {info.id.value}"
            self.set_status(*describe_copy(route, what, self.clipboard_seconds))

        self.clipboard_guard.copy(text, report, secret=True)

    def _clipboard_cleared(self) -> None:
        # Said as done: a blank was sent; whether the terminal obeyed cannot be known.
        self.set_status(
            f"Sent a blank over the copied value ({self.clipboard_seconds:g} s after copying)."
        )

    def _schedule_preview(self, text: str) -> None:
        """Compute the preview of ``text`` now (small listings) or in a worker, coalescing keys."""
        self._wanted_pattern = text
        index = self.secrets_index
        if len(index) <= self.inline_preview_limit or not text or is_cheap(text):
            self._apply_preview(compute_preview(text, index, self.plugin_statuses))
        elif not self._preview_running:
            # One computation at a time; keys typed meanwhile are folded into the next one.
            self._preview_running = True
            self.compute_preview_in_thread(text, index, self.plugin_statuses)

    def _apply_preview(self, preview: Preview) -> None:
        self.preview = preview
        main = self._main()
        if main is None:
            return
        main.bar.preview = preview
        self._show_tree()
        callbacks, self._after_preview = self._after_preview, []
        for callback in callbacks:
            callback()

    def _show_tree(self) -> None:
        preview = self.preview
        index = preview.index if preview.index is not None else self.secrets_index
        main = self._main()
        if main is None:
            return
        main.tree.content = TreeContent(
            index,
            literals=preview.literals,
            notices=self._notices(),
            filtered=preview.filtered,
            highlight=preview.highlight,
            order=self.sort_order,
        )
        if not self.listing_loaded:
            main.bar.preview = None

    def _notices(self) -> tuple[Notice, ...]:
        notices: list[Notice] = []
        if not self.plugins_loaded:
            notices.append(Notice("loading", "plugins", "starting…"))
        for status in self.plugin_statuses:
            if status.is_down:
                message = f"{status.status}: {status.message}"
                notices.append(Notice("error", status.name, message, status.status))
            elif status.enabled and self.awaiting_listing(status.name):
                notices.append(Notice("loading", status.name, "listing…"))
        down = {s.name for s in self.plugin_statuses if s.is_down}
        for name, error in self.listing_errors.items():
            if name in down:
                continue  # its crash row says why already
            notices.append(Notice("error", name, error, "listing failed"))
        return tuple(notices)

    def _select_after_change(self, info: SecretInfo) -> None:
        main = self._main()
        if main is not None and not main.tree.show_secret(info.id.value, info.provider):
            self.set_status(f"Saved {info.id.value}; the current pattern hides it.", "success")

    def _show_secret_later(self, id_: str, provider: str) -> None:
        main = self._main()
        if main is None:
            return
        if main.tree.show_secret(id_, provider):
            main.tree.focus()
        else:
            self.set_status(f"{id_} is no longer listed.", "warning")

    def _show_realm_later(self, path: str) -> None:
        main = self._main()
        if main is None:
            return
        if main.tree.show_realm(path):
            main.tree.focus()
        else:
            self.set_status(f"No realm {path}.", "warning")

    def _noting_front(self, factory: Callable[[], EngineFront]) -> Callable[[], EngineFront]:
        def build() -> EngineFront:
            self.front = factory()  # in a worker; read on the event loop once results arrive
            return self.front

        return build

    def _update_subtitle(self) -> None:
        parts = [self.subtitle] if self.subtitle else []
        if self.front is not None:
            parts.append(front_kind(self.front))
        if self.listing_loaded or self.listing_answered:
            # While a slow plugin is still listing, the count is of what has arrived.
            so_far = "" if self.listing_loaded else " so far"
            parts.append(plural(len(self.secrets_index), "secret") + so_far)
        down = [s.name for s in self.plugin_statuses if s.is_down]
        if self.plugin_statuses:
            parts.append(
                plural(len(self.plugin_statuses), "plugin")
                + (f", {len(down)} down" if down else "")
            )
        self.sub_title = " · ".join(parts)


def describe_error(error: BaseException | None) -> str:
    """A worker's error for the status line; other errors by kind only (they may hold data)."""
    if isinstance(error, DockerPassError):
        return str(error)
    return f"internal error ({type(error).__name__})" if error is not None else "unknown error"


def display_value(value: bytes) -> str:
    """A value as text to show; binary values as base64, said so."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return f"(binary, {plural(len(value), 'byte')}, base64) {base64.b64encode(value).decode()}"
