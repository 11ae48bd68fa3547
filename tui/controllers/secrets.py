"""The secret under the cursor, and what the main screen's keys do to it: reveal, copy, copy
its reference, edit, delete, or start a new secret next to it.

Reading and copying values is :class:`~.values.ValueController`'s; saving and deleting is
:class:`~.undo.UndoController`'s (so that ``u`` can undo it); the editor and the delete
question are the view's (:class:`SecretDialogsView`).  This controller decides what applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from docker_pass.core.envelope import SecretInfo
from docker_pass.core.names import KEYCHAIN_PLUGIN
from docker_pass.tui.widgets.detail_pane import RealmSummary

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from docker_pass.core.results import PluginStatus
    from docker_pass.tui.controllers.listing import ListingController
    from docker_pass.tui.controllers.plugins import PluginsController
    from docker_pass.tui.controllers.ports import StatusSink
    from docker_pass.tui.controllers.undo import UndoController
    from docker_pass.tui.controllers.values import ValueController
    from docker_pass.tui.model.versions import VersionsSeen
    from docker_pass.tui.widgets.detail_pane import Subject


class SecretDialogsView(Protocol):
    """The dialogs about one secret."""

    def new_secret(self, targets: Mapping[str, PluginStatus], prefix: str) -> None:
        """Open the editor for a new secret."""
        ...

    def edit_secret(self, info: SecretInfo, status: PluginStatus | None) -> None:
        """Open the editor on ``info``."""
        ...

    def ask_delete(self, info: SecretInfo, answered: Callable[[bool | None], None]) -> None:
        """Ask whether to delete ``info``."""
        ...


class SecretsController:
    """What the cursor is on (``subject``; ``selected`` when it is a secret), and the keys'
    actions on it."""

    def __init__(
        self,
        status: StatusSink,
        listing: ListingController,
        plugins: PluginsController,
        values: ValueController,
        undo: UndoController,
        dialogs: SecretDialogsView,
        versions: VersionsSeen,
    ) -> None:
        self._status = status
        self._versions = versions
        self._listing = listing
        self._plugins = plugins
        self._values = values
        self._undo = undo
        self._dialogs = dialogs
        #: What the cursor is on: a secret, a realm, a notice row (a plugin listing, down …).
        self.subject: Subject = None
        #: The secret under the cursor, if any.
        self.selected: SecretInfo | None = None

    def select(self, subject: Subject) -> None:
        """The cursor moved to ``subject``: a value shown for another secret is hidden."""
        previous = self.selected
        self.subject = subject
        self.selected = subject if isinstance(subject, SecretInfo) else None
        self._values.cursor_moved(previous, self.selected)

    def realm_prefix(self) -> str:
        """``realm/`` of the realm under the cursor, or of the secret under it ("" elsewhere)."""
        subject = self.subject
        if isinstance(subject, RealmSummary):
            path = subject.path.strip("/")
        elif isinstance(subject, SecretInfo):
            path = subject.id.value.rpartition("/")[0]
        else:
            return ""
        return f"{path}/" if path else ""

    # -- the keys ---------------------------------------------------------------------------

    def reveal(self) -> None:
        """Show the selected secret's value (read now), or hide it again."""
        info = self._selected_or_say()
        if info is not None:
            self._values.reveal(info)

    def copy_value(self) -> None:
        """Copy the selected secret's value to the clipboard, cleared after a while."""
        info = self._selected_or_say()
        if info is not None:
            self._values.copy(info)

    def copy_reference(self) -> None:
        """Copy ``se://<id>`` of the selected secret."""
        info = self._selected_or_say()
        if info is not None:
            ambiguous = len(self._listing.holders(info.id.value)) > 1
            self._values.copy_reference(info, ambiguous=ambiguous)

    def new_secret(self) -> None:
        """Open the editor for a new secret in the realm under the cursor, saved to a writable
        plugin (a choice when several run; ``docker-pass`` first)."""
        targets = self._plugins.save_targets(first=KEYCHAIN_PLUGIN)
        if not targets:
            text = f"{KEYCHAIN_PLUGIN} is not running: nowhere to save."
            self._status.set_status(text, "error")
            return
        self._dialogs.new_secret(targets, self.realm_prefix())

    def edit_secret(self) -> None:
        """Open the editor on the selected secret (value and metadata)."""
        info = self._selected_or_say()
        if info is None or not self._check_writable(info):
            return
        self._values.hide()
        status = self._plugins.find(info.provider)
        self._dialogs.edit_secret(info, status)
        # The version it opens at: what its save expects (a plugin known to keep none is not
        # read for it; one whose listing says it, is not read either).
        self._values.read_version(info, read=self._versions.versioned(info.provider) is not False)

    def delete_secret(self) -> None:
        """Ask, then delete the selected secret."""
        info = self._selected_or_say()
        if info is None or not self._check_writable(info):
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._status.set_status(f"Deleting {info.id.value}…")
                self._undo.delete(info)
            else:
                self._status.set_status("Nothing deleted.")

        self._dialogs.ask_delete(info, answered)

    # -- internals --------------------------------------------------------------------------

    def _selected_or_say(self) -> SecretInfo | None:
        if self.selected is None:
            self._status.set_status("Put the cursor on a secret first.", "warning")
        return self.selected

    def _check_writable(self, info: SecretInfo) -> bool:
        if self._plugins.writable(info.provider):
            return True
        self._status.set_status(
            f"{info.provider} is read-only: change {info.id.value} where it lives "
            f"(docker pass writes only to {KEYCHAIN_PLUGIN}).",
            "warning",
        )
        return False
