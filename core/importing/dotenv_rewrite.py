"""Where each value of a dotenv file sits in its text, and the text with some values replaced.

python-dotenv (the parser ``run --env-file`` and ``check`` use) says what each binding means and
which characters it spans; this module finds, inside a binding's characters, the span of its
value (quotes included), so a rewrite replaces those characters only: comments, order, blank
lines, ``export``, spacing, quoting and line endings stay as they were.  The rewritten text is
parsed again and must mean what was intended (:func:`rewrite`), or nothing is written.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from docker_pass.core.envfiles import parse_env_text
from docker_pass.core.references.resolution import RunError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

__all__ = ["BOM", "EnvEntry", "RewriteError", "entries_of", "rewrite"]

BOM = "\ufeff"

# The shapes python-dotenv reads a binding with (dotenv/parser.py), to find the value's span.
_LEADING = re.compile(r"\s*", re.MULTILINE)
_NEWLINE = re.compile(r"\r\n|\n|\r")
_EXPORT = re.compile(r"(?:export[^\S\r\n]+)?")
_SINGLE_QUOTED_KEY = re.compile(r"'[^']+'")
_UNQUOTED_KEY = re.compile(r"[^=\#\s]+")
_WHITESPACE = re.compile(r"[^\S\r\n]*")
_EQUAL_SIGN = re.compile(r"=[^\S\r\n]*")
_SINGLE_QUOTED_VALUE = re.compile(r"'(?:\\.|[^'\\])*'", re.DOTALL)
_DOUBLE_QUOTED_VALUE = re.compile(r'"(?:\\.|[^"\\])*"', re.DOTALL)
_UNQUOTED_VALUE = re.compile(r"[^\r\n]*")
_INLINE_COMMENT = re.compile(r"\s+#.*")


class RewriteError(RunError):
    """Raised when a file cannot be read as dotenv, or a rewrite would change what it means."""


class EnvEntry:
    """One ``KEY=value`` binding: its key, value (``None`` for a bare ``KEY``), line, and the
    span of its value in the text (quotes included; ``start == end`` when there is none).

    A plain slotted class, not a dataclass: ``dataclasses`` costs ~15 ms to import.
    """

    __slots__ = ("end", "key", "line", "quote", "start", "value")

    def __init__(
        self, key: str, value: str | None, line: int, start: int, end: int, quote: str
    ) -> None:
        self.key = key
        self.value = value
        self.line = line
        self.start = start
        self.end = end
        self.quote = quote

    def __repr__(self) -> str:  # never the value
        return f"EnvEntry(key={self.key!r}, line={self.line})"


def entries_of(text: str, path: Path) -> list[EnvEntry]:
    """Every binding of dotenv ``text`` (read from ``path``, named in errors), in file order.

    Raises :class:`RewriteError` for a line python-dotenv cannot read, and for a binding whose
    value span cannot be told exactly (then no rewrite could be trusted)."""
    import io

    from dotenv.parser import parse_stream  # ~50 ms: only when a file is imported

    parse_env_text(text, path, inherit=False)  # the checks `run --env-file` makes, first
    body = text[len(BOM) :] if text.startswith(BOM) else text
    offset = len(text) - len(body)
    entries: list[EnvEntry] = []
    for binding in parse_stream(io.StringIO(body)):
        original = binding.original.string
        if binding.key is not None:
            start, end, quote = _value_span(original)
            if binding.value is not None and not _means(original[start:end], binding.value):
                raise RewriteError(
                    f"reading {path}: line {binding.original.line} cannot be rewritten safely"
                )
            # dotenv counts a binding from the blank lines before it: the key's own line.
            lead = original[: _match(_LEADING, original, 0)]
            line = binding.original.line + len(_NEWLINE.findall(lead))
            entries.append(
                EnvEntry(
                    binding.key,
                    binding.value,
                    line,
                    offset + start,
                    offset + end,
                    quote,
                )
            )
        offset += len(original)
    return entries


def _value_span(original: str) -> tuple[int, int, str]:
    """The span of the value in one binding's characters, and its quote ('' when unquoted)."""
    pos = _match(_LEADING, original, 0)
    pos = _match(_EXPORT, original, pos)
    key = _SINGLE_QUOTED_KEY if original[pos : pos + 1] == "'" else _UNQUOTED_KEY
    pos = _match(key, original, pos)
    pos = _match(_WHITESPACE, original, pos)
    if original[pos : pos + 1] != "=":
        return pos, pos, ""
    equal_end = _match(_EQUAL_SIGN, original, pos)
    char = original[equal_end : equal_end + 1]
    if equal_end - pos > 1 and char == "#":  # `KEY= # comment`: an empty value
        return equal_end, equal_end, ""
    if char in ("'", '"'):
        regex = _SINGLE_QUOTED_VALUE if char == "'" else _DOUBLE_QUOTED_VALUE
        return equal_end, _match(regex, original, equal_end), char
    part = original[equal_end : _match(_UNQUOTED_VALUE, original, equal_end)]
    value = _INLINE_COMMENT.sub("", part, count=1).rstrip()
    return equal_end, equal_end + len(value), ""


def _match(regex: re.Pattern[str], text: str, pos: int) -> int:
    found = regex.match(text, pos)
    if found is None:  # python-dotenv read it, so this is a different grammar: stop
        raise RewriteError("a line reads differently than python-dotenv reads it")
    return found.end()


def _means(span: str, value: str) -> bool:
    """Whether ``span`` (a value as written) is what python-dotenv reads as ``value``."""
    import io

    from dotenv.parser import parse_stream

    bindings = list(parse_stream(io.StringIO(f"K={span}")))
    return len(bindings) == 1 and bindings[0].value == value


def rewrite(text: str, entries: list[EnvEntry], new_values: Mapping[int, str], path: Path) -> str:
    """``text`` with the value of ``entries[i]`` replaced by ``new_values[i]`` (text made only of
    ID characters and ``se://``), in the quote it had; everything else kept character for
    character.  The result is parsed again: every binding must read as before except the
    replaced ones, which must read as their new values, or :class:`RewriteError` is raised."""
    pieces: list[str] = []
    last = 0
    for index in sorted(new_values, key=lambda i: entries[i].start):
        entry = entries[index]
        quote = entry.quote
        pieces.append(text[last : entry.start])
        pieces.append(f"{quote}{new_values[index]}{quote}")
        last = entry.end
    pieces.append(text[last:])
    result = "".join(pieces)
    expected = [
        (entry.key, new_values.get(index, entry.value)) for index, entry in enumerate(entries)
    ]
    found = [(entry.key, entry.value) for entry in entries_of(result, path)]
    if found != expected:
        raise RewriteError(f"rewriting {path} would change more than its values: nothing written")
    return result
