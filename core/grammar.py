"""The grammar of secret IDs and patterns, and why a text breaks it, in one place.

An ID is one or more ``/``-separated components of ``A-Z a-z 0-9 . _ - :``.  A pattern is the
same, where a whole component may also be ``*`` (exactly one component) or ``**`` (zero or
more).  :mod:`docker_pass.core.ids` compiles these rules; the errors, the CLI and the TUI's
fields explain a broken one with :func:`id_problem` and :func:`pattern_problem`.  Standard
library only, nothing imported at start-up.
"""

from __future__ import annotations

#: The characters of a component, as a regex character class body (and in words, below).
COMPONENT_CLASS = "A-Za-z0-9._:-"
COMPONENT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")
#: The allowed characters in words, for messages.
ALLOWED_IN_WORDS = "A-Z a-z 0-9 . _ - :"
#: An ID, as upstream's error message quotes the rule.
ID_RULE = f"^[{COMPONENT_CLASS}]+(?:/[{COMPONENT_CLASS}]+)*$"
#: An ID, for ``re.fullmatch``.
ID_REGEX = f"[{COMPONENT_CLASS}]+(?:/[{COMPONENT_CLASS}]+)*"
#: A valid pattern, checked in one linear pass: each component starts either with a ``*`` or
#: with an ID character, so the alternation never has two ways to go (possessive throughout).
PATTERN_REGEX = rf"(?:[{COMPONENT_CLASS}]++|\*\*?+)(?:/(?:[{COMPONENT_CLASS}]++|\*\*?+))*+"
#: The two wildcards, each a whole component.
WILDCARDS = ("*", "**")


def id_problem(value: str) -> str:
    """Which rule of :data:`ID_RULE` ``value`` breaks, in words (``""`` when it breaks none)."""
    if value == "":
        return "an ID cannot be empty"
    if value.startswith("/"):
        return "an ID cannot start with /"
    if value.endswith("/"):
        return "an ID cannot end with /"
    position = 0
    for number, component in enumerate(value.split("/"), start=1):
        if component == "":
            return f"component {number} is empty"
        for offset, ch in enumerate(component):
            if ch not in COMPONENT_CHARS:
                where = f"position {position + offset + 1}"
                if ch == "*":
                    return f"* at {where} is a wildcard: an ID names one secret"
                from docker_pass.core.errors import go_quote  # only when explaining

                return f"{go_quote(ch)} at {where} is not allowed (use {ALLOWED_IN_WORDS})"
        position += len(component) + 1
    return ""


def pattern_problem(value: str) -> str:
    """Which pattern rule ``value`` breaks, in words (``""`` when it is a valid pattern)."""
    if value == "":
        return "a pattern cannot be empty"
    if value.startswith("/"):
        return "a pattern cannot start with /"
    if value.endswith("/"):
        return "a pattern cannot end with /"
    for component in value.split("/"):
        if component == "":
            return "a component is empty (//)"
        bad = [ch for ch in component if ch not in COMPONENT_CHARS and ch != "*"]
        if bad:
            return f"{bad[0]!r} is not allowed (use {ALLOWED_IN_WORDS} or a whole * / **)"
        stars = component.count("*")
        if stars > 2:
            return "a component holds more than two *"
        if stars and stars != len(component):
            return "a component mixes * with other characters"
    return ""


def typed_id_problem(text: str) -> str:
    """Why ``text``, typed where one secret's ID is wanted, is not one ("" when it is).

    The ID's own rules in the ID's own words, exactly as the CLI says them (:func:`id_problem`):
    a field for an ID never explains the pattern grammar ("a pattern cannot end with /"), and a
    wildcard is named as one ("* at position 3 is a wildcard: an ID names one secret")."""
    return id_problem(text)
