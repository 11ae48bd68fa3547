"""A create's (or exec's) body as dockerd decodes it: the gate for the config the proxy rewrites.

dockerd 20.10 decodes these bodies with Go's ``encoding/json`` into its config structs:

- it reads the **first JSON value** and ignores whatever follows it;
- **invalid UTF-8** in a string becomes U+FFFD; NaN and Infinity are not JSON;
- object **keys match fields case-insensitively** (``env`` is ``Env``, and Go folds the long s,
  U+017F, to ``s`` and the Kelvin sign to ``k``), and of a field given twice the **last** wins.

:func:`read_config` reads a body the same way.  The proxy needs three fields (``Env``,
``Labels``, ``User``): :attr:`ConfigBody.fields` holds them as dockerd will see them, and
:meth:`ConfigBody.encode` writes a body where dockerd finds the rewritten fields and every
other member as the client wrote it (its text kept, not re-encoded).  A body that is not JSON,
or nests deeper than Python's parser goes, is refused (400) rather than passed on unread: a
reference dockerd can read but the proxy cannot would reach the container unresolved.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from docker_pass.daemon.docker.relay import Refusal

if TYPE_CHECKING:
    from collections.abc import Mapping

#: The fields the proxy reads or rewrites, by their case-folded name.
_FIELDS = {"env": "Env", "labels": "Labels", "user": "User"}
#: The two non-ASCII characters Go's key matching folds to ASCII letters.
_GO_FOLDS = str.maketrans({"\u017f": "s", "\u212a": "k"})
_WHITESPACE = " \t\n\r"
#: The smallest body dockerd's ``--debug`` log leaves out ("form data" of at most 4 KiB).
UNLOGGED_SIZE = 4097


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_not_json)


class ConfigBody:
    """A decoded config: its top-level members (key, value, text) in order, and ``fields``."""

    __slots__ = ("fields", "members")

    def __init__(self, members: list[tuple[str, Any, str]]) -> None:
        self.members = members
        #: ``Env``, ``Labels`` and ``User`` as dockerd will see them (those that are there).
        self.fields: dict[str, Any] = {}
        for key, value, _ in members:
            name = field_of(key)
            if name is not None:
                self.fields[name] = value  # the last of its spellings wins, as in Go

    def encode(self, rewritten: Mapping[str, Any]) -> bytes:
        """The body with ``rewritten`` fields (every spelling of each replaced by one member)
        and everything else as it came, at least :data:`UNLOGGED_SIZE` bytes long."""
        kept = [
            f"{json.dumps(key)}:{text}"
            for key, _, text in self.members
            if field_of(key) not in rewritten
        ]
        added = [f"{json.dumps(name)}:{json.dumps(value)}" for name, value in rewritten.items()]
        data = ("{" + ",".join([*kept, *added]) + "}").encode()
        # Padded with whitespace (JSON ignores it): dockerd --debug logs the "form data" of
        # smaller JSON bodies, which would put resolved values in its log.
        return data.ljust(UNLOGGED_SIZE)


def field_of(key: str) -> str | None:
    """The field a member's key sets, of those the proxy reads, as Go matches it."""
    folded = key.translate(_GO_FOLDS)
    return _FIELDS.get(folded.lower()) if folded.isascii() else None


def read_config(body: bytes) -> ConfigBody | None:
    """``body`` as dockerd decodes it; ``None`` when it is not an object (nothing to rewrite:
    dockerd answers it); :class:`Refusal` (400) when it cannot be read."""
    text = body.decode("utf-8", "replace")
    index = _skip(text, 0)
    if index == len(text) or text[index] != "{":
        if index < len(text):
            _scan(text, index)  # not an object: still refused if it is not JSON
        return None
    members: list[tuple[str, Any, str]] = []
    index = _skip(text, index + 1)
    if index < len(text) and text[index] == "}":
        return ConfigBody(members)
    while True:
        if index >= len(text) or text[index] != '"':
            raise _unreadable("expected a member name")
        key, index = _scan(text, index)
        index = _skip(text, index)
        if index >= len(text) or text[index] != ":":
            raise _unreadable("expected ':' after a member name")
        start = _skip(text, index + 1)
        value, index = _scan(text, start)
        members.append((key, value, text[start:index]))
        index = _skip(text, index)
        if index < len(text) and text[index] == ",":
            index = _skip(text, index + 1)
            continue
        if index < len(text) and text[index] == "}":
            return ConfigBody(members)
        raise _unreadable("expected ',' or '}' after a member")


def _scan(text: str, index: int) -> tuple[Any, int]:
    """One JSON value at ``index``: the value and where it ends."""
    try:
        return _DECODER.scan_once(text, index)  # type: ignore[attr-defined,no-any-return]
    except StopIteration:
        raise _unreadable("expected a value") from None
    except RecursionError:
        raise Refusal(
            400, "docker-pass: cannot read the request body: it is nested too deeply"
        ) from None
    except ValueError as exc:
        raise _unreadable(str(exc).split(":", 1)[0]) from None


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def _unreadable(reason: str) -> Refusal:
    return Refusal(400, f"docker-pass: cannot read the request body as JSON: {reason}")
