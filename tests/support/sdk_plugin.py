#!/usr/bin/env python3
"""A secrets-engine plugin speaking Docker's SDK protocol, in Python, for tests.

It does what ``github.com/docker/secrets-engine/plugin`` does (``plugin/config.go``,
``register.go``, ``setup.go``, ``x/ipc``): launched by an engine it reads
``DOCKER_SECRETS_ENGINE_PLUGIN_LAUNCH_CFG`` and talks on fd 3; launched by hand it dials a socket
and hijacks it (``GET /hijack``, ``101``).  Then yamux with itself as the client: it registers
(``plugins.v1.RegisterService/RegisterPlugin``) on a stream it opens, and serves ``GetSecrets``,
``/health`` and ``Shutdown`` on the streams the engine opens, ``GetSecrets`` only once its
registration is answered.  So CI without Go still runs the engine's side end to end; and with
``--misbehave`` it breaks the protocol on purpose (the hostile plugin of the tests).

Exit codes, as ``fixed-plugin``'s: 2 registration refused (stderr says why), 0 shutdown by the
engine or the connection closed by it.  It writes ``registered`` on stderr once registered, and
each GetSecrets pattern (never a value).  Only docker-pass's own modules and the standard
library are imported: it runs from its path with the venv's Python.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
from typing import Any, Literal

import h11

from docker_pass.core.ids import ID, Pattern
from docker_pass.daemon.external.yamux import Session, SessionConfig, open_connection
from docker_pass.daemon.external.yamux.frames import Flag, FrameType
from docker_pass.daemon.gen.plugins.v1 import api_pb as plugins_pb
from docker_pass.daemon.gen.resolver.v1 import api_pb as resolver_pb

LAUNCH_ENV = "DOCKER_SECRETS_ENGINE_PLUGIN_LAUNCH_CFG"
MODES = (
    "bad-frames",
    "huge-window",
    "no-register",
    "hang",
    "flood",
    "wrong-name",
    "shutdown-hang",
    "stubborn",
)
ZERO_TIME = -62135596800


def say(text: str) -> None:
    sys.stderr.write(f"sdk-plugin: {text}\n")
    sys.stderr.flush()


def connect(args: argparse.Namespace) -> tuple[socket.socket, str | None]:
    """The connection to the engine, and the name the engine launched it as (if it did)."""
    raw = os.environ.get(LAUNCH_ENV)
    if raw:
        config = json.loads(raw)
        return socket.socket(fileno=int(config["fd"])), str(config["name"])
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    address = "\0" + args.abstract[1:] if args.abstract else args.socket
    sock.connect(address)
    sock.sendall(
        b"GET /hijack HTTP/1.1\r\nHost: secrets-engine.localhost\r\n"
        b"Connection: upgrade\r\nUpgrade: tcp\r\n\r\n"
    )
    head = b""
    while not head.endswith(b"\r\n\r\n"):  # byte by byte: nothing of yamux is read here
        byte = sock.recv(1)
        if not byte:
            break
        head += byte
    if not head.startswith(b"HTTP/1.1 101"):
        rest = sock.recv(65536)
        say(f"external plugin rejected: {head.splitlines()[0:1]!r} {rest[:300]!r}")
        sys.exit(2)
    return sock, None


class Plugin:
    def __init__(self, args: argparse.Namespace, launched_as: str | None) -> None:
        self.args = args
        self.name = args.name if args.misbehave == "wrong-name" or not launched_as else launched_as
        raw = args.secrets
        if args.secrets_file:  # values kept out of argv (the benchmark's)
            with open(args.secrets_file) as file:
                raw = file.read()
        secrets: dict[str, str] = json.loads(raw)
        self.secrets = {key: value.encode() for key, value in secrets.items()}
        #: Parsed once: a plugin looks IDs up, it does not parse its own on every call.
        self.ids = [ID(key) for key in secrets]
        self.registered = asyncio.Event()
        self.done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.session: Session | None = None
        #: Tasks running (kept: the loop holds only weak references to tasks).
        self.tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def run(self, sock: socket.socket) -> int:
        reader, writer = await asyncio.open_connection(sock=sock)
        if self.args.misbehave == "bad-frames":
            writer.write(b"\x07\x09 not yamux at all, and then some more bytes \xff" * 4)
            await writer.drain()
            rest = await reader.read()  # the engine closes: that is the whole story
            say(f"connection closed by the engine ({len(rest)} bytes after)")
            return 0
        self.session = session = Session.client(reader, writer, SessionConfig())
        serving = asyncio.create_task(self.serve(session))
        closed = asyncio.create_task(self.closed(session))
        if self.args.misbehave != "no-register":
            code = await self.register(session)
            if code:
                return code
        if self.args.misbehave == "flood":
            self.spawn(self.flood(session))
        result = await self.done
        serving.cancel()
        closed.cancel()
        await session.close()
        return result

    async def closed(self, session: Session) -> None:
        await session.wait_closed()
        say("connection closed by the engine")
        if self.args.misbehave == "stubborn":
            await asyncio.Event().wait()  # and it goes on running
        if not self.done.done():
            self.done.set_result(0)

    async def register(self, session: Session) -> int:
        provider = plugins_pb.SecretsProvider(pattern=self.args.pattern)
        from protobuf import Oneof

        request = plugins_pb.RegisterPluginRequest(
            name=self.name,
            version=self.args.version,
            metadata=Oneof[Literal["secrets_provider"], plugins_pb.SecretsProvider](
                "secrets_provider", provider
            ),
        )
        status, _, body = await call(
            session, "/plugins.v1.RegisterService/RegisterPlugin", request.to_binary()
        )
        if status != 200:
            say(f"failed to register plugin {self.name}: {status} {body[:500].decode()}")
            return 2
        answer = plugins_pb.RegisterPluginResponse.from_binary(body)
        say(f"registered with {answer.engine_name}@{answer.engine_version}")
        self.registered.set()
        return 0

    async def serve(self, session: Session) -> None:
        while True:
            stream = await session.accept_stream()
            if self.args.misbehave == "huge-window":
                # A 10 GB window, in updates of 4 GiB less one (a length field's most).
                for _ in range(3):
                    session.output.control(FrameType.WINDOW_UPDATE, Flag.NONE, stream.id, 2**32 - 1)
            self.spawn(self.answer(stream))

    async def answer(self, stream: Any) -> None:
        from docker_pass.daemon.external.yamux import attach

        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(loop=loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
        transport = attach(stream, protocol)
        writer = asyncio.StreamWriter(transport, protocol, reader, loop)
        conn = h11.Connection(h11.SERVER)
        request: h11.Request | None = None
        body = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                break
        if request is None:
            return
        status, kind, answer, then = await self.route(request, body)
        headers = [("content-type", kind), ("content-length", str(len(answer)))]
        writer.write(conn.send(h11.Response(status_code=status, headers=headers)))
        writer.write(conn.send(h11.Data(data=answer)) + conn.send(h11.EndOfMessage()))
        await writer.drain()
        writer.close()
        if then is not None:
            await stream.wait_closed()
            if not self.done.done():
                self.done.set_result(then)

    async def route(self, request: h11.Request, body: bytes) -> tuple[int, str, bytes, int | None]:
        path = request.target.decode()
        if path == "/health":
            return 200, "text/plain", b"ok", None
        if path == "/plugins.v1.PluginService/Shutdown":
            say("shutdown asked")
            if self.args.misbehave in ("shutdown-hang", "stubborn"):
                await asyncio.Event().wait()
            return 200, "application/proto", b"", 0
        if path == "/resolver.v1.ResolverService/GetSecrets":
            await self.registered.wait()  # the SDK's setup gate
            pattern = Pattern.parse(resolver_pb.GetSecretsRequest.from_binary(body).pattern)
            say(f"GetSecrets({pattern.value!r})")
            if self.args.misbehave == "hang":
                await asyncio.Event().wait()
            from protobuf.wkt import Timestamp

            if pattern.is_literal:
                keys = [pattern.value] if pattern.value in self.secrets else []
            else:
                keys = [id_.value for id_ in self.ids if pattern.matches(id_)]
            found = [
                resolver_pb.Envelope(
                    id=key,
                    value=self.secrets[key],
                    provider="not-the-registered-name",
                    version="v1",
                    expires_at=Timestamp(seconds=ZERO_TIME),
                    metadata={"origin": "sdk-plugin"},
                )
                for key in keys
            ]
            if not found:
                error = json.dumps({"code": "not_found", "message": "secret not found"})
                return 404, "application/json", error.encode(), None
            return (
                200,
                "application/proto",
                resolver_pb.GetSecretsResponse(envelopes=found).to_binary(),
                None,
            )
        error = json.dumps({"code": "unimplemented", "message": f"no such path {path}"})
        return 404, "application/json", error.encode(), None

    async def flood(self, session: Session) -> None:
        """Streams opened and never used, pings, data nobody asked for: until the end."""
        opened = 0
        while not session.is_closed:
            try:
                stream = await session.open_stream()
                stream.write(b"x" * 4096)
                opened += 1
                if opened % 50 == 0:
                    self.spawn(session.ping())
            except Exception:  # noqa: BLE001 - whatever the engine does to us, keep going
                await asyncio.sleep(0.01)


async def call(session: Session, path: str, body: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
    reader, writer = await open_connection(session)
    conn = h11.Connection(h11.CLIENT)
    headers = [
        ("host", "unix"),
        ("content-type", "application/proto"),
        ("connect-protocol-version", "1"),
        ("content-length", str(len(body))),
        ("connection", "close"),
    ]
    writer.write(conn.send(h11.Request(method="POST", target=path, headers=headers)))
    writer.write(conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage()))
    await writer.drain()
    status, answer_headers, answer = 0, {}, b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(65536))
        elif isinstance(event, h11.Response):
            status, answer_headers = event.status_code, dict(event.headers)
        elif isinstance(event, h11.Data):
            answer += event.data
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            break
    writer.close()
    return status, answer_headers, answer


async def main_async(args: argparse.Namespace) -> int:
    sock, launched_as = connect(args)
    plugin = Plugin(args, launched_as)
    loop = asyncio.get_running_loop()

    def stop() -> None:
        if args.note_file:
            with open(args.note_file, "a") as file:
                file.write("interrupted\n")
        if args.misbehave == "stubborn":
            return  # it goes on: only SIGKILL ends it
        if not plugin.done.done():
            plugin.done.set_result(0)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    return await plugin.run(sock)


def main() -> int:
    parser = argparse.ArgumentParser(prog="sdk_plugin")
    parser.add_argument("--socket", default="")
    parser.add_argument("--abstract", default="")
    parser.add_argument("--name", default="sdk-plugin")
    parser.add_argument("--version", default="v1.2.3")
    parser.add_argument("--pattern", default="sdk/**")
    parser.add_argument("--secrets", default='{"sdk/hello": "from-python"}')
    parser.add_argument("--secrets-file", default="", help="the secrets as JSON in a file")
    parser.add_argument("--misbehave", choices=MODES, default=None)
    parser.add_argument("--pid-file", default="", help="append this process's pid there")
    parser.add_argument("--note-file", default="", help="append a line there on SIGINT/SIGTERM")
    args = parser.parse_args()
    if args.pid_file:
        with open(args.pid_file, "a") as file:
            file.write(f"{os.getpid()}\n")
    code = asyncio.run(main_async(args))
    say(f"exiting with {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
