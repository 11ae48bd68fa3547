"""The workers that make deletes and replaces undoable, and the one that undoes them.

They run in the same groups as the plain save and delete workers (so ``exclusive`` treats
them alike) and call the same gateway methods; in the same thread, right before the change,
they read the secret as it is (:meth:`SecretsGateway.read_for_undo`) and, once the change
succeeded, keep it in :attr:`UndoWorkers.undo` — memory only (see
:mod:`docker_pass.tui.model.undo`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work

from docker_pass.core.errors import DockerPassError
from docker_pass.tui.messages import SecretDeleted, SecretRestored, SecretSaved
from docker_pass.tui.model.gateway import SecretDraft
from docker_pass.tui.model.undo import Change, KeptSecret, UndoLog
from docker_pass.tui.workers import EngineWorkers

if TYPE_CHECKING:
    from docker_pass.core.envelope import SecretInfo
    from docker_pass.core.ids import ID


class UndoWorkers(EngineWorkers):
    """The app's workers, plus the undo log and the workers that fill and empty it."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        #: The last delete or replace of this session (memory only, gone on quit).
        self.undo = UndoLog()

    @work(thread=True, exclusive=True, group="save", exit_on_error=False)
    def save_keeping_undo(self, draft: SecretDraft, created: bool) -> None:
        """Save what the editor holds; a secret it replaces is kept for ``u`` first."""
        change = Change.REPLACE if created else Change.EDIT
        kept, why_not = self._read_to_keep(draft.id, draft.provider, change)
        if draft.value is None and kept is not None:
            # Metadata only: the value just read is the one to keep (no second read).
            draft = SecretDraft(draft.id, kept.value, draft.metadata, draft.provider)
        info = self.gateway.save(draft)
        self._remember(kept, why_not)
        self.post_message(SecretSaved(info, created))

    @work(thread=True, exclusive=True, group="delete", exit_on_error=False)
    def delete_keeping_undo(self, info: SecretInfo) -> None:
        """Remove a secret, kept for ``u`` first."""
        kept, why_not = self._read_to_keep(info.id, info.provider, Change.DELETE)
        existed = self.gateway.delete(info)
        if existed:
            self._remember(kept, why_not)
        self.post_message(SecretDeleted(info, existed))

    @work(thread=True, exclusive=True, group="undo", exit_on_error=False)
    def restore_secret(self, kept: KeptSecret) -> None:
        """Save ``kept`` back as it was (put back in the log if that fails)."""
        draft = SecretDraft(kept.id, kept.value, kept.metadata, kept.provider)
        try:
            info = self.gateway.save(draft)
        except BaseException:
            self.undo.put_back(kept)
            raise
        self.post_message(SecretRestored(info, kept.restored_text()))

    def _read_to_keep(
        self, id_: ID, provider: str, change: Change
    ) -> tuple[KeptSecret | None, str]:
        """The secret as it is now, or ``None`` and why not: there is none (a new ID: no
        reason), or it cannot be read — then the change still happens (a damaged record can
        still be deleted) and ``u`` says why it cannot undo it."""
        try:
            envelope = self.gateway.read_for_undo(id_, provider)
        except DockerPassError as exc:
            return None, f"the old value of {id_.value} could not be read ({exc})"
        if envelope is None:
            return None, ""
        return KeptSecret(id_, provider, envelope.value, envelope.metadata, change), ""

    def _remember(self, kept: KeptSecret | None, why_not: str) -> None:
        """After a change succeeded: keep what it replaced (a creation leaves the log be)."""
        if kept is not None:
            self.undo.keep(kept)
        elif why_not:
            self.undo.cannot_keep(why_not)
