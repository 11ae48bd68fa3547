"""Every built-in plugin keeps the plugin contract (:mod:`tests.plugins.contract`), each against
its real or a faithful backend: ``docker-pass`` on the age file store and on a real
gnome-keyring (private D-Bus), ``1password-cli`` with the fake ``op``, ``1password-sdk`` with
the fake SDK client, ``vault`` against a real OpenBao dev server.

Each class builds its backend and holds the secrets it puts there; the plugin is then built
as the registry builds it, with no arguments, from the environment and the config file.
"""

from __future__ import annotations

import secrets
import subprocess
from typing import TYPE_CHECKING

import pytest

from docker_pass.backends.keychain import STORE_ENV, KeychainPlugin
from docker_pass.backends.keychain.filestore import PASSPHRASE_ENV, FileStore
from docker_pass.backends.keychain.secretservice import SecretServiceStore
from docker_pass.backends.onepassword.cli_plugin import OnePasswordCliPlugin
from docker_pass.backends.onepassword.sdk_plugin import OnePasswordSdkPlugin
from docker_pass.backends.vault.auth import TOKEN_FIELD
from docker_pass.backends.vault.plugin import VaultPlugin
from docker_pass.core.config import save_config
from docker_pass.core.engine import Engine
from docker_pass.core.ids import ID
from docker_pass.core.names import KEYCHAIN_PLUGIN
from docker_pass.core.registry import BUILTIN_PLUGINS
from docker_pass.core.setup import secret_id
from docker_pass.core.store import SERVICE_GROUP, SERVICE_NAME, item_label, xdg_dir
from tests.plugins.contract import Backend, PluginContract
from tests.support.fakes import onepassword_data as data
from tests.support.fakes.controls import SDK_TOKEN, FakeOp, FakeSdk, op, sdk
from tests.support.fakes.onepassword_data import TOKEN_ID
from tests.support.helpers import docker_pass
from tests.support.keyring_session import PrivateBus, keyring_address, keyring_bus
from tests.support.vault_server import BaoServer, bao_server, scoped_token

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["bao_server", "keyring_address", "keyring_bus", "op", "sdk"]

#: The attributes of an item of Docker's tool, up to its ID's value.
ITEM_ATTRIBUTES = ("service:group", SERVICE_GROUP, "service:name", SERVICE_NAME, "id")

#: What the tests put in the writable backends (values long enough to be found if they leak).
KNOWN = {
    "app/db/password": b"db-password-5a1e",
    "app/api-token": b"api-token-c3d9",
    "other/thing": b"other-value-77b0",
}
#: What both 1Password fakes serve (tests/support/fakes/onepassword_data.py), by ID.
ONEPASSWORD_KNOWN = {
    "private/github": data.GITHUB_PASSWORD.encode(),
    "private/wi-fi": data.WIFI_PASSWORD.encode(),
    "work-_-ops/stripe-api-live": data.STRIPE_KEY.encode(),
    "work-_-ops/legacy-token": data.LEGACY_CREDENTIAL.encode(),
}


def keep_in_keychain(id_: ID, value: str) -> None:
    """Store ``value`` with the ``docker-pass`` plugin, where plugins read their tokens."""
    with Engine.for_plugin(KEYCHAIN_PLUGIN) as keychain:
        keychain.save(id_, value.encode(), {})


def test_every_builtin_plugin_keeps_the_contract() -> None:
    tested = {cls.plugin_class.name for cls in PluginContract.__subclasses__()}
    assert tested >= set(BUILTIN_PLUGINS)


class TestKeychainOnFileStore(PluginContract):
    """``docker-pass`` on the age file store (identity file) in the test's data directory."""

    plugin_class = KeychainPlugin

    @pytest.fixture
    def backend(self, monkeypatch: pytest.MonkeyPatch) -> Backend:
        monkeypatch.setenv(STORE_ENV, "file")
        monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
        store = FileStore()  # the default place, where the plugin looks
        for raw_id, value in KNOWN.items():
            store.save(ID(raw_id), value, {})
        store.close()
        return Backend(KNOWN)

    def change_elsewhere(self, backend: Backend, id_: ID, value: bytes) -> None:
        # Another terminal: `docker-pass set` in a process of its own (the value on stdin).
        done = docker_pass("set", id_.value, input=value)
        assert done.returncode == 0, done.stderr.decode()

    def break_backend(self, backend: Backend) -> None:
        # Someone puts a link in the lock file's place: refused, never followed.
        lock = xdg_dir("data") / "store" / ".lock"
        elsewhere = lock.parent.with_name("elsewhere")
        elsewhere.write_bytes(b"")
        lock.unlink()
        lock.symlink_to(elsewhere)


class TestKeychainOnSecretService(PluginContract):
    """``docker-pass`` on a real gnome-keyring, on a private session bus."""

    plugin_class = KeychainPlugin

    @pytest.fixture
    def backend(
        self, keyring_address: str, keyring_bus: PrivateBus, monkeypatch: pytest.MonkeyPatch
    ) -> Backend:
        monkeypatch.setenv(STORE_ENV, "secret-service")
        store = SecretServiceStore(keyring_address)
        for raw_id, value in KNOWN.items():
            store.save(ID(raw_id), value, {})
        store.close()
        return Backend(KNOWN, controls=keyring_bus)

    def change_elsewhere(self, backend: Backend, id_: ID, value: bytes) -> None:
        # libsecret's own client, as Docker's tool names the item (the value on stdin).
        subprocess.run(
            ["secret-tool", "store", f"--label={item_label(id_)}", *ITEM_ATTRIBUTES, id_.value],
            input=value,
            env=backend.controls.client_env(),
            capture_output=True,
            timeout=30,
            check=True,
        )


class TestOnePasswordCli(PluginContract):
    """``1password-cli`` with the fake ``op`` first on ``PATH``."""

    plugin_class = OnePasswordCliPlugin

    @pytest.fixture
    def backend(self, op: FakeOp) -> Backend:
        return Backend(ONEPASSWORD_KNOWN, controls=op)

    def break_backend(self, backend: Backend) -> None:
        backend.controls.mode("signed-out")


class TestOnePasswordSdk(PluginContract):
    """``1password-sdk`` with the fake SDK client; its token in the file store."""

    plugin_class = OnePasswordSdkPlugin

    @pytest.fixture
    def backend(self, sdk: FakeSdk) -> Backend:
        keep_in_keychain(ID(TOKEN_ID), SDK_TOKEN)
        return Backend(ONEPASSWORD_KNOWN, credentials=[SDK_TOKEN], controls=sdk)

    def break_backend(self, backend: Backend) -> None:
        backend.controls.mode("revoked")


class TestVault(PluginContract):
    """``vault`` on a real OpenBao dev server, under a prefix of its own with a token whose
    policy allows that prefix only; the token in the file store."""

    plugin_class = VaultPlugin
    binary_values = False  # KV v2 holds text

    @pytest.fixture
    def backend(self, bao_server: BaoServer, monkeypatch: pytest.MonkeyPatch) -> Backend:
        prefix = f"t{secrets.token_hex(4)}"
        token = scoped_token(bao_server, prefix)
        monkeypatch.setenv(STORE_ENV, "file")
        save_config({"plugins": {"vault": {"address": bao_server.address, "prefix": prefix}}})
        keep_in_keychain(secret_id("vault", TOKEN_FIELD), token)
        for raw_id, value in KNOWN.items():
            bao_server.put(f"{prefix}/{raw_id}", value=value.decode())
        known: Mapping[str, bytes] = KNOWN
        return Backend(known, credentials=[token], controls=(bao_server, token, prefix))

    def change_elsewhere(self, backend: Backend, id_: ID, value: bytes) -> None:
        # Another terminal: `bao kv put` (the value through stdin, never argv).
        server, _, prefix = backend.controls
        server.put(f"{prefix}/{id_.value}", value=value.decode())

    def break_backend(self, backend: Backend) -> None:
        server, token, _ = backend.controls
        server.revoke(token)
