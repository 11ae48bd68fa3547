"""Saving and deleting secrets so that ``u`` can undo it, and undoing.

The save and delete workers read the secret as it is, in the same thread, right before the
change (:meth:`SecretsGateway.read_for_undo`), and keep it once the change succeeded, in
:attr:`UndoController.log` — memory only (see :mod:`docker_pass.tui.model.undo`).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError
from docker_pass.tui.messages import SecretDeleted, SecretRestored, SecretSaved
from docker_pass.tui.model.gateway import SecretDraft
from docker_pass.tui.model.undo import Change, KeptSecret, UndoLog
from docker_pass.tui.workers import WorkerGroup

if TYPE_CHECKING:
    from docker_pass.core.envelope import SecretInfo
    from docker_pass.core.ids import ID
    from docker_pass.tui.controllers.ports import Runner, StatusSink
    from docker_pass.tui.model.gateway import SecretsGateway


class UndoController:
    """The session's undo log, the workers that fill it, and the one that empties it."""

    def __init__(self, gateway: SecretsGateway, runner: Runner, status: StatusSink) -> None:
        self._gateway = gateway
        self._runner = runner
        self._status = status
        #: The last delete or replace of this session (memory only, gone on quit).
        self.log = UndoLog()

    def save(self, draft: SecretDraft, created: bool) -> None:
        """Save what the editor holds; a secret it replaces is kept for ``u`` first."""
        self._runner.run_in_thread(WorkerGroup.SAVE, partial(self._save, draft, created))

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
        self._runner.run_in_thread(WorkerGroup.UNDO, partial(self._restore, kept))

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

    def _save(self, draft: SecretDraft, created: bool) -> None:
        change = Change.REPLACE if created else Change.EDIT
        kept, why_not = self._read_to_keep(draft.id, draft.provider, change)
        if draft.value is None and kept is not None:
            # Metadata only: the value just read is the one to keep (no second read).
            draft = SecretDraft(draft.id, kept.value, draft.metadata, draft.provider)
        info = self._gateway.save(draft)
        self._remember(kept, why_not)
        self._runner.post_message(SecretSaved(info, created))

    def _delete(self, info: SecretInfo) -> None:
        kept, why_not = self._read_to_keep(info.id, info.provider, Change.DELETE)
        existed = self._gateway.delete(info)
        if existed:
            self._remember(kept, why_not)
        self._runner.post_message(SecretDeleted(info, existed))

    def _restore(self, kept: KeptSecret) -> None:
        """Save ``kept`` back as it was (put back in the log if that fails)."""
        draft = SecretDraft(kept.id, kept.value, kept.metadata, kept.provider)
        try:
            info = self._gateway.save(draft)
        except BaseException:
            self.log.put_back(kept)
            raise
        self._runner.post_message(SecretRestored(info, kept.restored_text()))

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
        return KeptSecret(id_, provider, envelope.value, envelope.metadata, change), ""

    def _remember(self, kept: KeptSecret | None, why_not: str) -> None:
        """After a change succeeded: keep what it replaced (a creation leaves the log be)."""
        if kept is not None:
            self.log.keep(kept)
        elif why_not:
            self.log.cannot_keep(why_not)
