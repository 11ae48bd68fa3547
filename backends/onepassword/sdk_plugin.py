"""The ``1password-sdk`` plugin: 1Password through a service account and ``onepassword-sdk``.

``docker pass plugins 1password setup`` stores the service account token with the
``docker-pass`` keychain plugin (the setup form's one secret field) and enables this plugin; on
start it reads the token back (:func:`~docker_pass.core.setup.read_setup_secret`), signs in with
``Client.authenticate``, and reads every vault's item list (``client.vaults.list()``,
``client.items.list(vault_id)``) into memory, again when that list is older than the refresh
interval.  Values are read when a secret is resolved (``client.items.get(vault_id, item_id)``).

The SDK is imported only when the plugin starts; its coroutines run on one event loop in a
thread of this plugin, so the plugin's blocking methods work from any thread.

Settings (environment first, then the ``plugins.1password-sdk`` section of the config file):

- ``timeout`` / ``$DOCKER_PASS_OP_SDK_TIMEOUT``: seconds one SDK call may take (default 30);
- ``refresh_interval`` / ``$DOCKER_PASS_OP_SDK_REFRESH``: seconds between reads of the item
  list (default 300).

``$DOCKER_PASS_OP_SDK_CLIENT`` (``module:callable``) replaces ``Client.authenticate`` with a
stand-in of the same signature: the tests use it to run the CLI against a fake client, since
1Password's servers cannot be reached from them.  Nothing else should set it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any

from docker_pass.backends.onepassword.base import (
    DEFAULT_REFRESH_INTERVAL,
    DEFAULT_TIMEOUT,
    CachedItemsPlugin,
)
from docker_pass.backends.onepassword.items import Field, Item
from docker_pass.core import __version__
from docker_pass.core.errors import (
    FatalPluginError,
    PluginError,
)
from docker_pass.core.names import PROGRAM
from docker_pass.core.plugin import enable_remedy
from docker_pass.core.plugin_settings import PluginSettings

# datetime and importlib are imported where used: every engine (``run``) loads this class.

if TYPE_CHECKING:
    import builtins
    from collections.abc import Mapping
    from datetime import datetime

    from docker_pass.core.setup import Setup

PLUGIN_NAME = "1password-sdk"
#: How the SDK names this integration to 1Password (the product, not the plugin).
INTEGRATION_NAME = PROGRAM
TIMEOUT_ENV = "DOCKER_PASS_OP_SDK_TIMEOUT"
REFRESH_ENV = "DOCKER_PASS_OP_SDK_REFRESH"
#: Tests only: ``module:callable`` standing in for ``onepassword.Client.authenticate``.
CLIENT_ENV = "DOCKER_PASS_OP_SDK_CLIENT"

#: How the setup command is given the token (Docker documents `plugins 1password setup`).
SETUP = 'echo "$OP_SERVICE_ACCOUNT_TOKEN" | docker pass plugins 1password setup'
NO_TOKEN = f"no 1Password service account token is stored: run: {SETUP}"
TOKEN_REJECTED = (
    "1Password rejected the service account token (invalid, expired or revoked): "
    f"create a new token for the service account, then run: {SETUP}"
)
#: The setup form's one field (so the leaf of the token's ID in the keychain's internal realm).
TOKEN_FIELD = "service-account-token"  # noqa: S105
#: Every 1Password service account token begins so.
TOKEN_PREFIX = "ops_"  # noqa: S105
NOT_A_TOKEN = (
    f"this is not a 1Password service account token: those begin with {TOKEN_PREFIX} "
    "(copy it whole from 1Password's service account page)"
)
SDK_MISSING = (
    "the onepassword-sdk package is not installed: install it (pip install onepassword-sdk), "
    f"then run: {enable_remedy(PLUGIN_NAME)}"
)

#: ``Client.authenticate(auth=…, integration_name=…, integration_version=…)``
Authenticate = Callable[..., Awaitable[Any]]

# Lowercased fragments of the SDK's error messages that mean the token is no good.
_TOKEN_MARKERS = (
    "service account token",
    "unauthorized",
    "authentication error",
    "revoked",
)
# The SDK names field types and categories in CamelCase; op (and our addressing) in upper snake.
_TYPE_NAMES = {"Text": "STRING", "Concealed": "CONCEALED", "Totp": "OTP"}
_CATEGORY_NAMES = {"ApiCredentials": "API_CREDENTIAL", "SshKey": "SSH_KEY"}
_BUILT_IN_PURPOSES = {"password": "PASSWORD", "username": "USERNAME"}


def read_token_from_keychain() -> str:
    """The stored service account token, read back through the ``docker-pass`` plugin."""
    # Imported here: every engine imports this module, and only a start reads the token.
    from docker_pass.core.setup import read_setup_secret

    token = read_setup_secret(PLUGIN_NAME, TOKEN_FIELD)
    if token is None:
        raise FatalPluginError(NO_TOKEN)
    return token


def default_authenticate() -> Authenticate:
    """``onepassword.Client.authenticate``, or the test stand-in that ``$CLIENT_ENV`` names."""
    hook = os.environ.get(CLIENT_ENV, "").strip()
    if hook:
        return _load_hook(hook)
    try:
        # ~300 ms (pydantic, the native core): paid only when this plugin starts.
        from importlib import import_module

        sdk = import_module("onepassword")
    except ImportError:
        raise FatalPluginError(SDK_MISSING) from None
    authenticate: Authenticate = sdk.Client.authenticate
    return authenticate


def _load_hook(spec: str) -> Authenticate:
    from importlib import import_module

    module_name, _, attribute = spec.partition(":")
    try:
        target: Any = import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError, ValueError):
        raise FatalPluginError(f"${CLIENT_ENV}: cannot load {spec}") from None
    if not callable(target):
        raise FatalPluginError(f"${CLIENT_ENV}: {spec} is not callable")
    hook: Authenticate = target
    return hook


def classify_sdk_error(exc: BaseException, what: str) -> PluginError:
    """The error for a failed SDK call.  The SDK's own text never reaches the message."""
    if isinstance(exc, PluginError):
        return exc
    if isinstance(exc, ImportError):
        return FatalPluginError(
            f"the 1Password SDK cannot run on this machine: use the 1password-cli plugin "
            f"instead (docker pass plugins disable {PLUGIN_NAME})"
        )
    text = str(exc).lower()
    if any(marker in text for marker in _TOKEN_MARKERS):
        return FatalPluginError(TOKEN_REJECTED)
    if "ratelimit" in type(exc).__name__.lower() or "rate limit" in text:
        return PluginError(f"{what}: 1Password's rate limit was reached; try again later")
    if "not found" in text:
        return PluginError(
            f"{what}: not found in 1Password (deleted or moved since it was listed?)"
        )
    return PluginError(f"{what}: the 1Password SDK failed ({type(exc).__name__})")


class _LoopThread:
    """One asyncio event loop running in a daemon thread, for the SDK's coroutines."""

    def __init__(self) -> None:
        import asyncio  # ~20 ms: only when the plugin starts

        self._asyncio = asyncio
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name=f"{PLUGIN_NAME}-loop", daemon=True
        )
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float) -> Any:
        """Run ``coroutine`` on the loop; raise ``TimeoutError`` after ``timeout`` seconds."""
        from concurrent.futures import TimeoutError as FutureTimeout

        future = self._asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise TimeoutError from None

    def close(self) -> None:
        """Stop the loop and its thread."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        if not self.loop.is_running():
            self.loop.close()


def check_token(values: Mapping[str, str]) -> None:
    """Refuse an answer that cannot be a service account token (checked without the network:
    whether 1Password accepts it shows when the plugin starts)."""
    from docker_pass.core.setup import SetupError

    if not values.get(TOKEN_FIELD, "").startswith(TOKEN_PREFIX):
        raise SetupError(NOT_A_TOKEN, TOKEN_FIELD)


class OnePasswordSdkPlugin(CachedItemsPlugin):
    """``1password-sdk``: read-only access to the vaults a service account may read."""

    name = PLUGIN_NAME

    @classmethod
    def setup_form(cls) -> Setup:
        """What ``docker pass plugins 1password setup`` and the TUI's setup form ask for."""
        # Imported here: every engine imports this module, and only setting up needs the form.
        from docker_pass.core.setup import Setup, SetupField

        token = SetupField(
            TOKEN_FIELD,
            "Service account token",
            secret=True,
            one_word=True,
            noun="token",
            help="Starts with ops_; from 1Password: Developer > Service accounts.",
            example=SETUP,
        )
        intro = (
            "The 1password-sdk plugin reads the vaults a 1Password service account may read. "
            "Its token is stored in the OS keychain by the docker-pass plugin, replacing any "
            "earlier one."
        )
        # `docker pass plugins 1password setup|purge`: the spelling Docker documents.
        return Setup(
            PLUGIN_NAME,
            "1Password",
            (token,),
            intro=intro,
            check=check_token,
            aliases=("1password",),
        )

    def __init__(
        self,
        token_source: Callable[[], str] | None = None,
        authenticate: Authenticate | None = None,
        timeout: float | None = None,
        refresh_interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Arguments override the defaults (tests); settings come from env and config."""
        settings = PluginSettings(PLUGIN_NAME)
        if refresh_interval is None:
            refresh_interval = settings.seconds(
                "refresh_interval", DEFAULT_REFRESH_INTERVAL, env=REFRESH_ENV
            )
        super().__init__(refresh_interval, clock)
        self.timeout = (
            timeout
            if timeout is not None
            else settings.seconds("timeout", DEFAULT_TIMEOUT, env=TIMEOUT_ENV)
        )
        self._token_source = token_source or read_token_from_keychain
        self._authenticate = authenticate
        self._loop: _LoopThread | None = None
        self._client: Any = None

    def start(self) -> None:
        """Read the token, sign in, and read the item list of every vault."""
        token = self._token_source()
        authenticate = self._authenticate or default_authenticate()
        self._loop = _LoopThread()
        try:
            self._client = self._await(
                lambda: authenticate(
                    auth=token, integration_name=INTEGRATION_NAME, integration_version=__version__
                ),
                "signing in to 1Password",
            )
            super().start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Drop the client and stop the event loop."""
        super().stop()
        self._client = None
        if self._loop is not None:
            self._loop.close()
            self._loop = None

    def source(self) -> str:
        """Where the items come from."""
        return "1Password service account"

    def _await(self, call: Callable[[], Awaitable[Any]], what: str) -> Any:
        """Run one SDK coroutine with the timeout, mapping its failures to plugin errors."""
        loop = self._loop
        if loop is None:
            raise PluginError(f"{PLUGIN_NAME} is not started")

        async def wrapped() -> Any:
            return await call()

        try:
            return loop.run(wrapped(), self.timeout)
        except TimeoutError:
            raise PluginError(
                f"{what}: 1Password did not answer within {self.timeout:g} s"
            ) from None
        except Exception as exc:  # noqa: BLE001 - the SDK raises bare Exception; classify it
            raise classify_sdk_error(exc, what) from None

    def _fetch_items(self) -> builtins.list[Item]:
        client = self._client
        vaults = self._await(client.vaults.list, "listing vaults")
        items: builtins.list[Item] = []
        try:
            for vault in vaults:
                vault_id, vault_title = str(vault.id), str(vault.title)
                overviews = self._await(
                    partial(client.items.list, vault_id), f"listing vault {vault_id}"
                )
                for overview in overviews:
                    if _enum_text(getattr(overview, "state", "active")) not in ("", "active"):
                        continue  # archived items are not served, as op item list does
                    items.append(item_from_sdk(overview, vault_title))
        except (AttributeError, TypeError):
            raise PluginError("listing vaults: an answer of an unexpected shape") from None
        return items

    def _fetch_fields(self, item: Item) -> builtins.list[Field]:
        client = self._client
        what = f"reading item {item.id}"
        full = self._await(partial(client.items.get, item.vault_id, item.id), what)
        try:
            return fields_from_sdk(full)
        except (AttributeError, TypeError):
            raise PluginError(f"{what}: an answer of an unexpected shape") from None


def item_from_sdk(overview: Any, vault_title: str) -> Item:
    """An :class:`Item` from an SDK ``ItemOverview`` (vault ``title`` is op's vault ``name``)."""
    return Item(
        id=str(overview.id),
        title=str(overview.title),
        vault_id=str(overview.vault_id),
        vault_name=vault_title,
        category=_upper_snake(_enum_text(overview.category), _CATEGORY_NAMES),
        version=str(getattr(overview, "version", "") or ""),
        created_at=_datetime(getattr(overview, "created_at", None)),
        updated_at=_datetime(getattr(overview, "updated_at", None)),
    )


def fields_from_sdk(item: Any) -> builtins.list[Field]:
    """The fields of an SDK ``Item``, named as op names them.

    The SDK has no field purpose: its built-in ``password`` and ``username`` fields (outside
    any section) play that part.  Its notes become the ``notesPlain`` field, as in op.
    """
    sections = {str(s.id): str(s.title) for s in item.sections}
    out: builtins.list[Field] = []
    for field in item.fields:
        section_id = str(field.section_id or "")
        field_id = str(field.id)
        out.append(
            Field(
                id=field_id,
                label=str(field.title),
                type=_upper_snake(_enum_text(field.field_type), _TYPE_NAMES),
                purpose="" if section_id else _BUILT_IN_PURPOSES.get(field_id, ""),
                value=str(field.value),
                section_id=section_id,
                section_label=sections.get(section_id, ""),
            )
        )
    notes = str(getattr(item, "notes", "") or "")
    if notes:
        out.append(Field("notesPlain", "notesPlain", "STRING", "NOTES", notes))
    return out


def _enum_text(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


def _upper_snake(name: str, special: dict[str, str]) -> str:
    if name in special:
        return special[name]
    out = ""
    for index, char in enumerate(name):
        if char.isupper() and index and not name[index - 1].isupper():
            out += "_"
        out += char.upper()
    return out


def _datetime(value: Any) -> datetime | None:
    """A timestamp; the SDK parses RFC 3339 ``…Z`` into naive datetimes, which are UTC."""
    from datetime import UTC, datetime

    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
