"""Rollout's edges on a real dockerd with Compose v2: Compose failing, a project whose files are
gone, what an interrupted rollout left, names and labels from outside."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.docker.recreate import NEW_SUFFIX, ROLLOUT_NAME_LABEL, ROLLOUT_OF_LABEL
from tests.containers.conftest import SECRETS
from tests.containers.rollout_helpers import id_of, names, ok, printenv, project, sleeper
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from pathlib import Path

    from tests.containers.conftest import Proxy

pytestmark = pytest.mark.integration
NEW_DB = "pg-rolled-edge-8d21"
OLD_DB = SECRETS["db/password"]

WEB = """\
services:
  web:
    image: busybox
    network_mode: none
    environment:
      DB: se://db/password
    command: sleep 600
"""


def test_compose_failing_leaves_the_old_container_and_says_what_compose_said(
    proxy: Proxy, tmp_path: Path
) -> None:
    """The project's file now also references a secret nobody has: Compose's create through
    the proxy fails, and Compose creates before it removes, so the old container runs on."""
    folder = project(tmp_path, "broken", WEB)
    ok(proxy.docker("compose", "up", "-d", cwd=folder, timeout=300))
    old = id_of(proxy, "broken-web-1")
    broken = WEB.replace("DB: se://db/password", "DB: se://db/password\n      MORE: se://no/such")
    (folder / "compose.yaml").write_text(broken)
    ok(docker_pass("set", f"db/password={NEW_DB}"))

    done = docker_pass("rollout", "-y", "db/password", timeout=300)

    assert done.returncode == 1
    out = done.stdout.decode()
    assert "failed Compose project broken (web): docker compose failed: " in out
    assert "no/such" in out
    assert id_of(proxy, "broken-web-1") == old
    assert printenv(proxy, "broken-web-1", "DB") == OLD_DB
    assert names(proxy) == ["broken-web-1"]


def test_a_project_whose_files_are_gone_is_refused(proxy: Proxy, tmp_path: Path) -> None:
    folder = project(tmp_path, "vanished", WEB)
    ok(proxy.docker("compose", "up", "-d", cwd=folder, timeout=300))
    old = id_of(proxy, "vanished-web-1")
    (folder / "compose.yaml").unlink()

    done = docker_pass("rollout", "-y", "db/password", timeout=300)

    assert done.returncode == 1
    out = done.stdout.decode()
    assert "refused Compose project vanished: its Compose file " in out
    assert "is gone" in out
    assert "docker compose -p vanished up -d --force-recreate" in out
    assert id_of(proxy, "vanished-web-1") == old


def test_a_leftover_of_an_interrupted_rollout_is_cleaned_up(proxy: Proxy) -> None:
    """A crash after the create left the replacement under its temporary name (made through
    the proxy, so it holds the references label too): the next rollout removes it, then rolls
    the old container as usual."""
    old = sleeper(proxy, "svc", "-e", "DB=se://db/password")
    temp = f"svc{NEW_SUFFIX}{old[:12]}"
    labels = ["--label", f"{ROLLOUT_OF_LABEL}={old}", "--label", f"{ROLLOUT_NAME_LABEL}=svc"]
    made = proxy.docker(
        "create", "--name", temp, "--network", "none", *labels, "-e", "DB=se://db/password",
        "busybox", "sleep", "600",
    )  # fmt: skip
    ok(made)
    planned = ok(docker_pass("rollout", "--dry-run", "db/password"))
    assert f"clean up {temp}, left by an interrupted rollout" in planned
    assert f"recreate container {temp}" not in planned

    out = ok(docker_pass("rollout", "-y", "db/password", timeout=300))

    assert f"removed {temp}, left by an interrupted rollout of svc" in out
    assert names(proxy) == ["svc"]
    assert id_of(proxy, "svc") != old


def test_a_swap_interrupted_after_the_rename_gives_the_name_back(proxy: Proxy) -> None:
    """A crash after the old container was renamed away: the leftover goes, the old one gets
    its name back (and is rolled)."""
    old = sleeper(proxy, "named", "-e", "DB=se://db/password")
    ok(proxy.dockerd.docker("rename", "named", f"named.replaced-{old[:12]}"))
    temp = f"named{NEW_SUFFIX}{old[:12]}"
    labels = ["--label", f"{ROLLOUT_OF_LABEL}={old}", "--label", f"{ROLLOUT_NAME_LABEL}=named"]
    ok(proxy.dockerd.docker("create", "--name", temp, "--network", "none", *labels, "busybox"))
    ok(docker_pass("set", f"db/password={NEW_DB}"))

    out = ok(docker_pass("rollout", "-y", "db/password", timeout=300))

    assert f"removed {temp}" in out
    assert names(proxy) == ["named"]
    assert printenv(proxy, "named", "DB") == NEW_DB


def test_odd_names_and_labels_from_outside(proxy: Proxy) -> None:
    """A container whose labels carry escape sequences and a references label that is not
    JSON: the plan's text holds no escape, nothing breaks, JSON output stays JSON."""
    sleeper(
        proxy, "odd.name_1-x", "-e", "DB=se://db/password",
        "--label", "note=\x1b[31mred\x1b[0m", "--label", "docker-pass.references=not json",
    )  # fmt: skip
    sleeper(proxy, "escapes", "--label", "x-secret:db/password=/run/\x1b]0;t\x07db")
    done = docker_pass("rollout", "--dry-run", "db/password")
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode()
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "recreate container odd.name_1-x" in out
    plan = json.loads(ok(docker_pass("rollout", "--dry-run", "--json", "db/password")))
    assert {c["name"] for c in plan["plan"]["containers"]} >= {"odd.name_1-x"}


def test_networks_aliases_and_static_address_are_kept(proxy: Proxy) -> None:
    """A container on two user networks, with an alias and a static address on the first: the
    replacement is on both, with the same alias and address."""
    nets = [f"rollnet{i}{id(proxy) % 10000}" for i in (1, 2)]
    ok(proxy.dockerd.docker("network", "create", "--subnet", "10.231.7.0/24", nets[0]))
    ok(proxy.dockerd.docker("network", "create", nets[1]))
    try:
        run = ["run", "-d", "--name", "netted", "--network", nets[0], "--network-alias", "db-api"]
        run += ["--ip", "10.231.7.9", "-e", "DB=se://db/password", "busybox", "sleep", "600"]
        ok(proxy.docker(*run))
        ok(proxy.dockerd.docker("network", "connect", "--alias", "second", nets[1], "netted"))
        old = id_of(proxy, "netted")

        ok(docker_pass("set", "--rollout", "-y", f"db/password={NEW_DB}", timeout=300))

        assert id_of(proxy, "netted") != old
        doc = json.loads(ok(proxy.dockerd.docker("inspect", "netted")))[0]
        networks = doc["NetworkSettings"]["Networks"]
        assert sorted(networks) == sorted(nets)
        assert "db-api" in networks[nets[0]]["Aliases"]
        assert networks[nets[0]]["IPAMConfig"]["IPv4Address"] == "10.231.7.9"
        assert networks[nets[0]]["IPAddress"] == "10.231.7.9"
        assert "second" in networks[nets[1]]["Aliases"]
        assert printenv(proxy, "netted", "DB") == NEW_DB
    finally:
        proxy.dockerd.remove_all_containers()
        for net in nets:
            proxy.dockerd.docker("network", "rm", net)


def test_an_image_name_that_moved_is_not_followed(proxy: Proxy) -> None:
    """The container was made from ``moving:1``, which now names another image: the
    replacement is made from the same image ID as before, and the rollout says so."""
    ok(proxy.dockerd.docker("tag", "busybox:latest", "moving:1"))
    run = ["run", "-d", "--name", "pinned", "--network", "none", "-e", "DB=se://db/password"]
    ok(proxy.docker(*run, "moving:1", "sleep", "600"))
    before = json.loads(ok(proxy.dockerd.docker("inspect", "pinned")))[0]["Image"]
    ok(
        proxy.dockerd.docker(
            "run", "--name", "changer", "--network", "none", "busybox", "touch", "/m"
        )
    )
    ok(proxy.dockerd.docker("commit", "changer", "moving:1"))
    ok(proxy.dockerd.docker("rm", "changer"))
    try:
        out = ok(docker_pass("set", "--rollout", "-y", f"db/password={NEW_DB}", timeout=300))
        assert "moving:1 now names another image" in out
        after = json.loads(ok(proxy.dockerd.docker("inspect", "pinned")))[0]
        assert after["Image"] == before
        assert after["Config"]["Image"] == before
        assert printenv(proxy, "pinned", "DB") == NEW_DB
    finally:
        proxy.dockerd.remove_all_containers()
        proxy.dockerd.docker("rmi", "moving:1")
