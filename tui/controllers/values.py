"""Secret values, read only when someone asks: shown for a while, copied (then blanked), or
loaded into the editor.

A value is read in a worker and arrives as :class:`~docker_pass.tui.messages.ValueFetched`.
A shown value is hidden again after ``reveal_seconds`` or when the cursor moves; a copied one
is written over after the clipboard guard's time (:mod:`docker_pass.tui.clipboard`).
"""

from __future__ import annotations

import base64
from functools import partial
from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError
from docker_pass.core.references.syntax import reference_for
from docker_pass.tui.clipboard import describe_copy
from docker_pass.tui.messages import ValueFetched, VersionRead
from docker_pass.tui.model.ambiguity import get_command
from docker_pass.tui.text import plural
from docker_pass.tui.workers import WorkerGroup, superseded

if TYPE_CHECKING:
    from collections.abc import Callable

    from docker_pass.core.envelope import SecretInfo
    from docker_pass.tui.clipboard import ClipboardGuard, Route
    from docker_pass.tui.controllers.ports import Runner, StatusSink, Stoppable
    from docker_pass.tui.model.gateway import SecretsGateway


def display_value(value: bytes) -> str:
    """A value as text to show; binary values as base64, said so."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return f"(binary, {plural(len(value), 'byte')}, base64) {base64.b64encode(value).decode()}"


class ValueController:
    """Reading values on request; ``revealed_for`` is the secret whose value is shown.

    ``display(text)`` puts a value in the detail pane (``None``: takes it away) and says
    whether there was a pane to put it in.
    """

    def __init__(
        self,
        gateway: SecretsGateway,
        runner: Runner,
        status: StatusSink,
        *,
        clipboard: Callable[[Callable[[], None]], ClipboardGuard],
        display: Callable[[str | None], bool],
        reveal_seconds: float,
    ) -> None:
        """``clipboard(on_cleared)`` makes the clipboard guard, given what to call when it
        has written a blank over a copied value."""
        self._gateway = gateway
        self._runner = runner
        self._status = status
        self.clipboard = clipboard(self.clipboard_cleared)
        self._display = display
        self.reveal_seconds = reveal_seconds
        self.revealed_for: SecretInfo | None = None
        self._reveal_timer: Stoppable | None = None

    # -- asked for --------------------------------------------------------------------------

    def reveal(self, info: SecretInfo) -> None:
        """Show ``info``'s value (read now), or hide it again if it is shown."""
        if self.revealed_for == info:
            self.hide()
            self._status.set_status("Value hidden.")
            return
        self._status.set_status(f"Reading the value of {info.id.value}…", topic="reveal")
        self._read(WorkerGroup.REVEAL, info, "reveal")

    def copy(self, info: SecretInfo) -> None:
        """Copy ``info``'s value to the clipboard (read now), blanked after a while."""
        self._status.set_status(f"Reading the value of {info.id.value} to copy it…", topic="copy")
        self._read(WorkerGroup.COPY, info, "copy")

    def copy_reference(self, info: SecretInfo, *, ambiguous: bool = False) -> None:
        """Copy ``se://<id>`` of ``info``; for an ``ambiguous`` ID (another plugin holds it
        too, so the reference fails) the command that reads this copy instead."""
        reference = reference_for(info.id)
        copied = get_command(info.id.value, info.provider) if ambiguous else reference

        def report(route: Route) -> None:
            text, level = describe_copy(route, copied)
            if ambiguous and level == "success":
                text = f"{reference} would fail (more than one plugin holds it): {text}"
                level = "warning"
            self._status.set_status(text, level)

        self.clipboard.copy(copied, report)

    def read_for_editor(self, info: SecretInfo, *, reload: bool = False) -> None:
        """Read ``info``'s value into the editor (it asked: ctrl+r), or, ``reload``, the
        stored secret after a conflict (value, metadata and version)."""
        what = "the stored secret" if reload else "the value"
        self._status.set_status(f"Reading {what} of {info.id.value} into the editor…")
        self._read(WorkerGroup.EDIT_VALUE, info, "reload" if reload else "edit")

    def read_version(self, info: SecretInfo, *, read: bool) -> None:
        """Read the version of ``info``'s secret as the editor opens on it (``read``: a
        value may be read to learn it, when a listing does not say; never shown)."""
        work = partial(self._read_version, info, read)
        self._runner.run_in_thread(WorkerGroup.EDIT_VERSION, work)

    def hide(self) -> None:
        """Take a shown value away."""
        if self._reveal_timer is not None:
            self._reveal_timer.stop()
            self._reveal_timer = None
        self.revealed_for = None
        self._status.end_status("reveal")  # "Showing …" / "Reading the value …" is over
        self._display(None)

    def cursor_moved(self, previous: SecretInfo | None, selected: SecretInfo | None) -> None:
        """The cursor left ``previous`` for ``selected``: moving away hides a shown value, and
        a value still being read will not be shown."""
        if self.revealed_for is not None and self.revealed_for != selected:
            self.hide()
        elif selected != previous:
            self._status.end_status("reveal")

    # -- what the workers report ------------------------------------------------------------

    def fetched(self, message: ValueFetched, selected: SecretInfo | None) -> None:
        """A value read to copy, or to show (if the cursor is still on its secret)."""
        if message.purpose == "copy":
            self._copy_value(message.info, message.value)
        elif message.purpose == "reveal" and message.info == selected:
            self._show(message.info, message.value)

    def clipboard_cleared(self) -> None:
        """The clipboard guard wrote a blank over a copied value."""
        # Said as done: a blank was sent; whether the terminal obeyed cannot be known.
        self._status.set_status(
            f"Sent a blank over the copied value ({self.clipboard.seconds:g} s after copying)."
        )

    # -- internals --------------------------------------------------------------------------

    def _read(self, group: WorkerGroup, info: SecretInfo, purpose: str) -> None:
        self._runner.run_in_thread(group, partial(self._read_now, info, purpose))

    def _read_now(self, info: SecretInfo, purpose: str) -> None:
        """In a worker: read the value (only when someone asked), with its version."""
        envelope = self._gateway.read_secret(info)
        if not superseded():
            message = ValueFetched(
                info,
                envelope.value,
                purpose,
                version=envelope.version,
                metadata=envelope.metadata,
            )
            self._runner.post_message(message)

    def _read_version(self, info: SecretInfo, read: bool) -> None:
        """In a worker: the version the editor opened (or why it is not known)."""
        try:
            version = self._gateway.version_of(info, read=read)
        except DockerPassError as exc:
            self._runner.post_message(VersionRead(info, "", str(exc)))
            return
        self._runner.post_message(VersionRead(info, version))

    def _show(self, info: SecretInfo, value: bytes) -> None:
        if not self._display(display_value(value)):
            return
        self.revealed_for = info
        if self._reveal_timer is not None:
            self._reveal_timer.stop()
        self._reveal_timer = self._runner.set_timer(self.reveal_seconds, self.hide)
        self._status.set_status(
            f"Showing {info.id.value}: hidden again in {self.reveal_seconds:g} s or on moving.",
            "warning",
            topic="reveal",
        )

    def _copy_value(self, info: SecretInfo, value: bytes) -> None:
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            self._status.set_status(
                f"{info.id.value} holds binary data: it cannot be copied as text.", "error"
            )
            return

        def report(route: Route) -> None:
            what = f"the value of {info.id.value}"
            self._status.set_status(*describe_copy(route, what, self.clipboard.seconds))

        self.clipboard.copy(text, report, secret=True)
