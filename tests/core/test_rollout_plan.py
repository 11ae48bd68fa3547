"""The rollout's pure parts: the create body made from an inspect document, the refusals, the
plan made from Compose uses, and the Compose command line (names and files, never a value)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from docker_pass.core.docker.container import REFERENCES_LABEL
from docker_pass.core.docker.endpoint import DockerHost
from docker_pass.core.docker.engine_api import DEFAULT_TIMEOUT, DockerApi
from docker_pass.core.docker.recreate import (
    ROLLOUT_NAME_LABEL,
    ROLLOUT_OF_LABEL,
    _stop_wait,
    create_body,
    is_leftover_name,
    refusal,
)
from docker_pass.core.docker.rollout import ProjectRollout, RolloutOutcome, plan_rollout
from docker_pass.core.docker.usage import CONTAINER, SERVICE, Place, Referrer, Use

if TYPE_CHECKING:
    from pathlib import Path

OLD_ID = "a" * 64
IMAGE_ID = "sha256:" + "b" * 64
VALUE = "resolved-value-never-shown-61f0"


def _inspect(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "Id": OLD_ID,
        "Name": "/web",
        "Image": IMAGE_ID,
        "State": {"Running": True},
        "Config": {
            "Hostname": OLD_ID[:12],
            "Image": "busybox",
            "Env": [f"K={VALUE}", f"GH_TOKEN={VALUE}", "PLAIN=kept"],
            "Cmd": ["sleep", "600"],
            "WorkingDir": "/srv",
            "User": "1000",
            "Labels": {
                REFERENCES_LABEL: json.dumps({"K": "se://db/password", "GH_TOKEN": ""}),
                "team": "blue",
                "x-secret:db/password": "/run/db",
            },
        },
        "HostConfig": {
            "Binds": ["data:/d"],
            "RestartPolicy": {"Name": "always", "MaximumRetryCount": 0},
            "NetworkMode": "net1",
        },
        "Mounts": [{"Type": "volume", "Name": "data", "Destination": "/d"}],
        "NetworkSettings": {
            "Networks": {
                "net2": {"Aliases": ["two"]},
                "net1": {
                    "Aliases": [OLD_ID[:12], "api"],
                    "IPAMConfig": {"IPv4Address": "10.0.0.9"},
                },
            }
        },
    }
    doc.update(changes)
    return doc


def test_create_body_puts_references_back_and_keeps_the_rest() -> None:
    """You should see the references as sent, no value, our label dropped, the rollout labels
    set, the host config whole and the network mode's network in the create."""
    body, more = create_body(_inspect(), IMAGE_ID, name="web")
    assert body["Env"] == ["K=se://db/password", "GH_TOKEN=", "PLAIN=kept"]
    assert VALUE not in json.dumps(body)
    assert REFERENCES_LABEL not in body["Labels"]
    assert body["Labels"]["team"] == "blue"
    assert body["Labels"]["x-secret:db/password"] == "/run/db"
    assert body["Labels"][ROLLOUT_OF_LABEL] == OLD_ID
    assert body["Labels"][ROLLOUT_NAME_LABEL] == "web"
    assert body["Image"] == IMAGE_ID
    assert "Hostname" not in body  # the default (the ID's start) is not carried over
    assert body["HostConfig"]["RestartPolicy"]["Name"] == "always"
    assert body["HostConfig"]["Binds"] == ["data:/d"]
    assert body["Cmd"] == ["sleep", "600"]
    assert body["User"] == "1000"
    assert body["NetworkingConfig"] == {
        "EndpointsConfig": {"net1": {"Aliases": ["api"], "IPAMConfig": {"IPv4Address": "10.0.0.9"}}}
    }
    assert more == [{"name": "net2", "config": {"Aliases": ["two"]}}]


def test_create_body_leaves_the_inspect_document_alone() -> None:
    doc = _inspect()
    before = json.dumps(doc, sort_keys=True)
    create_body(doc, IMAGE_ID, name="web")
    assert json.dumps(doc, sort_keys=True) == before


def test_a_hostname_given_by_a_person_is_kept() -> None:
    doc = _inspect()
    doc["Config"]["Hostname"] = "db-host"
    body, _ = create_body(doc, IMAGE_ID, name="web")
    assert body["Hostname"] == "db-host"


@pytest.mark.parametrize(
    ("label", "env"),
    [
        ("not json", [f"K={VALUE}"]),
        ("[1, 2]", [f"K={VALUE}"]),
        ('{"K": 7}', [f"K={VALUE}"]),
    ],
)
def test_an_odd_references_label_is_dropped_and_the_env_kept(label: str, env: list[str]) -> None:
    doc = _inspect()
    doc["Config"]["Env"] = list(env)
    doc["Config"]["Labels"][REFERENCES_LABEL] = label
    body, _ = create_body(doc, IMAGE_ID, name="web")
    assert body["Env"] == env
    assert REFERENCES_LABEL not in body["Labels"]


def test_a_faithful_container_is_not_refused() -> None:
    assert refusal(_inspect()) == ""


def test_refusals_say_why_and_what_to_run() -> None:
    auto = _inspect(HostConfig={"AutoRemove": True})
    assert "--rm" in refusal(auto)
    assert "docker rm -f web" in refusal(auto)
    anonymous = _inspect(Mounts=[{"Type": "volume", "Name": "c" * 64, "Destination": "/var/x"}])
    said = refusal(anonymous)
    assert "anonymous volume at /var/x" in said
    assert "--volumes-from web" in said
    plain = _inspect()
    plain["Config"]["Labels"] = {"team": "blue"}
    assert "not created through the docker-pass proxy" in refusal(plain)
    shared = _inspect(HostConfig={"NetworkMode": "container:db"})
    assert refusal(shared) == ""
    assert "shares the network of container db" in refusal(shared, {"db"})


def test_a_named_volume_with_a_hex_name_is_not_anonymous() -> None:
    volume = "d" * 64
    doc = _inspect(
        Mounts=[{"Type": "volume", "Name": volume, "Destination": "/d"}],
        HostConfig={"Binds": [f"{volume}:/d"]},
    )
    assert refusal(doc) == ""


@pytest.mark.parametrize(
    ("stop_timeout", "grace"),
    [(None, 10), (0, 0), (120, 120), (-1, 3600), (10**9, 3600), ("60", 10), (True, 10)],
)
def test_a_stop_may_take_the_containers_own_stop_timeout(stop_timeout: object, grace: int) -> None:
    doc = _inspect()
    if stop_timeout is not None:
        doc["Config"]["StopTimeout"] = stop_timeout
    assert _stop_wait(doc) == grace + DEFAULT_TIMEOUT


def test_leftover_names() -> None:
    assert is_leftover_name(f"web.rollout-{OLD_ID[:12]}")
    assert not is_leftover_name("web.rollout-x")
    assert not is_leftover_name("web")


def _service_use(tmp_path: Path, project: str, service: str, *, state: str = "") -> Use:
    place = Place(
        SERVICE,
        f"{project}/{service}",
        state=state,
        project=project,
        service=service,
        working_dir=str(tmp_path),
        config_files=(str(tmp_path / "compose.yaml"),),
        file=str(tmp_path / "compose.yaml"),
    )
    return Use("db/password", Referrer(place, "DB", "db/password"))


def _container_use(tmp_path: Path, project: str, service: str) -> Use:
    place = Place(
        CONTAINER,
        f"{project}-{service}-1",
        container_id="e" * 64,
        state="running",
        project=project,
        service=service,
        working_dir=str(tmp_path),
        config_files=(str(tmp_path / "compose.yaml"),),
    )
    return Use("db/password", Referrer(place, "DB", "db/password"))


#: An engine that is never reached: Compose uses need no engine call to plan.
NOWHERE = DockerApi(DockerHost("unix:///nonexistent/docker.sock", "test"))


def test_compose_plan_has_services_with_containers_only(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    uses = [
        _container_use(tmp_path, "shop", "web"),
        _service_use(tmp_path, "shop", "web"),
        _service_use(tmp_path, "shop", "api"),
        _service_use(tmp_path, "shop", "idle", state="no container"),
    ]
    plan = plan_rollout(uses, NOWHERE)
    assert [(p.project, p.services) for p in plan.projects] == [("shop", ["api", "web"])]
    assert plan.containers == []
    assert plan.refused == []
    assert plan.ids == ["db/password"]
    assert plan.lines() == [f"recreate Compose project shop: api, web (in {tmp_path})"]
    assert not plan.empty


def test_a_project_whose_files_are_gone_is_refused(tmp_path: Path) -> None:
    plan = plan_rollout([_container_use(tmp_path, "gone", "web")], NOWHERE)
    assert plan.projects == []
    assert [r.what for r in plan.refused] == ["Compose project gone"]
    assert "is gone" in plan.refused[0].reason


def test_nothing_planned_is_empty() -> None:
    plan = plan_rollout([], NOWHERE)
    assert plan.empty
    assert plan.lines() == []
    assert plan.as_json()["projects"] == []


def test_the_compose_command_holds_names_and_files_only(tmp_path: Path) -> None:
    project = ProjectRollout("shop", str(tmp_path), ("a.yaml", "b.yaml"), ["api", "web"])
    assert project.command() == [
        "compose", "-p", "shop", "-f", "a.yaml", "-f", "b.yaml",
        "up", "-d", "--force-recreate", "--no-deps", "api", "web",
    ]  # fmt: skip


def test_outcome_ok_only_without_failures_or_refusals() -> None:
    outcome = RolloutOutcome([])
    outcome.done.append("container web")
    assert outcome.ok
    outcome.failed.append("web: starting failed")
    assert not outcome.ok
    assert outcome.as_json()["ok"] is False


@pytest.mark.parametrize(("project", "service"), [("--file=x", "web"), ("shop", "--build")])
def test_names_that_would_read_as_options_are_refused(
    tmp_path: Path, project: str, service: str
) -> None:
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    plan = plan_rollout([_container_use(tmp_path, project, service)], NOWHERE)
    assert plan.projects == []
    assert len(plan.refused) == 1
    assert "not a Compose" in plan.refused[0].reason
