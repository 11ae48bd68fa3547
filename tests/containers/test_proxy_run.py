"""``docker run`` through the engine's Docker proxy, against a real dockerd."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
import uuid
from typing import IO, TYPE_CHECKING

import pytest

from tests.containers.conftest import SECRETS
from tests.support.helpers import docker_pass

if TYPE_CHECKING:
    from pathlib import Path

    from tests.containers.conftest import Proxy

pytestmark = pytest.mark.integration
KEY = SECRETS["openai/api-key"]


def _out(done: subprocess.CompletedProcess[bytes]) -> str:
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def _names(proxy: Proxy) -> list[str]:
    return proxy.dockerd.docker("ps", "-a", "--format", "{{.Names}}").stdout.decode().split()


def test_run_resolves_references_and_leaves_the_rest(proxy: Proxy) -> None:
    out = _out(
        proxy.docker(
            "run",
            "--rm",
            "--network",
            "none",
            "-e",
            "OPENAI_API_KEY=se://openai/api-key",
            "-e",
            "PLAIN=hello",
            "-e",
            "EMBEDDED=postgres://u:se://db/password@h",
            "-e",
            "NOT_A_REF=xse://openai/api-key",
            "busybox",
            "sh",
            "-c",
            'printf "%s|%s|%s|%s" "$OPENAI_API_KEY" "$PLAIN" "$EMBEDDED" "$NOT_A_REF"',
        )
    )
    assert out == f"{KEY}|hello|postgres://u:se://db/password@h|xse://openai/api-key"


def test_a_failing_reference_refuses_the_create(proxy: Proxy) -> None:
    name = f"never-{uuid.uuid4().hex[:8]}"
    done = proxy.docker(
        "run",
        "--name",
        name,
        "--network",
        "none",
        "-e",
        "GOOD=se://openai/api-key",
        "-e",
        "MISSING=se://no/such/secret",
        "busybox",
        "true",
    )
    assert done.returncode == 125
    err = done.stderr.decode()
    assert "resolving MISSING: secret not found: no/such/secret" in err
    assert KEY not in err
    assert name not in _names(proxy), "a container was created although a reference failed"
    # A wildcard is not an ID: invalid, named, and again nothing is created.
    done = proxy.docker("create", "--name", name, "-e", "W=se://openai/*", "busybox", "true")
    assert done.returncode != 0
    assert "resolving W: invalid identifier" in done.stderr.decode()
    assert name not in _names(proxy)


def test_two_plugins_answering_is_refused_like_run(memory_plugin: Path, proxy: Proxy) -> None:
    # memory_plugin comes first: the engine that proxy starts loads it.
    memory_plugin.write_text(json.dumps({"openai/api-key": "from-memory", "only/mem": "m"}))
    done = proxy.docker("run", "--rm", "-e", "T=se://openai/api-key", "busybox", "true")
    assert done.returncode == 125
    err = done.stderr.decode()
    assert "resolving T: 2 secrets matched openai/api-key (docker-pass, memory)" in err
    assert "from-memory" not in err
    assert KEY not in err
    out = _out(
        proxy.docker("run", "--rm", "-e", "M=se://only/mem", "busybox", "sh", "-c", "echo $M")
    )
    assert out == "m\n"


def test_inspect_through_the_proxy_shows_references(proxy: Proxy) -> None:
    cid = _out(
        proxy.docker(
            "create",
            "--network",
            "none",
            "-e",
            "K=se://openai/api-key",
            "-e",
            "P=plain",
            "busybox",
            "true",
        )
    ).strip()
    through = json.loads(_out(proxy.docker("inspect", cid)))[0]
    assert "K=se://openai/api-key" in through["Config"]["Env"]
    assert "P=plain" in through["Config"]["Env"]
    assert KEY not in json.dumps(through)
    recorded = json.loads(through["Config"]["Labels"]["docker-pass.references"])
    assert recorded == {"K": "se://openai/api-key"}
    # Straight to the engine the value is there: it is what the container runs with.
    direct = json.loads(_out(proxy.dockerd.docker("inspect", cid)))[0]
    assert f"K={KEY}" in direct["Config"]["Env"]


def test_piped_stdin_reaches_the_container(proxy: Proxy) -> None:
    data = b"line one\nline two\n" * 2000
    done = proxy.docker(
        "run",
        "--rm",
        "-i",
        "--network",
        "none",
        "-e",
        "K=se://openai/api-key",
        "busybox",
        "sh",
        "-c",
        'cat; echo "k=$K"',
        input=data,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == data + f"k={KEY}\n".encode()


def test_exit_code_and_stderr_pass_through(proxy: Proxy) -> None:
    done = proxy.docker(
        "run", "--rm", "--network", "none", "busybox", "sh", "-c", "echo out; echo err >&2; exit 7"
    )
    assert done.returncode == 7
    assert done.stdout == b"out\n"
    assert done.stderr == b"err\n"


def test_logs_follow_streams_as_it_goes(proxy: Proxy) -> None:
    cid = _out(
        proxy.docker(
            "run",
            "-d",
            "--network",
            "none",
            "busybox",
            "sh",
            "-c",
            "echo first; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo second",
        )
    ).strip()
    follow = subprocess.Popen(
        ["docker", "logs", "-f", cid], stdout=subprocess.PIPE, env=proxy.env()
    )
    try:
        assert follow.stdout is not None
        assert follow.stdout.readline() == b"first\n"  # before the container has finished
        assert follow.poll() is None
        _out(proxy.docker("exec", cid, "touch", "/tmp/go"))
        assert follow.stdout.readline() == b"second\n"
        assert follow.wait(timeout=60) == 0
    finally:
        follow.kill()


def test_events_stream_through(proxy: Proxy) -> None:
    # --since replays what happened from then on, so the create is seen however late the
    # subscription starts; lines are read as they stream, with a deadline (never a bare read).
    since = str(int(time.time()) - 1)
    events = subprocess.Popen(
        [
            "docker",
            "events",
            "--since",
            since,
            "--format",
            "{{.Action}} {{.Actor.Attributes.name}}",
        ],
        stdout=subprocess.PIPE,
        env=proxy.env(),
    )
    name = f"ev-{uuid.uuid4().hex[:8]}"
    try:
        assert events.stdout is not None
        _out(proxy.docker("create", "--name", name, "--network", "none", "busybox", "true"))
        seen = _lines_until(events.stdout, f"create {name}", timeout=60)
        assert seen[-1] == f"create {name}", seen
    finally:
        events.kill()
        events.wait()


def _lines_until(stream: IO[bytes], wanted: str, *, timeout: float) -> list[str]:
    """Lines read from ``stream`` as they arrive, up to the one equal to ``wanted`` (or all
    that arrived by ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    buffered = b""
    fd = stream.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buffered += chunk
        *lines, buffered = buffered.split(b"\n")
        for line in lines:
            seen.append(line.decode().strip())
            if seen[-1] == wanted:
                return seen
    return seen


def test_exec_environment_is_resolved_too(proxy: Proxy) -> None:
    cid = _out(proxy.docker("run", "-d", "--network", "none", "busybox", "sleep", "60")).strip()
    out = _out(proxy.docker("exec", "-e", "D=se://db/password", cid, "sh", "-c", 'echo "$D"'))
    assert out == SECRETS["db/password"] + "\n"
    done = proxy.docker("exec", "-e", "D=se://db/nope", cid, "true")
    assert done.returncode != 0
    assert "resolving D: secret not found: db/nope" in done.stderr.decode()


def test_build_uploads_its_context_through_the_proxy(proxy: Proxy, tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM busybox\nCOPY blob /blob\n")
    blob = bytes(range(256)) * 8192  # 2 MiB, sent as a chunked upload
    (context / "blob").write_bytes(blob)
    env = proxy.env(DOCKER_BUILDKIT="0")
    done = subprocess.run(
        ["docker", "build", "-q", "-t", "proxied-build", str(context)],
        capture_output=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    copied = proxy.docker("run", "--rm", "--network", "none", "proxied-build", "md5sum", "/blob")
    import hashlib

    assert _out(copied).split()[0] == hashlib.md5(blob).hexdigest()  # noqa: S324


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_interactive_terminal_session(proxy: Proxy) -> None:
    session = f"dp-{uuid.uuid4().hex[:8]}"
    env = proxy.env()
    command = "docker run --rm -it --network none -e K=se://openai/api-key busybox sh"
    subprocess.run(
        ["tmux", "-L", session, "new-session", "-d", "-x", "80", "-y", "12", command],
        check=True,
        env=env,
    )
    try:

        def pane() -> str:
            return subprocess.run(
                ["tmux", "-L", session, "capture-pane", "-p"], capture_output=True, check=False
            ).stdout.decode()

        def wait_for(text: str) -> None:
            deadline = time.monotonic() + 60
            while text not in pane():
                assert time.monotonic() < deadline, f"{text!r} never appeared:\n{pane()}"
                time.sleep(0.05)

        wait_for("/ #")
        subprocess.run(["tmux", "-L", session, "send-keys", "-l", "echo ${#K}:$(tty)"], check=True)
        subprocess.run(["tmux", "-L", session, "send-keys", "Enter"], check=True)
        wait_for(f"{len(KEY)}:/dev/pts/0")
        # exec -it into another container from the same terminal session's shell.
        cid = _out(
            proxy.docker("run", "-d", "--network", "none", "busybox", "sleep", "300")
        ).strip()
        subprocess.run(
            [
                "tmux",
                "-L",
                session,
                "new-window",
                f"docker exec -it -e E=se://db/password {cid} sh",
            ],
            check=True,
            env=env,
        )
        wait_for("/ #")
        subprocess.run(
            ["tmux", "-L", session, "send-keys", "-l", "echo E${#E}E:$(tty)"], check=True
        )
        subprocess.run(["tmux", "-L", session, "send-keys", "Enter"], check=True)
        wait_for(f"E{len(SECRETS['db/password'])}E:/dev/pts/")
        subprocess.run(["tmux", "-L", session, "send-keys", "exit", "Enter"], check=True)
        subprocess.run(
            ["tmux", "-L", session, "send-keys", "-t", ":0", "exit", "Enter"], check=True
        )
        deadline = time.monotonic() + 60
        while (
            subprocess.run(["tmux", "-L", session, "has-session"], capture_output=True).returncode
            == 0
        ):
            assert time.monotonic() < deadline, pane()
            time.sleep(0.05)
    finally:
        subprocess.run(["tmux", "-L", session, "kill-server"], capture_output=True, check=False)


def test_the_engine_unreachable_is_said_plainly(proxy: Proxy) -> None:
    from tests.daemon.engines import start_engine

    proxy.engine.stop()
    log = proxy.engine.log_path.with_name("engine2.log")
    second = start_engine(log, "--docker-host", "unix:///nonexistent/docker.sock")
    try:
        done = proxy.docker("ps")
        assert done.returncode != 0
        assert (
            "cannot reach the Docker engine at unix:///nonexistent/docker.sock"
            in done.stderr.decode()
        )
    finally:
        second.stop()


def test_engine_status_names_the_proxy(proxy: Proxy) -> None:
    status = json.loads(_out(docker_pass("engine", "status", "--json")))
    assert status["docker_socket"] == str(proxy.socket)
    assert status["docker_upstream"] == proxy.dockerd.host


def test_attach_with_piped_stdin(proxy: Proxy) -> None:
    name = f"att-{uuid.uuid4().hex[:8]}"
    _out(
        proxy.docker(
            "run",
            "-d",
            "-i",
            "--name",
            name,
            "--network",
            "none",
            "-e",
            "K=se://openai/api-key",
            "busybox",
            "sh",
            "-c",
            'while read line; do echo "got:$line:${#K}"; done',
        )
    )
    attach = subprocess.Popen(
        ["docker", "attach", name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=proxy.env(),
    )
    try:
        assert attach.stdin is not None
        assert attach.stdout is not None
        # Each line goes in and its answer comes back while the session stays attached.
        for word in ("hello", "again"):
            attach.stdin.write(f"{word}\n".encode())
            attach.stdin.flush()
            assert attach.stdout.readline() == f"got:{word}:{len(KEY)}\n".encode()
    finally:
        attach.kill()


def test_images_stream_both_ways(proxy: Proxy, tmp_path: Path) -> None:
    saved = tmp_path / "busybox.tar"
    _out(proxy.docker("save", "-o", str(saved), "busybox"))
    direct = tmp_path / "direct.tar"
    _out(proxy.dockerd.docker("save", "-o", str(direct), "busybox"))
    assert saved.stat().st_size == direct.stat().st_size > 1_000_000
    loaded = proxy.docker("load", "-i", str(saved))
    assert loaded.returncode == 0, loaded.stderr.decode()
    assert "busybox:latest" in loaded.stdout.decode()


def test_engine_errors_pass_through_unchanged(proxy: Proxy) -> None:
    # No registry is reachable here: the engine's own error, through the proxy or not.
    through = proxy.docker("pull", "127.0.0.1:9/nothing/here:latest", timeout=120)
    straight = proxy.dockerd.docker("pull", "127.0.0.1:9/nothing/here:latest", timeout=120)
    assert through.returncode == straight.returncode != 0
    assert through.stderr == straight.stderr
    missing = proxy.docker("inspect", "no-such-container")
    assert missing.returncode == 1
    assert b"No such object: no-such-container" in missing.stderr
