"""Every method of the daemon's API, with both codecs, from clients that are not ours, and ours.

JSON goes through curl, an independent HTTP client, and through connectrpc's generated client;
binary protobuf through curl too (bodies encoded and decoded with the generated messages) and
through connectrpc's client.  Our own ``DaemonClient`` speaks JSON with the standard library.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from typing import TYPE_CHECKING, Any

import pytest
from connectrpc.code import Code
from connectrpc.codec import Codec, proto_binary_codec, proto_json_codec
from connectrpc.errors import ConnectError

from docker_pass.core import ID, Pattern
from docker_pass.core.errors import NoPluginMatchesError
from docker_pass.core.remote.wire import PLUGINS_HEADER, RESOLUTION_HEADER
from docker_pass.daemon.gen.dockerpass.v1 import api_pb as dockerpass_pb
from docker_pass.daemon.gen.health.v1 import api_pb as health_pb
from docker_pass.daemon.gen.plugins.v1 import api_pb as plugins_pb
from docker_pass.daemon.gen.resolver.v1 import api_pb as resolver_pb
from tests.daemon.connect_client import connect_clients
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from pathlib import Path

    from docker_pass.core.remote.client import HttpAnswer
    from tests.daemon.engines import RunningEngine

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")

SEMVER = re.compile(r"v\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?")


class Reply:
    """An HTTP response as curl saw it."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def curl(socket: Path, method: str, body: bytes, content_type: str, tmp: Path) -> Reply:
    """POST ``body`` to ``/<method>`` on the socket with curl (body on stdin, not in argv)."""
    out, head = tmp / "body", tmp / "head"
    result = subprocess.run(
        [
            "curl",
            "-sS",
            "--unix-socket",
            str(socket),
            "-H",
            f"Content-Type: {content_type}",
            "--data-binary",
            "@-",
            "-o",
            str(out),
            "-D",
            str(head),
            "-w",
            "%{http_code}",
            f"http://localhost/{method}",
        ],
        input=body,
        capture_output=True,
        check=True,
        timeout=30,
    )
    headers = {}
    for line in head.read_text().splitlines()[1:]:
        name, _, value = line.partition(":")
        if value:
            headers[name.strip().lower()] = value.strip()
    return Reply(int(result.stdout), headers, out.read_bytes())


def call_json(engine: RunningEngine, tmp: Path, method: str, doc: dict[str, Any]) -> Reply:
    return curl(engine.socket, method, json.dumps(doc).encode(), "application/json", tmp)


GET_SECRETS = "resolver.v1.ResolverService/GetSecrets"
LIST_PLUGINS = "plugins.v1.PluginManagementService/ListPlugins"
ENABLE = "plugins.v1.PluginManagementService/EnablePlugin"
DISABLE = "plugins.v1.PluginManagementService/DisablePlugin"
GET_VERSION = "health.v1.VersionService/GetVersion"
LIST_SECRETS = "dockerpass.v1.ListingService/ListSecrets"


@pytest.fixture
def keychain_secret() -> None:
    assert docker_pass("set", "kc/one=keychain-value").returncode == 0


def test_json_get_secrets(engine: RunningEngine, tmp_path: Path, keychain_secret: None) -> None:
    reply = call_json(engine, tmp_path, GET_SECRETS, {"pattern": "app/db"})
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    (env,) = reply.json()["envelopes"]
    assert env["id"] == "app/db"
    assert base64.b64decode(env["value"]) == b"db-secret-1"
    assert env["provider"] == "snapshot"
    assert env["metadata"] == {"kind": "snap"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", env["resolvedAt"])

    # A pattern over the keychain plugin (the file store, read fresh by the warm plugin).
    reply = call_json(engine, tmp_path, GET_SECRETS, {"pattern": "kc/**"})
    (env,) = reply.json()["envelopes"]
    assert (env["id"], env["provider"]) == ("kc/one", "docker-pass")
    assert base64.b64decode(env["value"]) == b"keychain-value"
    assert "createdAt" in env

    # Several envelopes, sorted by ID.
    reply = call_json(engine, tmp_path, GET_SECRETS, {"pattern": "app/*"})
    assert [e["id"] for e in reply.json()["envelopes"]] == ["app/api", "app/db"]


def test_json_errors_have_connect_format(engine: RunningEngine, tmp_path: Path) -> None:
    missing = call_json(engine, tmp_path, GET_SECRETS, {"pattern": "no/such"})
    assert missing.status == 404
    assert missing.json() == {"code": "not_found", "message": "secret not found"}
    # docker-pass's report rides along in a header Docker's clients ignore: the compact JSON
    # of a dockerpass.v1.Resolution.
    report = json.loads(missing.headers[RESOLUTION_HEADER])
    assert report == {
        "asked": ["docker-pass", "snapshot"],
        "answered": ["docker-pass", "snapshot"],
        "pattern": "no/such",
    }
    assert dockerpass_pb.Resolution.from_json(missing.headers[RESOLUTION_HEADER]).pattern == (
        "no/such"
    )

    invalid = call_json(engine, tmp_path, GET_SECRETS, {"pattern": "a//b"})
    assert invalid.status == 400
    assert invalid.json()["code"] == "invalid_argument"
    assert invalid.json()["message"].startswith('invalid pattern "a//b"')

    unknown = call_json(engine, tmp_path, ENABLE, {"name": "nope"})
    assert unknown.status == 404
    assert unknown.json()["code"] == "not_found"
    assert unknown.json()["message"].startswith("unknown plugin 'nope' (known: ")

    always_on = call_json(engine, tmp_path, DISABLE, {"name": "docker-pass"})
    assert always_on.status == 400
    assert always_on.json() == {
        "code": "failed_precondition",
        "message": "plugin docker-pass is not configurable: it is always on",
    }

    no_service = call_json(engine, tmp_path, "nope.v1.Nothing/Call", {})
    assert no_service.status == 404
    assert no_service.json()["code"] == "unimplemented"

    wrong_type = curl(engine.socket, GET_SECRETS, b"pattern=x", "text/plain", tmp_path)
    assert wrong_type.status == 415


def test_json_plugin_management(engine: RunningEngine, tmp_path: Path) -> None:
    plugins = {
        p["name"]: p for p in call_json(engine, tmp_path, LIST_PLUGINS, {}).json()["plugins"]
    }
    assert plugins["docker-pass"]["runStatus"] == "RUN_STATUS_RUNNING"
    assert plugins["docker-pass"].get("configurable", False) is False
    assert plugins["docker-pass"].get("external", False) is False
    assert plugins["snapshot"] == {
        "name": "snapshot",
        # The plugin says 1.0.0; Docker's client keeps only v-prefixed semantic versions.
        "version": "v1.0.0",
        "external": True,
        "configurable": True,
        "runStatus": "RUN_STATUS_RUNNING",
        "secretsProvider": {"pattern": "**"},
    }

    disabled = call_json(engine, tmp_path, DISABLE, {"name": "snapshot"})
    assert (disabled.status, disabled.json()) == (200, {})
    plugins = {
        p["name"]: p for p in call_json(engine, tmp_path, LIST_PLUGINS, {}).json()["plugins"]
    }
    assert plugins["snapshot"]["disabled"] is True
    assert plugins["snapshot"]["runStatus"] == "RUN_STATUS_STOPPED"
    # A disabled plugin is asked nothing.
    assert call_json(engine, tmp_path, GET_SECRETS, {"pattern": "app/db"}).status == 404

    enabled = call_json(engine, tmp_path, ENABLE, {"name": "snapshot"})
    assert (enabled.status, enabled.json()) == (200, {})
    plugins = {
        p["name"]: p for p in call_json(engine, tmp_path, LIST_PLUGINS, {}).json()["plugins"]
    }
    assert plugins["snapshot"]["runStatus"] == "RUN_STATUS_RUNNING"
    assert call_json(engine, tmp_path, GET_SECRETS, {"pattern": "app/db"}).status == 200


def test_json_version_and_listing(engine: RunningEngine, tmp_path: Path) -> None:
    version = call_json(engine, tmp_path, GET_VERSION, {}).json()["version"]
    assert SEMVER.fullmatch(version)
    listing = call_json(engine, tmp_path, LIST_SECRETS, {"pattern": "app/**"}).json()
    assert listing["secrets"] == [
        {"id": "app/api", "provider": "snapshot", "metadata": {"kind": "snap"}},
        {"id": "app/db", "provider": "snapshot", "metadata": {"kind": "snap"}},
    ]
    # Listing never carries values.
    assert "db-secret-1" not in json.dumps(listing)


def test_proto_codec_with_curl(engine: RunningEngine, tmp_path: Path) -> None:
    def call(method: str, message: Any) -> Reply:
        return curl(engine.socket, method, message.to_binary(), "application/proto", tmp_path)

    reply = call(GET_SECRETS, resolver_pb.GetSecretsRequest(pattern="app/db"))
    assert (reply.status, reply.headers["content-type"]) == (200, "application/proto")
    (env,) = resolver_pb.GetSecretsResponse.from_binary(reply.body).envelopes
    assert (env.id, env.value, env.provider) == ("app/db", b"db-secret-1", "snapshot")
    assert env.resolved_at is not None
    assert env.created_at is None

    missing = call(GET_SECRETS, resolver_pb.GetSecretsRequest(pattern="no/such"))
    # Connect sends unary errors as JSON whatever the codec.
    assert (missing.status, missing.headers["content-type"]) == (404, "application/json")
    assert missing.json()["code"] == "not_found"

    reply = call(LIST_PLUGINS, plugins_pb.ListPluginsRequest())
    plugins = {p.name: p for p in plugins_pb.ListPluginsResponse.from_binary(reply.body).plugins}
    assert plugins["snapshot"].run_status == plugins_pb.RunStatus.RUNNING
    assert plugins["snapshot"].external is True
    details = dockerpass_pb.PluginDetails.from_json(reply.headers[PLUGINS_HEADER])
    assert details.plugins["snapshot"].storage == "snapshot at start"

    assert call(DISABLE, plugins_pb.DisablePluginRequest(name="snapshot")).status == 200
    assert call(ENABLE, plugins_pb.EnablePluginRequest(name="snapshot")).status == 200

    reply = call(GET_VERSION, health_pb.GetVersionRequest())
    assert SEMVER.fullmatch(health_pb.GetVersionResponse.from_binary(reply.body).version)

    reply = call(LIST_SECRETS, dockerpass_pb.ListSecretsRequest(pattern="shared/*"))
    (info,) = dockerpass_pb.ListSecretsResponse.from_binary(reply.body).secrets
    assert info.id == "shared/x"


@pytest.mark.parametrize("codec", [proto_binary_codec(), proto_json_codec()], ids=["proto", "json"])
def test_a_connect_library_client(engine: RunningEngine, codec: Codec) -> None:
    with connect_clients(engine.socket, codec) as clients:
        reply = clients.resolver.get_secrets(resolver_pb.GetSecretsRequest(pattern="app/db"))
        (env,) = reply.envelopes
        assert (env.id, env.value, env.provider) == ("app/db", b"db-secret-1", "snapshot")
        assert dict(env.metadata) == {"kind": "snap"}
        with pytest.raises(ConnectError) as missing:
            clients.resolver.get_secrets(resolver_pb.GetSecretsRequest(pattern="no/such"))
        assert (missing.value.code, missing.value.message) == (Code.NOT_FOUND, "secret not found")
        with pytest.raises(ConnectError) as invalid:
            clients.resolver.get_secrets(resolver_pb.GetSecretsRequest(pattern="a//b"))
        assert invalid.value.code == Code.INVALID_ARGUMENT

        plugins = {
            p.name: p for p in clients.plugins.list_plugins(plugins_pb.ListPluginsRequest()).plugins
        }
        assert plugins["snapshot"].run_status == plugins_pb.RunStatus.RUNNING
        clients.plugins.disable_plugin(plugins_pb.DisablePluginRequest(name="snapshot"))
        plugins = {
            p.name: p for p in clients.plugins.list_plugins(plugins_pb.ListPluginsRequest()).plugins
        }
        assert plugins["snapshot"].disabled is True
        clients.plugins.enable_plugin(plugins_pb.EnablePluginRequest(name="snapshot"))
        with pytest.raises(ConnectError) as unknown:
            clients.plugins.enable_plugin(plugins_pb.EnablePluginRequest(name="nope"))
        assert unknown.value.code == Code.NOT_FOUND

        version = clients.health.get_version(health_pb.GetVersionRequest()).version
        assert SEMVER.fullmatch(version)
        listing = clients.listing.list_secrets(dockerpass_pb.ListSecretsRequest(pattern="app/*"))
        assert [info.id for info in listing.secrets] == ["app/api", "app/db"]
    expected = "application/proto" if codec.name() == "proto" else "application/json"
    assert set(clients.transport.content_types) == {expected}


def test_hints_reach_connect_clients_and_ours(
    engine: RunningEngine, tmp_path: Path, isolated_home: Path
) -> None:
    config = isolated_home / ".config/docker-pass/config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    narrowed = {"docker-pass": {"pattern": "kc/**"}, "snapshot": {"pattern": "app/**"}}
    config.write_text(json.dumps({"plugins": narrowed}))
    crash = call_json(engine, tmp_path, GET_SECRETS, {"pattern": "app/crash/now"})
    assert crash.json()["code"] == "unavailable"
    # Only the crashed plugin serves app/**: no plugin matches, and a hint names it.
    reply = call_json(engine, tmp_path, GET_SECRETS, {"pattern": "app/db"})
    assert reply.json()["code"] == "not_found"
    # A Connect error detail, for Connect clients (binary inside, JSON only as "debug")...
    (detail,) = reply.json()["details"]
    assert detail["type"] == "dockerpass.v1.Hints"
    hints = dockerpass_pb.Hints.from_binary(base64.b64decode(detail["value"] + "=="))
    # ...and a JSON header, for ours.
    assert json.loads(reply.headers["docker-pass-hints"]) == {"hints": list(hints.hints)}
    assert hints.hints[0].startswith("plugin snapshot is crashed: snapshot broke on purpose")


def test_our_client_speaks_json(engine: RunningEngine, keychain_secret: None) -> None:
    seen: list[str] = []
    with engine.client() as client:
        transport = client._transport
        post = transport.post

        def recording(
            target: str, headers: dict[str, str], body: bytes, timeout: float
        ) -> HttpAnswer:
            seen.append(headers["Content-Type"])
            return post(target, headers, body, timeout)

        transport.post = recording  # type: ignore[method-assign]
        result = client.resolve(Pattern.parse("app/db"))
        assert [(e.id, e.value, e.provider) for e in result.envelopes] == [
            (ID("app/db"), b"db-secret-1", "snapshot")
        ]
        assert result.envelopes[0].resolved_at is not None
        assert result.envelopes[0].metadata == {"kind": "snap"}
        assert (result.asked, result.answered, result.errors) == (
            ["docker-pass", "snapshot"],
            ["docker-pass", "snapshot"],
            {},
        )
        assert client.resolve_all(Pattern.parse("kc/one"))[0].value == b"keychain-value"
        miss = client.resolve(Pattern.parse("no/such"))
        assert (miss.envelopes, miss.asked) == ([], ["docker-pass", "snapshot"])
        listing = client.list_secrets(Pattern.parse("**"))
        assert {(i.id.value, i.provider) for i in listing.infos} >= {
            ("app/db", "snapshot"),
            ("kc/one", "docker-pass"),
        }
        statuses = {s.name: s for s in client.plugins()}
        assert statuses["snapshot"].storage == "snapshot at start"
        assert statuses["snapshot"].changed_at > 0
        assert client.disable("snapshot").status == "disabled"
        assert client.enable("snapshot").status == "running"
        info = client.info()
        assert info.pid == engine.pid
        assert info.started_at is not None
        assert info.requests["/resolver.v1.ResolverService/GetSecrets"] >= 3
    assert seen
    assert set(seen) == {"application/json"}


def test_a_pattern_no_plugin_serves(
    engine: RunningEngine, tmp_path: Path, isolated_home: Path
) -> None:
    config = isolated_home / ".config/docker-pass/config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    narrowed = {"docker-pass": {"pattern": "kc/**"}, "snapshot": {"pattern": "app/**"}}
    config.write_text(json.dumps({"plugins": narrowed}))
    # The daemon sees the config change and reloads its plugins.
    reply = call_json(engine, tmp_path, GET_SECRETS, {"pattern": "other/x"})
    assert reply.status == 404
    assert reply.json() == {"code": "not_found", "message": "no plugin matches other/x"}
    with engine.client() as client, pytest.raises(NoPluginMatchesError):
        client.resolve(Pattern.parse("other/x"))
    for flags in ([], ["--no-daemon"]):
        result = docker_pass(*flags, "run", "--", "true", env={"X": "se://other/x"})
        assert (result.returncode, result.stderr) == (1, b"Error: no plugin matches other/x\n")
