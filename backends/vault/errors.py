"""What a failed call to the vault means, as one line that never holds a token or a value.

- the token is refused (revoked, expired), a policy denies the path, the server is sealed:
  :class:`~docker_pass.core.errors.FatalPluginError` — the plugin is crashed, and the message
  says what to run (``docker pass plugins vault setup …``, or unseal, then enable);
- the address or namespace leads to no token check (``lookup-self`` answers 404):
  :class:`WrongPlaceError`, fatal too;
- the server cannot be reached, or a TLS check fails: :class:`PluginError` for that request
  only, naming the address (and which certificate check failed); the next request tries again;
- its answer cannot be used (:class:`AnswerError`: larger than the cap, not Vault's JSON, a
  redirect elsewhere, not complete before the deadline): that request only, likewise.

What the server says (its ``errors``, a page's text, a redirect's target) reaches a message only
through :func:`~docker_pass.core.outside.clean_outside`, and the address only without the
``user:password@`` it may hold (:attr:`VaultSettings.shown_address`).

Works on the exception types by name and attribute (``hvac.exceptions``, ``requests``), so this
module imports neither: the plugin's module stays light until it starts.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from docker_pass.core.errors import FatalPluginError, PluginError
from docker_pass.core.plugin import enable_remedy

if TYPE_CHECKING:
    from collections.abc import Iterator

PLUGIN_NAME = "vault"
#: The setup command, in the spelling Docker's documentation uses for plugin commands, and a
#: command line that pipes in each of its secrets (the setup form's examples).
SETUP_COMMAND = "docker pass plugins vault setup"
TOKEN_EXAMPLE = f'echo "$VAULT_TOKEN" | {SETUP_COMMAND} --address URL'
APPROLE_EXAMPLE = f'echo "$SECRET_ID" | {SETUP_COMMAND} --address URL --role-id ROLE_ID'


class VaultSettings:
    """Where the plugin's secrets are: address, mount, prefix, namespace, CA file, AppRole."""

    __slots__ = ("address", "ca_cert", "mount", "namespace", "prefix", "role_id")

    def __init__(
        self,
        address: str,
        mount: str = "secret",
        prefix: str = "",
        namespace: str = "",
        ca_cert: str = "",
        role_id: str = "",
    ) -> None:
        self.address = address.rstrip("/")
        self.mount = mount.strip("/") or "secret"
        self.prefix = prefix.strip("/")
        self.namespace = namespace.strip("/")
        self.ca_cert = ca_cert
        self.role_id = role_id

    def __repr__(self) -> str:
        return (
            f"VaultSettings({self.address!r}, mount={self.mount!r}, prefix={self.prefix!r}, "
            f"namespace={self.namespace!r}, approle={bool(self.role_id)})"
        )

    @property
    def shown_address(self) -> str:
        """The address as a message shows it: without the ``user:password@`` a URL may hold,
        on one line."""
        from docker_pass.core.outside import clean_outside  # only for messages

        return clean_outside(self.address)

    def setup_command(self) -> str:
        """The command that sets the plugin up again with these settings (secret on stdin)."""
        import shlex  # only for this message: every engine loads the vault plugin

        parts = [SETUP_COMMAND, "--address", shlex.quote(self.shown_address)]
        if self.mount != "secret":
            parts += ["--mount", shlex.quote(self.mount)]
        if self.prefix:
            parts += ["--prefix", shlex.quote(self.prefix)]
        if self.namespace:
            parts += ["--namespace", shlex.quote(self.namespace)]
        if self.ca_cert:
            parts += ["--ca-cert", shlex.quote(self.ca_cert)]
        if self.role_id:
            parts += ["--role-id", shlex.quote(self.role_id)]
            return 'echo "$SECRET_ID" | ' + " ".join(parts)
        return 'echo "$VAULT_TOKEN" | ' + " ".join(parts)

    def where(self, path: str) -> str:
        """``mount/path`` as people name a KV secret (``bao kv get -mount=… path``)."""
        return f"{self.mount}/{path}" if path else f"{self.mount}/"


class CasConflictError(PluginError):
    """Raised when a write is refused because the secret changed since it was read (KV v2
    check-and-set): nothing was overwritten."""


class PermissionDeniedError(FatalPluginError):
    """Raised when a policy of the (valid) token denies an operation on a path."""


class WrongPlaceError(FatalPluginError):
    """Raised when the token check (``lookup-self``, or an AppRole login) is not found (404)
    at the address: the namespace does not exist there, or the URL is not the vault's API.
    ``problem`` is the message without its remedy (what a setup form shows)."""

    def __init__(self, problem: str, remedy: str) -> None:
        super().__init__(f"{problem}, then run: {remedy}")
        self.problem = problem


class AnswerError(PluginError):
    """Raised when an answer cannot be used (one request; the next tries again); ``reason``
    says why, :meth:`placed` names the address and the operation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def placed(self, settings: VaultSettings, what: str) -> AnswerError:
        """The same error, its message naming the address and what was being done."""
        return type(self)(f"vault {settings.shown_address}: {what}: {self.reason}")


class AnswerTooLargeError(AnswerError):
    """Raised when an answer is larger than the cap (it is not read further)."""


class NotVaultAnswerError(AnswerError):
    """Raised when an answer is not Vault's JSON (a proxy's page, another server)."""


class RedirectRefusedError(AnswerError):
    """Raised when the server redirects to another scheme, host or port (or too often): the
    redirect is not followed, and the token is not sent there."""


class DeadlineError(AnswerError):
    """Raised when a request's answer is not complete within the plugin's ``timeout``."""


class WalkCutError(PluginError):
    """Raised when a listing's walk visits more folders and keys than its budget allows
    (``plugins.vault.walk_budget``), or nests deeper than any ID would."""


class MissingPathError(Exception):
    """Internal: the KV path does not exist (a 404); callers turn it into a miss."""


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of an ``hvac.exceptions.VaultError`` (by its class), else ``None``."""
    names = {
        "InvalidRequest": 400,
        "Unauthorized": 401,
        "Forbidden": 403,
        "InvalidPath": 404,
        "RateLimitExceeded": 429,
        "InternalServerError": 500,
        "VaultNotInitialized": 501,
        "BadGateway": 502,
        "VaultDown": 503,
        "UnexpectedError": 0,
    }
    for cls in type(exc).__mro__:
        if cls.__module__.startswith("hvac") and cls.__name__ in names:
            return names[cls.__name__]
    return None


def server_errors(exc: BaseException) -> list[str]:
    """The ``errors`` the server sent (they name paths and reasons, never a token)."""
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list):
        return [str(e) for e in errors]
    return []


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: causes, contexts, ``args`` and urllib3's ``reason``."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for attr in ("__cause__", "__context__", "reason"):
            inner = getattr(current, attr, None)
            if isinstance(inner, BaseException):
                todo.append(inner)
        todo.extend(arg for arg in current.args if isinstance(arg, BaseException))


def is_transport_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure to talk to the server at all (``requests``' errors)."""
    return any(
        cls.__module__.startswith(("requests", "urllib3")) for cls in type(exc).__mro__
    ) or isinstance(exc, OSError)


def tls_problem(exc: BaseException) -> str | None:
    """Which certificate check failed, when ``exc`` is a TLS failure, else ``None``."""
    import ssl  # already loaded by requests whenever this can be a TLS error

    for inner in _chain(exc):
        if isinstance(inner, ssl.SSLCertVerificationError):
            check = inner.verify_message or inner.reason or "certificate verify failed"
            return f"certificate verify failed: {check}"
        if isinstance(inner, ssl.SSLError):
            return f"TLS handshake failed: {inner.reason or type(inner).__name__}"
    if any(type(inner).__name__ == "SSLError" for inner in _chain(exc)):
        return "TLS handshake failed"
    return None


def transport_reason(exc: BaseException) -> str:
    """Why the server could not be reached, in a few words."""
    import socket

    for inner in _chain(exc):
        if isinstance(inner, socket.gaierror):
            return "its host name does not resolve"
        if isinstance(inner, ConnectionRefusedError):
            return "connection refused"
        if isinstance(inner, TimeoutError) or "Timeout" in type(inner).__name__:
            return "no answer in time"
        if isinstance(inner, OSError) and inner.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "network unreachable"
        if isinstance(inner, ConnectionResetError):
            return "connection reset"
    return "connection failed"


def unreachable(settings: VaultSettings, exc: BaseException) -> PluginError:
    """The one-line error of a request that did not reach the server (not fatal)."""
    problem = tls_problem(exc)
    if problem is not None:
        hint = (
            f" (the CA file {settings.ca_cert} does not vouch for it)"
            if settings.ca_cert
            else " (if it uses a private CA, give its certificate: "
            "docker pass plugins vault setup … --ca-cert FILE)"
        )
        return PluginError(f"vault {settings.shown_address}: TLS: {problem}{hint}")
    return PluginError(
        f"cannot reach the vault at {settings.shown_address} ({transport_reason(exc)})"
    )


def token_refused(settings: VaultSettings) -> FatalPluginError:
    """The token is no good any more (revoked, expired, or an AppRole login refused)."""
    what = "AppRole login" if settings.role_id else "token"
    return FatalPluginError(
        f"the vault at {settings.shown_address} refused the {what} (revoked, expired or invalid): "
        f"run: {settings.setup_command()}"
    )


def permission_denied(settings: VaultSettings, operation: str, path: str) -> PermissionDeniedError:
    """A policy of the token does not allow ``operation`` on ``path``."""
    return PermissionDeniedError(
        f"the vault at {settings.shown_address} denied {operation} {settings.where(path)} "
        "(the token's policies do not allow it): once its policy allows it, run: "
        f"{enable_remedy(PLUGIN_NAME)}; or narrow plugins.vault.pattern, or set up a token "
        f"that may: {settings.setup_command()}"
    )


def sealed(settings: VaultSettings) -> FatalPluginError:
    """The server is sealed (or not initialised, or a standby that cannot serve)."""
    return FatalPluginError(
        f"the vault at {settings.shown_address} is sealed or unavailable: unseal it "
        f"(bao operator unseal), then run: {enable_remedy(PLUGIN_NAME)} "
        f"(or set it up again: {settings.setup_command()})"
    )


def other_failure(settings: VaultSettings, what: str, exc: BaseException) -> PluginError:
    """Any other refusal: the server's own reasons (paths, rules), cut to one short line."""
    from docker_pass.core.outside import clean_outside

    status = status_of(exc)
    reasons = clean_outside("; ".join(server_errors(exc)), 200) or type(exc).__name__
    code = f" {status}" if status else ""
    return PluginError(
        f"vault {settings.shown_address}: {what}: the server answered{code}: {reasons}"
    )


def wrong_place(settings: VaultSettings, exc: BaseException, what: str) -> WrongPlaceError:
    """``what`` (the token check, the AppRole login) was not found (404) at the address."""
    from docker_pass.core.outside import clean_outside

    reasons = clean_outside("; ".join(server_errors(exc)), 120)
    said = f": {reasons}" if reasons else ""
    where = f" in namespace {clean_outside(settings.namespace, 80)}" if settings.namespace else ""
    return WrongPlaceError(
        f"the vault at {settings.shown_address} found no {what}{where} (404{said}): check the "
        "namespace or address (the vault's URL, as in https://vault.example.com:8200)",
        settings.setup_command(),
    )
