"""Through the proxy to the real dockerd: what is refused before anything is resolved, what
is refused after, and answers that must never be lost (an early answer and close, HTTP/1.0, a
body nested too deeply), each also sent straight to dockerd.

Checked after each test: no value in any answer, dockerd's ``--debug`` log or the engine's log,
and no traceback in the engine's log (tests/containers/test_proxy_gate.py's fixture).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.containers.conftest import SECRETS, count_of, straight, through
from tests.support.raw_http import request

if TYPE_CHECKING:
    from tests.containers.conftest import Proxy

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_value_in_any_log")]
KEY = SECRETS["openai/api-key"]


def _create(env: list[str]) -> bytes:
    return json.dumps({"Image": "busybox", "Cmd": ["true"], "Env": env}).encode()


@pytest.mark.parametrize(
    ("env", "answer"),
    [
        (["=se://openai/api-key"], "an Env entry has no variable name (it starts with =)"),
        (["A=se://db/password", "=plain"], "an Env entry has no variable name (it starts with =)"),
    ],
)
def test_an_empty_name_is_refused_before_resolving(
    shared_proxy: Proxy, sleeper: dict[str, str], env: list[str], answer: str
) -> None:
    before = count_of(shared_proxy, "containers")
    proxied = through(shared_proxy, request("POST", "/containers/create", _create(env)))
    assert proxied.status == 400
    assert answer in proxied.message()
    # dockerd refuses it too, quoting the entry: a value, had the proxy resolved it.
    direct = straight(shared_proxy, request("POST", "/containers/create", _create(env)))
    assert direct.status == 400
    assert direct.message().startswith("invalid environment variable: =")
    assert count_of(shared_proxy, "containers") == before
    # An exec: dockerd takes it, and runc quotes the entry when it starts.
    target = f"/containers/{sleeper['id']}/exec"
    exec_config = json.dumps({"Cmd": ["true"], "Env": env}).encode()
    refused = through(shared_proxy, request("POST", target, exec_config))
    assert refused.status == 400
    assert answer in refused.message()


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("se://odd/binary", "resolving B: the value is not UTF-8 text"),
        ("se://odd/nul", "resolving B: the value of odd/nul holds a NUL byte"),
    ],
)
def test_a_value_docker_would_alter_or_quote_is_refused(
    shared_proxy: Proxy, sleeper: dict[str, str], reference: str, message: str
) -> None:
    before = count_of(shared_proxy, "containers")
    for target, body in (
        ("/v1.41/containers/create", _create([f"B={reference}"])),
        (
            f"/containers/{sleeper['id']}/exec",
            json.dumps({"Cmd": ["true"], "Env": [f"B={reference}"]}).encode(),
        ),
    ):
        proxied = through(shared_proxy, request("POST", target, body))
        assert proxied.status == 400
        assert proxied.message().startswith(message)
    assert count_of(shared_proxy, "containers") == before


@pytest.mark.parametrize(
    "target", ["/v1.41//containers/create", "/containers/create/", "/containers/./create"]
)
@pytest.mark.parametrize("size", [100, 4_000_000])
def test_an_early_answer_and_close_is_passed_on(
    shared_proxy: Proxy, target: str, size: int
) -> None:
    body = _create(["K=se://openai/api-key"]).ljust(size)
    direct = straight(shared_proxy, request("POST", target, body))
    for _ in range(3):
        proxied = through(shared_proxy, request("POST", target, body))
        assert (proxied.status, proxied.body) == (direct.status, direct.body)
        assert proxied.headers.get(b"location") == direct.headers.get(b"location")
    assert direct.status in (301, 404)


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_a_deeply_nested_create_gets_a_clean_answer(shared_proxy: Proxy, depth: int) -> None:
    body = b'{"Image":"busybox","Env":["K=se://openai/api-key"],"Labels":'
    body += b"[" * depth + b"]" * depth + b"}"
    direct = straight(shared_proxy, request("POST", "/containers/create", body))
    assert direct.status >= 400  # Go's decoder stops at 10,000
    proxied = through(shared_proxy, request("POST", "/containers/create", body))
    assert proxied.status == 400
    assert proxied.message() == "docker-pass: cannot read the request body: it is nested too deeply"
    assert through(shared_proxy, request("GET", "/_ping")).status == 200


@pytest.mark.parametrize("version", [b"HTTP/1.0", b"HTTP/1.1"])
def test_http_versions_get_their_answers(
    shared_proxy: Proxy, referenced: dict[str, str], version: bytes
) -> None:
    for method, target, body in (
        ("GET", "/_ping", b""),
        ("GET", "/v1.41/containers/json?all=1", b""),
        ("GET", f"/containers/{referenced['name']}/json", b""),
        ("POST", "/containers/create", _create(["K=se://openai/api-key"])),
    ):
        data = request(method, target, body, version=version, host=False, close=False)
        if version == b"HTTP/1.1":
            data = request(method, target, body)
        direct = straight(shared_proxy, data)
        proxied = through(shared_proxy, data)
        assert proxied.status == direct.status, (direct, proxied)
        assert KEY.encode() not in proxied.raw
        _same_shape(direct.body, proxied.body)


def _same_shape(direct: bytes, proxied: bytes) -> None:
    """The same kind of answer: equal text, or JSON with the same keys at the top."""
    try:
        ours: Any = json.loads(proxied)
        theirs: Any = json.loads(direct)
    except ValueError:
        assert proxied == direct
        return
    if isinstance(theirs, dict):
        assert ours.keys() == theirs.keys()
