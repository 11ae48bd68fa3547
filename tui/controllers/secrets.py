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
    from collections.abc import Callable, Mapping, Sequence

    from docker_pass.core.results import PluginStatus
    from docker_pass.tui.controllers.listing import ListingController
    from docker_pass.tui.controllers.moves import MovesController
    from docker_pass.tui.controllers.plugins import PluginsController
    from docker_pass.tui.controllers.ports import StatusSink
    from docker_pass.tui.controllers.undo import UndoController
    from docker_pass.tui.controllers.values import ValueController
    from docker_pass.tui.model.moving import MoveRequest
    from docker_pass.tui.model.versions import VersionsSeen
    from docker_pass.tui.screens.move import MoveSubject
    from docker_pass.tui.widgets.detail_pane import Subject


#: The methods the main screen's secret keys call (``app.secret('reveal')`` and so on).
KEY_VERBS = frozenset(
    {
        "reveal",
        "copy_value",
        "copy_reference",
        "new_secret",
        "edit_secret",
        "delete_secret",
        "move",
        "undelete",
        "purge",
    }
)


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

    def ask_purge(self, info: SecretInfo, answered: Callable[[bool | None], None]) -> None:
        """Ask whether to purge every version of ``info`` (irreversible)."""
        ...

    def ask_move(
        self,
        subject: MoveSubject,
        targets: Sequence[str],
        answered: Callable[[MoveRequest | None], None],
    ) -> None:
        """Ask where to move ``subject`` (a secret or a realm)."""
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
        moves: MovesController,
    ) -> None:
        self._status = status
        self._versions = versions
        self._moves = moves
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
        info = self._live_or_say()
        if info is not None:
            self._values.reveal(info)

    def copy_value(self) -> None:
        """Copy the selected secret's value to the clipboard, cleared after a while."""
        info = self._live_or_say()
        if info is not None:
            self._values.copy(info)

    def copy_reference(self) -> None:
        """Copy ``se://<id>`` of the selected secret."""
        info = self._live_or_say()
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
        info = self._live_or_say()
        if info is None or not self._check_writable(info):
            return
        self._values.hide()
        status = self._plugins.find(info.provider)
        self._dialogs.edit_secret(info, status)
        # The version it opens at: what its save expects (a plugin known to keep none is not
        # read for it; one whose listing says it, is not read either).
        self._values.read_version(info, read=self._versions.versioned(info.provider) is not False)

    def move(self) -> None:
        """Ask where to move the selected secret, or every secret under the selected realm."""
        subject = self.subject
        targets = list(self._plugins.save_targets(first=KEYCHAIN_PLUGIN))
        # The move dialog's module, with its subject, is imported when first opened.
        from docker_pass.tui.screens.move import MoveSubject

        if isinstance(subject, RealmSummary):
            realm = subject.path.strip("/")
            sources: dict[str, list[str]] = {}
            for entry in self._listing.index.under(realm):
                if self._plugins.writable(entry.provider):
                    sources.setdefault(entry.provider, []).append(entry.id.value)
            if not sources:
                self._status.set_status(f"Nothing under {realm}/ can be moved here.", "warning")
                return
            self._dialogs.ask_move(MoveSubject(realm=realm, sources=sources), targets, self._moved)
            return
        info = self._live_or_say()
        if info is None or not self._check_writable(info):
            return
        self._values.hide()
        self._dialogs.ask_move(MoveSubject(secret=info), targets, self._moved)

    def _moved(self, request: MoveRequest | None) -> None:
        """The move dialog's answer."""
        if request is None:
            self._status.set_status("Nothing moved.")
        else:
            self._moves.move(request)

    def undelete(self) -> None:
        """Restore the selected deleted secret's latest version."""
        info = self.selected
        if info is None or not info.deleted:
            self._status.set_status("Put the cursor on a deleted secret first.", "warning")
            return
        self._moves.undelete(info)

    def purge(self) -> None:
        """Ask, then remove every version of the selected secret (live or deleted)."""
        info = self._selected_or_say()
        if info is None or not self._check_writable(info):
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._moves.purge(info)
            else:
                self._status.set_status("Nothing purged.")

        self._dialogs.ask_purge(info, answered)

    def delete_secret(self) -> None:
        """Ask, then delete the selected secret."""
        info = self._live_or_say()
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

    def _live_or_say(self) -> SecretInfo | None:
        """The secret under the cursor, unless there is none or it is deleted (say so)."""
        info = self._selected_or_say()
        if info is not None and info.deleted:
            self._status.set_status(
                f"{info.id.value} is deleted in {info.provider}: U undeletes it, X purges "
                "every version.",
                "warning",
            )
            return None
        return info

    def _check_writable(self, info: SecretInfo) -> bool:
        if self._plugins.writable(info.provider):
            return True
        self._status.set_status(
            f"{info.provider} is read-only: change {info.id.value} where it lives "
            f"(docker pass writes only to {KEYCHAIN_PLUGIN}).",
            "warning",
        )
        return False
