"""The one exception hierarchy of docker-pass.

Every error a user can cause or meet derives from :class:`DockerPassError`; the CLI prints its
message as one ``Error: …`` line and the TUI shows it in the status line.  Messages never hold a
secret value: they name IDs, plugins, files and reasons only.
"""

from __future__ import annotations

ID_RULE = "^[A-Za-z0-9._:-]+(?:/[A-Za-z0-9._:-]+)*$"


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
        super().__init__(f"invalid identifier: {_go_quote(value)} must match {ID_RULE}")


class InvalidPatternError(DockerPassError, ValueError):
    """Raised when a string is not a valid pattern; ``reason`` says which rule it breaks."""

    def __init__(self, value: str, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"invalid pattern {_go_quote(value)}: {reason}")


class ExpandError(DockerPassError, ValueError):
    """Raised when a pattern to expand does not hold exactly one ``**`` component."""


class SecretNotFoundError(DockerPassError, LookupError):
    """Raised when a lookup finds no secret; the message is upstream's ``secret not found``."""

    def __init__(self, message: str = "secret not found") -> None:
        super().__init__(message)


class NoPluginMatchesError(DockerPassError, LookupError):
    """Raised when no enabled, running plugin serves any part of the requested pattern."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        super().__init__(f"no plugin matches {pattern}")


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
        super().__init__(f"unknown plugin {name!r} (known: {', '.join(sorted(known)) or 'none'})")


class UsageError(DockerPassError):
    """Raised for a command line that cannot be carried out as written."""


def _go_quote(value: str) -> str:
    """Quote like Go's ``%q`` does for the strings we meet (upstream's messages use it)."""
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
    out.append('"')
    return "".join(out)
