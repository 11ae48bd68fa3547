"""The Docker proxy's gate: request targets and create bodies read the way dockerd reads them.

The tables are tests/support/gate_spellings.py, whose every entry the container tests also send
to the real dockerd (straight and through the proxy); here, only the gate's reading of each.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from docker_pass.daemon.docker.body import UNLOGGED_SIZE, read_config
from docker_pass.daemon.docker.gate import RouteKind, query_values, route_of
from docker_pass.daemon.docker.relay import Refusal
from tests.support import gate_spellings

if TYPE_CHECKING:
    from tests.support.gate_spellings import Spelling

CID = "3f" * 32
VALUES = {"id": CID, "short": CID[:10], "name": "web", "image": "busybox:latest"}
TABLES = [
    (gate_spellings.CREATE, RouteKind.CONTAINER_CREATE),
    (gate_spellings.EXEC, RouteKind.EXEC_CREATE),
    (gate_spellings.INSPECT, RouteKind.CONTAINER_INSPECT),
    (gate_spellings.IMAGE_INSPECT, RouteKind.IMAGE_INSPECT),
    (gate_spellings.COMMIT, RouteKind.COMMIT),
]
CASES = [(spelling, kind) for table, kind in TABLES for spelling in table]


@pytest.mark.parametrize(
    ("spelling", "kind"), CASES, ids=[f"{s.method} {s.target}" for s, _ in CASES]
)
def test_each_spelling_routes_where_dockerd_routes_it(spelling: Spelling, kind: RouteKind) -> None:
    method, target = spelling.fill(**VALUES)
    route = route_of(method.encode(), target.encode())
    if spelling.routed:
        assert route.kind is kind
    else:
        assert route.kind is RouteKind.OTHER


@pytest.mark.parametrize("target", gate_spellings.UNREADABLE)
def test_a_target_dockerd_cannot_read_is_refused(target: str) -> None:
    with pytest.raises(Refusal) as refused:
        route_of(b"POST", target.encode())
    assert refused.value.status == 400
    assert refused.value.message.startswith("docker-pass: cannot read the request target: ")


@pytest.mark.parametrize(
    "target", [b"/containers/\x7fcreate", b"/containers/create\x00", b"", b"/a\tb"]
)
def test_control_characters_and_empty_targets_are_refused(target: bytes) -> None:
    with pytest.raises(Refusal):
        route_of(b"POST", target)


def test_the_parts_of_a_route() -> None:
    route = route_of(b"POST", b"http://docker/v1.41.0/containers/a%2Fb/exec?x=1")
    assert (route.kind, route.version, route.name, route.query) == (
        RouteKind.EXEC_CREATE,
        "1.41.0",
        "a/b",
        "x=1",
    )
    assert route.prefix == "/v1.41.0"
    bare = route_of(b"GET", b"/images/reg:5000/app:1/json/json")
    assert (bare.kind, bare.version, bare.name, bare.prefix) == (
        RouteKind.IMAGE_INSPECT,
        "",
        "reg:5000/app:1/json",
        "",
    )
    connect = route_of(b"CONNECT", b"docker:2375")
    assert connect.kind is RouteKind.OTHER


def test_a_newline_in_a_name_is_not_matched_as_go_does_not() -> None:
    assert route_of(b"GET", b"/containers/a%0Ab/json").kind is RouteKind.OTHER
    assert route_of(b"GET", b"/containers/a%00b/json").kind is RouteKind.CONTAINER_INSPECT


def test_query_values_as_go_parses_them() -> None:
    assert query_values("container=a%2Fb+c&container=x&&empty=&flag") == {
        "container": ["a/b c", "x"],
        "empty": [""],
        "flag": [""],
    }
    for bad in ("container=x;y", "container=%zz", "%=x"):
        with pytest.raises(Refusal):
            query_values(bad)


# -- create bodies ----------------------------------------------------------------------------


def test_fields_are_matched_as_go_matches_them() -> None:
    body = '{"env":["A=1"],"Image":"x","ENV":["B=2"],"label\u017f":{"l":"v"},"uSer":"u"}'
    config = read_config(body.encode())
    assert config is not None
    assert config.fields == {"Env": ["B=2"], "Labels": {"l": "v"}, "User": "u"}
    kelvin = read_config('{"Labels":{},"\u212aey":1}'.encode())
    assert kelvin is not None
    assert kelvin.fields == {"Labels": {}}


def test_encoding_keeps_everything_else_as_it_came() -> None:
    body = (
        b'{"Image" : "a\\u0062c", "Env":["K=se://x"], "Image":"last", "HostConfig":{"A":[1, 2]}}'
        b" junk"
    )
    config = read_config(body)
    assert config is not None
    data = config.encode({"Env": ["K=value"]})
    assert len(data) >= UNLOGGED_SIZE  # out of dockerd's --debug "form data" log
    assert data.rstrip() == (
        b'{"Image":"a\\u0062c","Image":"last","HostConfig":{"A":[1, 2]},"Env":["K=value"]}'
    )
    assert json.loads(data) == {"Image": "last", "HostConfig": {"A": [1, 2]}, "Env": ["K=value"]}


def test_invalid_utf8_reads_as_go_reads_it() -> None:
    config = read_config(b'{"Env":["K=se://x"],"Labels":{"a":"\xff"}}')
    assert config is not None
    assert config.fields["Labels"] == {"a": "\ufffd"}


@pytest.mark.parametrize("body", [b"", b"  \n", b"null", b"[1]", b'"text"'])
def test_a_body_that_is_not_an_object_is_left_to_dockerd(body: bytes) -> None:
    assert read_config(body) is None


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"Env":',
        b'{"Env":["K=se://x"]',
        b'{"Env" ["K"]}',
        b'{"Env":NaN}',
        b'{"Env":[Infinity]}',
        b"\xef\xbb\xbf{}",
        b"[" * 5000 + b"]" * 5000,
        b'{"Labels":' + b"[" * 200_000 + b"]" * 200_000 + b"}",
        b'{"Env":["a\x01b"]}',
    ],
)
def test_a_body_the_proxy_cannot_read_is_refused(body: bytes) -> None:
    with pytest.raises(Refusal) as refused:
        read_config(body)
    assert refused.value.status == 400
    assert refused.value.message.startswith("docker-pass: cannot read the request body")
