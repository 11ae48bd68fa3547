"""Rename and move: a secret, or every secret of a realm, to a new ID and maybe another plugin.

A move is three steps on the engine, in an order that never loses a value:

1. read the old secret (value, metadata, version);
2. write the new one with the expected version :data:`~docker_pass.core.versions.NO_SECRET`
   (it must not exist yet; ``replace`` writes blind instead);
3. remove the old one only if it is still the version that was copied.

Whatever fails, or wherever the process is killed, the old secret stays until the copy is
written, so the value is in the old place, the new place, or both; never in neither.  A
failure before anything was written raises (nothing changed); once the copy is written the
result says what exists where (:class:`Moved`).  A plugin that keeps no versions
(:mod:`~docker_pass.core.versions`) cannot check step 3 by version: the old secret is read again
and removed only if its value and metadata are still what was copied, and the result says that
the check was made by comparison (``checked`` is then ``False``).

A realm (:func:`move_realm`) is every ID strictly under it, each moved as above; one ID's
failure does not stop the others, and the result counts what moved and what was kept.

Which plugins hold the new ID already (the duplicate rule of :mod:`.duplicates`) is for the
fronts to ask about before they call here: the CLI warns and needs ``--allow-duplicate``, the
TUI asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from docker_pass.core.errors import (
    DockerPassError,
    SecretNotFoundError,
    UsageError,
    VersionConflictError,
)
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.plugin import new_id_problem
from docker_pass.core.plugin_calls import PluginTimeoutError
from docker_pass.core.results import Removal
from docker_pass.core.value import FrozenValue
from docker_pass.core.versions import NO_SECRET, describe_version

if TYPE_CHECKING:
    from docker_pass.core.engine import Engine
    from docker_pass.core.envelope import Envelope
    from docker_pass.core.results import Listing


def where(plugin: str, id_: ID) -> str:
    """A secret's place as messages name it: ``plugin:id``."""
    return f"{plugin}:{id_.value}"


class Moved(FrozenValue):
    """What one move did.

    ``outcome`` is :attr:`MOVED` (the new secret holds the value, the old one is gone),
    :attr:`BOTH_KEPT` (copied, but the old one was not removed: ``message`` says why and
    what exists where) or :attr:`KEPT` (nothing written, the old one is as it was; only in a
    realm's result, where ``message`` is the error: a single move raises it instead).
    ``version`` is the new secret's version (``""`` when its plugin does not say);
    ``checked``: the old one was removed only after a version check (``False`` when its
    plugin keeps no versions: it was compared by value instead, and ``message`` says so).
    """

    __slots__ = ("checked", "message", "new", "old", "outcome", "plugin", "to_plugin", "version")
    old: ID
    new: ID
    plugin: str
    to_plugin: str
    outcome: str
    version: str
    message: str
    checked: bool

    MOVED = "moved"
    BOTH_KEPT = "both kept"
    KEPT = "kept"

    def __init__(
        self,
        old: ID,
        new: ID,
        plugin: str,
        to_plugin: str,
        outcome: str,
        *,
        version: str = "",
        message: str = "",
        checked: bool = True,
    ) -> None:
        self._set("old", old)
        self._set("new", new)
        self._set("plugin", plugin)
        self._set("to_plugin", to_plugin)
        self._set("outcome", outcome)
        self._set("version", version)
        self._set("message", message)
        self._set("checked", checked)

    @property
    def moved(self) -> bool:
        """Whether the old secret is gone and the new one holds the value."""
        return self.outcome == self.MOVED

    def describe(self) -> str:
        """One line for a person: what moved where, or what exists where."""
        if self.moved:
            text = f"moved {where(self.plugin, self.old)} to {where(self.to_plugin, self.new)}"
            return f"{text} ({self.message})" if self.message else text
        return self.message

    def __repr__(self) -> str:
        return (
            f"Moved({where(self.plugin, self.old)!r} -> {where(self.to_plugin, self.new)!r}, "
            f"{self.outcome})"
        )


class RealmMoved(FrozenValue):
    """What a realm's move did: one :class:`Moved` per ID that was under ``old``, in order."""

    __slots__ = ("moves", "new", "old", "plugin", "to_plugin")
    old: ID
    new: ID
    plugin: str
    to_plugin: str
    moves: tuple[Moved, ...]

    def __init__(
        self, old: ID, new: ID, plugin: str, to_plugin: str, moves: tuple[Moved, ...]
    ) -> None:
        self._set("old", old)
        self._set("new", new)
        self._set("plugin", plugin)
        self._set("to_plugin", to_plugin)
        self._set("moves", moves)

    @property
    def moved(self) -> list[Moved]:
        """The moves that completed."""
        return [m for m in self.moves if m.moved]

    @property
    def kept(self) -> list[Moved]:
        """The IDs whose old secret is still there (copied or not)."""
        return [m for m in self.moves if not m.moved]

    @property
    def complete(self) -> bool:
        """Whether every ID moved."""
        return not self.kept

    def summary(self) -> str:
        """``moved 3 of 4 secrets from A/ to B/; kept 1``, naming the plugins when they differ."""
        source = f"{self.old.value}/"
        target = f"{self.new.value}/"
        if self.to_plugin != self.plugin:
            source, target = f"{self.plugin}:{source}", f"{self.to_plugin}:{target}"
        count = len(self.moves)
        noun = "secret" if count == 1 else "secrets"
        text = f"moved {len(self.moved)} of {count} {noun} from {source} to {target}"
        return f"{text}; kept {len(self.kept)}" if self.kept else text

    def __repr__(self) -> str:
        return f"RealmMoved({self.old.value!r}/ -> {self.new.value!r}/, {len(self.moves)} IDs)"


def move(
    engine: Engine,
    old: ID,
    new: ID,
    *,
    plugin: str,
    to_plugin: str | None = None,
    replace: bool = False,
) -> Moved:
    """Move secret ``old`` of ``plugin`` to ``new`` in ``to_plugin`` (default: the same).

    Raises, with nothing changed, when the old secret is not there, the new ID is taken and
    ``replace`` is not given (:class:`~docker_pass.core.errors.VersionConflictError`), or the
    copy cannot be written.  Once the copy is written, returns what exists where.
    """
    target = to_plugin or plugin
    if old == new and target == plugin:
        raise UsageError(f"{where(plugin, old)} is already there: nothing to move")
    problem = new_id_problem(new.value)
    if problem:
        raise UsageError(f"cannot move to {new.value}: {problem}")
    try:
        # An empty removal: the engine checks that the plugin can delete and removes nothing
        # (a plugin that cannot would be left holding the old secret beside its copy).
        engine.remove([], plugin=plugin)
    except DockerPassError as exc:
        failed = DockerPassError(f"cannot move {where(plugin, old)}: {exc}; nothing moved")
        raise failed.with_hints(*exc.hints) from None
    try:
        source = engine.get(old, plugin=plugin)
    except SecretNotFoundError:
        raise SecretNotFoundError(where(plugin, old)) from None
    version = _copy(engine, source, new, plugin=plugin, target=target, replace=replace)
    return _remove_old(engine, source, new, plugin=plugin, target=target, version=version)


def move_realm(
    engine: Engine,
    old: ID,
    new: ID,
    *,
    plugin: str,
    to_plugin: str | None = None,
    replace: bool = False,
) -> RealmMoved:
    """Move every secret strictly under realm ``old`` of ``plugin`` to the same place under
    ``new`` (in ``to_plugin``), each as :func:`move` does; one failure does not stop the others.

    Raises when there is nothing under ``old``, or when ``new`` lies under ``old`` (the moved
    secrets would be under the realm being emptied).
    """
    target = to_plugin or plugin
    if new == old and target == plugin:
        raise UsageError(f"{where(plugin, old)}/ is already there: nothing to move")
    if target == plugin and _under(new, old):
        raise UsageError(f"cannot move {old.value}/ into itself ({new.value}/)")
    ids = realm_ids(engine, old, plugin=plugin)
    if not ids:
        raise SecretNotFoundError(f"{where(plugin, old)}/ (no secret under it)")
    moves: list[Moved] = []
    for id_ in ids:
        renamed = ID(new.value + id_.value[len(old.value) :])
        try:
            moves.append(
                move(engine, id_, renamed, plugin=plugin, to_plugin=target, replace=replace)
            )
        except DockerPassError as exc:
            moves.append(Moved(id_, renamed, plugin, target, Moved.KEPT, message=str(exc)))
    return RealmMoved(old, new, plugin, target, tuple(moves))


class PluginLister(Protocol):
    """What :func:`realm_ids` needs of an engine or the daemon's client."""

    def list_secrets(self, pattern: Pattern, *, plugin: str | None = None) -> Listing:
        """IDs (no values) matching ``pattern`` in ``plugin``."""
        ...


def realm_ids(front: PluginLister, realm: ID, *, plugin: str) -> list[ID]:
    """The IDs strictly under ``realm`` in ``plugin``, sorted (no values read)."""
    listing = front.list_secrets(Pattern(realm.value + "/**"), plugin=plugin)
    return sorted({info.id for info in listing.infos if _under(info.id, realm)})


def _under(id_: ID, realm: ID) -> bool:
    return id_.value.startswith(realm.value + "/")


def _copy(
    engine: Engine, source: Envelope, new: ID, *, plugin: str, target: str, replace: bool
) -> str:
    """Write ``source``'s value and metadata as ``new`` in ``target``; the new version.

    Raises (the old secret kept, nothing new written) when ``new`` exists and ``replace`` is
    not given, or when the write fails."""
    old = source.id
    kept = f"nothing moved, {where(plugin, old)} is as it was"
    expected: str | None = None
    if not replace:
        if engine.versioned(target):
            expected = NO_SECRET  # the plugin checks it under its own write lock
        else:
            _refuse_taken(engine, new, target, kept)  # the best check it allows
    try:
        saved = engine.save(
            new, source.value, source.metadata, plugin=target, **_expecting(expected)
        )
    except VersionConflictError as exc:
        if expected is None:  # a blind write the plugin could not make (writers kept racing)
            raise DockerPassError(f"cannot write {where(target, new)}: {exc}; {kept}") from None
        raise _taken(new, target, exc.found, kept, exc) from None
    except PluginTimeoutError as exc:
        raise DockerPassError(
            f"{exc}: {where(target, new)} may or may not have been written; "
            f"{where(plugin, old)} is as it was"
        ) from None
    except DockerPassError as exc:
        failed = DockerPassError(f"cannot write {where(target, new)}: {exc}; {kept}")
        raise failed.with_hints(*exc.hints) from None
    return saved.version


def _expecting(expected: str | None) -> dict[str, str]:
    return {} if expected is None else {"expected_version": expected}


def _refuse_taken(engine: Engine, new: ID, target: str, kept: str) -> None:
    listing = engine.list_secrets(Pattern(new.value), plugin=target)
    for info in listing.infos:
        if info.id == new:
            raise _taken(new, target, info.version, kept, None)


def _taken(
    new: ID, target: str, found: str, kept: str, cause: VersionConflictError | None
) -> VersionConflictError:
    version = f" (version {found})" if found and found != NO_SECRET else ""
    return VersionConflictError(
        f"{where(target, new)} exists already{version}: {kept} (--replace overwrites it)",
        id_=new.value,
        provider=target,
        expected=NO_SECRET,
        found=found,
        changed_at=cause.changed_at if cause is not None else None,
        changed_by=cause.changed_by if cause is not None else "",
    )


def _remove_old(
    engine: Engine, source: Envelope, new: ID, *, plugin: str, target: str, version: str
) -> Moved:
    """Remove the old secret if it is still what was copied; what exists where."""
    old = source.id
    # Only a plugin that keeps versions honours one (an envelope may carry a token anyway).
    checked = bool(source.version) and _versioned(engine, plugin)

    def result(outcome: str, message: str) -> Moved:
        return Moved(
            old, new, plugin, target, outcome, version=version, message=message, checked=checked
        )

    def kept(why: str) -> Moved:
        return result(Moved.BOTH_KEPT, f"copied to {where(target, new)} but {why}: both kept")

    gone = f"{where(plugin, old)} was removed meanwhile"
    if not checked:
        # No version to compare: the next best is its value and metadata, read again.
        try:
            now = engine.get(old, plugin=plugin)
        except SecretNotFoundError:
            return result(Moved.MOVED, gone)
        except DockerPassError as exc:
            return kept(f"{where(plugin, old)} could not be read again ({exc})")
        if (now.value, dict(now.metadata)) != (source.value, dict(source.metadata)):
            return kept(f"{where(plugin, old)} changed meanwhile")
    expected = {old: source.version} if checked else None
    try:
        removal = engine.remove([old], plugin=plugin, expected_versions=expected)
    except DockerPassError as exc:  # the plugin went down meanwhile, say
        return kept(f"{where(plugin, old)} could not be removed ({exc})")
    outcome = removal.outcomes[0][1] if removal.outcomes else "no answer"
    if outcome == Removal.REMOVED:
        note = "" if checked else f"{plugin} keeps no versions: compared before removal"
        return result(Moved.MOVED, note)
    if outcome == Removal.MISSING:
        return result(Moved.MOVED, gone)
    # Refused or failed: read it again to say which.
    try:
        now_version = engine.get(old, plugin=plugin).version
    except SecretNotFoundError:
        return result(Moved.MOVED, gone)
    except DockerPassError:
        now_version = ""
    if checked and now_version and now_version != source.version:
        return kept(
            f"{where(plugin, old)} changed meanwhile (version {describe_version(now_version)} "
            f"≠ {describe_version(source.version)})"
        )
    return kept(f"{where(plugin, old)} could not be removed ({outcome})")


def _versioned(engine: Engine, plugin: str) -> bool:
    try:
        return engine.versioned(plugin)
    except DockerPassError:
        return False  # it answered the read a moment ago; removing will say what is wrong
