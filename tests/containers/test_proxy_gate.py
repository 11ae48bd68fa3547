"""Every spelling of a create, an exec, an inspect and a commit, sent as raw bytes to the real
dockerd and, the same bytes, through the proxy: the proxy resolves (or shows references, or
refuses) exactly where dockerd routes the request, and no value reaches an answer through the
proxy, dockerd's ``--debug`` log or the engine's.

The spellings and what dockerd does with each: tests/support/gate_spellings.py.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.containers.conftest import REFERENCED, SECRETS, count_of, straight, through
from tests.support import gate_spellings
from tests.support.raw_http import request

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.containers.conftest import Proxy
    from tests.support.gate_spellings import Spelling

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_value_in_any_log")]
KEY = SECRETS["openai/api-key"]
DB = SECRETS["db/password"]
NAME = REFERENCED
IMAGE = "gate-committed:1"


def _json(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def _ids(table: list[Spelling]) -> list[str]:
    return [f"{s.method} {s.target}" for s in table]


@pytest.fixture(scope="module")
def committed(shared_proxy: Proxy, referenced: dict[str, str]) -> Iterator[str]:
    """An image committed (straight: the proxy refuses) from the referenced container."""
    target = f"/commit?container={NAME}&repo=gate-committed&tag=1"
    assert straight(shared_proxy, request("POST", target)).status == 201
    yield IMAGE
    shared_proxy.dockerd.docker("rmi", "-f", IMAGE)


@pytest.mark.parametrize("spelling", gate_spellings.CREATE, ids=_ids(gate_spellings.CREATE))
def test_create(shared_proxy: Proxy, spelling: Spelling) -> None:
    method, target = spelling.fill()
    plain = {"Image": "busybox", "Cmd": ["true"], "Env": ["K=plain"]}
    before = count_of(shared_proxy, "containers")
    direct = straight(shared_proxy, request(method, target, _json(plain)))
    made = 1 if direct.status == 201 else 0
    assert count_of(shared_proxy, "containers") == before + made
    ours = {**plain, "Env": ["K=se://openai/api-key"]}
    proxied = through(shared_proxy, request(method, target, _json(ours)))
    assert proxied.status == direct.status, (direct, proxied)
    assert (direct.status == 201) is spelling.routed
    assert KEY.encode() not in proxied.raw
    if spelling.routed:
        inspected = straight(
            shared_proxy, request("GET", f"/containers/{proxied.json()['Id']}/json")
        )
        assert inspected.json()["Config"]["Env"] == [f"K={KEY}"]
    else:
        assert count_of(shared_proxy, "containers") == before + made  # nothing was made


@pytest.mark.parametrize("target", gate_spellings.UNREADABLE)
def test_a_target_dockerd_cannot_read(shared_proxy: Proxy, target: str) -> None:
    body = _json({"Image": "busybox", "Cmd": ["true"], "Env": ["K=se://openai/api-key"]})
    before = count_of(shared_proxy, "containers")
    direct = straight(shared_proxy, request("POST", target, body))
    proxied = through(shared_proxy, request("POST", target, body))
    assert direct.status == proxied.status == 400
    assert proxied.message().startswith("docker-pass: cannot read the request target: ")
    assert count_of(shared_proxy, "containers") == before


def test_bytes_go_reads_in_a_target_are_refused_not_passed_on_blind(shared_proxy: Proxy) -> None:
    # Go routes a target holding raw bytes above 0x7f (and creates); h11, which reads the
    # proxy's requests, refuses them: the proxy answers 400 rather than forward unread.
    target = b"/containers/create?label=\xff"
    body = _json({"Image": "busybox", "Cmd": ["true"], "Env": ["K=plain"]})
    assert straight(shared_proxy, request("POST", target, body)).status == 201
    before = count_of(shared_proxy, "containers")
    proxied = through(
        shared_proxy, request("POST", target, body.replace(b"plain", b"se://db/password"))
    )
    assert proxied.status == 400
    assert count_of(shared_proxy, "containers") == before


@pytest.mark.parametrize("spelling", gate_spellings.EXEC, ids=_ids(gate_spellings.EXEC))
def test_exec(shared_proxy: Proxy, sleeper: dict[str, str], spelling: Spelling) -> None:
    method, target = spelling.fill(**sleeper)
    config = {"Cmd": ["sh", "-c", 'printf "%s" "$D"'], "AttachStdout": True, "Env": ["D=plain"]}
    direct = straight(shared_proxy, request(method, target, _json(config)))
    ours = {**config, "Env": ["D=se://db/password"]}
    proxied = through(shared_proxy, request(method, target, _json(ours)))
    assert proxied.status == direct.status, (direct, proxied)
    assert (direct.status == 201) is spelling.routed
    assert DB.encode() not in proxied.raw
    if spelling.routed:
        start = _json({"Detach": False, "Tty": True})
        ran = straight(shared_proxy, request("POST", f"/exec/{proxied.json()['Id']}/start", start))
        assert ran.body == DB.encode()


@pytest.mark.parametrize("spelling", gate_spellings.INSPECT, ids=_ids(gate_spellings.INSPECT))
def test_inspect(shared_proxy: Proxy, referenced: dict[str, str], spelling: Spelling) -> None:
    method, target = spelling.fill(**referenced)
    direct = straight(shared_proxy, request(method, target))
    proxied = through(shared_proxy, request(method, target))
    assert proxied.status == direct.status, (direct, proxied)
    assert (direct.status == 200) is spelling.routed
    assert KEY.encode() not in proxied.raw
    if spelling.routed:
        assert f"K={KEY}" in direct.json()["Config"]["Env"]
        assert proxied.json()["Config"]["Env"][:2] == ["K=se://openai/api-key", "P=plain"]


def test_inspect_over_http_1_0(shared_proxy: Proxy, referenced: dict[str, str]) -> None:
    for host in (True, False):
        data = request(
            "GET", f"/containers/{NAME}/json", version=b"HTTP/1.0", host=host, close=False
        )
        proxied = through(shared_proxy, data)
        assert proxied.status == 200, proxied
        assert "K=se://openai/api-key" in proxied.json()["Config"]["Env"]
        assert KEY.encode() not in proxied.raw
        assert f"K={KEY}" in straight(shared_proxy, data).json()["Config"]["Env"]


@pytest.mark.parametrize(
    "spelling", gate_spellings.IMAGE_INSPECT, ids=_ids(gate_spellings.IMAGE_INSPECT)
)
def test_image_inspect_of_a_commit(shared_proxy: Proxy, committed: str, spelling: Spelling) -> None:
    method, target = spelling.fill(image=committed)
    direct = straight(shared_proxy, request(method, target))
    proxied = through(shared_proxy, request(method, target))
    assert proxied.status == direct.status, (direct, proxied)
    assert (direct.status == 200) is spelling.routed
    assert KEY.encode() not in proxied.raw
    if spelling.routed:
        for section in ("Config", "ContainerConfig"):
            assert f"K={KEY}" in direct.json()[section]["Env"]  # the commit baked it in
            assert "K=se://openai/api-key" in proxied.json()[section]["Env"]


@pytest.mark.parametrize("spelling", gate_spellings.COMMIT, ids=_ids(gate_spellings.COMMIT))
def test_commit_of_a_container_holding_secrets(
    shared_proxy: Proxy, referenced: dict[str, str], spelling: Spelling
) -> None:
    method, target = spelling.fill(**referenced)
    before = count_of(shared_proxy, "images")
    proxied = through(shared_proxy, request(method, target))
    assert proxied.status == 403, proxied
    assert "holds secrets resolved by docker-pass (variables K)" in proxied.message()
    assert count_of(shared_proxy, "images") == before  # nothing was committed
    direct = straight(shared_proxy, request(method, target))
    assert direct.status == 201  # dockerd commits it, as routed
    assert straight(shared_proxy, request("DELETE", f"/images/{direct.json()['Id']}")).status == 200


def test_docker_commit_through_the_proxy(
    shared_proxy: Proxy, referenced: dict[str, str], sleeper: dict[str, str]
) -> None:
    refused = shared_proxy.docker("commit", referenced["name"], "gate-never:1")
    assert refused.returncode == 1
    assert (
        f"Error response from daemon: docker-pass: container {referenced['id'][:12]} holds "
        "secrets resolved by docker-pass (variables K)"
    ) in refused.stderr.decode()
    assert shared_proxy.dockerd.docker("image", "inspect", "gate-never:1").returncode == 1
    # A container holding nothing of ours commits as ever.
    done = shared_proxy.docker("commit", sleeper["name"], "gate-plain:1")
    assert done.returncode == 0, done.stderr.decode()
    assert shared_proxy.dockerd.docker("rmi", "gate-plain:1").returncode == 0
