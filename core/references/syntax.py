"""``se://`` secret references.

Only a value that *starts with* ``se://`` is a reference: ``postgres://u:se://x@h`` is left alone.
"""

from __future__ import annotations

from docker_pass.core.errors import InvalidIdentifierError
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.names import REFERENCE_SCHEME
from docker_pass.core.value import FrozenValue

SCHEME = REFERENCE_SCHEME
_SCHEME_BYTES = SCHEME.encode()


def is_reference(value: str | bytes) -> bool:
    """Whether an environment value (text, or bytes as ``os.environb`` holds it) is an
    ``se://`` reference: only a value that *starts with* the scheme is one."""
    if isinstance(value, bytes):
        return value.startswith(_SCHEME_BYTES)
    return value.startswith(SCHEME)


def reference_target(value: str) -> str | None:
    """The text after ``se://`` when ``value`` is a reference (an ID or pattern, not yet
    checked), else ``None``."""
    return value[len(SCHEME) :] if value.startswith(SCHEME) else None


class SecretReference(FrozenValue):
    """A parsed ``se://<id|pattern>`` reference."""

    __slots__ = ("target",)
    target: Pattern

    def __init__(self, target: Pattern) -> None:
        self._set("target", target)

    def __repr__(self) -> str:
        return f"SecretReference({self.target.value!r})"

    @classmethod
    def parse(cls, value: str) -> SecretReference:
        """Parse ``se://<id|pattern>``; raise a ``ValueError`` subclass if it is not one."""
        if not is_reference(value):
            raise InvalidIdentifierError(value)
        return cls(Pattern.parse(value[len(SCHEME) :]))

    @classmethod
    def parse_id(cls, value: str) -> ID:
        """Parse a reference that must name one ID (as ``run`` requires).

        A wildcard or any other invalid ID raises :class:`InvalidIdentifierError`.
        """
        body = value[len(SCHEME) :] if is_reference(value) else value
        return ID.parse(body)

    def __str__(self) -> str:
        return SCHEME + self.target.value


def reference_for(id_: ID) -> str:
    """The ``se://`` reference that names ``id_``."""
    return SCHEME + id_.value


def reference_text(target: str) -> str:
    """The reference as written, for a ``target`` (an ID or pattern, valid or not)."""
    return SCHEME + target
