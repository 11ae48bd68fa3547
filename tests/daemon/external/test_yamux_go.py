"""Interop with the real Go yamux (hashicorp/yamux, Debian's golang-github-hashicorp-yamux-dev),
the library Docker's plugin SDK speaks: a small Go peer (tests/support/go/yamuxpeer) on one end
of a socketpair, our session on the other, each in both roles.

Both sides echo the streams the other opens and open streams of their own that send more than
a window each way and check the echo, and both ping.  Skipped, saying why, where ``go`` or the
yamux source is missing (scripts/test installs both with apt-get when it runs as root).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from docker_pass.daemon.external.yamux import Session, SessionClosedError, SessionConfig
from docker_pass.daemon.external.yamux.frames import INITIAL_WINDOW
from tests.daemon.external.peers import echo_server, run, send_and_receive
from tests.support.layout import ROOT

pytestmark = pytest.mark.integration

#: Debian's GOPATH, where golang-github-hashicorp-yamux-dev puts the source.
DEBIAN_GOPATH = Path("/usr/share/gocode")
YAMUX_SOURCE = DEBIAN_GOPATH / "src/github.com/hashicorp/yamux"
PEER_SOURCE = ROOT / "tests/support/go/yamuxpeer/main.go"
#: A bound on building the peer on a loaded machine, not a speed figure.
BUILD_BOUND = 300


@pytest.fixture(scope="session")
def go_peer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Go peer, built once per test session into a temporary folder."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("no `go` here (Debian: apt-get install golang-go)")
    if not (YAMUX_SOURCE / "session.go").is_file():
        pytest.skip(f"no yamux source in {YAMUX_SOURCE} (golang-github-hashicorp-yamux-dev)")
    work = tmp_path_factory.mktemp("go-yamux")
    binary = work / "yamuxpeer"
    # GOPATH mode: the import resolves in Debian's GOPATH, nothing is downloaded.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(work),
        "GO111MODULE": "off",
        "GOPATH": str(DEBIAN_GOPATH),
        "GOCACHE": str(work / "cache"),
        "GOFLAGS": "",
        "CGO_ENABLED": "0",
    }
    built = subprocess.run(
        [go, "build", "-o", str(binary), str(PEER_SOURCE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_BOUND,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    return binary


async def exchange_with_go(
    binary: Path, go_role: str, streams: int, size: int
) -> tuple[dict[str, int], list[bytes]]:
    """Run the Go peer in ``go_role`` against our session in the other role; return its
    report and what our own streams got back."""
    ours, theirs = socket.socketpair()
    with theirs:
        process = await asyncio.create_subprocess_exec(
            str(binary),
            f"-fd={theirs.fileno()}",
            f"-role={go_role}",
            f"-streams={streams}",
            f"-size={size}",
            "-pings=3",
            pass_fds=(theirs.fileno(),),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    try:
        reader, writer = await asyncio.open_connection(sock=ours)
        config = SessionConfig(keepalive_interval=None)
        make = Session.server if go_role == "client" else Session.client
        session = make(reader, writer, config)
        serving = asyncio.create_task(echo_server(session))
        payloads = [os.urandom(size + n) for n in range(streams)]

        async def one(payload: bytes) -> bytes:
            return await send_and_receive(await session.open_stream(), payload)

        answers = await asyncio.gather(*(one(p) for p in payloads))
        assert await session.ping() >= 0
        assert process.stdout is not None
        line = await process.stdout.readline()
        assert line, (await process.communicate())[1].decode()
        await session.close()
        assert isinstance(session.close_reason, SessionClosedError)
        await serving
        _, errors = await process.communicate()
        assert process.returncode == 0, errors.decode()
        assert answers == payloads
        return json.loads(line), answers
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@pytest.mark.parametrize("go_role", ["client", "server"])
def test_the_go_yamux_and_ours_exchange_streams_both_ways(go_peer: Path, go_role: str) -> None:
    """Four streams each way, each more than three windows: the Go side checks its echoes,
    we check ours; both ping."""
    size = 3 * INITIAL_WINDOW + 1
    report, _ = run(exchange_with_go(go_peer, go_role, streams=4, size=size))
    assert report == {"streams": 4, "bytes": 4 * size, "pings": 3}


def test_many_small_streams_against_the_go_yamux(go_peer: Path) -> None:
    """A plugin's pattern: many short streams (one HTTP request each) at once."""
    report, answers = run(exchange_with_go(go_peer, "client", streams=100, size=2000))
    assert report["streams"] == 100
    assert len(answers) == 100
