"""The files `check` and `scan` read when given none are the ones Docker Compose itself reads:
asked of the real Compose binary (the ``config_files`` label it puts on a container it creates,
and the value a ``.env`` gives a variable), from the project's folder, from a folder below it,
and with ``COMPOSE_FILE``."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from docker_pass.core.docker.compose import compose_files, project_env_file
from docker_pass.core.docker.endpoint import DockerHost
from docker_pass.core.docker.engine_api import DockerApi
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from tests.support.docker_engine import DockerEngine

pytestmark = pytest.mark.integration


def _service(value: str) -> str:
    return (
        "services:\n  app:\n    image: busybox\n    network_mode: none\n"
        f"    environment:\n      FROM: {value}\n"
    )


def _compose_reads(
    dockerd: DockerEngine, compose_dir: Path, cwd: Path, extra_env: dict[str, str] | None = None
) -> tuple[list[Path], str]:
    """What Compose read, run in ``cwd``: its config files, and the value FROM got."""
    project = f"disc{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    env.update(DOCKER_HOST=dockerd.host, **(extra_env or {}))
    done = subprocess.run(
        [str(compose_dir / "docker-compose"), "-p", project, "create"],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    api = DockerApi(DockerHost(dockerd.host, "test"))
    filters = json.dumps({"label": [f"com.docker.compose.project={project}"]})
    [entry] = api.call("GET", "/containers/json", query={"all": "1", "filters": filters})
    labels = entry["Labels"]
    inspected = api.inspect_container(entry["Id"])
    api.call("DELETE", f"/containers/{entry['Id']}", query={"force": "1"})
    got = next(e.split("=", 1)[1] for e in inspected["Config"]["Env"] if e.startswith("FROM="))
    files = [Path(p) for p in labels["com.docker.compose.project.config_files"].split(",")]
    return files, got


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "compose.yaml").write_text(_service("${DISCOVERY}"))
    (root / "docker-compose.yml").write_text(_service("never-read-docker-compose-yml"))
    (root / "compose.override.yml").write_text("services:\n  app:\n    labels: [override=yml]\n")
    (root / "compose.override.yaml").write_text("services:\n  app:\n    labels: [x=never]\n")
    (root / "docker-compose.override.yml").write_text("services:\n  app:\n    labels: [y=no]\n")
    (root / ".env").write_text("DISCOVERY=project-dotenv\n")
    (root / "sub" / ".env").write_text("DISCOVERY=sub-dotenv\n")
    return root


@pytest.mark.parametrize("where", ["", "sub", "sub/deeper"])
def test_compose_files_and_dotenv_are_the_ones_compose_reads(
    dockerd: DockerEngine, compose_dir: Path, tree: Path, where: str
) -> None:
    cwd = tree / where
    files, got = _compose_reads(dockerd, compose_dir, cwd)
    ours = compose_files(cwd, {})
    assert [path.absolute() for path in ours] == files
    assert files == [tree / "compose.yaml", tree / "compose.override.yml"]
    env_file = project_env_file(cwd, ours)
    assert env_file is not None
    assert got == env_file.absolute().read_text().strip().split("=", 1)[1]
    # deeper has no .env of its own: the project's is read, not sub's
    expected = {"": "project-dotenv", "sub": "sub-dotenv", "sub/deeper": "project-dotenv"}
    assert got == expected[where]


def test_compose_file_names_the_files(dockerd: DockerEngine, compose_dir: Path, tree: Path) -> None:
    (tree / "other.yaml").write_text(_service("named-by-compose-file"))
    setting = {"COMPOSE_FILE": "other.yaml:compose.override.yaml"}
    files, got = _compose_reads(dockerd, compose_dir, tree, setting)
    assert [path.absolute() for path in compose_files(tree, setting)] == files
    assert got == "named-by-compose-file"


def test_check_and_scan_read_the_parent_project_from_a_folder_below(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert docker_pass("set", "disc/key", input=b"discovery-value-5e1f").returncode == 0
    (tree / "compose.override.yml").write_text(
        "services:\n  app:\n    environment:\n      TOKEN: se://no/such-secret\n"
        "      LEAK: discovery-value-5e1f\n"
    )
    deeper = tree / "sub" / "deeper"
    monkeypatch.delenv("COMPOSE_FILE", raising=False)
    check = docker_pass("check", "--json", cwd=deeper)
    assert check.returncode == 1
    rows = json.loads(check.stdout)
    assert [(Path(row["file"]).name, row["status"]) for row in rows] == [
        ("compose.override.yml", "not found")
    ]
    scan = docker_pass("scan", "--no-engine", "--json", cwd=deeper)
    assert scan.returncode == 1
    report = json.loads(scan.stdout)
    assert report["searched"] == {"file": 3}, report  # compose.yaml, its override, the .env
    assert [(Path(f["target"]).name, f["line"]) for f in report["findings"]] == [
        ("compose.override.yml", 5)
    ]
    assert b"discovery-value-5e1f" not in scan.stdout + scan.stderr
