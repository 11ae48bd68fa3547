"""The Docker Engine API client against a real dockerd: lists, inspects, errors, events, and
which engine it picks (the proxy's upstream, never the proxy)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest

from docker_pass.core.docker.endpoint import DockerHost
from docker_pass.core.docker.engine_api import (
    DockerApi,
    DockerApiError,
    DockerTimeoutError,
    DockerUnreachableError,
    proxy_engine,
    upstream_engine,
)
from tests.support.docker_engine import IMAGE

if TYPE_CHECKING:
    from pathlib import Path

    from tests.containers.conftest import Proxy
    from tests.support.docker_engine import DockerEngine


def test_lists_and_inspects_containers_straight_from_the_engine(dockerd: DockerEngine) -> None:
    made = dockerd.docker("create", "--name", "api-list", "--label", "k=v", IMAGE, "true")
    assert made.returncode == 0, made.stderr.decode()
    try:
        api = DockerApi(DockerHost(dockerd.host, "test"))
        listed = {tuple(entry["Names"]): entry for entry in api.containers()}
        assert ("/api-list",) in listed
        assert listed[("/api-list",)]["Labels"]["k"] == "v"
        inspected = api.inspect_container("api-list")
        assert inspected["Name"] == "/api-list"
        assert inspected["Config"]["Labels"]["k"] == "v"
    finally:
        dockerd.docker("rm", "-f", "api-list")


def test_an_error_answer_carries_the_engines_cleaned_message(dockerd: DockerEngine) -> None:
    api = DockerApi(DockerHost(dockerd.host, "test"))
    with pytest.raises(DockerApiError) as raised:
        api.inspect_container("no-such-\x1b[31mcontainer")
    assert raised.value.status == 404
    assert "No such container" in str(raised.value)
    assert "\x1b" not in str(raised.value)


def test_an_engine_that_is_not_there_is_unreachable_with_the_reason(tmp_path: Path) -> None:
    api = DockerApi(DockerHost(f"unix://{tmp_path}/none.sock", "test"), timeout=2)
    with pytest.raises(DockerUnreachableError, match="cannot reach the Docker engine at unix://"):
        api.containers()


def test_events_arrive_as_they_happen(dockerd: DockerEngine) -> None:
    api = DockerApi(DockerHost(dockerd.host, "test"))
    seen: list[dict[str, Any]] = []
    ready = threading.Event()

    def follow() -> None:
        for event in api.events({"type": ["container"], "event": ["create"]}):
            seen.append(event)
            ready.set()
            return

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    # The stream may open after the create: create again until one is seen (bounded).
    names = []
    try:
        for n in range(20):
            name = f"api-event-{n}"
            names.append(name)
            assert dockerd.docker("create", "--name", name, IMAGE, "true").returncode == 0
            if ready.wait(1.0):
                break
        assert seen, "no create event arrived"
        assert seen[0]["Actor"]["Attributes"]["name"].startswith("api-event-")
    finally:
        for name in names:
            dockerd.docker("rm", "-f", name)


def test_a_quiet_event_stream_times_out_as_a_timeout(dockerd: DockerEngine) -> None:
    api = DockerApi(DockerHost(dockerd.host, "test"), timeout=0.5)
    with pytest.raises(DockerTimeoutError, match="did not answer in time"):
        for _ in api.events({"type": ["container"], "container": ["no-such-container"]}):
            pass


def test_the_upstream_is_the_one_the_proxy_forwards_to(proxy: Proxy, dockerd: DockerEngine) -> None:
    assert upstream_engine().host.url == dockerd.host
    through = proxy_engine()
    assert through is not None
    assert through.host.path == str(proxy.socket)
    assert through.containers() == DockerApi(DockerHost(dockerd.host, "t")).containers()


def test_without_a_running_engine_there_is_no_proxy(isolated_home: Path) -> None:
    assert proxy_engine() is None
