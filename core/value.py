"""The base of core's small immutable value objects.

Plain slotted classes rather than dataclasses: ``dataclasses`` imports ``inspect`` and generates
code at import time, about 15 ms of the ~50 ms that ``docker pass get`` may take on the machines
we measure on (benchmarks/bench_keychain.py).  Subclasses set their fields in ``__init__`` with
``_set`` and list them in ``__slots__``; equality and hashing go by those fields.
"""

from __future__ import annotations


class FrozenValue:
    """Slotted, immutable after construction, equal and hashed by its fields."""

    __slots__ = ()

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    def _key(self) -> tuple[object, ...]:
        names: tuple[str, ...] = self.__slots__
        return tuple(getattr(self, name) for name in names)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, FrozenValue)  # noqa: S101 - narrows the type for mypy
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self._key()))
