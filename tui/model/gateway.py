"""The TUI's one door to the engine: plain blocking calls, made from thread workers only.

A plugin is never used by two threads at once (a D-Bus connection, a 1Password session): each
call for one plugin takes that plugin's lock.  Different plugins do not wait for each other, so
a slow plugin delays only its own calls, and never the event loop.

A reload or ``close`` retires the current front: calls still running on it finish there (new
calls get a fresh front with fresh locks), and the last of them closes it.  So closing never
waits for a busy plugin; a call that never returns leaves its front to the process's exit.
That bookkeeping is :class:`~docker_pass.core.generations.Generations`, the daemon's too.

The gateway also notices when another process changes the plugins' shared state (``plugins.json``
and the enabled flags in ``config.json``), so the plugins panel can follow it live: the files'
:func:`~docker_pass.core.generations.file_signature` first, then what they say.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from docker_pass.core.config import config_path, load_config
from docker_pass.core.duplicates import others_holding
from docker_pass.core.envelope import SecretInfo
from docker_pass.core.errors import DockerPassError, SecretNotFoundError, VersionConflictError
from docker_pass.core.generations import Generations, GenerationsClosedError, file_signature
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.names import KEYCHAIN_PLUGIN
from docker_pass.core.results import Listing, PluginStatus, Removal
from docker_pass.core.state import load_run_states, state_path
from docker_pass.core.versions import NO_SECRET

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator, Mapping

    from docker_pass.core.engine import Engine
    from docker_pass.core.envelope import Envelope
    from docker_pass.core.generations import Signature
    from docker_pass.core.moves import Moved, RealmMoved
    from docker_pass.core.plugin import RunningWatcher, WatchHint
    from docker_pass.core.remote.front import EngineFront
    from docker_pass.core.setup import Setup, SetupResult
    from docker_pass.tui.watch import OwnWatcherFactory

EVERYTHING = Pattern("**")

#: What the plugins' shared state means to us: run status and message, and enabled flags.
StateMeaning = tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, bool], ...]]


@dataclass(frozen=True, slots=True)
class SecretDraft:
    """What the editor asks to save.  ``value=None`` keeps the secret's current value."""

    id: ID
    value: bytes | None
    metadata: Mapping[str, str]
    provider: str = KEYCHAIN_PLUGIN
    #: The version the save expects (:mod:`docker_pass.core.versions`): the one the editor
    #: opened; ``None`` writes blind (a plugin that keeps no versions).
    expected_version: str | None = None
    #: Save even though another running plugin holds the ID (the person was asked).
    allow_duplicate: bool = False
    #: The secret's old ID when the editor's ID field renamed it: the save is a move.
    renamed_from: ID | None = None
    #: A rename may write over a secret at the new ID (the person was asked).
    replace: bool = False

    def __repr__(self) -> str:
        # Spelled out so that a value never reaches a log or a traceback.
        return f"SecretDraft({self.id.value!r}, provider={self.provider!r})"


@dataclass(eq=False, slots=True)
class _Front:
    """One front and its plugins' locks: a fresh front comes with fresh locks."""

    front: EngineFront
    locks: dict[str, threading.RLock] = field(default_factory=dict)

    def close(self) -> None:
        self.front.close()


class SecretsGateway:
    """Access to one engine front — the daemon's (``docker pass ui`` when one runs) or an
    embedded :class:`Engine` — built on first use by ``front_factory``; one lock per plugin."""

    def __init__(self, front_factory: Callable[[], EngineFront]) -> None:
        #: The front and the calls on it (:mod:`docker_pass.core.generations`).
        self._fronts: Generations[_Front] = Generations(
            lambda: _Front(front_factory()), _Front.close
        )
        #: Guards the bookkeeping below; held only for a few assignments, never over a call.
        self._books = threading.Lock()
        #: Plugin name -> calls in flight for it; ``None`` counts calls that touch every plugin.
        self._busy: dict[str | None, int] = {}
        self._stamp: Signature | None = None
        self._meaning: StateMeaning | None = None
        #: Engines of one plugin each, made here to watch it when the daemon's feed cannot.
        self._local: dict[str, Engine] = {}

    # -- engine verbs -----------------------------------------------------------------------

    def plugins(self, *, start: bool = True) -> list[PluginStatus]:
        """Every plugin's status; with ``start``, enabled plugins are started to show their
        health (without, the statuses last recorded: nothing slow runs).

        It takes no plugin's lock (the engine starts each plugin once, whichever thread asks
        first), but a plugin may answer its status only between its own calls."""
        with self._using(None) as front:
            try:
                return front.plugins(start=start)
            finally:
                self._remember_state()

    def plugin_status(self, name: str) -> PluginStatus | None:
        """Plugin ``name``'s status, asking no other plugin where the front can (an embedded
        engine); ``None`` if the front does not know it."""
        with self._using(name) as front:
            try:
                ask = getattr(front, "status", None)
                if callable(ask):
                    status = ask(name)
                    return status if isinstance(status, PluginStatus) else None
                return next((s for s in front.plugins(start=False) if s.name == name), None)
            finally:
                self._remember_state()

    def list_plugin(self, name: str) -> list[SecretInfo]:
        """IDs, metadata and versions of plugin ``name`` (internal ones left out), sorted by
        ID, with its deleted secrets marked ``deleted`` (a plugin that keeps them: vault); its
        failure raises."""
        with self._using(name) as front:
            try:
                return front.list_secrets(EVERYTHING, plugin=name, deleted=True).infos
            finally:
                self._remember_state()

    def read_value(self, info: SecretInfo) -> bytes:
        """The value of ``info`` from the plugin that listed it."""
        return self.read_secret(info).value

    def read_secret(self, info: SecretInfo) -> Envelope:
        """``info``'s secret as stored now: value, metadata and version."""
        with self._using(info.provider) as front:
            return front.get(info.id, plugin=info.provider)

    def version_of(self, info: SecretInfo, *, read: bool = True) -> str:
        """The version of ``info``'s secret now, as an editor opens it: its token,
        ``NO_SECRET`` when there is none, ``""`` when not known.

        A listing of that one ID comes first (no value: a file store's index, a vault's one
        metadata read); when it carries no version and ``read`` allows, the secret is read
        (the value goes no further than this call)."""
        with self._using(info.provider) as front:
            try:
                listed = front.list_secrets(Pattern(info.id.value), plugin=info.provider).infos
            except DockerPassError:
                listed = None  # it cannot list (or not now): a read says
            if listed is not None:
                entry = next((i for i in listed if i.id == info.id), None)
                if entry is None:
                    return NO_SECRET
                if entry.version or not read:
                    return entry.version
            if not read:
                return ""
            try:
                return front.get(info.id, plugin=info.provider).version
            except SecretNotFoundError:
                return NO_SECRET

    def current_version(self, id_: ID, provider: str) -> str:
        """The version of ``id_`` in ``provider`` now: its token, ``NO_SECRET`` when there is
        none, ``""`` when the plugin keeps no versions.  The value read goes no further."""
        envelope = self.read_for_undo(id_, provider)
        return NO_SECRET if envelope is None else envelope.version

    def others_holding(self, id_: ID, plugin: str, running: Collection[str]) -> list[str]:
        """The plugins among ``running`` other than ``plugin`` that hold ``id_`` now
        (:func:`docker_pass.core.duplicates.others_holding`: each asked for that one ID,
        under its own lock; one that cannot answer is not counted)."""
        return others_holding(_LockedLister(self, running), id_, plugin)

    def read_for_undo(self, id_: ID, provider: str) -> Envelope | None:
        """The secret as it is now (value and metadata), read right before a delete or a
        replace so that ``u`` can restore it; ``None`` when there is none to replace."""
        with self._using(provider) as front:
            try:
                return front.get(id_, plugin=provider)
            except SecretNotFoundError:
                return None

    def save(self, draft: SecretDraft) -> SecretInfo:
        """Create or replace a secret (only if it is still ``draft.expected_version``: else
        :class:`~docker_pass.core.errors.VersionConflictError`, nothing written); returns
        what the listing should now show, with the new version."""
        with self._using(draft.provider) as front:
            value = draft.value
            if value is None:
                value = _current_value(front, draft)
            saved = front.save(
                draft.id,
                value,
                draft.metadata,
                plugin=draft.provider,
                expected_version=draft.expected_version,
            )
        metadata = MappingProxyType(dict(draft.metadata))
        return SecretInfo(draft.id, draft.provider, metadata, version=saved.version)

    def delete(self, info: SecretInfo, expected_version: str | None = None) -> bool:
        """Remove a secret (only if it is still ``expected_version``, when given); whether
        it existed."""
        expected = None if expected_version is None else {info.id: expected_version}
        with self._using(info.provider) as front:
            removal = front.remove([info.id], plugin=info.provider, expected_versions=expected)
        return _outcome(removal, Removal.REMOVED)

    def undelete(self, info: SecretInfo) -> bool:
        """Restore the deleted latest version of ``info``; whether there was one."""
        with self._using(info.provider) as front:
            removal = front.undelete([info.id], plugin=info.provider)
        return _outcome(removal, Removal.RESTORED)

    def purge(self, info: SecretInfo) -> bool:
        """Remove every version of ``info`` (a plugin that keeps versions: vault); whether
        there was any."""
        with self._using(info.provider) as front:
            removal = front.remove([info.id], plugin=info.provider, purge_versions=True)
        return _outcome(removal, Removal.REMOVED)

    def move(self, info: SecretInfo, new: ID, to_plugin: str, *, replace: bool) -> Moved:
        """Move ``info`` to ``new`` in ``to_plugin``
        (:func:`docker_pass.core.moves.move`: the old one removed only if it is still the
        version copied); both plugins' locks held."""
        with self._using(info.provider, to_plugin) as front:
            return front.move(
                info.id, new, plugin=info.provider, to_plugin=to_plugin, replace=replace
            )

    def move_realm(
        self, realm: ID, new: ID, plugin: str, to_plugin: str, *, replace: bool
    ) -> RealmMoved:
        """Move every secret under ``realm`` of ``plugin`` to ``new`` in ``to_plugin``."""
        with self._using(plugin, to_plugin) as front:
            return front.move_realm(realm, new, plugin=plugin, to_plugin=to_plugin, replace=replace)

    def set_enabled(self, name: str, enabled: bool) -> PluginStatus:
        """Enable (which also clears a crash and starts it) or disable a configurable plugin."""
        with self._using(name) as front:
            try:
                return front.enable(name) if enabled else front.disable(name)
            finally:
                self._remember_state()

    def apply_setup(self, setup: Setup, answers: Mapping[str, str]) -> SetupResult:
        """A plugin's setup form applied through this front (:func:`core.setup.apply_setup`:
        validated, then the secrets stored, settings written, the plugin enabled)."""
        from docker_pass.core.setup import apply_setup

        # The secret fields go to the keychain plugin: its lock is held.
        with self._using(KEYCHAIN_PLUGIN) as front:
            try:
                return apply_setup(setup, answers, keychain=front, plugins=front)
            finally:
                self._remember_state()

    def stored_setup_fields(self, setup: Setup) -> frozenset[str]:
        """The secret fields of ``setup`` that have an answer stored: listed in the reserved
        realm, never read (the form says "stored; leave empty to keep")."""
        from docker_pass.core.setup import secret_id

        names: set[str] = set()
        secret_fields = [f for f in setup.fields if f.secret]
        if not secret_fields:
            return frozenset()
        with self._using(KEYCHAIN_PLUGIN) as front:
            for item in secret_fields:
                id_ = secret_id(setup.plugin, item.name)
                try:
                    listed = front.list_secrets(
                        Pattern(id_.value), plugin=KEYCHAIN_PLUGIN, reserved=True
                    ).infos
                except DockerPassError:
                    continue  # the keychain cannot say: the form makes no claim
                if any(info.id == id_ for info in listed):
                    names.add(item.name)
        return frozenset(names)

    def watch_hint(self, name: str) -> tuple[str, str] | None:
        """How plugin ``name`` can be watched for other processes' changes, if the front
        knows (an embedded engine asks the plugin; through the daemon: ``None``)."""
        with self._using(name) as front:
            ask = getattr(front, "watch_hint", None)
            if not callable(ask):
                return None
            hint = ask(name)
        if isinstance(hint, tuple) and len(hint) == 2:
            return str(hint[0]), str(hint[1])
        return None

    def watcher(
        self, name: str, on_change: Callable[[], None], on_failure: Callable[[str], None]
    ) -> RunningWatcher | None:
        """Plugin ``name``'s own watcher, not started (an embedded engine asks the plugin:
        the keychain on the Secret Service makes one; through the daemon: ``None``)."""
        with self._using(name) as front:
            make = getattr(front, "watcher", None)
            if not callable(make):
                return None
            made: RunningWatcher | None = make(name, on_change, on_failure)
            return made

    def through_daemon(self) -> bool:
        """Whether calls go to the engine daemon now (its plugins do not run here)."""
        with self._using(None) as front:
            return bool(getattr(front, "using_daemon", False))

    def feed_path(self) -> str | None:
        """The daemon's socket, when calls go to a daemon that offers the change feed
        (:data:`~docker_pass.core.remote.wire.WATCH_FEATURE`); else ``None``."""
        from docker_pass.core.remote.wire import WATCH_FEATURE

        with self._using(None) as front:
            client = getattr(front, "client", None)
            if not getattr(front, "using_daemon", False) or client is None:
                return None
            features = client.features()
            return str(client.path) if WATCH_FEATURE in features else None

    def fallback_watch(self, name: str) -> tuple[WatchHint | None, OwnWatcherFactory]:
        """How to watch plugin ``name`` from here when the daemon's feed cannot tell us: a
        local engine of that plugin alone gives its hint and makes its own watcher (the
        stores are shared, so what it sees is what the daemon serves)."""
        from docker_pass.core.engine import Engine

        with self._books:
            local = self._local.get(name)
            if local is None:
                local = self._local[name] = Engine.for_plugin(name)
        local.plugins()  # starts it (it alone): a hint comes from a running plugin
        hint = local.watch_hint(name)

        def own(
            on_change: Callable[[], None], on_failure: Callable[[str], None]
        ) -> RunningWatcher | None:
            return local.watcher(name, on_change, on_failure)

        return hint, own

    def versioned(self, name: str) -> bool | None:
        """Whether plugin ``name`` keeps versions, if the front can say without a read (an
        embedded engine asks the plugin; through the daemon: ``None``, and the versions
        its secrets carry tell)."""
        with self._using(name) as front:
            ask = getattr(front, "versioned", None)
            if not callable(ask):
                return None
            answer = ask(name)
        return answer if isinstance(answer, bool) else None

    def reload(self) -> None:
        """Drop the front; the next call builds a fresh one that reads the shared state anew.

        Calls still running finish on the old front, which the last of them closes."""
        self._fronts.retire()

    def close(self) -> None:
        """Stop every plugin the engine started (now, or when a running call ends); later
        calls fail.  Never waits for a busy plugin."""
        self._fronts.close()
        with self._books:
            local, self._local = list(self._local.values()), {}
        for engine in local:
            engine.close()

    # -- watching the shared state ----------------------------------------------------------

    def state_changed_elsewhere(self) -> bool:
        """Whether another process changed plugin state since our last engine call.

        Cheap when nothing changed (two ``stat`` calls).  What our own running calls may be
        writing is left out: a plugin busy in a call may record its own state, and a call on
        every plugin (statuses) skips the check altogether.
        """
        with self._books:
            if self._busy.get(None):
                return False
            busy = frozenset(name for name, n in self._busy.items() if n and name is not None)
            known = self._meaning
        if known is None:
            self._remember_state()  # nothing of ours to compare with yet
            return False
        stamp = _state_stamp()
        if stamp == self._stamp:
            return False
        meaning = _state_meaning()
        if _leaving_out(meaning, busy) == _leaving_out(known, busy):
            if not busy:
                self._stamp = stamp  # rewritten with the same content (a plugin restarted)
            return False
        with self._books:
            self._stamp, self._meaning = stamp, meaning
        return True

    # -- internals --------------------------------------------------------------------------

    @contextmanager
    def _using(self, *plugins: str | None) -> Iterator[EngineFront]:
        """The current front, with each of ``plugins``' locks held (none for ``None``; two
        are taken in name order, so that two moves between the same plugins never wait for
        each other crosswise)."""
        names = sorted({p for p in plugins if p is not None})
        counted: list[str | None] = list(names) or [None]
        with self._books:
            for name in counted:
                self._busy[name] = self._busy.get(name, 0) + 1
        try:
            try:
                generation, _built = self._fronts.enter()
            except GenerationsClosedError:
                raise DockerPassError("the UI is closing") from None
            try:
                with ExitStack() as locks:
                    for name in names:
                        locks.enter_context(self._plugin_lock(generation.item, name))
                    yield generation.item.front
            finally:
                self._fronts.leave(generation)
        finally:
            with self._books:
                for name in counted:
                    self._busy[name] -= 1

    @contextmanager
    def _plugin_lock(self, front: _Front, plugin: str | None) -> Iterator[None]:
        """``plugin``'s lock on ``front`` held (no lock for ``None``)."""
        if plugin is None:
            yield
            return
        with self._books:
            lock = front.locks.setdefault(plugin, threading.RLock())
        with lock:
            yield

    def _remember_state(self) -> None:
        """Note the shared state our own call left, so it is not taken for another process's.

        Read under the lock: two calls ending at once must not leave the older reading last.
        """
        with self._books:
            self._stamp, self._meaning = _state_stamp(), _state_meaning()


class _LockedLister:
    """A :class:`~docker_pass.core.duplicates.Lister` over ``plugins``, each asked under its
    own lock (the engine's own fan-out would bypass the gateway's locks)."""

    def __init__(self, gateway: SecretsGateway, plugins: Collection[str]) -> None:
        self._gateway = gateway
        self._plugins = sorted(plugins)

    def list_secrets(self, pattern: Pattern) -> Listing:
        infos: list[SecretInfo] = []
        for name in self._plugins:
            try:
                with self._gateway._using(name) as front:
                    infos.extend(front.list_secrets(pattern, plugin=name).infos)
            except DockerPassError:
                continue  # it cannot answer: not counted (as core's holders does)
        return Listing(infos)


def _outcome(removal: Removal, done: str) -> bool:
    """Whether the one ID of ``removal`` was ``done`` (``False``: missing); else its error."""
    ((_, outcome),) = removal.outcomes
    if outcome not in (done, Removal.MISSING):
        raise DockerPassError(outcome)
    return outcome == done


def _current_value(front: EngineFront, draft: SecretDraft) -> bytes:
    """The stored value a metadata-only save keeps; a secret gone since the editor opened it
    is a conflict like any other change (nothing is written)."""
    try:
        return front.get(draft.id, plugin=draft.provider).value
    except SecretNotFoundError:
        if draft.expected_version is None:
            raise
        raise VersionConflictError(
            f"{draft.id.value} is no longer in {draft.provider}",
            id_=draft.id.value,
            provider=draft.provider,
            expected=draft.expected_version,
            found=NO_SECRET,
        ) from None


def _leaving_out(meaning: StateMeaning, names: frozenset[str]) -> StateMeaning:
    """``meaning`` without what it says of plugins ``names``."""
    if not names:
        return meaning
    runs, enabled = meaning
    return (
        tuple(r for r in runs if r[0] not in names),
        tuple(e for e in enabled if e[0] not in names),
    )


def _state_stamp() -> Signature:
    """How the state and config files look now (:func:`file_signature`)."""
    return file_signature(state_path(), config_path())


def _state_meaning() -> StateMeaning:
    """The part of the shared state the UI shows: statuses, messages and enabled flags."""
    runs = tuple(sorted((n, s.status, s.message) for n, s in load_run_states().items()))
    sections = load_config().get("plugins", {})
    enabled: list[tuple[str, bool]] = []
    if isinstance(sections, dict):
        for name, section in sections.items():
            if isinstance(section, dict) and "enabled" in section:
                from docker_pass.core.config_schema import enabled_flag

                enabled.append((str(name), enabled_flag(section["enabled"]) is True))
    return runs, tuple(sorted(enabled))
