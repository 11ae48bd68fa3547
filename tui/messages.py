"""Messages the app's thread workers post with their results (the app routes them down).

Widget messages live on the widget that sends them (``RealmTree.SecretHighlighted``); these
come from the workers the controllers start (:mod:`docker_pass.tui.controllers`), and each
has one handler, on the app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from docker_pass.core.docker.rollout import RolloutOutcome, RolloutPlan
    from docker_pass.core.docker.usage import Gathered
    from docker_pass.core.envelope import SecretInfo
    from docker_pass.core.moves import Moved, RealmMoved
    from docker_pass.core.plugin import WatchHint
    from docker_pass.core.results import PluginStatus
    from docker_pass.core.setup import Setup, SetupResult
    from docker_pass.tui.model.gateway import SecretDraft
    from docker_pass.tui.model.moving import MoveRequest
    from docker_pass.tui.model.preview import Preview
    from docker_pass.tui.model.realms import RealmIndex
    from docker_pass.tui.model.ui_state import UiState
    from docker_pass.tui.model.undo import KeptSecret
    from docker_pass.tui.model.versions import Conflict


class PluginsLoaded(Message):
    """Every plugin's status, fresh from the engine."""

    def __init__(self, plugins: list[PluginStatus]) -> None:
        super().__init__()
        self.plugins = plugins


class PluginStatusUpdated(Message):
    """One plugin's status, fresh (after its listing started it, or failed to)."""

    def __init__(self, status: PluginStatus) -> None:
        super().__init__()
        self.status = status


class ListingStarted(Message):
    """Each of ``plugins`` (the running ones) is being listed, each in its own worker."""

    def __init__(self, plugins: tuple[str, ...], *, fresh_engine: bool = False) -> None:
        super().__init__()
        self.plugins = plugins
        #: The engine was built anew (a reload): ask again how each plugin can be watched.
        self.fresh_engine = fresh_engine


class PluginListed(Message):
    """One plugin's listing: its secrets, or why it could not list (``error``).

    ``hint`` is how the plugin can be watched, when ``hinted`` says it was asked for;
    ``versioned`` whether it keeps versions, when the front could say (``None``: not asked,
    or not known).
    """

    def __init__(
        self,
        plugin: str,
        infos: list[SecretInfo],
        error: str = "",
        *,
        hinted: bool = False,
        hint: WatchHint | None = None,
        versioned: bool | None = None,
    ) -> None:
        super().__init__()
        self.plugin = plugin
        self.infos = infos
        self.error = error
        self.hinted = hinted
        self.hint = hint
        self.versioned = versioned

    def __repr__(self) -> str:
        return f"PluginListed({self.plugin!r}, {len(self.infos)} secrets, error={self.error!r})"


class SecretsChanged(Message):
    """Another process (or the interval) says plugin ``plugin``'s secrets may have changed."""

    def __init__(self, plugin: str) -> None:
        super().__init__()
        self.plugin = plugin


class FeedStateChanged(Message):
    """The engine daemon's change feed is ``state`` now (``live``, ``down``, ``unsupported``;
    :mod:`docker_pass.tui.controllers.feed`), and ``reason`` why it is not live."""

    def __init__(self, state: str, reason: str) -> None:
        super().__init__()
        self.state = state
        self.reason = reason


class ValueFetched(Message):
    """A secret's value, read for ``purpose`` ("reveal", "copy", "edit": into the editor, or
    "reload": into the editor after a conflict), with its ``version`` and ``metadata`` as
    stored."""

    def __init__(
        self,
        info: SecretInfo,
        value: bytes,
        purpose: str,
        *,
        version: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.info = info
        self.value = value
        self.purpose = purpose
        self.version = version
        self.metadata = metadata

    def __repr__(self) -> str:
        return f"ValueFetched({self.info.id.value!r}, {self.purpose!r})"


class VersionRead(Message):
    """The version of ``info``'s secret as the editor opened it (``NO_SECRET``: gone;
    ``""``: the plugin keeps none, or ``error`` says why it could not be read)."""

    def __init__(self, info: SecretInfo, version: str, error: str = "") -> None:
        super().__init__()
        self.info = info
        self.version = version
        self.error = error


class SaveConflicted(Message):
    """The editor's save was refused: the secret is not the version it opened.  Nothing was
    written; the editor asks what to do."""

    def __init__(self, draft: SecretDraft, conflict: Conflict, created: bool) -> None:
        super().__init__()
        self.draft = draft
        self.conflict = conflict
        self.created = created


class DuplicateFound(Message):
    """Saving ``draft`` would make a second plugin hold its ID (``others`` hold it): nothing
    was written; the editor asks first."""

    def __init__(self, draft: SecretDraft, others: Sequence[str], created: bool) -> None:
        super().__init__()
        self.draft = draft
        self.others = tuple(others)
        self.created = created


class UndoConflicted(Message):
    """``u`` found the secret changed since the change it undoes: nothing was restored; the
    app asks whether to restore anyway (``kept`` goes back into the log meanwhile)."""

    def __init__(self, kept: KeptSecret, conflict: Conflict) -> None:
        super().__init__()
        self.kept = kept
        self.conflict = conflict


class MoveDuplicateFound(Message):
    """Moving as ``request`` says would make a second plugin hold the new ID (``others``
    hold it): nothing was written; the app asks first."""

    def __init__(self, request: MoveRequest, others: Sequence[str]) -> None:
        super().__init__()
        self.request = request
        self.others = tuple(others)


class SecretMoveDone(Message):
    """A secret's move: ``moved`` says whether the old one went (or what exists where);
    ``references`` the ``se://`` references to the old ID left in this folder's files."""

    def __init__(self, request: MoveRequest, moved: Moved, references: Sequence[str]) -> None:
        super().__init__()
        self.request = request
        self.moved = moved
        self.references = tuple(references)


class RealmMoveDone(Message):
    """A realm's move: each ID's outcome, and the references to the moved IDs left behind."""

    def __init__(self, request: MoveRequest, result: RealmMoved, references: Sequence[str]) -> None:
        super().__init__()
        self.request = request
        self.result = result
        self.references = tuple(references)


class RenameStopped(Message):
    """The editor's rename saved the edit under the old ID (``saved``: as listed now) but
    could not move it (``reason``); the editor stays open, expecting the version saved."""

    def __init__(self, draft: SecretDraft, saved: SecretInfo, reason: str) -> None:
        super().__init__()
        self.draft = draft
        self.saved = saved
        self.reason = reason


class SecretUndeleted(Message):
    """A deleted secret's latest version was restored (``restored`` false: it was not
    deleted any more)."""

    def __init__(self, info: SecretInfo, restored: bool) -> None:
        super().__init__()
        self.info = info
        self.restored = restored


class SecretPurged(Message):
    """Every version of a secret was removed (``existed`` false: there was none)."""

    def __init__(self, info: SecretInfo, existed: bool) -> None:
        super().__init__()
        self.info = info
        self.existed = existed


class SecretSaved(Message):
    """A secret was saved; ``info`` is what the listing shows for it now."""

    def __init__(self, info: SecretInfo, created: bool) -> None:
        super().__init__()
        self.info = info
        self.created = created


class SecretDeleted(Message):
    """A secret was removed (``existed`` is false if someone removed it first)."""

    def __init__(self, info: SecretInfo, existed: bool) -> None:
        super().__init__()
        self.info = info
        self.existed = existed


class PluginToggled(Message):
    """A plugin was enabled or disabled; ``status`` is its state afterwards."""

    def __init__(self, status: PluginStatus, enabled: bool) -> None:
        super().__init__()
        self.status = status
        self.enabled = enabled


class PreviewComputed(Message):
    """A pattern preview computed off the event loop, over the listing ``source``."""

    def __init__(self, preview: Preview, source: RealmIndex) -> None:
        super().__init__()
        self.preview = preview
        self.source = source


class PluginStateChanged(Message):
    """Another process changed the plugins' shared state (enabled flags, crashes)."""


class SecretRestored(Message):
    """``u`` saved a deleted or replaced secret back; ``info`` is what the listing shows."""

    def __init__(self, info: SecretInfo, text: str) -> None:
        super().__init__()
        self.info = info
        #: What to tell the person ("Restored … (undid the delete).").
        self.text = text


class SetupFormsFound(Message):
    """The plugins (by name) that describe a setup form."""

    def __init__(self, looked_up: Sequence[str], forms: Mapping[str, Setup]) -> None:
        super().__init__()
        self.looked_up = tuple(looked_up)
        self.forms = dict(forms)


class SetupFormReady(Message):
    """A form to open, with the settings the config file holds now."""

    def __init__(
        self, setup: Setup, current: Mapping[str, str], stored: frozenset[str] = frozenset()
    ) -> None:
        super().__init__()
        self.setup = setup
        self.current = dict(current)
        #: The secret fields with an answer stored already (their names; never a value).
        self.stored = stored


class PluginSetUp(Message):
    """A setup form was applied: secrets stored, settings written, plugin enabled."""

    def __init__(self, result: SetupResult) -> None:
        super().__init__()
        self.result = result


class SetupRefused(Message):
    """An answer was refused before anything was stored (``field`` names it, or is empty)."""

    def __init__(self, setup: Setup, message: str, field: str) -> None:
        super().__init__()
        self.setup = setup
        self.message = message
        self.field = field


class PlaceRead(Message):
    """The UI's remembered place was read (``state`` ``None``: nothing remembered); ``note``
    says why a file there was ignored ("" when nothing is wrong)."""

    def __init__(self, state: UiState | None, note: str) -> None:
        super().__init__()
        self.state = state
        self.note = note


class UsageGathered(Message):
    """Who refers to which secrets, read afresh (``gathered.docker``: why no engine was
    read, or ``""``)."""

    def __init__(self, gathered: Gathered) -> None:
        super().__init__()
        self.gathered = gathered


class ContainersChanged(Message):
    """The Docker engine reported container events (or came back): read the users again."""


class RolloutPlanned(Message):
    """What a rollout of ``ids`` would do (``plan`` is ``None`` when none can be made, and
    ``reason`` says why)."""

    def __init__(self, ids: tuple[str, ...], plan: RolloutPlan | None, reason: str = "") -> None:
        super().__init__()
        self.ids = ids
        self.plan = plan
        self.reason = reason


class RolloutProgressed(Message):
    """One step of a rollout under way, in a line (names and states, never a value)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class RolloutFinished(Message):
    """A rollout is over: what it did, what failed (left as it was) and what it refused."""

    def __init__(self, outcome: RolloutOutcome) -> None:
        super().__init__()
        self.outcome = outcome
