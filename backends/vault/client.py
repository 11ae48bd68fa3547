"""The calls the plugin makes to the KV v2 API, through ``hvac``, with failures classified.

One ``hvac.Client`` (one ``requests`` session, so one kept-alive connection) per thread: the
walk's workers and the daemon's request threads each reuse theirs.  The session is
:class:`~.transport.BoundedSession`: each request within ``timeout`` seconds in all, its answer
capped, no redirect elsewhere, Vault's JSON or an error.  The token is held here, in memory
only, and set on a thread's client before each call; it never reaches a message.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from docker_pass.backends.vault.errors import (
    AnswerError,
    CasConflictError,
    MissingPathError,
    NotVaultAnswerError,
    VaultSettings,
    is_transport_error,
    other_failure,
    permission_denied,
    sealed,
    server_errors,
    status_of,
    token_refused,
    unreachable,
    wrong_place,
)
from docker_pass.core.errors import PluginError

if TYPE_CHECKING:
    from collections.abc import Callable

#: Seconds one HTTP call may take in all (connecting, redirects, the whole answer), unless
#: configured.
DEFAULT_TIMEOUT = 10.0


def import_hvac() -> Any:
    """``hvac``, imported now (~0.2 s with ``requests``): only when the plugin starts."""
    from docker_pass.core.errors import FatalPluginError

    try:
        import hvac
    except ImportError:
        raise FatalPluginError(
            "the hvac package is not installed: install it (pip install hvac), then run: "
            "docker pass plugins enable vault"
        ) from None
    return hvac


class KvClient:
    """KV v2 calls on one mount, with the token in memory; thread-safe."""

    def __init__(self, settings: VaultSettings, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.settings = settings
        self.timeout = timeout
        self._hvac = import_hvac()
        self._local = threading.local()
        self._token = ""
        #: Calls made, by kind (``list``, ``read``, …): for ``storage`` and the tests.
        self.calls: dict[str, int] = {}
        self._count_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KvClient({self.settings!r})"

    @property
    def token(self) -> str:
        """The token in use (never shown)."""
        return self._token

    @token.setter
    def token(self, token: str) -> None:
        self._token = token

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            from docker_pass.backends.vault.transport import BoundedSession

            settings = self.settings
            verify: bool | str = settings.ca_cert or True
            client = self._hvac.Client(
                url=settings.address,
                token="",  # never $VAULT_TOKEN or ~/.vault-token: the plugin's own, below
                verify=verify,
                timeout=self.timeout,
                allow_redirects=False,
                session=BoundedSession(self.timeout, verify),
                namespace=settings.namespace or None,
            )
            self._local.client = client
        client.token = self._token
        return client

    def _count(self, kind: str) -> None:
        with self._count_lock:
            self.calls[kind] = self.calls.get(kind, 0) + 1

    def call(self, kind: str, what: str, path: str, work: Callable[[Any], Any]) -> Any:
        """Run ``work(client)``; map failures to the plugin's errors (see :mod:`.errors`).

        A 404 raises :class:`MissingPathError`; ``kind`` names the operation in messages
        (``list``, ``read``, ``write``, ``delete``) and in :attr:`calls`.
        """
        self._count(kind)
        try:
            return work(self._client())
        except Exception as exc:  # noqa: BLE001 - hvac and requests raise many types: classify
            raise self._classify(exc, kind, what, path) from None

    def _classify(self, exc: BaseException, kind: str, what: str, path: str) -> Exception:
        settings = self.settings
        if isinstance(exc, AnswerError):
            return exc.placed(settings, what)
        if isinstance(exc, PluginError):
            return exc
        status = status_of(exc)
        if status is None:
            if is_transport_error(exc):
                return unreachable(settings, exc)
            return PluginError(f"vault {settings.shown_address}: {what}: {type(exc).__name__}")
        if status == 404:
            return MissingPathError(path)
        if status == 401:
            return token_refused(settings)
        if status == 403:
            return self._forbidden(kind, path)
        if status in (501, 503):
            return sealed(settings)
        if status == 400 and any("check-and-set" in e for e in server_errors(exc)):
            return CasConflictError(
                f"vault {settings.where(path)} changed since it was read: nothing was "
                "overwritten; read it again, then save"
            )
        if status == 429:
            return PluginError(
                f"vault {settings.shown_address}: {what}: rate limit reached; try later"
            )
        return other_failure(settings, what, exc)

    def _forbidden(self, kind: str, path: str) -> Exception:
        """A 403: a refused token or a policy that denies the path (lookup-self tells which)."""
        try:
            self.lookup_self()
        except PluginError as exc:
            return exc  # refused token, sealed, unreachable: that says more than the 403
        operation = {
            "list": "listing",
            "read": "reading",
            "metadata": "reading the metadata of",
            "write": "writing",
            "delete": "deleting",
            "undelete": "undeleting",
        }.get(kind, kind)
        return permission_denied(self.settings, operation, path)

    # -- the calls ---------------------------------------------------------------------------

    def lookup_self(self) -> dict[str, Any]:
        """``auth/token/lookup-self``: the token's TTL, renewability and policies."""
        self._count("lookup-self")
        try:
            answer = self._client().auth.token.lookup_self()
        except Exception as exc:  # noqa: BLE001 - classify
            if status_of(exc) in (401, 403):
                raise token_refused(self.settings) from None
            if status_of(exc) == 404:  # no such namespace, or not the vault's API there
                raise wrong_place(self.settings, exc, "token check (lookup-self)") from None
            raise self._classify(exc, "lookup", "checking the token", "") from None
        data = answer.get("data") if isinstance(answer, dict) else None
        return data if isinstance(data, dict) else {}

    def renew_self(self) -> dict[str, Any]:
        """``auth/token/renew-self``: the renewed lease (``auth`` of the answer)."""
        what = "renewing the token"
        try:
            answer = self.call("renew", what, "", lambda c: c.auth.token.renew_self())
        except MissingPathError:
            raise PluginError(f"vault {self.settings.shown_address}: {what}: not found") from None
        auth = answer.get("auth") if isinstance(answer, dict) else None
        return auth if isinstance(auth, dict) else {}

    def approle_login(self, role_id: str, secret_id: str) -> dict[str, Any]:
        """``auth/approle/login``: a new token (``auth`` of the answer); never stored."""
        self._count("login")
        try:
            answer = self._client().auth.approle.login(
                role_id=role_id, secret_id=secret_id, use_token=False
            )
        except Exception as exc:  # noqa: BLE001 - classify
            if status_of(exc) in (400, 401, 403):
                raise token_refused(self.settings) from None
            if status_of(exc) == 404:  # no such namespace, or no AppRole at auth/approle
                raise wrong_place(self.settings, exc, "AppRole login (auth/approle)") from None
            raise self._classify(exc, "login", "AppRole login", "") from None
        auth = answer.get("auth") if isinstance(answer, dict) else None
        if not isinstance(auth, dict) or not auth.get("client_token"):
            raise token_refused(self.settings)
        return auth

    def list_folder(self, path: str) -> list[str]:
        """The keys of one folder (``a``, ``b/``); ``[]`` when it does not exist."""
        mount = self.settings.mount
        what = f"listing {self.settings.where(path)}"
        try:
            answer = self.call(
                "list",
                what,
                path,
                lambda c: c.secrets.kv.v2.list_secrets(path=path, mount_point=mount),
            )
        except MissingPathError:
            return []
        data = answer.get("data") if isinstance(answer, dict) else None
        keys = data.get("keys") if isinstance(data, dict) else None
        if not isinstance(keys, list):  # a 200 without keys: not a KV v2 listing
            raise NotVaultAnswerError("the answer holds no list of keys").placed(
                self.settings, what
            )
        return [k for k in keys if isinstance(k, str)]

    def read(self, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The latest version's data and metadata; :class:`MissingPathError` if there is none
        (never written, or its latest version deleted)."""
        mount = self.settings.mount
        what = f"reading {self.settings.where(path)}"
        answer = self.call(
            "read",
            what,
            path,
            lambda c: c.secrets.kv.v2.read_secret_version(
                path=path, mount_point=mount, raise_on_deleted_version=True
            ),
        )
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict):  # a 200 without data: not a KV v2 read
            raise NotVaultAnswerError("the answer holds no secret").placed(self.settings, what)
        values = data.get("data")
        metadata = data.get("metadata")
        if not isinstance(values, dict):
            raise MissingPathError(path)  # a deleted or destroyed version has no data
        return values, metadata if isinstance(metadata, dict) else {}

    def read_metadata(self, path: str) -> dict[str, Any]:
        """The secret's metadata (versions, times, ``custom_metadata``)."""
        mount = self.settings.mount
        answer = self.call(
            "metadata",
            f"reading the metadata of {self.settings.where(path)}",
            path,
            lambda c: c.secrets.kv.v2.read_secret_metadata(path=path, mount_point=mount),
        )
        data = answer.get("data") if isinstance(answer, dict) else None
        return data if isinstance(data, dict) else {}

    def write(self, path: str, data: dict[str, Any], cas: int) -> int:
        """A new version (only if the current one is ``cas``; 0: only if there is none);
        the version written."""
        mount = self.settings.mount
        answer = self.call(
            "write",
            f"writing {self.settings.where(path)}",
            path,
            lambda c: c.secrets.kv.v2.create_or_update_secret(
                path=path, secret=data, cas=cas, mount_point=mount
            ),
        )
        written = (answer.get("data") or {}).get("version") if isinstance(answer, dict) else None
        return int(written) if isinstance(written, int) else 0

    def write_custom_metadata(self, path: str, metadata: dict[str, str]) -> None:
        """Replace the secret's ``custom_metadata``."""
        mount = self.settings.mount
        self.call(
            "write",
            f"writing the metadata of {self.settings.where(path)}",
            path,
            lambda c: c.secrets.kv.v2.update_metadata(
                path=path, custom_metadata=metadata, mount_point=mount
            ),
        )

    def delete_latest(self, path: str) -> None:
        """Delete the latest version (the older ones stay, and can be undeleted)."""
        mount = self.settings.mount
        self.call(
            "delete",
            f"deleting {self.settings.where(path)}",
            path,
            lambda c: c.secrets.kv.v2.delete_latest_version_of_secret(path=path, mount_point=mount),
        )

    def delete_versions(self, path: str, versions: list[int]) -> None:
        """Delete exactly ``versions`` (soft: they can be undeleted); a version written since
        is not touched."""
        mount = self.settings.mount
        self.call(
            "delete",
            f"deleting {self.settings.where(path)}",
            path,
            lambda c: c.secrets.kv.v2.delete_secret_versions(
                path=path, versions=versions, mount_point=mount
            ),
        )

    def undelete_versions(self, path: str, versions: list[int]) -> None:
        """Restore the deleted ``versions`` (a destroyed one stays destroyed)."""
        mount = self.settings.mount
        self.call(
            "undelete",
            f"undeleting {self.settings.where(path)}",
            path,
            lambda c: c.secrets.kv.v2.undelete_secret_versions(
                path=path, versions=versions, mount_point=mount
            ),
        )

    def delete_all(self, path: str) -> None:
        """Delete every version and the metadata: the path is gone."""
        mount = self.settings.mount
        self.call(
            "delete",
            f"deleting every version of {self.settings.where(path)}",
            path,
            lambda c: c.secrets.kv.v2.delete_metadata_and_all_versions(
                path=path, mount_point=mount
            ),
        )

    def close(self) -> None:
        """Forget the token (the threads' sessions close with their threads)."""
        self._token = ""
        client = getattr(self._local, "client", None)
        if client is not None:
            session = getattr(getattr(client, "adapter", None), "session", None)
            if session is not None:
                session.close()
            self._local.client = None
