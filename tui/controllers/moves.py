"""Moving secrets and realms, and what becomes of deleted secrets (undelete, purge).

Each runs in a worker and posts its result.  A move to an ID another running plugin holds is
asked about first (:class:`~docker_pass.tui.messages.MoveDuplicateFound`), as a save is; a
move that could not remove the old secret says what exists where (both are kept, nothing
lost).  After a move the ``se://`` references to the old IDs in the Compose files and
``.env`` ``check`` reads here are listed (:func:`~docker_pass.tui.model.moving.references_to`).
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from docker_pass.core.envelope import SecretInfo
from docker_pass.core.errors import DockerPassError, VersionConflictError
from docker_pass.tui.messages import (
    DuplicateFound,
    MoveDuplicateFound,
    RealmMoveDone,
    RenameStopped,
    SaveConflicted,
    SecretMoveDone,
    SecretPurged,
    SecretUndeleted,
)
from docker_pass.tui.model.moving import MoveRequest, references_to
from docker_pass.tui.model.versions import Conflict
from docker_pass.tui.workers import WorkerGroup

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from docker_pass.tui.controllers.ports import Runner, StatusSink
    from docker_pass.tui.model.gateway import SecretDraft, SecretsGateway


class MovesController:
    """Moves (``m``, and the editor's ID field on a secret), undeletes and purges."""

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

    def move(self, request: MoveRequest) -> None:
        """Move a secret or a realm as ``request`` says."""
        what = request.secret.id.value if request.secret is not None else f"{request.realm}/"
        self._status.set_status(f"Moving {what} to {request.to_plugin}:{request.new.value}…")
        work = partial(self._move, request, frozenset(self._running()))
        self._runner.run_in_thread(WorkerGroup.MOVE, work)

    def rename(self, draft: SecretDraft) -> None:
        """Save the editor's secret under a new ID (``draft.renamed_from`` is the old one)."""
        work = partial(self._rename, draft, frozenset(self._running()))
        self._runner.run_in_thread(WorkerGroup.SAVE, work)

    def undelete(self, info: SecretInfo) -> None:
        """Restore ``info``'s deleted latest version."""
        self._status.set_status(f"Undeleting {info.id.value} in {info.provider}…")
        self._runner.run_in_thread(WorkerGroup.UNDELETE, partial(self._undelete, info))

    def purge(self, info: SecretInfo) -> None:
        """Remove every version of ``info`` (asked first, by the caller)."""
        self._status.set_status(f"Purging every version of {info.id.value}…")
        self._runner.run_in_thread(WorkerGroup.PURGE, partial(self._purge, info))

    # -- in the workers' threads ------------------------------------------------------------

    def _move(self, request: MoveRequest, running: frozenset[str]) -> None:
        secret = request.secret
        if secret is None:
            assert request.realm is not None  # noqa: S101 - a request names one or the other
            result = self._gateway.move_realm(
                request.realm,
                request.new,
                request.plugin,
                request.to_plugin,
                replace=request.replace,
            )
            refs = references_to([m.old.value for m in result.moved])
            self._runner.post_message(RealmMoveDone(request, result, refs))
            return
        if not request.allow_duplicate:
            others = self._gateway.others_holding(request.new, request.to_plugin, running)
            # The source leaves: moving an ID to another plugin is no duplicate of itself.
            others = [o for o in others if (o, request.new) != (secret.provider, secret.id)]
            if others:
                self._runner.post_message(MoveDuplicateFound(request, others))
                return
        moved = self._gateway.move(secret, request.new, request.to_plugin, replace=request.replace)
        refs = references_to([secret.id.value]) if moved.moved else []
        self._runner.post_message(SecretMoveDone(request, moved, refs))

    def _rename(self, draft: SecretDraft, running: frozenset[str]) -> None:
        """The editor's secret saved under a new ID.  The edit (if any) goes to the old ID
        first, with the version the editor opened (a conflict is asked about as any save's);
        then the move, which removes the old ID only if it is still what was just saved."""
        old_id = draft.renamed_from
        assert old_id is not None  # noqa: S101 - only renames come here
        old = SecretInfo(old_id, draft.provider)
        if not draft.allow_duplicate:
            others = self._gateway.others_holding(draft.id, draft.provider, running)
            if others:
                self._runner.post_message(DuplicateFound(draft, others, created=False))
                return
        saved: SecretInfo | None = None
        try:
            current = self._gateway.read_for_undo(old.id, old.provider)
            edited = draft.value is not None or (
                current is not None and dict(draft.metadata) != dict(current.metadata)
            )
            if current is None or edited:
                saved = self._gateway.save(replace(draft, id=old.id, renamed_from=None))
        except VersionConflictError as exc:
            conflict = Conflict.of(exc, old.id.value, old.provider)
            self._runner.post_message(SaveConflicted(draft, conflict, created=False))
            return
        request = MoveRequest(
            draft.id, old.provider, old.provider, secret=old, replace=draft.replace
        )
        try:
            moved = self._gateway.move(old, draft.id, old.provider, replace=draft.replace)
        except DockerPassError as exc:
            if saved is None:
                raise  # nothing changed: a failed save, as any
            # The edit is saved under the old ID: the editor must expect that version now.
            self._runner.post_message(RenameStopped(draft, saved, str(exc)))
            return
        refs = references_to([old.id.value]) if moved.moved else []
        self._runner.post_message(SecretMoveDone(request, moved, refs))

    def _undelete(self, info: SecretInfo) -> None:
        restored = self._gateway.undelete(info)
        self._runner.post_message(SecretUndeleted(info, restored))

    def _purge(self, info: SecretInfo) -> None:
        existed = self._gateway.purge(info)
        self._runner.post_message(SecretPurged(info, existed))
