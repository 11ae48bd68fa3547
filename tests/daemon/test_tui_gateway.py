"""The TUI's gateway reads and writes through a running engine daemon."""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.core import ID, SecretInfo
from docker_pass.core.remote.front import open_engine
from docker_pass.tui.model.gateway import SecretDraft, SecretsGateway

if TYPE_CHECKING:
    from tests.daemon.engines import RunningEngine

LIST_SECRETS = "/dockerpass.v1.ListingService/ListSecrets"
LIST_PLUGINS = "/plugins.v1.PluginManagementService/ListPlugins"
SAVE_SECRET = "/dockerpass.v1.SecretsService/SaveSecret"
REMOVE_SECRETS = "/dockerpass.v1.SecretsService/RemoveSecrets"


def test_gateway_lists_and_reveals_through_the_daemon(engine: RunningEngine) -> None:
    gateway = SecretsGateway(open_engine)
    try:
        before = engine.client().info().requests
        names = {p.name: p.status for p in gateway.plugins()}
        # The snapshot plugin is installed only for the daemon's process: seeing it running
        # proves the answer came from the daemon.
        assert names["snapshot"] == "running"
        listing = [i.id.value for i in gateway.list_plugin("snapshot")]
        assert "app/db" in listing
        value = gateway.read_value(SecretInfo(ID("app/db"), "snapshot"))
        assert value == b"db-secret-1"
        after = engine.client().info().requests
        assert after.get(LIST_SECRETS, 0) > before.get(LIST_SECRETS, 0)
        assert after.get(LIST_PLUGINS, 0) > before.get(LIST_PLUGINS, 0)
        # Writes go through the daemon too, and its next answers show them.
        gateway.save(SecretDraft(ID("ui/new"), b"typed", {"k": "v"}))
        listed = {i.id.value: i for i in gateway.list_plugin("docker-pass")}
        assert dict(listed["ui/new"].metadata) == {"k": "v"}
        assert gateway.read_value(SecretInfo(ID("ui/new"), "docker-pass")) == b"typed"
        assert gateway.delete(SecretInfo(ID("ui/new"), "docker-pass")) is True
        assert "ui/new" not in [i.id.value for i in gateway.list_plugin("docker-pass")]
        counts = engine.client().info().requests
        assert counts.get(SAVE_SECRET) == 1
        assert counts.get(REMOVE_SECRETS) == 1
        assert "typed" not in engine.log()
    finally:
        gateway.close()
