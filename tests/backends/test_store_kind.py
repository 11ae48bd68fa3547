"""The ``docker-pass`` plugin's store says its kind, and the kind reaches every front: the
engine's ``PluginStatus.store_kind`` and, through the daemon, ``PluginDetail.store_kind``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from docker_pass.backends.keychain import KeychainPlugin
from docker_pass.backends.keychain.keyring_store import KeyringStore
from docker_pass.backends.keychain.secretservice import SecretServiceStore
from docker_pass.core.engine import Engine
from docker_pass.core.plugin import READ_WRITE
from docker_pass.core.remote.wire import plugin_status_from_json
from docker_pass.core.results import PluginStatus
from docker_pass.daemon.protocol import json_header, plugin_detail, plugin_message
from tests.backends.test_keyring_store import plaintext_keyring

if TYPE_CHECKING:
    from pathlib import Path


def test_the_file_store_is_reported_as_file_by_the_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    with Engine.for_plugin("docker-pass") as engine:
        (status,) = engine.plugins()
    assert (status.name, status.store_kind) == ("docker-pass", "file")
    assert status.storage.startswith("file store")


def test_a_keyring_store_says_keyring(tmp_path: Path) -> None:
    store = KeyringStore(plaintext_keyring(tmp_path / "keyring_pass.cfg"), platform="darwin")
    plugin = KeychainPlugin(store)
    try:
        assert plugin.store_kind() == "keyring"
    finally:
        plugin.stop()


@pytest.mark.integration
def test_a_secret_service_store_says_secret_service(keyring_address: str) -> None:
    plugin = KeychainPlugin(SecretServiceStore(keyring_address))
    try:
        assert plugin.store_kind() == "secret-service"
    finally:
        plugin.stop()


def test_the_kind_travels_through_the_daemon() -> None:
    status = PluginStatus(
        name="docker-pass",
        version="0.1.0",
        status="running",
        configurable=False,
        enabled=True,
        pattern="**",
        storage="Secret Service collection 'Login'",
        capabilities=READ_WRITE,
        store_kind="secret-service",
    )
    message = json.loads(plugin_message(status).to_json())
    detail = json.loads(json_header(plugin_detail(status)))
    assert detail["storeKind"] == "secret-service"
    assert plugin_status_from_json(message, detail).store_kind == "secret-service"
    assert plugin_status_from_json(message, detail) == status
