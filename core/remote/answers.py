"""Reading the daemon's answers: Connect errors, the ``docker-pass-*`` headers, and the
errors a docker-pass engine's answer stands for (:class:`DaemonError`, or the docker-pass error
itself: a miss of one secret, a refused versioned write).  Standard library only; no text here
ever holds an answer's content.
"""

from __future__ import annotations

import json
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from docker_pass.core.errors import DockerPassError, SecretNotFoundError
from docker_pass.core.remote.transport import DaemonUnavailableError, Headers
from docker_pass.core.remote.wire import (
    ABORTED,
    CANCELED,
    CONFLICT_HEADER,
    DEADLINE_EXCEEDED,
    HINTS_HEADER,
    HTTP_STATUS_CODES,
    NOT_FOUND,
    RESOLUTION_HEADER,
    MalformedMessageError,
    conflict_from_json,
    read_string_list,
    read_string_map,
)
from docker_pass.core.results import Resolution

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from docker_pass.core.envelope import Envelope
    from docker_pass.core.ids import Pattern
    from docker_pass.core.remote.transport import HttpAnswer


class DaemonError(DockerPassError):
    """Raised when the engine daemon answers a request with a Connect error; ``code`` is
    Connect's code (``not_found``, ``invalid_argument``, …), the message is the daemon's and
    ``headers`` are the answer's (docker-pass's report rides in them)."""

    def __init__(self, code: str, message: str, headers: Headers | None = None) -> None:
        self.code = code
        self.headers: Headers = headers or {}
        super().__init__(message)


#: How the engine's miss of one secret reads (``secret not found: ID``).
_MISS = "secret not found"


@contextmanager
def secret_misses(id_: str | None = None) -> Iterator[None]:
    """A call about one secret (``id_``, named when the daemon's message does not): the
    daemon's ``not_found`` for it raises :class:`SecretNotFoundError`, as the engine does (a
    caller may act on the miss)."""
    try:
        yield
    except DaemonError as exc:
        text = str(exc)
        if exc.code != NOT_FOUND or not text.startswith(_MISS):
            raise
        named = text[len(_MISS) :].removeprefix(": ") or id_
        raise SecretNotFoundError(named).with_hints(*exc.hints) from None


@contextmanager
def reading(path: Path | str, method: str) -> Iterator[None]:
    """Turn a message that does not read (:class:`MalformedMessageError`) into
    :class:`DaemonUnavailableError`, naming the method and the field, never the content."""
    try:
        yield
    except MalformedMessageError as exc:
        raise DaemonUnavailableError(
            f"the engine daemon at {path} sent a malformed answer to {method}: {exc}"
        ) from None


def json_object(raw: bytes) -> dict[str, Any] | None:
    """The JSON object in ``raw``, or ``None`` when it is not one."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def header_object(headers: Headers, name: str) -> dict[str, Any] | None:
    """The JSON object in a ``docker-pass-*`` header, or ``None`` if absent or garbled."""
    value = headers.get(name)
    return json_object(value.encode("latin-1")) if value else None


def reported_resolution(
    pattern: Pattern, envelopes: list[Envelope], headers: Headers
) -> Resolution | None:
    """The resolution as docker-pass's daemon reports it (``dockerpass.v1.Resolution`` in a
    header): who was asked, who answered, who failed, who was down; ``None`` without one."""
    doc = header_object(headers, RESOLUTION_HEADER)
    if doc is None:
        return None
    try:
        return Resolution(
            pattern,
            envelopes,
            read_string_list(doc, "asked"),
            read_string_list(doc, "answered"),
            read_string_map(doc, "errors"),
            read_string_map(doc, "down"),
        )
    except MalformedMessageError:
        return None


def connect_error(path: Path | str, answer: HttpAnswer) -> DockerPassError:
    """The error a non-200 answer stands for (Connect's JSON error, or just an HTTP status)."""
    doc = json_object(answer.body) or {}
    code = doc.get("code")
    message = doc.get("message")
    if not isinstance(code, str) or not code:
        code = HTTP_STATUS_CODES.get(answer.status, "unknown")
    if not isinstance(message, str):
        message = f"HTTP status {answer.status}"
    if code in (DEADLINE_EXCEEDED, CANCELED):
        return DaemonUnavailableError(f"the engine daemon at {path} did not answer ({code})")
    error: DockerPassError = DaemonError(code, message, answer.headers)
    conflict = header_object(answer.headers, CONFLICT_HEADER) if code == ABORTED else None
    if conflict is not None:
        with suppress(MalformedMessageError):  # unreadable: the plain error, its text intact
            error = conflict_from_json(message, conflict)
    hints = header_object(answer.headers, HINTS_HEADER)
    if hints is not None:
        with suppress(MalformedMessageError):  # hints are a courtesy: the message stands alone
            error.with_hints(*read_string_list(hints, "hints"))
    return error


def unreported(
    pattern: Pattern, envelopes: list[Envelope], error: DaemonError | None
) -> Resolution:
    """A daemon other than docker-pass's: the envelopes say who answered."""
    providers = list(dict.fromkeys(env.provider for env in envelopes))
    errors = {"engine": str(error)} if error and error.code != NOT_FOUND else {}
    return Resolution(pattern, envelopes, providers, providers, errors)
