"""The plugin's token: read from the keychain (or got by an AppRole login), checked, renewed.

``docker pass plugins vault setup`` stores either the token, or (with ``--role-id``) the AppRole
secret ID, with the ``docker-pass`` keychain plugin under
``docker/secrets-engine/plugins/vault/…``; the role ID is a setting.  On start the plugin reads
it back (:func:`~docker_pass.core.setup.read_setup_secret`: through the keychain plugin, as any
plugin does) and checks the token with ``lookup-self`` (an AppRole login makes a fresh token
instead).

While the plugin runs (the daemon keeps it running for days), a thread renews a renewable token
(``renew-self``) when two thirds of its time to live have passed; when it cannot be renewed and
an AppRole is configured, it logs in again.  The token lives in this process's memory only.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from docker_pass.backends.vault.errors import PLUGIN_NAME, VaultSettings, token_refused
from docker_pass.core.errors import FatalPluginError, PluginError

if TYPE_CHECKING:
    from collections.abc import Callable

    from docker_pass.backends.vault.client import KvClient

#: The setup form's secret fields, and so the leaves of their IDs in the keychain.
TOKEN_FIELD = "token"  # noqa: S105 - a field name
SECRET_ID_FIELD = "secret_id"  # noqa: S105 - a field name
#: Renew when this share of the token's time to live has passed.
RENEW_AT = 2 / 3
#: Never wait less than this between two renewal attempts (seconds).
MIN_RENEW_WAIT = 1.0


def read_from_keychain(field: str) -> str | None:
    """The stored answer ``field`` of the setup form, read through the ``docker-pass`` plugin;
    ``None`` if none (:func:`~docker_pass.core.setup.read_setup_secret`)."""
    # Imported here: every engine imports this module, and only a start reads the secret.
    from docker_pass.core.setup import read_setup_secret

    return read_setup_secret(PLUGIN_NAME, field)


class TokenKeeper:
    """Gets the token into ``client`` and keeps it valid while the plugin runs."""

    def __init__(
        self,
        client: KvClient,
        settings: VaultSettings,
        read_secret: Callable[[str], str | None] = read_from_keychain,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.settings = settings
        self._read_secret = read_secret
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: When (``clock``) the token expires; ``None``: it does not (or is not known to).
        self.expires_at: float | None = None
        self.renewable = False
        self.ttl = 0.0
        #: Renewals and logins done, and the last renewal's failure ("" when none).
        self.renewals = 0
        self.logins = 0
        self.last_problem = ""

    def __repr__(self) -> str:
        return f"TokenKeeper({self.settings!r}, renewals={self.renewals}, logins={self.logins})"

    def start(self) -> None:
        """Read the token (or log in with the AppRole) and check it; raise ``FatalPluginError``
        when there is none or the server refuses it."""
        if self.settings.role_id:
            self.login()
        else:
            token = self._read_secret(TOKEN_FIELD)
            if token is None:
                raise FatalPluginError(
                    f"no vault token is stored: run: {self.settings.setup_command()}"
                )
            self.client.token = token
            self._learn(self.client.lookup_self())

    def login(self) -> None:
        """A new token from the AppRole (role ID setting, secret ID from the keychain)."""
        secret = self._read_secret(SECRET_ID_FIELD)
        if secret is None:
            raise FatalPluginError(
                f"no AppRole secret ID is stored for the vault plugin: run: "
                f"{self.settings.setup_command()}"
            )
        auth = self.client.approle_login(self.settings.role_id, secret)
        self.client.token = str(auth["client_token"])
        self.logins += 1
        self._learn({"ttl": auth.get("lease_duration", 0), "renewable": auth.get("renewable")})

    def _learn(self, lease: dict[str, object]) -> None:
        ttl = lease.get("ttl", lease.get("lease_duration", 0))
        try:
            seconds = float(ttl)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            seconds = 0.0
        self.ttl = seconds
        self.renewable = bool(lease.get("renewable"))
        self.expires_at = self._clock() + seconds if seconds > 0 else None

    def run_renewals(self) -> None:
        """Start the renewal thread (a token without expiry needs none)."""
        if self._thread is not None or self.expires_at is None:
            return
        self._thread = threading.Thread(target=self._loop, name="vault-token-renewal", daemon=True)
        self._thread.start()

    def next_wait(self) -> float:
        """Seconds until the next renewal is due."""
        if self.expires_at is None:
            return 3600.0
        due = self.expires_at - self.ttl * (1 - RENEW_AT)
        return max(MIN_RENEW_WAIT, due - self._clock())

    def renew_now(self) -> None:
        """Renew the token (or log in again when it cannot be renewed and an AppRole is set)."""
        try:
            if not self.renewable:
                raise token_refused(self.settings)
            auth = self.client.renew_self()
            self.renewals += 1
            self._learn({"ttl": auth.get("lease_duration", 0), "renewable": auth.get("renewable")})
            self.last_problem = ""
        except PluginError as exc:
            if not self.settings.role_id:
                self.last_problem = str(exc)
                if isinstance(exc, FatalPluginError):
                    self.expires_at = None  # nothing more to do: requests will say so
                return
            self.login()
            self.last_problem = ""

    def _loop(self) -> None:
        while not self._stop.wait(self.next_wait()):
            if self.expires_at is None:
                return
            try:
                self.renew_now()
            except PluginError as exc:
                self.last_problem = str(exc)  # requests will meet it; try again later

    def stop(self) -> None:
        """Stop renewing."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._thread = None
