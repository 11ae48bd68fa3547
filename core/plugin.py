"""The plugin protocol: what every secrets provider offers the engine.

Built-in plugins implement it exactly as a third-party one would.  A plugin is constructed with
no arguments (configuration comes from its own section of the config file), then started.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from docker_pass.core.envelope import Envelope, SecretInfo
from docker_pass.core.ids import ID, Pattern

#: Internal secrets of the engine and its plugins (for example service-account tokens).  They
#: are listed only on request and never returned by resolution.
INTERNAL_REALM = Pattern("docker/secrets-engine/**")


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
    #: Whether it accepts ``save`` and ``delete``.
    writable: bool

    def start(self) -> None:
        """Get ready (connect, warm caches); raise ``FatalPluginError`` if it cannot."""
        ...

    def stop(self) -> None:
        """Release what ``start`` took."""
        ...

    def list(self, pattern: Pattern) -> list[SecretInfo]:
        """IDs and metadata matching ``pattern``, without values."""
        ...

    def resolve(self, pattern: Pattern) -> builtins.list[Envelope]:
        """Envelopes (with values) matching ``pattern``."""
        ...

    def storage(self) -> str:
        """Where its secrets live, for ``plugins ls`` and the TUI (may be empty)."""
        ...


@runtime_checkable
class WritablePlugin(Plugin, Protocol):
    """A plugin that also stores and removes secrets (the ``docker-pass`` keychain plugin)."""

    def get(self, id_: ID) -> Envelope:
        """One secret with its value; raise ``SecretNotFoundError``."""
        ...

    def save(self, id_: ID, value: bytes, metadata: Mapping[str, str]) -> None:
        """Create or replace a secret."""
        ...

    def delete(self, id_: ID) -> bool:
        """Remove a secret; whether it existed."""
        ...
