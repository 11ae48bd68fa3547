"""One Aho-Corasick automaton over every secret value and its encoded forms.

A value is searched as it is and in the forms it takes where Docker puts things:

- ``raw``: the exact bytes;
- ``base64`` and ``base64url``: base64 text depends on where the value starts in the encoded
  blob (its offset modulo 3).  For each of the three alignments the *stable core* is searched:
  the value with its first 0, 1 or 2 bytes dropped so that it starts a 3-byte group, cut to
  whole groups, and encoded without padding.  Those characters are the same whatever comes
  before or after the value, so the value is found alone (padded or not) and inside a longer
  base64 blob alike.  A core shorter than :data:`MIN_CORE` characters is not searched;
- ``url``: percent-encoding (``quote`` with nothing safe, ``quote_plus``, and ``quote`` keeping
  ``/``), where it differs from the raw bytes; hex digits upper case as RFC 3986 asks;
- ``escaped``: the inside of a JSON string (and of a double-quoted ``.env`` value: ``\\n``,
  ``\\"``, ``\\\\``), with non-ASCII as written and as ``\\uXXXX``, where it differs from the
  raw bytes: a multi-line key written on one line is found;
- ``compose``: each ``$`` doubled, as a value is written in a Compose file or a ``.env`` that
  Compose reads (``$$`` is one ``$`` there), for a value that holds a ``$``.

The patterns are compiled once into one multi-pattern matcher: Hyperscan's literal matcher
(``hyperscan``, on Linux x86-64) where it loads, else an Aho-Corasick DFA (``ahocorasick_rs``,
Rust).  Measured here with 10,000 values (40,000 patterns) over text and random data:
Hyperscan ~1,700 MB/s, the Aho-Corasick DFA ~250 MB/s, ``pyahocorasick`` (``str`` only: a
latin-1 decode first) ~90 MB/s (benchmarks/bench_scan.py).  Hyperscan's compiler takes C
strings, so a pattern holding a NUL byte (a binary value) goes to an Aho-Corasick automaton
beside it.  A stream is fed in chunks; the last ``longest - 1`` bytes of each chunk are kept
and searched again with the next, so a value split across chunks (or writes) is still found,
and a match is reported once.

Values never leave this module: a :class:`Hit` names the value by index and encoding only.
"""

from __future__ import annotations

import base64
import threading
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

from docker_pass.core.escaping import json_escaped_forms
from docker_pass.core.value import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

#: Values shorter than this (in bytes) are not searched by default: short values are noise.
DEFAULT_MIN_LENGTH = 8
#: The shortest base64 core searched (characters).
MIN_CORE = 8
#: The encodings a hit can name.
ENCODINGS = ("raw", "base64", "base64url", "url", "escaped", "compose")


class SecretValue:
    """A value to search for: its secret's ID and plugin, and the bytes (never shown)."""

    __slots__ = ("id", "provider", "value")

    def __init__(self, id: str, provider: str, value: bytes) -> None:
        self.id = id
        self.provider = provider
        self.value = value

    def __repr__(self) -> str:
        return f"SecretValue({self.id!r}, {self.provider!r}, <{len(self.value)} bytes>)"


class Hit(FrozenValue):
    """One match: which secret (index into the matcher's values), which encoding, and where
    the match starts in the stream (byte offset; 1-based line when lines are counted, else 0)
    — never the matched bytes."""

    __slots__ = ("encoding", "line", "offset", "secret")
    secret: int
    encoding: str
    offset: int
    line: int

    def __init__(self, secret: int, encoding: str, offset: int, line: int = 0) -> None:
        self._set("secret", secret)
        self._set("encoding", encoding)
        self._set("offset", offset)
        self._set("line", line)


def encoded_forms(value: bytes) -> dict[bytes, str]:
    """The byte strings to search for ``value``, each with the encoding it stands for."""
    forms: dict[bytes, str] = {value: "raw"}
    for start in range(3):
        part = value[start:]
        part = part[: len(part) - len(part) % 3]
        core = base64.b64encode(part)
        if len(core) < MIN_CORE:
            continue
        forms.setdefault(core, "base64")
        forms.setdefault(core.translate(_URL_SAFE), "base64url")
    for encoded in (quote(value, safe=""), quote_plus(value, safe=""), quote(value, safe="/")):
        forms.setdefault(encoded.encode("ascii"), "url")
    for escaped in json_escaped_forms(value):
        forms.setdefault(escaped, "escaped")
    if b"$" in value:
        forms.setdefault(value.replace(b"$", b"$$"), "compose")
    return forms


_URL_SAFE = bytes.maketrans(b"+/", b"-_")


class Matcher:
    """The automaton over every searched value's forms; :meth:`stream` searches a stream."""

    def __init__(
        self,
        values: Sequence[SecretValue],
        *,
        min_length: int = DEFAULT_MIN_LENGTH,
        engine: str | None = None,
    ) -> None:
        #: the secrets searched (ID and plugin; no bytes), in the order hits name them
        self.values: list[SecretValue] = []
        #: the values left out, each with why
        self.skipped: list[tuple[SecretValue, str]] = []
        self.min_length = min_length
        owners: dict[bytes, list[tuple[int, str]]] = {}
        for item in values:
            # only the compiled patterns keep the bytes: what names a hit holds none
            named = SecretValue(item.id, item.provider, b"")
            if len(item.value) < min_length:
                self.skipped.append((named, f"shorter than {min_length} bytes"))
                continue
            index = len(self.values)
            self.values.append(named)
            for form, encoding in encoded_forms(item.value).items():
                owners.setdefault(form, []).append((index, encoding))
        patterns = list(owners)
        self._owners = [owners[pattern] for pattern in patterns]
        self.longest = max((len(pattern) for pattern in patterns), default=0)
        self.engine = engine or default_engine()
        self._searches = _compile(patterns, self.engine)

    def __repr__(self) -> str:
        return f"Matcher({len(self.values)} values, {len(self._owners)} patterns, {self.engine})"

    @property
    def empty(self) -> bool:
        """Whether there is nothing to search for."""
        return not self._owners

    def find(self, data: bytes, *, lines: bool = False) -> list[Hit]:
        """Every hit in ``data`` (one buffer, offsets from its start)."""
        return self.stream(lines=lines).feed(data)

    def stream(self, *, lines: bool = False) -> StreamSearch:
        """A search over a stream fed in chunks; ``lines`` numbers each hit's line."""
        return StreamSearch(self, lines=lines)

    def _matches(self, data: bytes, skip_before: int) -> list[tuple[int, int]]:
        """(pattern, start) of each match in ``data`` that ends after ``skip_before``."""
        # a match wholly inside the carried-over tail was reported with the last chunk
        return [
            (pattern, start)
            for search in self._searches
            for pattern, start, end in search(data)
            if end > skip_before
        ]


#: The matcher engines, fastest first.
ENGINES = ("hyperscan", "aho-corasick")


def default_engine() -> str:
    """Hyperscan where its library loads here, else Aho-Corasick."""
    try:
        import hyperscan  # noqa: F401  # a compiled library: only `scan` pays its import
    except ImportError:
        return "aho-corasick"
    return "hyperscan"


def _compile(
    patterns: list[bytes], engine: str
) -> list[Callable[[bytes], list[tuple[int, int, int]]]]:
    """One search per matcher needed for ``patterns`` (indexes into it), by ``engine``."""
    if engine not in ENGINES:
        raise ValueError(f"unknown matcher engine {engine!r}; known: {', '.join(ENGINES)}")
    if engine == "hyperscan":
        plain = [i for i, pattern in enumerate(patterns) if b"\0" not in pattern]
        binary = [i for i, pattern in enumerate(patterns) if b"\0" in pattern]
        searches = [_hyperscan([patterns[i] for i in plain], plain)] if plain else []
        if binary:
            searches.append(_aho_corasick([patterns[i] for i in binary], binary))
        return searches
    return [_aho_corasick(patterns, list(range(len(patterns))))] if patterns else []


def _aho_corasick(
    patterns: list[bytes], ids: list[int]
) -> Callable[[bytes], list[tuple[int, int, int]]]:
    import ahocorasick_rs

    automaton = ahocorasick_rs.BytesAhoCorasick(
        patterns, implementation=ahocorasick_rs.Implementation.DFA
    )

    def search(data: bytes) -> list[tuple[int, int, int]]:
        found = automaton.find_matches_as_indexes(data, overlapping=True)
        return [(ids[pattern], start, end) for pattern, start, end in found]

    return search


def _hyperscan(
    patterns: list[bytes], ids: list[int]
) -> Callable[[bytes], list[tuple[int, int, int]]]:
    import hyperscan

    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(expressions=patterns, ids=ids, elements=len(patterns), flags=0, literal=True)
    lengths = {ident: len(pattern) for ident, pattern in zip(ids, patterns, strict=True)}
    # A scan needs scratch space of its own: one per thread, so streams may be searched in
    # several threads at once (a scan releases the GIL).
    own = threading.local()

    def search(data: bytes) -> list[tuple[int, int, int]]:
        found: list[tuple[int, int, int]] = []

        def on_match(ident: int, _start: int, end: int, _flags: int, _context: object) -> None:
            found.append(
                (ident, end - lengths[ident], end)
            )  # literal: its start is its length back

        if data:
            scratch = getattr(own, "scratch", None)
            if scratch is None:
                scratch = own.scratch = hyperscan.Scratch(database)
            database.scan(data, match_event_handler=on_match, scratch=scratch)
        return found

    return search


class StreamSearch:
    """A stream's search: :meth:`feed` chunks in order; hits carry offsets from the stream's
    start.  ``lines`` counts the newlines fed so far (for line numbers)."""

    def __init__(self, matcher: Matcher, *, lines: bool = False) -> None:
        self._matcher = matcher
        self._keep = max(matcher.longest - 1, 0)
        self._tail = b""
        self._fed = 0
        self._count_lines = lines
        #: newlines before the start of the carried-over tail
        self._lines = 0

    @property
    def fed(self) -> int:
        """How many bytes have been fed."""
        return self._fed

    def feed(self, chunk: bytes) -> list[Hit]:
        """Hits that end in ``chunk`` (including those that began in earlier chunks)."""
        if not chunk:
            return []
        tail = self._tail
        data = tail + chunk if tail else chunk
        base = self._fed - len(tail)
        hits: list[Hit] = []
        owners = self._matcher._owners
        for pattern, start in self._matcher._matches(data, len(tail)):
            line = self._lines + data.count(b"\n", 0, start) + 1 if self._count_lines else 0
            for secret, encoding in owners[pattern]:
                hits.append(Hit(secret, encoding, base + start, line))
        self._fed += len(chunk)
        kept = min(self._keep, len(data))
        if self._count_lines:
            self._lines += data.count(b"\n", 0, len(data) - kept)
        self._tail = data[len(data) - kept :] if kept else b""
        return hits


def line_of(offset: int, data: bytes, *, start_line: int = 1) -> int:
    """The 1-based line number of ``offset`` in ``data``."""
    return start_line + data.count(b"\n", 0, offset)


def values_from(items: Iterable[tuple[str, str, bytes]]) -> list[SecretValue]:
    """:class:`SecretValue` s from ``(id, provider, value)`` triples."""
    return [SecretValue(id_, provider, value) for id_, provider, value in items]
