"""What the workers' changes to secrets came to, put on the screens: saves, deletes, undos,
moves, undeletes and purges.  The listing is updated (after a move, the plugins involved are
listed again), the cursor goes to the changed secret, and a status line says what happened —
or, when one line is not enough (what exists where, references left behind), a dialog.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from docker_pass.core.envelope import SecretInfo
from docker_pass.tui.model.moving import references_text

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from docker_pass.tui.controllers.listing import ListingController
    from docker_pass.tui.controllers.moves import MovesController
    from docker_pass.tui.controllers.ports import StatusSink
    from docker_pass.tui.controllers.undo import UndoController
    from docker_pass.tui.controllers.values import ValueController
    from docker_pass.tui.messages import (
        MoveDuplicateFound,
        RealmMoveDone,
        RenameStopped,
        SaveConflicted,
        SecretDeleted,
        SecretMoveDone,
        SecretPurged,
        SecretRestored,
        SecretSaved,
        SecretUndeleted,
        ValueFetched,
        VersionRead,
    )
    from docker_pass.tui.model.versions import VersionsSeen
    from docker_pass.tui.views.dialogs import SecretDialogs
    from docker_pass.tui.views.main import MainView


class ChangeResults:
    """Turns the workers' messages about changed secrets into what the person sees;
    ``changed()`` is called after the listing changed here (the preview and the header follow
    it)."""

    def __init__(
        self,
        listing: ListingController,
        view: MainView,
        dialogs: SecretDialogs,
        status: StatusSink,
        *,
        moves: MovesController,
        undo: UndoController,
        values: ValueController,
        versions: VersionsSeen,
        changed: Callable[[], None],
    ) -> None:
        self._listing = listing
        self._view = view
        self._dialogs = dialogs
        self._status = status
        self._moves = moves
        self._undo = undo
        self._values = values
        self._versions = versions
        self._changed = changed

    def fetched(self, message: ValueFetched, selected: SecretInfo | None) -> None:
        """A value read to show, copy, or load into the editor (ctrl+r, or a reload after a
        conflict); ``selected`` is the secret under the cursor now."""
        self._versions.note(message.info.provider, message.version)
        if message.purpose not in ("edit", "reload"):
            self._values.fetched(message, selected)
            return
        self._dialogs.load_value(
            message.info,
            message.value,
            message.version,
            message.metadata,
            reload=message.purpose == "reload",
        )

    def version_read(self, message: VersionRead) -> None:
        """The version an editor opened at (what its save expects)."""
        if not message.error:
            self._versions.note(message.info.provider, message.version)
        self._dialogs.version_read(message.info, message.version, message.error)

    def saved(self, message: SecretSaved) -> None:
        """A save from the editor: the editor closes, the cursor goes to the secret."""
        info = message.info
        self._versions.note(info.provider, info.version)
        # "New" on a listed ID replaced it (the editor asked first).
        replaced = self._listing.lists(info.id.value, info.provider)
        self._listing.add(info)
        self._view.show_changed(info)
        self._changed()
        self._dialogs.saved(info)
        text = self._undo.saved_text(info, message.created, replaced)
        self._status.set_status(text, "success")

    def deleted(self, message: SecretDeleted) -> None:
        """A delete: gone from the tree (a value shown for it is hidden)."""
        info = message.info
        self._listing.remove(info)
        # Listed again: a plugin that keeps deleted secrets (vault) lists it as deleted now.
        self._relist(info.provider)
        if self._values.revealed_for == info:
            self._values.hide()
        self._changed()
        self._status.set_status(*self._undo.deleted_text(info, message.existed))

    def restored(self, message: SecretRestored) -> None:
        """``u`` put a secret back: in the tree, with the cursor on it."""
        info = message.info
        self._listing.add(info)
        self._view.show_changed(info)
        self._changed()
        self._status.set_status(message.text, "success")

    def conflicted(self, message: SaveConflicted) -> None:
        """A save met a change made elsewhere: the editor asks what to do."""
        conflict = message.conflict
        self._status.set_status(f"Not saved: {conflict.describe()}", "warning")
        self._dialogs.save_conflicted(message.draft, conflict)

    def secret_moved(self, message: SecretMoveDone) -> None:
        """A secret's move: where it is now, or what exists where."""
        request, moved = message.request, message.moved
        old = request.secret
        self._relist(request.plugin, request.to_plugin)
        if not moved.moved:
            text = moved.describe()
            self._status.set_status(f"Not moved: {text}", "error")
            self._dialogs.save_failed(f"Not moved: {text}")
            self._dialogs.show_result("Both kept", [text], trouble=True)
            return
        new = SecretInfo(
            request.new,
            request.to_plugin,
            old.metadata if old is not None else {},
            version=moved.version,
        )
        if old is not None:
            self._listing.remove(old)
        self._listing.add(new)
        self._dialogs.saved(new)  # an editor that renamed its secret closes
        self._view.show_changed(new)
        self._changed()
        done = f"{moved.describe()[:1].upper()}{moved.describe()[1:]}."
        self._report(done, message.references)

    def rename_stopped(self, message: RenameStopped) -> None:
        """The editor's edit went to the old ID, but the move did not happen."""
        saved = message.saved
        self._listing.add(saved)
        self._changed()
        text = f"Saved your edit to {saved.id.value}; not moved: {message.reason}"
        self._status.set_status(text, "error")
        self._dialogs.rename_stopped(saved, text)

    def realm_moved(self, message: RealmMoveDone) -> None:
        """A realm's move: how many moved, and each one kept with why."""
        result, request = message.result, message.request
        self._relist(request.plugin, request.to_plugin)
        for moved in result.moved:
            self._listing.remove(SecretInfo(moved.old, moved.plugin))
            self._listing.add(SecretInfo(moved.new, moved.to_plugin, version=moved.version))
        self._changed()
        summary = f"{result.summary()[:1].upper()}{result.summary()[1:]}."
        if result.kept:
            lines = [summary, *(f"kept: {m.describe()}" for m in result.kept)]
            lines += list(message.references)
            self._status.set_status(summary, "warning")
            self._dialogs.show_result("Some secrets were kept", lines, trouble=True)
            return
        self._view.after_preview(lambda: self._view.show_realm(request.new.value))
        self._report(summary, message.references)

    def duplicate(self, message: MoveDuplicateFound) -> None:
        """The new ID is one another plugin holds: move anyway?"""
        request = message.request

        def answered(yes: bool | None) -> None:
            if yes:
                self._moves.move(replace(request, allow_duplicate=True))
            else:
                self._status.set_status("Nothing moved.")

        self._dialogs.ask_duplicate_move(request, message.others, answered)

    def undeleted(self, message: SecretUndeleted) -> None:
        """A deleted secret is live again (or was already)."""
        info = message.info
        self._listing.forget_deleted(info)
        self._relist(info.provider)
        if message.restored:
            live = SecretInfo(info.id, info.provider, info.metadata)
            self._listing.add(live)
            self._view.show_changed(live)
            self._changed()
            self._status.set_status(f"Undeleted {info.id.value} in {info.provider}.", "success")
        else:
            text = f"{info.id.value} was not deleted in {info.provider} any more."
            self._status.set_status(text, "warning")

    def purged(self, message: SecretPurged) -> None:
        """Every version of a secret is gone."""
        info = message.info
        self._listing.forget_deleted(info)
        self._listing.remove(info)
        self._relist(info.provider)
        self._changed()
        if message.existed:
            text = f"Purged every version of {info.id.value} from {info.provider}."
            self._status.set_status(text, "success")
        else:
            self._status.set_status(f"{info.id.value} was already gone from {info.provider}.")

    # -- internals --------------------------------------------------------------------------

    def _relist(self, *plugins: str) -> None:
        """List the plugins involved again: what the tree shows is what they hold."""
        for name in dict.fromkeys(plugins):
            self._listing.secrets_changed(name)

    def _report(self, done: str, references: Sequence[str]) -> None:
        if not references:
            self._status.set_status(done, "success")
            return
        self._status.set_status(f"{done} {references_text(list(references))}", "warning")
        lines = [done, "", "Files in this folder still refer to the old IDs:", *references]
        self._dialogs.show_result("References left behind", lines, trouble=False)
