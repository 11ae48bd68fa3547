"""Reading a secret value safely: from stdin (bytes, or JSON with metadata) or a no-echo prompt."""

from __future__ import annotations

import json
from typing import TextIO

from docker_pass.core.errors import UsageError, go_quote, shorten


def parse_metadata_pairs(pairs: list[str]) -> dict[str, str]:
    """``key=value`` strings into a dict; a pair without ``=``, or one that is not UTF-8 text
    (argv arrives surrogate-escaped), is an error."""
    out: dict[str, str] = {}
    for raw in pairs:
        key, sep, value = raw.partition("=")
        if not sep:
            raise UsageError(f"invalid metadata pair (expected key=value): {shorten(raw)}")
        if not _is_text(raw):
            raise UsageError(
                f"metadata {go_quote(key)} is not UTF-8 text: metadata keys and values are text"
            )
        out[key] = value
    return out


def _is_text(value: str) -> bool:
    """Whether ``value`` encodes as UTF-8: no lone surrogate, which is what a JSON ``\\ud800``
    escape or a non-UTF-8 argv byte (surrogate-escaped) leaves in a ``str``."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def read_secret_from_stdin(stdin: TextIO) -> tuple[bytes, dict[str, str]]:
    """The value (and metadata, from JSON) given on stdin, or typed at a no-echo prompt."""
    if stdin.isatty():
        return prompt_for_secret(), {}
    data = stdin.buffer.read()
    return parse_json_secret(data) or (data, {})


def parse_json_secret(data: bytes) -> tuple[bytes, dict[str, str]] | None:
    """``{"secret": "…", "metadata": {…}}`` with a non-empty secret, else ``None`` (raw value)."""
    stripped = data.strip()
    if not stripped.startswith(b"{"):
        return None
    try:
        doc = json.loads(stripped)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        # Not a JSON document we can read (a RecursionError: nested deeper than the parser
        # goes): the bytes are the value, as for any other non-JSON input.
        return None
    if not isinstance(doc, dict):
        return None
    secret = doc.get("secret")
    if not isinstance(secret, str) or secret == "":
        return None
    if not _is_text(secret):
        raise UsageError(
            'JSON "secret" holds a lone surrogate escape (such as \\ud800), which is not '
            "text; give a binary value as raw bytes on stdin instead"
        )
    metadata = doc.get("metadata", {})
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise UsageError('JSON "metadata" must be an object of string keys and string values')
    for key, value in metadata.items():
        if not (_is_text(key) and _is_text(value)):
            raise UsageError(
                f'JSON "metadata" {go_quote(key)} holds a lone surrogate escape '
                "(such as \\ud800): metadata keys and values are text"
            )
    return secret.encode(), dict(metadata)


def prompt_for_secret() -> bytes:
    """Ask twice on the terminal without echo; the two entries must agree."""
    import getpass

    first = getpass.getpass("Secret value: ")
    second = getpass.getpass("Repeat the value: ")
    if first != second:
        raise UsageError("the two values differ; nothing was stored")
    return first.encode()
