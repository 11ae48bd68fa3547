"""What the engine's verbs return: result objects that every front renders its own way.

The CLI prints them as text or JSON (``docker_pass.cli.render``), the TUI posts them as messages,
the daemon turns them into protobuf.  None of them shows a secret value in its ``repr``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from docker_pass.core.errors import PluginError, SecretNotFoundError
from docker_pass.core.plugin import Capability, enable_remedy, is_reserved, with_remedy
from docker_pass.core.state import RunStatus
from docker_pass.core.value import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from docker_pass.core.envelope import Envelope, SecretInfo
    from docker_pass.core.ids import ID, Pattern


#: One plugin's answer to a resolution: its name, the IDs it may answer for (its own pattern,
#: else the part it was asked), the part it was asked, and the envelopes it sent.
Answer = tuple[str, "Pattern", "Pattern", "Sequence[Envelope]"]

#: How much of a plugin's message a result keeps (its remedy, at the end, must survive).
MESSAGE_LIMIT = 600


def _outside(text: str) -> str:
    """A plugin's text as every front may show it (:mod:`docker_pass.core.outside`, imported
    only when there is text: ``get`` builds no status)."""
    if not text:
        return text
    from docker_pass.core.outside import clean_outside

    return clean_outside(text, MESSAGE_LIMIT)


def _outside_values(messages: dict[str, str] | None) -> dict[str, str]:
    """Plugin name -> message, each message made safe by :func:`_outside`."""
    return {name: _outside(text) for name, text in messages.items()} if messages else {}


class PluginStatus(FrozenValue):
    """What ``plugins ls`` shows of one plugin."""

    __slots__ = (
        "capabilities",
        "changed_at",
        "configurable",
        "enabled",
        "external",
        "message",
        "name",
        "pattern",
        "status",
        "storage",
        "store_kind",
        "version",
    )
    name: str
    version: str
    status: RunStatus
    configurable: bool
    enabled: bool
    pattern: str
    message: str
    storage: str
    #: What kind of store it keeps secrets in, as the store says (the ``docker-pass`` plugin:
    #: ``secret-service``, ``file`` or ``keyring``); "" for a plugin that does not say.
    store_kind: str
    #: What the plugin can do: list, read, write, delete.
    capabilities: frozenset[Capability]
    changed_at: float
    #: Not shipped with docker-pass: installed beside it (a Python distribution's entry
    #: point), or a program built with Docker's plugin SDK that the daemon hosts.
    external: bool

    def __init__(
        self,
        *,
        name: str,
        version: str,
        status: RunStatus | str,
        configurable: bool,
        enabled: bool,
        pattern: str,
        message: str = "",
        storage: str = "",
        capabilities: frozenset[Capability] = frozenset({Capability.LIST, Capability.READ}),
        changed_at: float = 0.0,
        store_kind: str = "",
        external: bool = False,
    ) -> None:
        self._set("name", name)
        self._set("version", version)
        self._set("status", RunStatus(status))
        self._set("configurable", configurable)
        self._set("enabled", enabled)
        self._set("pattern", pattern)
        # A plugin's words (its crash message, where it stores: a server's answer, a path from
        # a file): shown by every front, so made safe once, here.
        self._set("message", _outside(message))
        self._set("storage", _outside(storage))
        self._set("store_kind", store_kind)
        self._set("capabilities", frozenset(capabilities))
        self._set("changed_at", changed_at)
        self._set("external", external)

    @property
    def is_down(self) -> bool:
        """Whether the plugin stays down until someone re-enables it (crashed, gave up)."""
        return self.status.is_down

    @property
    def writable(self) -> bool:
        """Whether it stores secrets (``set``, the TUI editor)."""
        return Capability.WRITE in self.capabilities

    @property
    def remedy(self) -> str:
        """The command that brings a down plugin back."""
        return enable_remedy(self.name)

    def __repr__(self) -> str:
        return f"PluginStatus({self.name!r}, {self.status.value!r}, {self.message!r})"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "status": self.status.value,
            "configurable": self.configurable,
            "enabled": self.enabled,
            "external": self.external,
            "pattern": self.pattern,
            "message": self.message,
            "storage": self.storage,
            "writable": self.writable,
            "capabilities": sorted(c.value for c in self.capabilities),
        }


class Resolution(FrozenValue):
    """The outcome of resolving one pattern across plugins (envelopes carry values)."""

    __slots__ = ("answered", "asked", "down", "envelopes", "errors", "pattern")
    pattern: Pattern
    envelopes: list[Envelope]
    #: plugins whose pattern overlaps the request, in the order they were asked
    asked: list[str]
    #: plugins that answered without an error (possibly with nothing)
    answered: list[str]
    #: plugin name -> error message, for plugins that failed this request
    errors: dict[str, str]
    #: plugin name -> why, for enabled plugins that serve the pattern but are down (crashed…)
    down: dict[str, str]

    def __init__(
        self,
        pattern: Pattern,
        envelopes: list[Envelope],
        asked: list[str],
        answered: list[str],
        errors: dict[str, str] | None = None,
        down: dict[str, str] | None = None,
    ) -> None:
        self._set("pattern", pattern)
        self._set("envelopes", envelopes)
        self._set("asked", asked)
        self._set("answered", answered)
        self._set("errors", _outside_values(errors))
        self._set("down", _outside_values(down))

    def envelopes_or_raise(self) -> list[Envelope]:
        """The envelopes; when there are none, the error of the first plugin that failed, else
        ``secret not found`` (naming the plugins that were down, as hints).

        The one rule for an empty answer: ``get``, ``run``, the daemon and the TUI all use it.
        """
        if not self.envelopes:
            if self.errors:
                name, message = next(iter(self.errors.items()))
                raise PluginError(f"{name}: {message}")
            raise SecretNotFoundError().with_hints(*down_hints(self.down))
        return self.envelopes

    def __repr__(self) -> str:
        return (
            f"Resolution({self.pattern.value!r}, {len(self.envelopes)} envelopes, "
            f"asked={self.asked}, answered={self.answered}, errors={self.errors})"
        )


#: Why a plugin without a list call (one written with Docker's SDK) is in a listing's errors:
#: not a failure, so a listing that only lacks such plugins' IDs still succeeded.
CANNOT_LIST = "cannot list its secrets (it resolves IDs it is asked for)"


def merged_resolution(
    pattern: Pattern,
    answers: Iterable[Answer],
    asked: list[str],
    errors: dict[str, str],
    down: dict[str, str],
) -> Resolution:
    """The one rule that makes plugins' answers a resolution (the engine's, and the daemon's
    on its event loop): an envelope is kept only within ``pattern``, its plugin's scope and
    the part the plugin was asked, never from the reserved realm; each is stamped with its
    provider and the time now; sorted by ID, then provider."""
    now = time.time()  # POSIX seconds: read as a datetime only by those who ask
    envelopes: list[Envelope] = []
    answered: list[str] = []
    for name, scope, narrowed, found in answers:
        answered.append(name)
        for env in found:
            in_scope = pattern.matches(env.id) and scope.matches(env.id)
            if not (in_scope and narrowed.matches(env.id)):
                continue  # out of scope: never reaches a caller
            if is_reserved(env.id):
                continue
            envelopes.append(env.stamped(name, now))
    envelopes.sort(key=lambda e: (e.id.value, e.provider))
    return Resolution(pattern, envelopes, asked, answered, errors, down)


class Listing(FrozenValue):
    """IDs and metadata across plugins, with per-plugin errors (never values)."""

    __slots__ = ("down", "errors", "infos")
    infos: list[SecretInfo]
    #: plugin name -> why it did not list (a failure, or that it cannot list)
    errors: dict[str, str]
    #: plugin name -> why, for enabled plugins that were not asked because they are down
    down: dict[str, str]

    def __init__(
        self,
        infos: list[SecretInfo],
        errors: dict[str, str] | None = None,
        down: dict[str, str] | None = None,
    ) -> None:
        self._set("infos", infos)
        self._set("errors", _outside_values(errors))
        self._set("down", _outside_values(down))

    def __repr__(self) -> str:
        return f"Listing({len(self.infos)} secrets, errors={self.errors}, down={list(self.down)})"

    @property
    def failed(self) -> list[str]:
        """The plugins that failed to list or are down (not those that cannot list)."""
        return [n for n, why in self.errors.items() if why != CANNOT_LIST] + list(self.down)


class Saved(FrozenValue):
    """A secret that ``set`` stored: where, whether it replaced one, and its new version
    (``""`` when the plugin does not say)."""

    __slots__ = ("id", "provider", "replaced", "version")
    id: ID
    provider: str
    replaced: bool
    version: str

    def __init__(self, id_: ID, provider: str, replaced: bool, version: str = "") -> None:
        self._set("id", id_)
        self._set("provider", provider)
        self._set("replaced", replaced)
        self._set("version", version)

    def __repr__(self) -> str:
        return f"Saved({self.id.value!r}, {self.provider!r}, replaced={self.replaced})"


class Removal(FrozenValue):
    """What ``rm`` (or ``undelete``) did, one ID at a time, in the order asked."""

    __slots__ = ("outcomes", "provider")
    provider: str
    #: (id, outcome) where outcome is ``"removed"`` (``rm``), ``"restored"`` (``undelete``),
    #: ``"missing"`` (nothing to remove, or no deleted secret to restore) or an error message
    outcomes: tuple[tuple[ID, str], ...]

    REMOVED = "removed"
    RESTORED = "restored"
    MISSING = "missing"
    #: The outcomes that are no failure.
    DONE = frozenset({REMOVED, RESTORED, MISSING})

    def __init__(self, provider: str, outcomes: tuple[tuple[ID, str], ...]) -> None:
        self._set("provider", provider)
        self._set("outcomes", outcomes)

    @property
    def failed(self) -> bool:
        """Whether any ID could not be removed (or restored)."""
        return any(o not in self.DONE for _, o in self.outcomes)

    def __repr__(self) -> str:
        return f"Removal({self.provider!r}, {len(self.outcomes)} IDs, failed={self.failed})"


def down_hints(down: Mapping[str, str]) -> list[str]:
    """Hint lines for plugins that would have been asked but are down."""
    return [with_remedy(name, f"plugin {name} is {why}") for name, why in down.items()]
