"""Text from outside, made safe to show: the one gate for what a server, a file or another
program says before it reaches a message, a log or a terminal.

A vault server's error, ``op``'s stderr, a Docker engine's answer or a value read from a config
file may hold escape sequences (``\\x1b]0;…`` retitles a terminal, ``\\x1b[2J`` clears it),
control characters, bidirectional overrides that make text read as something else, or a
megabyte of noise.  :func:`clean_outside` keeps printable text only, on one line, cut to a
length; :func:`without_credentials` drops the ``user:password@`` of a URL before it is shown.

Standard library only; the expressions cannot backtrack (each alternative starts with its own
byte, and every repetition is of a class its terminator is not in).
"""

from __future__ import annotations

import functools
import re

#: How much of an outside text a message shows (a person can find the rest at its source).
OUTSIDE_LIMIT = 300

# ESC-introduced sequences: CSI (ESC [ params intermediates final), OSC/DCS/SOS/PM/APC strings
# (ESC ] ... BEL or ST), and two-byte escapes; then the same introduced by C1 bytes.
_SEQUENCES = (
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
)
#: Characters that change how the text around them reads without being seen: C0 and C1
#: controls, DEL, and the bidirectional embeddings, overrides and isolates.
_INVISIBLE = "[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
_SPACES = r"[ \t\r\n]+"
#: ``scheme://user:password@`` (the userinfo of a URL, whatever it holds but ``/``).
_USERINFO = r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@"


@functools.cache
def _compiled(source: str) -> re.Pattern[str]:
    # Compiled on first use: modules on every command's path import this one, and most
    # commands never show outside text (four expressions cost ~0.8 ms to compile).
    return re.compile(source)


def clean_outside(text: str | bytes, limit: int = OUTSIDE_LIMIT) -> str:
    """``text`` as a message may show it: escape sequences and invisible characters removed,
    white space folded to single spaces (one line), URL credentials dropped, at most ``limit``
    characters (cut with ``…``).  Bytes are read as UTF-8, undecodable ones replaced."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if len(text) > limit * 8:
        text = text[: limit * 8]  # no need to clean what will be cut anyway
    text = _compiled(_SEQUENCES).sub("", text)
    text = _compiled(_SPACES).sub(" ", text)
    text = _compiled(_INVISIBLE).sub("", text).strip()
    text = without_credentials(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def without_credentials(url: str) -> str:
    """``url`` (or any text holding URLs) with the ``user:password@`` part of each removed."""
    return _compiled(_USERINFO).sub(r"\1", url)
