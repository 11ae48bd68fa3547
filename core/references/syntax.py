"""``se://`` secret references.

Only a value that *starts with* ``se://`` is a reference: ``postgres://u:se://x@h`` is left alone.
"""

from __future__ import annotations

from docker_pass.core.errors import InvalidIdentifierError
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.value import FrozenValue

SCHEME = "se://"


def is_reference(value: str) -> bool:
    """Whether an environment value is an ``se://`` reference."""
    return value.startswith(SCHEME)


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
