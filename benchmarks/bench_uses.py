"""``docker pass uses`` over 200 containers in 20 Compose projects, against ``docker ps -a
--format json`` alone, in one run.

A private dockerd (tests/support/docker_engine.py) holds 200 containers, created (not started)
straight through the API with the labels the proxy and Compose write: the references label
(two references each), ``com.docker.compose.project``/``.service``/``.working_dir``/
``.config_files``.  The 20 projects' Compose files are on disk (10 services each, an env_file
per service), so ``uses`` reads 20 Compose files and 200 env files too.  The engine daemon
runs (its proxy in front of that dockerd), holding 60 secrets, as it would for a user.

Rows (medians of interleaved runs, the whole process each):
- ``docker-pass uses`` (text): target <= 1 s, and <= 3x the anchor;
- ``docker-pass uses --json``: the same targets;
- anchor: ``docker ps -a --format json`` straight to the dockerd.

Needs root (dockerd); run ``python -m benchmarks uses``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._setup import ROOT, file_store_env, regular_install

PROJECTS = 20
SERVICES = 10
SECRETS = 60
RUNS = 9


def _timed(argv: list[str], env: dict[str, str], expect: bytes) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or expect not in done.stdout:
        raise SystemExit(f"{argv!r} failed: {done.returncode} {done.stderr[-300:]!r}")
    return elapsed


def _compose(project: int) -> str:
    lines = ["services:"]
    for service in range(SERVICES):
        lines += [
            f"  s{service}:",
            "    image: busybox",
            "    network_mode: none",
            "    environment:",
            f"      DB: se://bench/db-{(project * SERVICES + service) % SECRETS}",
            "      TOKEN: se://bench/shared",
            "      PLAIN: hello",
            f"    env_file: s{service}.env",
            "    command: sleep 600",
        ]
    return "\n".join(lines) + "\n"


def _make_containers(docker: object, work: Path) -> None:
    """20 project folders with their files, and 10 containers in each (created straight)."""
    from docker_pass.core.docker.engine_api import DockerApi

    assert isinstance(docker, DockerApi)
    for project in range(PROJECTS):
        folder = work / f"project{project}"
        folder.mkdir(parents=True)
        compose = folder / "compose.yaml"
        compose.write_text(_compose(project))
        for service in range(SERVICES):
            (folder / f"s{service}.env").write_text(
                f"EXTRA=se://bench/extra-{service}\nMODE=prod\n"
            )
            references = {
                "DB": f"se://bench/db-{(project * SERVICES + service) % SECRETS}",
                "TOKEN": "se://bench/shared",
                "EXTRA": f"se://bench/extra-{service}",
            }
            labels = {
                "docker-pass.references": json.dumps(references),
                "com.docker.compose.project": f"project{project}",
                "com.docker.compose.service": f"s{service}",
                "com.docker.compose.project.working_dir": str(folder),
                "com.docker.compose.project.config_files": str(compose),
                "com.docker.compose.container-number": "1",
            }
            body = {
                "Image": "busybox",
                "Cmd": ["sleep", "600"],
                "Env": [f"{k}=x" for k in references],
                "Labels": labels,
                "HostConfig": {"NetworkMode": "none"},
            }
            name = f"project{project}-s{service}-1"
            docker.call("POST", "/containers/create", query={"name": name}, body=body)


def _row(label: str, ours: list[float], anchor: list[float]) -> bool:
    a, b = statistics.median(ours), statistics.median(anchor)
    ratio = a / b
    ok = a <= 1.0 and ratio <= 3.0
    print(
        f"{label:<34} {a * 1000:7.1f} ms   docker ps -a --format json {b * 1000:6.1f} ms   "
        f"ratio {ratio:4.2f}x   targets <= 1 s and <= 3x: {'ok' if ok else 'MISSED'}"
    )
    return ok


def _measure(exe: str, env: dict[str, str], direct: dict[str, str]) -> None:
    """What uses lists, then the interleaved runs and their rows."""
    uses, uses_json = [exe, "uses"], [exe, "uses", "--json"]
    ps = ["docker", "ps", "-a", "--format", "json"]
    first = _timed(uses_json, env, b'"uses"')
    done = subprocess.run(uses_json, env=env, capture_output=True, check=True)
    doc = json.loads(done.stdout)
    places = sum(len(v) for v in doc["uses"].values())
    print(
        f"uses lists {len(doc['uses'])} IDs, {places} uses; problems {len(doc['problems'])}; "
        f"docker {doc['docker'] or 'read'} (first run {first * 1000:.0f} ms)"
    )
    times: dict[str, list[float]] = {"text": [], "json": [], "ps": []}
    _timed(uses, env, b"bench/shared"), _timed(ps, direct, b"project0")  # warm both
    for _ in range(RUNS):
        times["text"].append(_timed(uses, env, b"bench/shared"))
        times["json"].append(_timed(uses_json, env, b'"uses"'))
        times["ps"].append(_timed(ps, direct, b"project0"))
    print(f"{RUNS} runs each, interleaved; medians")
    _row("docker-pass uses", times["text"], times["ps"])
    _row("docker-pass uses --json", times["json"], times["ps"])


def main() -> int:
    if os.geteuid() != 0:
        print("needs root to start a private dockerd")
        return 1
    sys.path.insert(0, str(ROOT))
    from _pytest.outcomes import Skipped

    from docker_pass.core.docker.endpoint import DockerHost
    from docker_pass.core.docker.engine_api import DockerApi
    from tests.support.docker_engine import start_dockerd, stop_dockerd

    bin_dir = regular_install()
    try:
        dockerd, work = start_dockerd()
    except Skipped as exc:
        print(f"cannot start dockerd: {exc}")
        return 1
    home = Path(tempfile.mkdtemp(prefix="dpu-", dir="/tmp"))
    env = file_store_env(home)
    exe = str(bin_dir / "docker-pass")
    engine = None
    try:
        ids = ["bench/shared"]
        ids += [f"bench/db-{i}" for i in range(SECRETS - SERVICES - 1)]
        ids += [f"bench/extra-{i}" for i in range(SERVICES)]
        for id_ in ids:
            subprocess.run([exe, "set", id_], input=b"v", env=env, check=True)
        start = time.perf_counter()
        _make_containers(DockerApi(DockerHost(dockerd.host, "bench")), home / "projects")
        print(f"created {PROJECTS * SERVICES} containers in {time.perf_counter() - start:.1f} s")
        engine = subprocess.Popen(
            [exe, "engine", "run", "--docker-host", dockerd.host],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        proxy = home / "k" / "docker-secrets-engine" / "docker.sock"
        deadline = time.monotonic() + 60
        while not proxy.exists():
            if engine.poll() is not None or time.monotonic() > deadline:
                print("the engine did not start")
                return 1
            time.sleep(0.05)
        _measure(exe, env, dict(env, DOCKER_HOST=dockerd.host))
    finally:
        if engine is not None:
            engine.terminate()
            engine.wait(timeout=30)
        stop_dockerd(dockerd, work)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
