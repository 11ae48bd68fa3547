"""The one exception hierarchy of docker-pass.

Every error a user can cause or meet derives from :class:`DockerPassError`; the CLI prints its
message as one ``Error: …`` line and the TUI shows it in the status line.  Messages never hold a
secret value: they name IDs, plugins, files and reasons only.
"""

from __future__ import annotations

from docker_pass.core.grammar import ID_RULE, id_problem

#: How much of a rejected input a message quotes: a person can find it from there, and a
#: 100,000-component ID or a pasted file does not flood the terminal (or a log).
QUOTE_LIMIT = 200


class DockerPassError(Exception):
    """Base class of every error docker-pass raises on purpose.

    ``hints`` are extra lines a front may show under the message (what to check or run next).
    """

    hints: tuple[str, ...] = ()

    def with_hints(self, *hints: str) -> DockerPassError:
        """This error, carrying ``hints``; returns itself for ``raise err.with_hints(…)``."""
        self.hints = tuple(hints)
        return self


class InvalidIdentifierError(DockerPassError, ValueError):
    """Raised when a string is not a valid secret ID (also for a reference that holds a pattern)."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.reason = id_problem(value)
        # Docker's text first (scripts match on it), then the rule that broke, in words.
        super().__init__(
            f"invalid identifier: {go_quote(value)} must match {ID_RULE} ({self.reason})"
        )


class InvalidPatternError(DockerPassError, ValueError):
    """Raised when a string is not a valid pattern; ``reason`` says which rule it breaks."""

    def __init__(self, value: str, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"invalid pattern {go_quote(value)}: {reason}")


class ExpandError(DockerPassError, ValueError):
    """Raised when a pattern to expand does not hold exactly one ``**`` component."""


class SecretNotFoundError(DockerPassError, LookupError):
    """Raised when a lookup finds no secret; the message is upstream's ``secret not found``,
    followed by the ID (``secret not found: db/prod``) when the raiser knows which one.

    Stores raise it without an ID (upstream's text, which the daemon answers with); the fronts
    that asked for one ID name it with :meth:`naming`.
    """

    def __init__(self, id_: object = None) -> None:
        self.id = None if id_ is None else str(id_)
        text = "secret not found"
        super().__init__(text if self.id is None else f"{text}: {shorten(self.id)}")

    def naming(self, id_: object) -> SecretNotFoundError:
        """This miss, naming ``id_`` (hints kept)."""
        return SecretNotFoundError(id_).with_hints(*self.hints)  # type: ignore[return-value]


class NoPluginMatchesError(DockerPassError, LookupError):
    """Raised when no enabled, running plugin serves any part of the requested pattern."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        super().__init__(f"no plugin matches {shorten(pattern)}")


class StoreUnavailableError(DockerPassError):
    """Raised when a storage backend cannot run on this machine; the message says why."""


class StoreError(DockerPassError):
    """Raised when a storage backend fails an operation (I/O, D-Bus, decryption)."""


class UnsafePathError(DockerPassError):
    """Raised when a file or directory docker-pass keeps private is a symbolic link, is not a
    regular file, belongs to another user, or is writable (or, for a directory, open) to other
    users; the message names the path and what to change."""


class PromptDismissedError(StoreError):
    """Raised when the person dismissed (or let time out) an unlock or authorization prompt."""


class VersionConflictError(DockerPassError):
    """Raised by a write that names the version it expects (see
    :mod:`docker_pass.core.versions`) when the stored secret is another: changed, created or
    removed since it was read.  Nothing was written.  ``found`` is the version there now
    (``versions.NO_SECRET`` when there is none, ``""`` when the plugin cannot say);
    ``changed_at`` (POSIX seconds) and ``changed_by`` say when and by what, where the plugin
    knows.  The message never holds a value."""

    def __init__(
        self,
        message: str,
        *,
        id_: str = "",
        provider: str = "",
        expected: str = "",
        found: str = "",
        changed_at: float | None = None,
        changed_by: str = "",
    ) -> None:
        super().__init__(message)
        self.id = id_
        self.provider = provider
        self.expected = expected
        self.found = found
        self.changed_at = changed_at
        self.changed_by = changed_by


class ReadOnlyError(DockerPassError):
    """Raised when a write is asked of a plugin that only reads (for example 1Password)."""


class PluginError(DockerPassError):
    """Raised by a plugin for a failure of one request; the plugin keeps running."""


class FatalPluginError(PluginError):
    """Raised by a plugin for a failure it cannot recover from; the engine marks it crashed.

    The message must tell the person how to fix the cause.
    """


class UnknownPluginError(DockerPassError, LookupError):
    """Raised when a plugin name is not registered; the message lists the known names."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(
            f"unknown plugin {shorten(name)!r} (known: {', '.join(sorted(known)) or 'none'})"
        )


class UsageError(DockerPassError):
    """Raised for a command line that cannot be carried out as written."""


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` as a message may quote it: at most ``limit`` characters, cut with ``…``."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def go_quote(value: str, limit: int = QUOTE_LIMIT) -> str:
    """Quote like Go's ``%q`` does for the strings we meet (upstream's messages use it).

    At most ``limit`` characters of ``value`` are quoted; a longer one is cut with ``…`` (after
    the closing quote, so the quoted part is still Go's quoting of a prefix).
    """
    cut = len(value) > limit
    if cut:
        value = value[: limit - 1]
    out = ['"']
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"…' if cut else '"')
    return "".join(out)


def describe_unexpected(exc: BaseException) -> str:
    """How an exception docker-pass did not raise on purpose is shown: by its type only.

    Its text may come from a library and could hold data (a value, a token, a server's
    answer), so no front shows it: the CLI adds "run with --debug for details", the TUI and
    the daemon show this alone.
    """
    return f"internal error ({type(exc).__name__})"


def describe(exc: BaseException) -> str:
    """A :class:`DockerPassError`'s own message; anything else by :func:`describe_unexpected`."""
    return str(exc) if isinstance(exc, DockerPassError) else describe_unexpected(exc)
