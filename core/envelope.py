"""Secret envelopes (a value with where it came from) and value-free listings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from docker_pass.core.ids import ID

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class SecretInfo:
    """What a listing knows of a secret, without its value."""

    id: ID
    provider: str = ""
    metadata: Mapping[str, str] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A resolved secret.  ``repr`` and ``str`` never show the value."""

    id: ID
    value: bytes = field(repr=False)
    provider: str = ""
    version: str = ""
    created_at: datetime | None = None
    resolved_at: datetime | None = None
    expires_at: datetime | None = None
    metadata: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    def __repr__(self) -> str:
        return (
            f"Envelope(id={self.id.value!r}, provider={self.provider!r}, "
            f"value=<{len(self.value)} bytes hidden>, metadata={dict(self.metadata)!r})"
        )

    __str__ = __repr__

    def info(self) -> SecretInfo:
        """The value-free part of this envelope."""
        return SecretInfo(self.id, self.provider, self.metadata)
