"""A pattern as typed so far: what any pattern that starts with the text would match.

While a person types ``docker/*/hub/**`` key by key, the texts on the way (``docker/*/h``,
``docker/*/hub/``) are patterns too, but read exactly they match little or nothing: ``docker/*/h``
wants a component named ``h``.  :class:`PatternPrefix` reads such a text as the start of a
pattern: it matches an ID when *some* valid pattern that starts with the text matches it.  That
set is the union over every way to finish typing, so it holds what the finished pattern will
match, and it is itself a pattern-shaped set (``docker/*/h`` -> ``docker/*/h…/**``):

* a literal last component ``p`` -> a component starting with ``p``, then anything below;
* a last ``*`` or ``**`` (either may become ``*``, ``**`` or go on with ``/…``) -> ``**``;
* a trailing ``/`` (a component to come, of any kind) -> ``**`` there (``a/**`` matches ``a``).

Matching uses the core's compiler (:mod:`docker_pass.core.ids`): the same linear regex or
automaton, with one more kind of component token, "starts with".  Standard library only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.core.errors import InvalidPatternError
from docker_pass.core.grammar import WILDCARDS
from docker_pass.core.ids import Pattern, _collapse, _compile_open

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


class PatternPrefix:
    """The text of a pattern being typed, matched as the union of its completions."""

    __slots__ = ("complete", "components", "partial", "text")
    text: str
    #: The components finished (each followed by a ``/`` in the text).
    complete: tuple[str, ...]
    #: The last, unfinished component as typed ("" after a trailing ``/``).
    partial: str
    #: The components matched: ``complete``, then ``p*`` ("starts with p") and ``**``, or
    #: ``**`` alone; ``p*`` is never a valid pattern component, so only this class makes it.
    components: tuple[str, ...]

    def __init__(self, text: str) -> None:
        """Raise :class:`InvalidPatternError` when no valid pattern starts with ``text``."""
        body = text[:-1] if text.endswith("/") else text
        if not body:
            # "" and "/" start no pattern worth matching ("" is the empty filter).
            raise InvalidPatternError(
                text, "a pattern cannot be empty" if not text else "a pattern cannot start with /"
            )
        parts = Pattern.parse(body).components
        if body != text:
            complete, partial = parts, ""
        else:
            complete, partial = parts[:-1], parts[-1]
        self.text = text
        self.complete = complete
        self.partial = partial
        # A pattern always ends in "**" here, so the compiler never takes it for a literal ID.
        tail = ("**",) if partial in ("", *WILDCARDS) else (partial + "*", "**")
        self.components = _collapse((*complete, *tail))

    @classmethod
    def parse(cls, text: str) -> PatternPrefix:
        """``text`` as a pattern being typed; :class:`InvalidPatternError` if none starts so."""
        return cls(text)

    def __repr__(self) -> str:
        return f"PatternPrefix({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PatternPrefix) and other.text == self.text

    def __hash__(self) -> int:
        return hash(("PatternPrefix", self.text))

    @property
    def as_pattern(self) -> str:
        """What the text reads as, in pattern words: ``docker/*/h…/**``."""
        return "/".join(
            c if c in WILDCARDS or not c.endswith("*") else c[:-1] + "…" for c in self.components
        )

    @property
    def is_literal(self) -> bool:
        """Whether no wildcard was typed: the matches are then exactly the IDs starting with
        :attr:`leading` as components (``a/b`` -> ``a/b…``; ``a/`` -> ``a`` and below it)."""
        return not any(c in WILDCARDS for c in (*self.complete, self.partial))

    @property
    def leading(self) -> str:
        """A string every matching ID starts with (the literal start: ``docker/*/h`` ->
        ``docker``, ``docker/au`` -> ``docker/au``); "" when the text starts with a wildcard."""
        run: list[str] = []
        for component in self.components:
            if component in WILDCARDS:
                return "/".join(run)
            if component.endswith("*"):
                return "/".join([*run, component[:-1]])
            run.append(component)
        return "/".join(run)

    def matcher(self) -> Callable[[str], object]:
        """A test of one ID string, truthy when :meth:`matches` (for ``map`` over many)."""
        # Every pattern here ends in "**" (or is "**"): matched as its leading components
        # followed by anything, reading no further than they reach.
        if self.components == ("**",):
            return bool  # every ID string is non-empty
        return _compile_open(self.components[:-1])

    def matches(self, id_: str) -> bool:
        """Whether some pattern starting with the text matches the ID string ``id_``."""
        return bool(self.matcher()(id_))

    def filter(self, ids: Iterable[str]) -> list[str]:
        """The ID strings of ``ids`` that :meth:`matches` keeps, in their order."""
        if self.components == ("**",):
            return list(ids)
        return list(filter(self.matcher(), ids))
