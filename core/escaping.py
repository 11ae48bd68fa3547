"""The forms a value takes written inside a JSON string (or a double-quoted ``.env`` value,
which escapes the same way): ``\\n``, ``\\"``, ``\\\\`` and other escapes, with non-ASCII as
written and as ``\\uXXXX``.  ``scan`` searches them and ``run --mask`` conceals them, so a
multi-line key printed or written on one line is caught as well as the value itself."""

from __future__ import annotations

import json

__all__ = ["json_escaped_forms"]


def json_escaped_forms(value: bytes) -> list[bytes]:
    """``value`` escaped as inside a JSON string, where that differs from ``value`` (none for
    bytes that are not UTF-8 text: no JSON string holds them as written)."""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return []
    forms: list[bytes] = []
    for ascii_only in (False, True):
        form = json.dumps(text, ensure_ascii=ascii_only)[1:-1].encode("utf-8")
        if form != value and form not in forms:
            forms.append(form)
    return forms
