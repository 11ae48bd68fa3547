"""``docker run -e X=se://…`` through the Docker proxy, resolved by an external plugin: one that
speaks Docker's SDK protocol and dialled in to the same daemon (our Python plugin,
``tests/support/sdk_plugin.py``), against a real dockerd."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.containers.conftest import SECRETS
from tests.daemon.external.hosting import sdk_plugin, statuses, wait_for

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable

    from tests.containers.conftest import Proxy

pytestmark = pytest.mark.integration


def test_a_container_gets_a_value_an_external_plugin_serves(
    proxy: Proxy, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    spawn(sdk_plugin("--socket", str(proxy.engine.socket)))
    wait_for(
        lambda: statuses().get("sdk-plugin", {}).get("status") == "running",
        "sdk-plugin to register",
    )
    done = proxy.docker(
        "run",
        "--rm",
        "--network",
        "none",
        "-e",
        "FROM_PLUGIN=se://sdk/hello",
        "-e",
        "FROM_STORE=se://openai/api-key",
        "busybox",
        "sh",
        "-c",
        'printf "%s|%s" "$FROM_PLUGIN" "$FROM_STORE"',
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode() == f"from-python|{SECRETS['openai/api-key']}"


def test_a_reference_the_gone_plugin_served_refuses_the_create(
    proxy: Proxy, spawn: Callable[..., subprocess.Popen[Any]]
) -> None:
    plugin = spawn(sdk_plugin("--socket", str(proxy.engine.socket)))
    wait_for(lambda: "sdk-plugin" in statuses(), "sdk-plugin to register")
    plugin.kill()
    wait_for(lambda: "sdk-plugin" not in statuses(), "sdk-plugin to be removed")
    done = proxy.docker(
        "run", "--rm", "--network", "none", "-e", "X=se://sdk/hello", "busybox", "true"
    )
    assert done.returncode == 125
    assert "resolving X" in done.stderr.decode()
