"""`scan` on a real dockerd, asked straight (the proxy fixture's engine names it as its
upstream): a value in a container made straight, in an image committed from it (config and,
with --layers, a file written into a layer), a build arg in history, logs (framed and TTY),
encoded forms, a container the proxy made (expected), and a clean setup that exits 0.

Values reach the docker CLI through its environment (``-e NAME``, ``--build-arg NAME``, an
``--env-file``/``--label-file``), never its argv."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from tests.containers.conftest import SECRETS
from tests.support.docker_engine import IMAGE
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.containers.conftest import Proxy
    from tests.support.docker_engine import DockerEngine

DB_PASSWORD = SECRETS["db/password"]
API_KEY = SECRETS["openai/api-key"]


def straight(dockerd: DockerEngine, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    """The docker CLI straight to the private dockerd, with ``env`` in its environment."""
    full = dict(os.environ, DOCKER_HOST=dockerd.host, **env)
    full.pop("DOCKER_CONTEXT", None)
    done = subprocess.run(
        ["docker", *args], capture_output=True, env=full, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    return done


def scan(*args: str, cwd: Path | None = None) -> tuple[int, dict[str, Any], str]:
    done = docker_pass("scan", "--json", *args, timeout=300, cwd=cwd)
    out, err = done.stdout.decode(), done.stderr.decode()
    for value in SECRETS.values():
        assert value not in out + err, "a value reached scan's output"
    return done.returncode, json.loads(out), err


def places(doc: dict[str, Any], secret: str) -> set[tuple[str, str, str, str]]:
    return {
        (f["kind"], f["target"], f["location"], f["encoding"])
        for f in doc["findings"]
        if f["secret"] == secret
    }


@pytest.fixture
def cleanup(dockerd: DockerEngine) -> Iterator[list[str]]:
    """Images to remove after the test (its containers go with the proxy fixture)."""
    images: list[str] = []
    yield images
    dockerd.remove_all_containers()
    for image in images:
        dockerd.docker("rmi", "-f", image)


@pytest.mark.values_reach_dockerd
def test_a_committed_image_holds_the_value_in_its_config_and_a_layer_file(
    proxy: Proxy, dockerd: DockerEngine, cleanup: list[str], tmp_path: Path
) -> None:
    cleanup.append("scan-leak:1")
    straight(
        dockerd, "run", "--name", "scan-leak", "-e", "DB_PASSWORD", IMAGE,
        "sh", "-c", 'mkdir -p /srv && echo "password=$DB_PASSWORD" > /srv/app.conf',
        DB_PASSWORD=DB_PASSWORD,
    )  # fmt: skip
    straight(dockerd, "commit", "scan-leak", "scan-leak:1")
    code, doc, err = scan("--pattern", "db/**", cwd=tmp_path)
    assert code == 1, err
    found = places(doc, "db/password")
    assert ("container", "scan-leak", "Env DB_PASSWORD", "raw") in found
    assert ("image", "scan-leak:1", "Env DB_PASSWORD", "raw") in found
    assert not any(kind == "layer" for kind, *_ in found)  # only with --layers
    assert all(f["plugin"] == "docker-pass" for f in doc["findings"])

    code, doc, err = scan("--pattern", "db/**", "--layers", cwd=tmp_path)
    assert code == 1, err
    layers = [p for p in places(doc, "db/password") if p[0] == "layer"]
    assert len(layers) == 1, layers
    _kind, image, location, encoding = layers[0]
    assert (image, encoding) == ("scan-leak:1", "raw")
    assert location.startswith("layer ")
    assert location.endswith(" /srv/app.conf")
    assert doc["searched"]["layer"] >= 2

    # the README's example, as text
    text = docker_pass("scan", "--pattern", "db/**", "--layers", cwd=tmp_path, timeout=300)
    assert text.returncode == 1
    lines = text.stdout.decode().splitlines()
    assert lines[0].split() == ["SECRET", "PLUGIN", "ENCODING", "WHERE"]
    rows = [line.split() for line in lines[1:-1]]
    assert rows[0] == [
        *["db/password", "docker-pass", "raw", "container", "scan-leak:", "Env"],
        "DB_PASSWORD",
    ]
    assert rows[1] == [
        "db/password",
        "docker-pass",
        "raw",
        "image",
        "scan-leak:1:",
        "Env",
        "DB_PASSWORD",
    ]
    assert rows[2][:6] == ["db/password", "docker-pass", "raw", "layer", "scan-leak:1:", "layer"]
    assert re.fullmatch(r"[0-9a-f]{12}", rows[2][6])
    assert rows[2][7] == "/srv/app.conf"
    assert re.fullmatch(
        r"3 findings; searched 1 value \(at least 8 bytes\) in 1 container, \d+ images, "
        r"\d+ layers",
        lines[-1],
    )


@pytest.mark.values_reach_dockerd
def test_a_build_arg_in_history_is_found(
    proxy: Proxy, dockerd: DockerEngine, cleanup: list[str], tmp_path: Path
) -> None:
    cleanup.append("scan-build:1")
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(
        f"FROM {IMAGE}\nARG OPENAI_API_KEY\nRUN echo built > /built.txt\n"
    )
    straight(
        dockerd, "build", "-q", "--build-arg", "OPENAI_API_KEY", "-t", "scan-build:1", str(context),
        DOCKER_BUILDKIT="0", OPENAI_API_KEY=API_KEY,
    )  # fmt: skip
    code, doc, err = scan("--pattern", "openai/**", cwd=tmp_path)
    assert code == 1, err
    history = [p for p in places(doc, "openai/api-key") if p[:2] == ("history", "scan-build:1")]
    assert len(history) == 1, doc["findings"]
    assert history[0][2].endswith(" CreatedBy")
    assert history[0][3] == "raw"


@pytest.mark.values_reach_dockerd
def test_logs_are_searched_by_line_framed_or_tty_and_encoded_forms_are_named(
    proxy: Proxy, dockerd: DockerEngine, cleanup: list[str], tmp_path: Path
) -> None:
    encoded = base64.b64encode(DB_PASSWORD.encode()).decode()
    # stdout and stderr are copied by two readers, so the order between them is not fixed:
    # each container writes its lines to one stream
    script = 'echo starting; echo "$ENCODED"; echo "ready key=$API_KEY"'
    straight(
        dockerd, "run", "--name", "scan-logs", "-e", "ENCODED", "-e", "API_KEY", IMAGE,
        "sh", "-c", script, ENCODED=encoded, API_KEY=API_KEY,
    )  # fmt: skip
    straight(
        dockerd, "run", "-t", "--name", "scan-tty", "-e", "API_KEY", IMAGE,
        "sh", "-c", 'echo one; echo two; echo "$API_KEY"', API_KEY=API_KEY,
    )  # fmt: skip
    straight(
        dockerd, "run", "--name", "scan-stderr", "-e", "API_KEY", IMAGE,
        "sh", "-c", 'echo warn >&2; echo "$API_KEY" >&2', API_KEY=API_KEY,
    )  # fmt: skip
    odd = "p@ss word/scan+9e1"  # percent-encoded in a URL
    assert docker_pass("set", "db/odd", input=odd.encode()).returncode == 0
    labels = tmp_path / "labels"
    labels.write_text(f"db.url=postgres://app:{quote(odd, safe='')}@db/app\n")
    straight(dockerd, "create", "--name", "scan-label", "--label-file", str(labels), IMAGE, "true")
    code, doc, err = scan("--logs", cwd=tmp_path)
    assert code == 1, err
    logs = {
        (f["target"], f["secret"], f["encoding"], f["line"])
        for f in doc["findings"]
        if f["kind"] == "log"
    }
    assert ("scan-logs", "db/password", "base64", 2) in logs
    assert ("scan-logs", "openai/api-key", "raw", 3) in logs
    assert ("scan-tty", "openai/api-key", "raw", 3) in logs
    assert ("scan-stderr", "openai/api-key", "raw", 2) in logs
    assert places(doc, "db/odd") == {("container", "scan-label", "Labels[db.url]", "url")}
    assert ("container", "scan-logs", "Env ENCODED", "base64") in places(doc, "db/password")
    code, doc, err = scan(cwd=tmp_path)
    assert not any(f["kind"] == "log" for f in doc["findings"])  # only with --logs


def test_a_value_the_proxy_resolved_is_expected_and_does_not_fail(
    proxy: Proxy, dockerd: DockerEngine, tmp_path: Path
) -> None:
    made = proxy.docker(
        "create", "--name", "scan-proxied", "-e", "DB_PASSWORD=se://db/password", IMAGE, "true"
    )
    assert made.returncode == 0, made.stderr.decode()
    code, doc, err = scan("--pattern", "db/**", cwd=tmp_path)
    found = [f for f in doc["findings"] if f["target"] == "scan-proxied"]
    assert [(f["location"], f["expected"]) for f in found] == [("Env DB_PASSWORD", True)]
    assert doc["leaks"] == 0
    assert code == 0, err
    text = docker_pass("scan", "--pattern", "db/**", cwd=tmp_path)
    assert "(resolved by the docker-pass proxy: expected)" in text.stdout.decode()
    assert "1 expected: placed by the docker-pass proxy" in text.stdout.decode()


def test_a_clean_setup_exits_0(proxy: Proxy, dockerd: DockerEngine, tmp_path: Path) -> None:
    fresh = "scan-fresh-" + secrets.token_hex(12)  # a value nothing on this engine can hold
    done = docker_pass("set", "scan/fresh", input=fresh.encode())
    assert done.returncode == 0, done.stderr.decode()
    made = proxy.docker("create", "--name", "scan-clean", "-e", "MODE=prod", IMAGE, "true")
    assert made.returncode == 0, made.stderr.decode()
    (tmp_path / ".env").write_text("TOKEN=se://scan/fresh\n")
    code, doc, err = scan("--pattern", "scan/**", "--layers", "--logs", cwd=tmp_path)
    assert code == 0, (err, doc["findings"])
    assert doc["findings"] == []
    assert doc["problems"] == []
    assert doc["searched"]["container"] >= 1
    assert doc["searched"]["image"] >= 1
    assert doc["searched"]["layer"] >= 1
    assert doc["searched"]["file"] == 1
    text = docker_pass("scan", "--pattern", "scan/**", cwd=tmp_path)
    assert text.returncode == 0
    assert text.stdout.decode().startswith("no value found; searched 1 value")
