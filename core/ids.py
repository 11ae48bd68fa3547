"""Secret identifiers and patterns, with the exact rules of Docker's secrets engine.

An ID is one or more ``/``-separated components of ``A-Z a-z 0-9 . _ - :``.  A pattern is the same,
where a whole component may also be ``*`` (exactly one component) or ``**`` (zero or more).

A :class:`Pattern` compiles itself once into a regular expression, so testing many IDs against
one pattern costs one ``fullmatch`` each (see ``benchmarks/bench_matching.py``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from functools import cache, lru_cache

from docker_pass.core.errors import ExpandError, InvalidIdentifierError, InvalidPatternError
from docker_pass.core.value import FrozenValue

_ID_RE = re.compile(r"[A-Za-z0-9._:-]+(?:/[A-Za-z0-9._:-]+)*")
_COMPONENT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")

# A stand-in component no pattern literal can equal (it is not a valid ID character), used when
# deciding inclusion by trying instances of a pattern.
_FRESH = "\x00"
# Inclusion tries up to this many instances before it gives up and answers "not included".
_MAX_INSTANCES = 50_000


def is_valid_id(value: str) -> bool:
    """Whether ``value`` is a valid secret ID."""
    return _ID_RE.fullmatch(value) is not None


class ID(FrozenValue):
    """A valid secret identifier such as ``docker/auth/hub/alice``; IDs sort by their text."""

    __slots__ = ("value",)
    value: str

    def __init__(self, value: str) -> None:
        if _ID_RE.fullmatch(value) is None:
            raise InvalidIdentifierError(value)
        self._set("value", value)

    def __lt__(self, other: ID) -> bool:
        return self.value < other.value

    def __repr__(self) -> str:
        return f"ID({self.value!r})"

    @classmethod
    def parse(cls, value: str) -> ID:
        """Parse ``value``; raise :class:`InvalidIdentifierError` (a ``ValueError``) if invalid."""
        return cls(value)

    @property
    def components(self) -> tuple[str, ...]:
        """The ``/``-separated components, in order."""
        return tuple(self.value.split("/"))

    def matches(self, pattern: Pattern | str) -> bool:
        """Whether this ID is matched by ``pattern``."""
        if isinstance(pattern, str):
            pattern = Pattern.parse(pattern)
        return pattern.matches(self.value)

    def __str__(self) -> str:
        return self.value


class Pattern(FrozenValue):
    """A valid pattern such as ``docker/auth/**`` or ``*/db/*/password``.

    Every ID is also a pattern (one that matches only itself).  The pattern compiles itself once
    on construction.
    """

    __slots__ = ("_components", "_fullmatch", "_matches_all", "value")
    value: str
    _components: tuple[str, ...]
    _fullmatch: Callable[[str], object]
    _matches_all: bool

    def __init__(self, value: str) -> None:
        components = _validate_pattern(value)
        self._set("value", value)
        self._set("_components", components)
        self._set("_fullmatch", _compile(components).fullmatch)
        self._set("_matches_all", all(c == "**" for c in components))

    def _key(self) -> tuple[object, ...]:
        return (self.value,)

    def __repr__(self) -> str:
        return f"Pattern({self.value!r})"

    @classmethod
    def parse(cls, value: str) -> Pattern:
        """Parse ``value``; raise :class:`InvalidPatternError` (a ``ValueError``) if invalid."""
        return cls(value)

    @property
    def components(self) -> tuple[str, ...]:
        """The ``/``-separated components, in order."""
        return self._components

    @property
    def is_literal(self) -> bool:
        """Whether the pattern holds no wildcard, so that it names exactly one ID."""
        return not any(c in ("*", "**") for c in self._components)

    def matches(self, id_: ID | str) -> bool:
        """Whether the ID (an :class:`ID` or an ID string known to be valid) matches."""
        if self._matches_all:
            return True
        return self._fullmatch(id_ if isinstance(id_, str) else id_.value) is not None

    def filter(self, ids: Iterable[str]) -> list[str]:
        """The IDs (valid ID strings) of ``ids`` that match, in their order."""
        if self._matches_all:
            return list(ids)
        fullmatch = self._fullmatch
        return [i for i in ids if fullmatch(i) is not None]

    def includes(self, other: Pattern | ID | str) -> bool:
        """Whether every ID that ``other`` matches is also matched by this pattern."""
        other_components = _components_of(other)
        if self._matches_all:
            return True
        stars = self._components.count("*")
        slots = [i for i, c in enumerate(other_components) if c == "**"]
        # A run of ``k`` unknown components behaves the same for every k > stars (a ``**`` of
        # ours must absorb one of them, and can absorb any more), so k in 0..stars+1 decides.
        choices = range(stars + 2)
        tried = 0
        for counts in itertools.product(choices, repeat=len(slots)):
            tried += 1
            if tried > _MAX_INSTANCES:
                return False
            instance: list[str] = []
            count_of = dict(zip(slots, counts, strict=True))
            for i, c in enumerate(other_components):
                if c == "**":
                    instance.extend([_FRESH] * count_of[i])
                elif c == "*":
                    instance.append(_FRESH)
                else:
                    instance.append(c)
            if not instance:
                continue  # no ID is empty
            if self._fullmatch("/".join(instance)) is None:
                return False
        return True

    def overlaps(self, other: Pattern | ID | str) -> bool:
        """Whether some ID is matched by both this pattern and ``other``."""
        return _overlap(self._components, _components_of(other))

    def narrow(self, other: Pattern | ID | str) -> Pattern | None:
        """The part of ``other`` that this pattern (a plugin's scope) serves, or ``None``.

        Upstream's ``Filter``: ``other`` when this pattern includes it, this pattern when
        ``other`` includes it.  Where the two only overlap (``docker/**`` and ``**/token``) the
        overlap is not always one pattern; we answer ``other`` rather than nothing, so the
        plugin is still asked, and the engine filters the answers to both patterns.
        """
        other_pattern = other if isinstance(other, Pattern) else Pattern.parse(str(other))
        if self.includes(other_pattern):
            return other_pattern
        if other_pattern.includes(self):
            return self
        if self.overlaps(other_pattern):
            return other_pattern
        return None

    def expand(self, other: Pattern | ID | str) -> Pattern:
        """Replace this pattern's single ``**`` component with ``other`` (an ID or pattern)."""
        slots = [i for i, c in enumerate(self._components) if c == "**"]
        if len(slots) != 1:
            raise ExpandError(
                f"expand only supports one expansion glob, pattern {self.value} has {len(slots)}"
            )
        parts = list(self._components)
        parts[slots[0]] = str(other)
        return Pattern.parse("/".join(parts))

    def as_id(self) -> ID:
        """This pattern as an ID; raise :class:`InvalidIdentifierError` if it has wildcards."""
        return ID.parse(self.value)

    def __str__(self) -> str:
        return self.value


def _components_of(value: Pattern | ID | str) -> tuple[str, ...]:
    if isinstance(value, Pattern):
        return value.components
    if isinstance(value, ID):
        return value.components
    return Pattern.parse(value).components


def _validate_pattern(value: str) -> tuple[str, ...]:
    """Check ``value`` against the pattern rules; return its components or say which rule broke."""
    if value == "":
        raise InvalidPatternError(value, "a pattern cannot be empty")
    if value.startswith("/"):
        raise InvalidPatternError(value, "a pattern cannot start with /")
    if value.endswith("/"):
        raise InvalidPatternError(value, "a pattern cannot end with /")
    components = tuple(value.split("/"))
    for component in components:
        if component == "":
            raise InvalidPatternError(value, "a component is empty (//)")
        bad = [ch for ch in component if ch not in _COMPONENT_CHARS and ch != "*"]
        if bad:
            raise InvalidPatternError(
                value, f"{bad[0]!r} is not allowed (use A-Z a-z 0-9 . _ - : or a whole * / **)"
            )
        stars = component.count("*")
        if stars > 2:
            raise InvalidPatternError(value, "a component holds more than two *")
        if stars and stars != len(component):
            raise InvalidPatternError(value, "a component mixes * with other characters")
    return components


@lru_cache(maxsize=1024)
def _compile(components: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(regex_source(components))


def regex_source(components: tuple[str, ...], *, group_literals: bool = False) -> str:
    """The regular expression (over ID strings) that pattern ``components`` translate to.

    With ``group_literals`` each literal component is a capture group (the 1Password plugin
    uses this to respell case-insensitive matches).
    """
    out = ""
    pending_globstar = False
    started = False
    for component in components:
        if component == "**":
            pending_globstar = True
            continue
        if component == "*":
            piece = "[^/]+"
        else:
            piece = f"({re.escape(component)})" if group_literals else re.escape(component)
        if not started:
            out = ("(?:[^/]+/)*" + piece) if pending_globstar else piece
            started = True
        else:
            out += ("(?:/[^/]+)*/" + piece) if pending_globstar else ("/" + piece)
        pending_globstar = False
    if pending_globstar:
        out = (out + "(?:/[^/]+)*") if started else "[^/]+(?:/[^/]+)*"
    return out


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether two component patterns match a common component sequence."""

    @cache
    def step(i: int, j: int) -> bool:
        la, lb = len(a), len(b)
        if i == la and j == lb:
            return True
        if i < la and a[i] == "**" and (step(i + 1, j) or (j < lb and step(i, j + 1))):
            return True
        if j < lb and b[j] == "**" and (step(i, j + 1) or (i < la and step(i + 1, j))):
            return True
        if i == la or j == lb or a[i] == "**" or b[j] == "**":
            return False
        return (a[i] == "*" or b[j] == "*" or a[i] == b[j]) and step(i + 1, j + 1)

    return step(0, 0)
