"""The plugin protocol: what every secrets provider offers the engine.

Built-in plugins implement it exactly as a third-party one would.  A plugin is constructed with
no arguments (configuration comes from its own section of the config file), then started.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from docker_pass.core.grammar import typed_id_problem
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.names import ENGINE_REALM, KEYCHAIN_PLUGIN

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Iterable, Mapping

    from docker_pass.core.envelope import Envelope, SecretInfo

#: Internal secrets of the engine and its plugins (for example service-account tokens).
INTERNAL_REALM = Pattern(f"{ENGINE_REALM}/**")
__all__ = ["INTERNAL_REALM", "KEYCHAIN_PLUGIN"]  # KEYCHAIN_PLUGIN's home is core.names


def is_reserved(id_: ID | str) -> bool:
    """Whether ``id_`` lies in the reserved realm ``docker/secrets-engine/**``.

    The one rule, applied by every front: such secrets are listed only on request (``ls
    --all-realms``; never in the TUI's tree), ``rm --all`` keeps them unless asked, the TUI's
    editor does not create them, and no resolution (``run``, the daemon, containers) returns them.
    """
    return INTERNAL_REALM.matches(id_)


def new_id_problem(text: str) -> str:
    """Why ``text``, typed as the ID of a new secret, cannot be one ("" when it can): the ID
    grammar (:func:`~docker_pass.core.grammar.typed_id_problem`), then the engine's realm."""
    reason = typed_id_problem(text)
    if not reason and is_reserved(text):
        reason = f"{ENGINE_REALM}/… is reserved for the engine's own secrets"
    return reason


def enable_remedy(name: str) -> str:
    """The command that brings plugin ``name`` back after a crash or after disabling it."""
    return f"docker pass plugins enable {name}"


def with_remedy(name: str, text: str) -> str:
    """``text (docker pass plugins enable NAME)``; ``text`` alone when it names that command
    already (a plugin's own message often ends "…, then run: docker pass plugins enable X")."""
    remedy = enable_remedy(name)
    return text if remedy in text else f"{text} ({remedy})"


def remedy_hints(name: str, message: str) -> tuple[str, ...]:
    """The remedy as a hint line under ``message``, unless ``message`` already holds it."""
    remedy = enable_remedy(name)
    return () if remedy in message else (remedy,)


class Capability(StrEnum):
    """What a plugin can do with its secrets."""

    LIST = "list"
    READ = "read"
    WRITE = "write"
    DELETE = "delete"


#: What a plugin that declares nothing can do (it can always be asked to resolve).
READ_ONLY = frozenset({Capability.LIST, Capability.READ})
READ_WRITE = frozenset(Capability)


def capabilities_of(plugin: object) -> frozenset[Capability]:
    """The capabilities a plugin (class or instance) declares.

    A plugin written before ``capabilities`` existed declares ``writable``; that still counts.
    """
    declared: Iterable[str] | None = getattr(plugin, "capabilities", None)
    if declared is not None:
        return frozenset(Capability(c) for c in declared)
    return READ_WRITE if getattr(plugin, "writable", False) else READ_ONLY


@runtime_checkable
class Plugin(Protocol):
    """A secrets provider.

    Errors: :class:`~docker_pass.core.errors.SecretNotFoundError` is an ordinary miss;
    :class:`~docker_pass.core.errors.FatalPluginError` means the plugin cannot go on (the engine
    marks it crashed with the error's message, which says how to fix it); any other
    :class:`~docker_pass.core.errors.DockerPassError` fails the one request.
    """

    name: str
    version: str
    #: The IDs this plugin serves.
    pattern: Pattern
    #: Whether a person may enable and disable it.
    configurable: bool
    #: What it can do: list, read, and (with ``save``/``delete``) write and delete.
    capabilities: frozenset[Capability]

    def start(self) -> None:
        """Get ready (connect, warm caches); raise ``FatalPluginError`` if it cannot."""
        ...

    def stop(self) -> None:
        """Release what ``start`` took."""
        ...

    def list(self, pattern: Pattern) -> list[SecretInfo]:
        """IDs and metadata matching ``pattern``, without values (with ``Capability.LIST``)."""
        ...

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        """Envelopes (with values) matching ``pattern``."""
        ...

    def storage(self) -> str:
        """Where its secrets live, for ``plugins ls`` and the TUI (may be empty)."""
        ...


@runtime_checkable
class KnowsStoreKind(Protocol):
    """Optional for a :class:`Plugin`: it says what kind of store it keeps secrets in, so a
    front names it without reading the storage text (the TUI's editor: "Saves to docker-pass
    (encrypted file store)").  Reported as ``PluginStatus.store_kind``."""

    def store_kind(self) -> str:
        """A kind of store (``secret-service``, ``file``, ``keyring``), or "" if unknown."""
        ...


@runtime_checkable
class WritablePlugin(Plugin, Protocol):
    """A plugin that also reads one secret, stores and removes secrets (``docker-pass``).

    A plugin that keeps versions declares ``versioned = True``
    (:mod:`docker_pass.core.versions`): its ``get`` puts the version in the envelope, and
    ``save`` and ``delete`` take ``expected_version`` (``None``: a blind write) and raise
    :class:`~docker_pass.core.errors.VersionConflictError` when the stored secret is not that
    version, comparing under their own write lock.  An unversioned plugin is never passed one.
    """

    def get(self, id_: ID) -> Envelope:
        """One secret with its value (and version); raise ``SecretNotFoundError``."""
        ...

    def save(self, id_: ID, value: bytes, metadata: Mapping[str, str]) -> str | None:
        """Create or replace a secret; its new version (``""`` or ``None``: not known).  A
        versioned plugin also takes ``expected_version=``."""
        ...

    def delete(self, id_: ID) -> bool:
        """Remove a secret; whether it existed.  A versioned plugin also takes
        ``expected_version=``."""
        ...


#: How a plugin's secrets can be watched for changes other processes make:
#: ``("secret-service", <collection object path>)`` — the collection's ``ItemCreated``,
#: ``ItemDeleted`` and ``ItemChanged`` signals on the session bus; ``("directory", <path>)`` —
#: the entries of a directory (one file per secret).
WatchHint = tuple[str, str]


@runtime_checkable
class Watchable(Protocol):
    """Optional for a :class:`Plugin`: it says how a front (the TUI) can notice other
    processes' changes to its secrets.  Plugins without it are refreshed on an interval."""

    def watch_hint(self) -> WatchHint | None:
        """How to watch the secrets now, or ``None`` when there is no cheap way."""
        ...


class RunningWatcher(Protocol):
    """A watcher a plugin made (:class:`OwnWatcher`): a daemon thread between ``start`` and
    ``stop`` that calls its ``on_change`` once per burst of changes."""

    def start(self) -> None:
        """Begin watching (returns at once)."""
        ...

    def stop(self) -> None:
        """Stop watching (returns at once; the thread ends soon after)."""
        ...


@runtime_checkable
class OwnWatcher(Protocol):
    """Optional for a :class:`Watchable` plugin whose hint needs its SDK to follow (the
    keychain on the Secret Service: its collection's signals over D-Bus): it makes the watcher
    itself, so that a front (the TUI, the daemon's change feed) needs no backend library."""

    def watcher(
        self, on_change: Callable[[], None], on_failure: Callable[[str], None]
    ) -> RunningWatcher | None:
        """A watcher of the secrets as the hint says, not started; ``None`` if the plugin's
        hint is not one it follows itself.  ``on_failure(reason)``: it stopped following."""
        ...


@runtime_checkable
class WarmDirectory(Protocol):
    """Optional for a :class:`Plugin`: while it keeps values warm (the engine daemon asks
    plugins that can to), the one directory whose entries alone decide what its ``resolve``
    answers, so that any change to its secrets is an entry of that directory created,
    removed, renamed over or written (the file store: one record and one value file per
    secret, directly in it).  The daemon then answers again what it resolved before, until
    the kernel reports a change there (:mod:`docker_pass.daemon.changes`)."""

    def warm_directory(self) -> str | None:
        """That directory, or ``None`` when values are not kept warm (or it has none)."""
        ...


@runtime_checkable
class WarmAnswers(Protocol):
    """Optional for a :class:`WarmDirectory` plugin: its warm values, read without waiting.

    The daemon answers a pattern it has not seen yet on its event loop, with no engine
    thread, when every plugin serving it can answer this way (a thread's every step waits
    for the interpreter lock while the loop reads a burst of requests)."""

    def peek_warm(self, pattern: Pattern) -> list[Envelope] | None:
        """What ``resolve(pattern)`` would answer, from memory and at most one ``stat`` of a
        file in the warm directory (never a read, a lock or a decryption): ``None`` whenever
        that is not enough to say, and then the daemon asks ``resolve`` on an engine thread.
        """
        ...

    def fill_warm(self) -> int:
        """Read and keep warm the values of every secret (as many as it keeps at most), so
        that the first lookups after a start are answered from memory; how many it holds."""
        ...
