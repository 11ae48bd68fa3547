"""``docker pass rollout`` and ``set --rollout`` on a real dockerd with Compose v2, through the
engine's Docker proxy: what uses a changed secret is recreated with the new value, and nothing
else is."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

import pytest

from tests.containers.conftest import SECRETS
from tests.containers.rollout_helpers import id_of, inspected, names, ok, printenv, project, sleeper
from tests.support.helpers import docker_pass
from tests.support.terminals import terminal

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.containers.conftest import Proxy
    from tests.support.terminals import JoinedTerminal

__all__ = ["terminal"]

pytestmark = pytest.mark.integration
NEW_DB = "pg-rolled-value-31c4"
KEY = SECRETS["openai/api-key"]

#: Project one: ``app`` uses db/password, ``other`` uses another secret only, ``idle`` uses
#: db/password but is never started (a rollout does not start it).
APP = """\
services:
  app:
    image: busybox
    network_mode: none
    environment:
      DB: se://db/password
    command: sleep 600
  other:
    image: busybox
    network_mode: none
    environment:
      KEY: se://openai/api-key
    command: sleep 600
  idle:
    image: busybox
    network_mode: none
    environment:
      DB: se://db/password
    command: sleep 600
"""
#: Project two: ``job`` uses db/password through an env file.
JOB = """\
services:
  job:
    image: busybox
    network_mode: none
    env_file: job.env
    command: sleep 600
"""


def test_set_then_rollout_recreates_every_user_and_nothing_else(
    proxy: Proxy, tmp_path: Path
) -> None:
    """Two Compose projects and two plain containers; db/password changes; every user of it
    shows the new value afterwards, the others keep their container IDs."""
    one = project(tmp_path, "one", APP)
    two = project(tmp_path, "two", JOB, **{"job.env": "DB=se://db/password\n"})
    ok(proxy.docker("compose", "up", "-d", "app", "other", cwd=one, timeout=300))
    ok(proxy.docker("compose", "up", "-d", cwd=two, timeout=300))
    sleeper(proxy, "plain", "-e", "DB=se://db/password")
    sleeper(proxy, "bystander", "-e", "K=se://openai/api-key")
    outsider = ("run", "-d", "--network", "none", "--name", "outsider", "busybox", "sleep", "600")
    ok(proxy.dockerd.docker(*outsider))  # straight: nothing of ours
    users = ["one-app-1", "two-job-1", "plain"]
    others = ["one-other-1", "bystander", "outsider"]
    before = {name: id_of(proxy, name) for name in users + others}
    for name in users:
        assert printenv(proxy, name, "DB") == SECRETS["db/password"]

    ok(docker_pass("set", f"db/password={NEW_DB}"))
    planned = ok(docker_pass("rollout", "--dry-run", "db/password"))
    assert "recreate Compose project one: app" in planned
    assert "recreate Compose project two: job" in planned
    assert "recreate container plain" in planned
    for name in ("idle", "bystander", "other"):
        assert name not in planned
    assert {name: id_of(proxy, name) for name in users} == {n: before[n] for n in users}

    done = docker_pass("rollout", "-y", "db/password", timeout=300)
    out = ok(done)
    assert "recreated container plain" in out
    for name in users:
        assert id_of(proxy, name) != before[name], name
        assert printenv(proxy, name, "DB") == NEW_DB, name
    for name in others:
        assert id_of(proxy, name) == before[name], name
    assert printenv(proxy, "one-other-1", "KEY") == KEY
    # Nothing started that was not running, and no temporary container is left.
    assert names(proxy) == sorted(users + others)
    # Through the proxy, inspect still shows the reference, never the value.
    shown = ok(proxy.docker("inspect", "plain"))
    assert "DB=se://db/password" in shown
    assert NEW_DB not in shown


def test_plain_container_keeps_name_volume_and_restart_policy(proxy: Proxy) -> None:
    """``docker run -d --name xy -e K=se://… -v data:/d --restart always``, recreated."""
    volume = f"data{uuid.uuid4().hex[:8]}"
    options = ["-e", "K=se://db/password", "-e", "PLAIN=kept", "-v", f"{volume}:/d"]
    options += ["--restart", "always", "--label", "team=blue", "-w", "/d"]
    sleeper(proxy, "xy", *options)
    ok(proxy.dockerd.docker("exec", "xy", "sh", "-c", "echo before > /d/mark"))
    old = inspected(proxy, "xy")

    ok(docker_pass("set", "--rollout", "-y", f"db/password={NEW_DB}", timeout=300))

    new = inspected(proxy, "xy")
    assert new["Id"] != old["Id"]
    assert new["Name"] == "/xy"
    assert new["Image"] == old["Image"]
    assert new["Config"]["Image"] == "busybox"  # type: ignore[index]
    host = new["HostConfig"]
    assert isinstance(host, dict)
    assert host["RestartPolicy"]["Name"] == "always"
    assert host["Binds"] == [f"{volume}:/d"]
    config = new["Config"]
    assert isinstance(config, dict)
    assert config["Labels"]["team"] == "blue"
    assert config["WorkingDir"] == "/d"
    assert config["Cmd"] == ["sleep", "600"]
    assert ok(proxy.dockerd.docker("exec", "xy", "cat", "/d/mark")).strip() == "before"
    assert printenv(proxy, "xy", "K") == NEW_DB
    assert printenv(proxy, "xy", "PLAIN") == "kept"
    assert names(proxy) == ["xy"]
    assert volume in ok(proxy.dockerd.docker("volume", "ls", "-q")).split()


def test_a_failed_start_leaves_the_old_container_running(proxy: Proxy) -> None:
    """A value over Linux's 128 KiB limit for one environment string: the new container's
    process cannot start, so the old one runs on, with its ID and name."""
    sleeper(proxy, "keep", "-e", "DB=se://db/password")
    old = id_of(proxy, "keep")
    ok(docker_pass("set", "db/password", input=b"v" * (200 * 1024)))

    done = docker_pass("rollout", "-y", "db/password", timeout=300)

    assert done.returncode == 1
    said = done.stdout.decode() + done.stderr.decode()
    assert "the old container is still running" in said
    assert "Traceback" not in said
    assert id_of(proxy, "keep") == old
    assert inspected(proxy, "keep")["State"]["Running"] is True  # type: ignore[index]
    assert printenv(proxy, "keep", "DB") == SECRETS["db/password"]
    assert names(proxy) == ["keep"]


def test_a_failed_create_changes_nothing(proxy: Proxy) -> None:
    """A user whose other reference no longer resolves: its create through the proxy fails;
    the other user is still rolled, and the exit status says something failed."""
    sleeper(proxy, "two-refs", "-e", "DB=se://db/password", "-e", "HUB=se://docker/auth/hub/alice")
    sleeper(proxy, "one-ref", "-e", "DB=se://db/password")
    old = id_of(proxy, "two-refs")
    ok(docker_pass("rm", "docker/auth/hub/alice"))
    ok(docker_pass("set", f"db/password={NEW_DB}"))

    done = docker_pass("rollout", "-y", "db/password", timeout=300)

    assert done.returncode == 1
    out = done.stdout.decode()
    assert "failed two-refs: creating the new container failed" in out
    assert "nothing changed" in out
    assert id_of(proxy, "two-refs") == old
    assert printenv(proxy, "two-refs", "DB") == SECRETS["db/password"]
    assert printenv(proxy, "one-ref", "DB") == NEW_DB
    assert names(proxy) == ["one-ref", "two-refs"]


def test_refused_anonymous_volume_and_rm_with_the_command_to_run(proxy: Proxy) -> None:
    sleeper(proxy, "anon", "-v", "/d", "-e", "DB=se://db/password")
    sleeper(proxy, "gone", "--rm", "-e", "DB=se://db/password")
    before = {name: id_of(proxy, name) for name in ("anon", "gone")}

    done = docker_pass("rollout", "-y", "db/password", timeout=300)

    assert done.returncode == 1
    out = done.stdout.decode()
    assert "refused container anon: it keeps data in an anonymous volume at /d" in out
    assert "docker run --rm --volumes-from anon" in out
    assert "refused container gone: it was started with --rm" in out
    assert "docker rm -f gone" in out
    assert {name: id_of(proxy, name) for name in before} == before


def test_dry_run_and_json_change_nothing(proxy: Proxy) -> None:
    sleeper(proxy, "dry", "-e", "DB=se://db/password")
    old = id_of(proxy, "dry")
    plan = json.loads(ok(docker_pass("rollout", "--dry-run", "--json", "db/**")))
    assert plan["plan"]["containers"] == [{"name": "dry", "id": old}]
    assert plan["plan"]["ids"] == ["db/password"]
    assert plan["outcome"] is None
    assert id_of(proxy, "dry") == old


def test_without_a_terminal_and_without_y_refuses(proxy: Proxy) -> None:
    sleeper(proxy, "asked", "-e", "DB=se://db/password")
    old = id_of(proxy, "asked")
    done = docker_pass("rollout", "db/password")
    assert done.returncode == 1
    assert "pass -y" in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()
    assert id_of(proxy, "asked") == old
    # set --rollout refuses before it writes.
    done = docker_pass("set", "--rollout", f"db/password={NEW_DB}")
    assert done.returncode == 1
    assert "pass -y" in done.stderr.decode()
    assert docker_pass("get", "--reveal", "db/password").stdout.decode() == SECRETS["db/password"]


def test_nothing_uses_it(proxy: Proxy) -> None:
    done = docker_pass("rollout", "-y", "openai/api-key")
    assert done.returncode == 0, done.stderr.decode()
    assert "nothing to roll out" in done.stdout.decode()


def test_no_secret_matches(proxy: Proxy) -> None:
    done = docker_pass("rollout", "-y", "no/such/**")
    assert done.returncode == 1
    assert done.stderr.decode().strip().splitlines()[-1] == "Error: no secret matches no/such/**"


def test_without_the_proxy_running_says_how_to_start_it(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_PASS_STORE", "file")
    monkeypatch.setenv("DOCKER_PASS_ENGINE_SOCKET", str(tmp_path / "engine.sock"))
    done = docker_pass("rollout", "-y", "db/password")
    assert done.returncode == 1
    said = done.stderr.decode()
    assert "docker pass engine run" in said
    assert "Traceback" not in said
    # set --rollout checks first: nothing is saved.
    done = docker_pass("set", "--rollout", "-y", "db/password=unsaved")
    assert done.returncode == 1
    assert "docker pass engine run" in done.stderr.decode()
    assert docker_pass("get", "db/password").returncode == 1


def test_on_a_terminal_it_asks_first(
    proxy: Proxy, terminal: Callable[[str], JoinedTerminal]
) -> None:
    """You should see the plan and "Roll out? [y/N]"; no keeps the container, yes rolls it."""
    old = sleeper(proxy, "asked", "-e", "DB=se://db/password")
    said_no = terminal("rollout db/password")
    screen = said_no.wait_for(lambda text: "Roll out? [y/N]" in text)
    assert "recreate container asked" in screen
    said_no.send("n", "Enter")
    screen = said_no.wait_for(lambda text: "exit=" in text)
    assert "Nothing rolled out." in screen
    assert "exit=1" in screen
    assert id_of(proxy, "asked") == old

    said_yes = terminal("rollout db/password")
    said_yes.wait_for(lambda text: "Roll out? [y/N]" in text)
    said_yes.send("y", "Enter")
    screen = said_yes.wait_for(lambda text: "exit=" in text, timeout=120)
    assert "recreated container asked" in screen
    assert "exit=0" in screen
    assert id_of(proxy, "asked") != old
