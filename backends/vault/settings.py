"""The vault plugin's settings and setup form: what ``docker pass plugins setup vault`` (or
``plugins vault setup``) and the TUI's form ask for, how the answers are checked before anything
is stored, and how the plugin reads its section ``plugins.vault`` of the config file.

Settings: ``address``, ``mount`` (``secret``), ``prefix``, ``namespace``, ``ca_cert``,
``role_id``, ``pattern`` (``**``), and how it runs (:class:`Tuning`): ``cache_ttl`` (seconds a
listed folder is kept in memory, 30; ``$DOCKER_PASS_VAULT_CACHE_TTL``), ``concurrency`` (LIST
and read calls in flight, 8), ``timeout`` (seconds one HTTP request may take in all, 10),
``walk_budget`` (folders and keys one listing may visit, 100000).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from docker_pass.backends.vault.auth import SECRET_ID_FIELD, TOKEN_FIELD
from docker_pass.backends.vault.errors import (
    APPROLE_EXAMPLE,
    PLUGIN_NAME,
    TOKEN_EXAMPLE,
    VaultSettings,
    WrongPlaceError,
)
from docker_pass.backends.vault.walk import (
    DEFAULT_CACHE_TTL,
    DEFAULT_CONCURRENCY,
    DEFAULT_WALK_BUDGET,
)
from docker_pass.core.errors import FatalPluginError, PluginError, shorten
from docker_pass.core.plugin_settings import PluginSettings

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from docker_pass.core.setup import Setup

CACHE_TTL_ENV = "DOCKER_PASS_VAULT_CACHE_TTL"
DEFAULT_TIMEOUT = 10.0
NOT_SET_UP = f"the vault plugin is not set up: run: {TOKEN_EXAMPLE}"


#: A CA certificate bundle is kilobytes; Debian's whole bundle is ~200 KiB.
CA_CERT_LIMIT = 4 * 1024 * 1024


def settings_from_config(section: PluginSettings) -> VaultSettings:
    """The plugin's :class:`VaultSettings` from its section of the config file."""
    address = section.text("address")
    if not address:
        raise FatalPluginError(NOT_SET_UP)
    return VaultSettings(
        address,
        mount=section.text("mount", "secret"),
        prefix=section.text("prefix"),
        namespace=section.text("namespace"),
        ca_cert=section.text("ca_cert"),
        role_id=section.text("role_id"),
    )


class Tuning:
    """How the plugin runs: ``cache_ttl``, ``concurrency``, ``timeout`` and ``walk_budget``,
    each given (tests) or read from the plugin's section (``0`` is the default for all but
    ``cache_ttl``, where it turns the cache off)."""

    __slots__ = ("cache_ttl", "concurrency", "timeout", "walk_budget")

    def __init__(self, section: PluginSettings, given: Mapping[str, float | None]) -> None:
        def pick(name: str, read: Callable[[], float]) -> float:
            value = given.get(name)
            return read() if value is None else value

        self.cache_ttl = pick(
            "cache_ttl", lambda: section.seconds("cache_ttl", DEFAULT_CACHE_TTL, env=CACHE_TTL_ENV)
        )
        concurrency = pick("concurrency", lambda: section.number("concurrency", 0))
        self.concurrency = max(1, int(concurrency or DEFAULT_CONCURRENCY))
        self.timeout = pick("timeout", lambda: section.seconds("timeout", 0)) or DEFAULT_TIMEOUT
        budget = pick("walk_budget", lambda: section.number("walk_budget", 0))
        self.walk_budget = max(1, int(budget or DEFAULT_WALK_BUDGET))

    def __repr__(self) -> str:
        return (
            f"Tuning(cache_ttl={self.cache_ttl}, concurrency={self.concurrency}, "
            f"timeout={self.timeout}, walk_budget={self.walk_budget})"
        )


def setup_timeout() -> float:
    """The ``timeout`` a setup's check uses: the configured one, else the default (a bad value
    is the engine's to report, when the plugin starts)."""
    try:
        return PluginSettings(PLUGIN_NAME).seconds("timeout", 0) or DEFAULT_TIMEOUT
    except FatalPluginError:
        return DEFAULT_TIMEOUT


def check_setup(values: Mapping[str, str]) -> None:
    """Refuse answers the vault refuses: the token must pass ``lookup-self`` (or the AppRole
    must log in) at the address, before anything is stored."""
    from docker_pass.backends.vault.client import KvClient
    from docker_pass.core.setup import SetupError

    address = values.get("address", "")
    if not address.startswith(("http://", "https://")):
        raise SetupError(
            "the address must be a URL that starts with http:// or https://", "address"
        )
    ca_cert = values.get("ca_cert", "")
    if ca_cert and not os.path.exists(ca_cert):
        raise SetupError(f"no CA certificate file at {shorten(ca_cert)}", "ca_cert")
    if ca_cert:
        from docker_pass.core.regular_files import FileReadError, read_regular_file

        try:  # a FIFO, a device or a huge file is no certificate (and must not hang or fill us)
            read_regular_file(ca_cert, "CA certificate file", limit=CA_CERT_LIMIT)
        except FileReadError as exc:
            raise SetupError(str(exc), "ca_cert") from None
    for name in ("mount", "prefix"):
        if ".." in values.get(name, "").split("/"):
            raise SetupError(f"the {name} cannot hold a .. component", name)
    role_id = values.get("role_id", "")
    token = values.get(TOKEN_FIELD, "")
    secret_id = values.get(SECRET_ID_FIELD, "")
    if role_id and not secret_id:
        raise SetupError("an AppRole login needs its secret ID", SECRET_ID_FIELD)
    if not role_id and not token:
        raise SetupError("no token given (or a role ID and its secret ID)", TOKEN_FIELD)
    settings = VaultSettings(
        address,
        mount=values.get("mount", "") or "secret",
        prefix=values.get("prefix", ""),
        namespace=values.get("namespace", ""),
        ca_cert=ca_cert,
        role_id=role_id,
    )
    client = KvClient(settings, timeout=setup_timeout())
    try:
        if role_id:
            client.approle_login(role_id, secret_id)
        else:
            client.token = token
            client.lookup_self()
    except WrongPlaceError as exc:
        raise SetupError(exc.problem, "namespace" if settings.namespace else "address") from None
    except FatalPluginError:
        what = "AppRole role ID and secret ID" if role_id else "token"
        field = SECRET_ID_FIELD if role_id else TOKEN_FIELD
        raise SetupError(
            f"the vault at {settings.shown_address} refused the {what} (revoked, expired or "
            "invalid)",
            field,
        ) from None
    except PluginError as exc:
        raise SetupError(str(exc), "address") from None
    finally:
        client.close()


def setup_form() -> Setup:
    """What the setup commands and the TUI's setup form ask for."""
    # Imported here: every engine imports the plugin, and only setting up needs the form.
    from docker_pass.core.setup import FieldKind, Setup, SetupField

    fields = (
        SetupField(
            "address",
            "Address",
            one_word=True,
            metavar="URL",
            help="The server's URL, as in https://vault.example.com:8200",
        ),
        SetupField(
            TOKEN_FIELD,
            "Token",
            secret=True,
            required=False,
            one_word=True,
            noun="token",
            help="Checked with lookup-self before it is stored (or give an AppRole below).",
            only_without="role_id",
            example=TOKEN_EXAMPLE,
        ),
        SetupField(
            "mount",
            "Mount",
            default="secret",
            one_word=True,
            metavar="PATH",
            help="A KV v2 mount.",
        ),
        SetupField(
            "prefix",
            "Prefix",
            required=False,
            one_word=True,
            metavar="PATH",
            help="The ID a/b is the KV path <prefix>/a/b.",
        ),
        SetupField("namespace", "Namespace", required=False, one_word=True, metavar="NS"),
        SetupField(
            "ca_cert",
            "CA certificate file",
            required=False,
            kind=FieldKind.PATH,
            metavar="FILE",
        ),
        SetupField(
            "role_id",
            "Role ID (AppRole)",
            required=False,
            one_word=True,
            help="For CI: log in with an AppRole instead of a token.",
        ),
        SetupField(
            SECRET_ID_FIELD,
            "Secret ID (AppRole)",
            secret=True,
            required=False,
            one_word=True,
            noun="secret ID",
            only_with="role_id",
            example=APPROLE_EXAMPLE,
        ),
    )
    intro = (
        "The vault plugin serves secrets from a HashiCorp Vault or OpenBao KV v2 mount. "
        "Its token (or AppRole secret ID) is stored in the OS keychain by the docker-pass "
        "plugin."
    )
    return Setup(PLUGIN_NAME, "vault", fields, intro=intro, check=check_setup)
