"""How ``se://`` references resolve: the one rule ``run``, ``check`` and the Docker proxy share.

A reference must name one ID, and that ID must resolve to exactly one value; each reference's
outcome is a :class:`ReferenceResult` (never the value) for ``run --explain`` and ``check``.
"""

from __future__ import annotations

import os
from enum import StrEnum
from typing import TYPE_CHECKING

from docker_pass.core.errors import DockerPassError, shorten
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.references.syntax import is_reference, reference_target
from docker_pass.core.value import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from docker_pass.core.results import Resolution


class RunError(DockerPassError):
    """Raised when ``run`` cannot prepare the environment or start the child."""


class AmbiguousReferenceError(RunError):
    """Raised when a reference's ID is answered by more than one plugin (``providers``)."""

    def __init__(self, id_: ID, providers: Sequence[str]) -> None:
        self.providers = tuple(providers)
        super().__init__(
            f"{len(self.providers)} secrets matched {shorten(id_.value)} "
            f"({', '.join(self.providers)})"
        )


class ReferenceStatus(StrEnum):
    """How one reference fared: the one rule ``run --explain`` and ``check`` report by."""

    RESOLVES = "resolves"
    #: no secret with that ID, or no plugin serves it
    NOT_FOUND = "not found"
    #: two or more plugins answered the ID
    AMBIGUOUS = "ambiguous"
    #: the text after se:// is not one valid ID (a wildcard, an empty component…)
    INVALID = "invalid"
    #: anything else: a plugin failed, or the value cannot go into an environment
    ERROR = "error"

    @classmethod
    def of_failure(cls, exc: DockerPassError) -> ReferenceStatus:
        """The status a failed reference has, by the error that failed it."""
        from docker_pass.core.errors import (
            InvalidIdentifierError,
            NoPluginMatchesError,
            SecretNotFoundError,
        )

        if isinstance(exc, InvalidIdentifierError):
            return cls.INVALID
        if isinstance(exc, SecretNotFoundError | NoPluginMatchesError):
            return cls.NOT_FOUND
        if isinstance(exc, AmbiguousReferenceError):
            return cls.AMBIGUOUS
        return cls.ERROR


class ReferenceResult(FrozenValue):
    """How one variable's reference resolved (never the value), for ``run --explain`` and ``check``.

    ``error`` is why it failed (``""`` when it resolved); ``id`` is ``None`` when the reference
    does not name a valid ID, and ``target`` is its text after ``se://`` either way.
    """

    __slots__ = (
        "answered",
        "asked",
        "error",
        "errors",
        "hints",
        "id",
        "matched",
        "provider",
        "status",
        "target",
        "variable",
    )
    variable: str
    target: str
    id: ID | None
    asked: list[str]
    answered: list[str]
    provider: str
    errors: dict[str, str]
    error: str
    #: the failure's hint lines (plugins that were down, what to run)
    hints: tuple[str, ...]
    status: ReferenceStatus
    #: the providers that answered the ID: one when it resolved, two or more when ambiguous
    matched: tuple[str, ...]

    def __init__(
        self,
        variable: str,
        id_: ID | None,
        asked: list[str],
        answered: list[str],
        provider: str,
        errors: dict[str, str],
        *,
        target: str | None = None,
        error: str = "",
        hints: tuple[str, ...] = (),
        status: ReferenceStatus = ReferenceStatus.RESOLVES,
        matched: tuple[str, ...] | None = None,
    ) -> None:
        self._set("variable", variable)
        self._set("target", target if target is not None else (id_.value if id_ else ""))
        self._set("id", id_)
        self._set("asked", asked)
        self._set("answered", answered)
        self._set("provider", provider)
        self._set("errors", errors)
        self._set("error", error)
        self._set("hints", hints)
        self._set("status", status)
        self._set("matched", matched if matched is not None else ((provider,) if provider else ()))

    @classmethod
    def failure(
        cls,
        variable: str,
        id_: ID | None,
        target: str,
        result: Resolution | None,
        exc: DockerPassError,
    ) -> ReferenceResult:
        """A reference that did not resolve, with its error and what was asked (if anything)."""
        return cls(
            variable,
            id_,
            result.asked if result else [],
            result.answered if result else [],
            "",
            dict(result.errors) if result else {},
            target=target,
            error=str(exc),
            hints=exc.hints,
            status=ReferenceStatus.of_failure(exc),
            matched=exc.providers if isinstance(exc, AmbiguousReferenceError) else (),
        )

    @property
    def failed(self) -> bool:
        """Whether this reference did not resolve to exactly one value."""
        return self.error != ""

    def __repr__(self) -> str:
        return f"ReferenceResult({self.variable!r}, {self.target!r}, {self.provider!r})"


def _reference_values(env: Mapping[bytes, bytes]) -> list[tuple[str, str]]:
    """``(variable, text after se://)`` for each reference in ``env``, sorted by variable."""
    found = []
    for key, value in env.items():
        if is_reference(value):
            target = reference_target(os.fsdecode(value))
            if target is not None:
                found.append((os.fsdecode(key), target))
    return sorted(found, key=lambda item: item[0])


def references(env: Mapping[bytes, bytes]) -> list[tuple[str, ID]]:
    """``(variable, ID)`` for each value that starts with ``se://``, sorted by variable.

    A reference must name one ID: a wildcard raises the invalid-identifier error.
    """
    found = []
    for name, raw in _reference_values(env):
        try:
            found.append((name, ID.parse(raw)))
        except DockerPassError as exc:
            raise RunError(f"resolving {name}: {exc}") from None
    return found


def has_references(env: Mapping[bytes, bytes]) -> bool:
    """Whether any value in ``env`` is an ``se://`` reference (valid or not)."""
    return any(is_reference(value) for value in env.values())


def resolve_references(
    env: dict[bytes, bytes],
    resolve: Callable[[Pattern], Resolution],
    *,
    keep_going: bool = False,
) -> tuple[dict[bytes, bytes], list[ReferenceResult]]:
    """Replace every reference in ``env`` with its value; each must resolve to exactly one.

    The first failure raises :class:`RunError` (``resolving X: …``); with ``keep_going``
    (``run --explain``) every reference is tried and each failure is in the report instead.
    """
    out = dict(env)
    report = []
    for name, raw in _reference_values(env):
        value, item = resolve_reference(name, raw, resolve, strict=not keep_going)
        if value is not None:
            out[os.fsencode(name)] = value
        report.append(item)
    return out, report


def resolve_reference(
    variable: str,
    target: str,
    resolve: Callable[[Pattern], Resolution],
    *,
    strict: bool = False,
) -> tuple[bytes | None, ReferenceResult]:
    """Resolve one reference (``target``: its text after ``se://``) by ``run``'s rules: it must
    name one ID, and that ID must resolve to exactly one value.

    Returns the value (``None`` when it failed) and how it fared.  With ``strict`` (``run``)
    the failure raises instead: :class:`RunError` ``resolving VARIABLE: …``, or the engine's own
    error (no plugin matches) as it is.
    """
    try:
        id_ = ID.parse(target)
    except DockerPassError as exc:
        if strict:
            raise RunError(f"resolving {variable}: {exc}") from None
        return None, ReferenceResult.failure(variable, None, target, None, exc)
    pattern = Pattern.parse(id_.value)
    if strict:
        # An error of the engine itself (no plugin matches) is the command's own error.
        result = resolve(pattern)
    else:
        try:
            result = resolve(pattern)
        except DockerPassError as exc:
            return None, ReferenceResult.failure(variable, id_, target, None, exc)
    try:
        value, provider = one_value(id_, result)
    except DockerPassError as exc:
        if strict:
            raise RunError(f"resolving {variable}: {exc}").with_hints(*exc.hints) from None
        return None, ReferenceResult.failure(variable, id_, target, result, exc)
    found = ReferenceResult(
        variable, id_, result.asked, result.answered, provider, dict(result.errors)
    )
    return value, found


def check_reference(
    variable: str, target: str, resolve: Callable[[Pattern], Resolution]
) -> ReferenceResult:
    """How one reference fares by ``run``'s rules (:func:`resolve_reference`), without its value."""
    _value, found = resolve_reference(variable, target, resolve)
    return found


def look_up_by_name(
    variable: str, resolve: Callable[[Pattern], Resolution]
) -> tuple[str | None, ReferenceResult]:
    """Docker's empty-value lookup: a variable sent empty (``GH_TOKEN=``, or ``GH_TOKEN`` alone)
    takes the secret whose ID is its name.

    Returns the value as text when the name is a valid ID and resolves to exactly one value by
    ``run``'s rules that is non-empty UTF-8 text; otherwise ``None``, and the variable stays as
    it was sent (a container that sets an empty variable must start as it always did).  How
    the lookup fared is in the result either way; nothing here raises for a failed lookup.
    """
    value, found = resolve_reference(variable, variable, resolve)
    if value is None or value == b"":
        return None, found
    try:
        return value.decode("utf-8"), found
    except UnicodeDecodeError:
        error = RunError(f"the value of {shorten(variable)} is not UTF-8 text")
        return None, ReferenceResult.failure(variable, found.id, variable, None, error)


def one_value(id_: ID, result: Resolution, *, binary: bool = False) -> tuple[bytes, str]:
    """The value ``result`` holds for ``id_`` and its provider, or the error why not.

    ``binary``: the value goes into a file, not a variable, so a NUL byte is fine.
    """
    from docker_pass.core.errors import SecretNotFoundError

    try:
        envelopes = result.envelopes_or_raise()
    except SecretNotFoundError as exc:
        raise exc.naming(id_.value) from None
    if len(envelopes) > 1:
        raise AmbiguousReferenceError(id_, [e.provider for e in envelopes])
    value = envelopes[0].value
    if b"\0" in value and not binary:
        raise RunError(
            f"the value of {shorten(id_.value)} holds a NUL byte, "
            "which an environment variable cannot carry"
        )
    return value, envelopes[0].provider
