"""Saving and deleting secrets so that ``u`` can undo it, and undoing.

The save and delete workers read the secret as it is, in the same thread, right before the
change (:meth:`SecretsGateway.read_for_undo`), and keep it once the change succeeded, in
:attr:`UndoController.log` — memory only (see :mod:`docker_pass.tui.model.undo`) — with what
the change left: undo restores only over that, and asks when the secret changed since.

A save carries the version its editor opened: when the plugin refuses it (another process
changed the secret meanwhile) nothing is written, and the editor asks what to do
(:class:`~docker_pass.tui.messages.SaveConflicted`).  A new ID that another running plugin
holds is asked about first too (:class:`~docker_pass.tui.messages.DuplicateFound`).
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError, VersionConflictError
from docker_pass.core.versions import NO_SECRET
from docker_pass.tui.messages import (
    DuplicateFound,
    SaveConflicted,
    SecretDeleted,
    SecretRestored,
    SecretSaved,
    UndoConflicted,
)
from docker_pass.tui.model.gateway import SecretDraft
from docker_pass.tui.model.undo import Change, KeptSecret, UndoLog
from docker_pass.tui.model.versions import SINCE_THE_CHANGE, Conflict, content_digest
from docker_pass.tui.workers import WorkerGroup

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from docker_pass.core.envelope import SecretInfo
    from docker_pass.core.ids import ID
    from docker_pass.tui.controllers.ports import Runner, StatusSink
    from docker_pass.tui.model.gateway import SecretsGateway


class UndoController:
    """The session's undo log, the workers that fill it, and the one that empties it.

    ``running()`` names the plugins running now (those a duplicate ID is looked for in)."""

    def __init__(
        self,
        gateway: SecretsGateway,
        runner: Runner,
        status: StatusSink,
        running: Callable[[], Collection[str]] = frozenset,
    ) -> None:
        self._gateway = gateway
        self._runner = runner
        self._status = status
        self._running = running
        #: The last delete or replace of this session (memory only, gone on quit).
        self.log = UndoLog()

    def save(self, draft: SecretDraft, created: bool) -> None:
        """Save what the editor holds; a secret it replaces is kept for ``u`` first."""
        work = partial(self._save, draft, created, frozenset(self._running()))
        self._runner.run_in_thread(WorkerGroup.SAVE, work)

    def delete(self, info: SecretInfo) -> None:
        """Remove a secret, kept for ``u`` first."""
        self._runner.run_in_thread(WorkerGroup.DELETE, partial(self._delete, info))

    def undo(self) -> None:
        """Restore the secret the last delete or replace changed (or say there is none)."""
        kept = self.log.take()
        if kept is None:
            self._status.set_status(self.log.nothing_text(), "warning")
            return
        self._status.set_status(f"Restoring {kept.id.value} in {kept.provider}…")
        self._runner.run_in_thread(WorkerGroup.UNDO, partial(self._restore, kept, None))

    def restore_anyway(self, kept: KeptSecret, conflict: Conflict) -> None:
        """The person agreed to restore ``kept`` over the change ``conflict`` found (only
        over that: a change after it is asked about again)."""
        if not self.log.take_if(kept):
            self._status.set_status("Nothing restored: a newer change is the one u undoes.")
            return
        self._status.set_status(f"Restoring {kept.id.value} in {kept.provider}…")
        self._runner.run_in_thread(WorkerGroup.UNDO, partial(self._restore, kept, conflict))

    def conflicted(
        self,
        kept: KeptSecret,
        conflict: Conflict,
        ask: Callable[[KeptSecret, Conflict, Callable[[bool | None], None]], None],
    ) -> None:
        """``u`` found the secret changed since the change it undoes (nothing restored):
        ``ask`` whether to restore anyway; otherwise it stays, and ``u`` asks again."""
        self._status.set_status(f"Not restored: {conflict.describe(SINCE_THE_CHANGE)}", "warning")

        def answered(yes: bool | None) -> None:
            if yes:
                self.restore_anyway(kept, conflict)
            else:
                self._status.set_status(f"Kept {kept.id.value} as it is now; u asks again.")

        ask(kept, conflict, answered)

    def saved_text(self, info: SecretInfo, created: bool, replaced: bool) -> str:
        """What a save did (``replaced``: "New" on a listed ID), and whether ``u`` undoes it."""
        verb = ("Replaced" if replaced else "Created") if created else "Saved"
        return f"{verb} {info.id.value} in {info.provider}.{self.hint(info)}"

    def deleted_text(self, info: SecretInfo, existed: bool) -> tuple[str, str]:
        """What a delete did (and whether ``u`` undoes it), and how much it matters."""
        if existed:
            return f"Deleted {info.id.value} from {info.provider}.{self.hint(info)}", "success"
        return f"{info.id.value} was already gone from {info.provider}.", "warning"

    def hint(self, info: SecretInfo) -> str:
        """ " u undoes it." when the last kept change is ``info``'s, else ""."""
        kept = self.log.last
        changed = kept is not None and (kept.id, kept.provider) == (info.id, info.provider)
        return " u undoes it." if changed else ""

    def clear(self) -> None:
        """Forget the kept value (the session is over)."""
        self.log.clear()

    # -- in the workers' threads ------------------------------------------------------------

    def _save(self, draft: SecretDraft, created: bool, running: frozenset[str]) -> None:
        change = Change.REPLACE if created else Change.EDIT
        kept, why_not = self._read_to_keep(draft.id, draft.provider, change)
        if created and kept is None and not draft.allow_duplicate and not why_not:
            # A new ID here: does another plugin hold it?  (If this one holds it already,
            # the ID is shared already; the "replace" question covered it.)
            others = self._gateway.others_holding(draft.id, draft.provider, running)
            if others:
                self._runner.post_message(DuplicateFound(draft, others, created))
                return
        if draft.value is None and kept is not None:
            # Metadata only: the value just read is the one to keep (no second read).
            draft = replace(draft, value=kept.value)
        try:
            info = self._gateway.save(draft)
        except VersionConflictError as exc:
            conflict = Conflict.of(exc, draft.id.value, draft.provider)
            self._runner.post_message(SaveConflicted(draft, conflict, created))
            return
        if kept is not None:
            if info.version:
                kept = kept.left(info.version, versioned=True)
            elif draft.value is not None:
                kept = kept.left(content_digest(draft.value, draft.metadata), versioned=False)
        self._remember(kept, why_not)
        self._runner.post_message(SecretSaved(info, created))

    def _delete(self, info: SecretInfo) -> None:
        kept, why_not = self._read_to_keep(info.id, info.provider, Change.DELETE)
        existed = self._gateway.delete(info)
        if existed:
            if kept is not None:
                kept = kept.left(NO_SECRET, versioned=kept.versioned)
            self._remember(kept, why_not)
        self._runner.post_message(SecretDeleted(info, existed))

    def _restore(self, kept: KeptSecret, over: Conflict | None) -> None:
        """Save ``kept`` back as it was, only over what its change left (or, agreed to, over
        the change ``over`` found); put back in the log if that does not happen."""
        draft = SecretDraft(kept.id, kept.value, kept.metadata, kept.provider)
        try:
            if kept.versioned:
                expected = kept.after if over is None else over.overwrite_version
                draft = replace(draft, expected_version=expected or None)
            elif over is None and (conflict := self._unversioned_change(kept)) is not None:
                self.log.put_back(kept)
                self._runner.post_message(UndoConflicted(kept, conflict))
                return
            info = self._gateway.save(draft)
        except VersionConflictError as exc:
            self.log.put_back(kept)
            conflict = Conflict.of(exc, kept.id.value, kept.provider)
            self._runner.post_message(UndoConflicted(kept, conflict))
            return
        except BaseException:
            self.log.put_back(kept)
            raise
        self._runner.post_message(SecretRestored(info, kept.restored_text()))

    def _unversioned_change(self, kept: KeptSecret) -> Conflict | None:
        """For a plugin that keeps no versions: how the secret differs from what the change
        left (compared by reading it), or ``None`` when it is still that."""
        now = self._gateway.read_for_undo(kept.id, kept.provider)
        found = NO_SECRET if now is None else content_digest(now.value, now.metadata)
        if found == kept.after or not kept.after:
            return None
        # The digest is not a version to show: the conflict says only "changed" or "gone".
        shown = NO_SECRET if now is None else ""
        return Conflict(kept.id.value, kept.provider, kept.after, shown)

    def _read_to_keep(
        self, id_: ID, provider: str, change: Change
    ) -> tuple[KeptSecret | None, str]:
        """The secret as it is now, or ``None`` and why not: there is none (a new ID: no
        reason), or it cannot be read — then the change still happens (a damaged record can
        still be deleted) and ``u`` says why it cannot undo it."""
        try:
            envelope = self._gateway.read_for_undo(id_, provider)
        except DockerPassError as exc:
            return None, f"the old value of {id_.value} could not be read ({exc})"
        if envelope is None:
            return None, ""
        return KeptSecret(
            id_,
            provider,
            envelope.value,
            envelope.metadata,
            change,
            versioned=bool(envelope.version),
        ), ""

    def _remember(self, kept: KeptSecret | None, why_not: str) -> None:
        """After a change succeeded: keep what it replaced (a creation leaves the log be)."""
        if kept is not None:
            self.log.keep(kept)
        elif why_not:
            self.log.cannot_keep(why_not)
