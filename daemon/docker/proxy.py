"""The Docker API proxy: Docker's engine API on a private socket, with ``se://`` resolved.

Every request goes on to the real engine unchanged, byte for byte, and every answer comes back
the same way, except:

- **container create** (and exec create): ``Env`` values that start with ``se://`` are resolved
  through the engine and replaced, ``x-secret:<ID>`` labels become files written into the
  container before anyone can start it (:mod:`.container_files`), and the variables resolved
  are recorded in a label; a reference that fails answers 400 with ``resolving X: …``, so no
  container exists;
- **container inspect**: the variables the proxy resolved show their reference again.

HTTP/1.1 is parsed with h11, two state machines per connection (one for each side).  We pass
on the exact bytes h11 consumed for each event (its ``trailing_data`` is what it has not), so
chunked streams (``logs -f``, ``events``, pulls and builds) flow as they arrive.  When the engine
switches protocols (``101 UPGRADED``: ``attach``, ``exec -it``, ``run -i``) or answers with a
body that lasts until the connection closes, both directions are spliced raw, with half-close,
so piped stdin ending still lets the output finish.

The socket is 0600 in a 0700 directory, and each connection's peer is checked with
SO_PEERCRED, as on the engine socket.  Logs name methods, paths, variables and IDs; never a
body, never a value.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import ssl
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import h11

from docker_pass.core.docker.container import prepare_config, show_references, wants_resolving
from docker_pass.core.errors import DockerPassError
from docker_pass.core.remote.endpoint import peer_credentials
from docker_pass.daemon.docker.files import FileInjectionError, inject_files

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from docker_pass.core.docker.container import PreparedContainer
    from docker_pass.core.docker.endpoint import DockerHost
    from docker_pass.core.engine import Engine

log = logging.getLogger("docker_pass.docker_proxy")

READ_SIZE = 256 * 1024
#: Largest request or response head (Docker's are a few hundred bytes).
MAX_HEAD = 256 * 1024
#: Largest body the proxy reads whole to rewrite (a create's config, an inspect answer).
MAX_REWRITE_BODY = 32 * 1024 * 1024
#: Seconds the engine may take to resolve one create's references.
RESOLVE_TIMEOUT = 30.0

_VERSION = r"(/v[0-9]+(?:\.[0-9]+)?)?"
CREATE_PATH = re.compile(_VERSION + r"/containers/create")
EXEC_PATH = re.compile(_VERSION + r"/containers/[^/]+/exec")
INSPECT_PATH = re.compile(_VERSION + r"/containers/[^/]+/json")


class _Refusal(Exception):
    """A request the proxy answers itself: ``status`` and a one-line ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Upstream:
    """How to reach the real engine."""

    def __init__(self, host: DockerHost) -> None:
        self.host = host
        self._ssl: ssl.SSLContext | None = None
        if host.tls_dir:
            context = ssl.create_default_context(cafile=f"{host.tls_dir}/ca.pem")
            context.load_cert_chain(f"{host.tls_dir}/cert.pem", f"{host.tls_dir}/key.pem")
            self._ssl = context

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A new connection to the engine; :class:`_Refusal` (502) naming it if it cannot."""
        try:
            if self.host.scheme == "unix":
                return await asyncio.open_unix_connection(self.host.path, limit=READ_SIZE)
            return await asyncio.open_connection(
                self.host.host, self.host.port, ssl=self._ssl, limit=READ_SIZE
            )
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise _Refusal(
                502, f"docker-pass: cannot reach the Docker engine at {self.host.url}: {reason}"
            ) from None


class _Side:
    """One end of a proxied connection: its stream, its HTTP/1.1 state machine, and the bytes
    received from it that have not been passed on yet."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: h11.Connection
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.conn = conn
        self.pending = bytearray()

    async def next_event(self, forward_to: _Side | None = None) -> Any:
        """The next event; ``forward_to``: pass on what h11 has consumed to that side before
        waiting for more (a chunk's closing CRLF goes on with it, not with the next chunk)."""
        while True:
            event = self.conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            if forward_to is not None:
                await forward_to.send(self.consumed())
            data = await self.reader.read(READ_SIZE)
            self.conn.receive_data(data)
            self.pending += data

    def consumed(self) -> bytes:
        """The bytes h11 has turned into events since the last call."""
        left = len(self.conn.trailing_data[0])
        count = len(self.pending) - left
        out = bytes(self.pending[:count])
        del self.pending[:count]
        return out

    async def send(self, data: bytes) -> None:
        if data:
            self.writer.write(data)
            await self.writer.drain()

    def close(self) -> None:
        with suppress(Exception):
            self.writer.close()


def _path_of(target: bytes) -> str:
    return target.split(b"?", 1)[0].decode("latin-1")


def _headers_without_framing(headers: Any, length: int) -> list[tuple[bytes, bytes]]:
    kept = [(n, v) for n, v in headers if n not in (b"content-length", b"transfer-encoding")]
    return [*kept, (b"content-length", str(length).encode())]


def _framed(request: h11.Request, response: h11.Response) -> bool:
    """Whether a response's body ends before the connection does."""
    if request.method == b"HEAD" or response.status_code in (204, 304):
        return True
    names = {name for name, _ in response.headers}
    return b"content-length" in names or b"transfer-encoding" in names


class DockerProxy:
    """Serves one socket's connections, forwarding each to its own upstream connection."""

    def __init__(
        self,
        upstream: Upstream,
        engine_call: Callable[[Callable[[Engine], Any]], Awaitable[Any]],
        *,
        resolve_timeout: float = RESOLVE_TIMEOUT,
    ) -> None:
        self.upstream = upstream
        self._engine_call = engine_call
        self._resolve_timeout = resolve_timeout
        self._tasks: set[asyncio.Task[None]] = set()
        self.requests = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client connection, from accept to close."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            if self._trusted(writer):
                await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, h11.ProtocolError) as exc:
            log.debug("connection ended: %s", type(exc).__name__)
        finally:
            with suppress(Exception):
                writer.close()
            if task is not None:
                self._tasks.discard(task)

    def close_connections(self) -> None:
        """Shutting down: end every open connection (hijacked sessions included)."""
        for task in list(self._tasks):
            task.cancel()

    def _trusted(self, writer: asyncio.StreamWriter) -> bool:
        sock = writer.get_extra_info("socket")
        try:
            peer = peer_credentials(sock)
        except OSError as exc:
            log.warning("refused a connection: no credentials (%s)", exc.strerror)
            return False
        if not peer.trusted():
            log.warning("refused a connection from pid %d (uid %d)", peer.pid, peer.uid)
            return False
        return True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Side(
            reader, writer, h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        )
        upstream: _Side | None = None
        try:
            while True:
                request = await client.next_event()
                if not isinstance(request, h11.Request):
                    return  # closed, or paused after a protocol switch we did not make
                self.requests += 1
                if upstream is not None and upstream.reader.at_eof():
                    upstream.close()  # the engine closed its idle end: a new connection
                    upstream = None
                if upstream is None:
                    try:
                        up_reader, up_writer = await self.upstream.open()
                    except _Refusal as refusal:
                        await self._drain_request(client)
                        await self._answer(client, refusal, close=True)
                        return
                    upstream = _Side(
                        up_reader,
                        up_writer,
                        h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD),
                    )
                keep = await self._exchange(client, upstream, request)
                if not keep:
                    return
                if not (_done(client.conn) and _done(upstream.conn)):
                    return
                client.conn.start_next_cycle()
                upstream.conn.start_next_cycle()
        finally:
            if upstream is not None:
                upstream.close()

    # -- one request and its answer ------------------------------------------------------------

    async def _exchange(self, client: _Side, upstream: _Side, request: h11.Request) -> bool:
        """Forward one request and its answer; whether the connection can carry another."""
        path = _path_of(request.target)
        if request.method == b"POST" and (CREATE_PATH.fullmatch(path) or EXEC_PATH.fullmatch(path)):
            return await self._create(client, upstream, request, path)
        upstream.conn.send(request)  # keep its state in step; the bytes are the client's own
        await upstream.send(client.consumed())
        pump = asyncio.create_task(self._pump_body(client, upstream))
        try:
            inspect = request.method == b"GET" and INSPECT_PATH.fullmatch(path) is not None
            return await self._relay_response(client, upstream, request, pump, inspect=inspect)
        finally:
            if not pump.done():
                pump.cancel()
                with suppress(BaseException):
                    await pump

    async def _pump_body(self, client: _Side, upstream: _Side) -> None:
        """The rest of a request, as it arrives."""
        while True:
            event = await client.next_event(forward_to=upstream)
            await upstream.send(client.consumed())
            if isinstance(event, h11.Data | h11.EndOfMessage):
                upstream.conn.send(event)
            if not isinstance(event, h11.Data):
                return

    async def _relay_response(
        self,
        client: _Side,
        upstream: _Side,
        request: h11.Request,
        pump: asyncio.Task[None] | None,
        *,
        inspect: bool = False,
    ) -> bool:
        while True:
            event = await upstream.next_event()
            if isinstance(event, h11.InformationalResponse):
                await client.send(upstream.consumed())
                if event.status_code == 101:
                    if pump is not None:
                        await pump
                    await self._splice(client, upstream)
                    return False
                _mirror(client.conn, event)
                continue
            if not isinstance(event, h11.Response):
                return False  # the engine closed the connection
            if inspect and event.status_code == 200:
                return await self._rewrite_inspect(client, upstream, event, pump)
            await client.send(upstream.consumed())
            if not _mirror(client.conn, event) or not _framed(request, event):
                # A body that lasts until the connection closes: a raw stream from here on.
                if pump is not None:
                    await pump
                await self._splice(client, upstream)
                return False
            while True:
                part = await upstream.next_event(forward_to=client)
                await client.send(upstream.consumed())
                if isinstance(part, h11.Data | h11.EndOfMessage):
                    _mirror(client.conn, part)
                if isinstance(part, h11.EndOfMessage):
                    if pump is not None:
                        await pump
                    return True
                if not isinstance(part, h11.Data):
                    return False

    async def _splice(self, client: _Side, upstream: _Side) -> None:
        """Both directions raw until the engine's side ends (a hijacked connection)."""
        await upstream.send(bytes(client.pending))
        await client.send(bytes(upstream.pending))
        client.pending.clear()
        upstream.pending.clear()

        async def copy(src: _Side, dst: _Side) -> None:
            while data := await src.reader.read(READ_SIZE):
                dst.writer.write(data)
                await dst.writer.drain()
            if dst.writer.can_write_eof():
                with suppress(OSError):
                    dst.writer.write_eof()  # stdin ended: the output goes on

        up = asyncio.create_task(copy(client, upstream))
        try:
            await copy(upstream, client)
        finally:
            up.cancel()
            with suppress(BaseException):
                await up

    async def _rewrite_inspect(
        self,
        client: _Side,
        upstream: _Side,
        response: h11.Response,
        pump: asyncio.Task[None] | None,
    ) -> bool:
        body = await self._read_body(upstream)
        upstream.consumed()
        if pump is not None:
            await pump
        try:
            doc = json.loads(body)
            if isinstance(doc, dict) and show_references(doc):
                body = (json.dumps(doc) + "\n").encode()
        except ValueError:
            pass  # not ours to judge: passed on as it came
        headers = _headers_without_framing(response.headers, len(body))
        await self._respond(client, response.status_code, headers, body, response.reason)
        return True

    # -- container create ----------------------------------------------------------------------

    async def _create(
        self, client: _Side, upstream: _Side, request: h11.Request, path: str
    ) -> bool:
        is_create = CREATE_PATH.fullmatch(path) is not None
        body = await self._read_body(client)
        raw = client.consumed()
        prepared: PreparedContainer | None = None
        try:
            prepared = await self._prepare(body, is_create=is_create)
        except _Refusal as refusal:
            log.info("%s %s refused: %s", request.method.decode(), path, refusal.message)
            await self._answer(client, refusal)
            return True
        if prepared is None or not prepared.changed:
            # Nothing to resolve: the client's own bytes go on.
            upstream.conn.send(request)
            if body:
                upstream.conn.send(h11.Data(data=body))
            upstream.conn.send(h11.EndOfMessage())
            await upstream.send(raw)
        else:
            new_body = json.dumps(prepared.config).encode()
            headers = _headers_without_framing(request.headers, len(new_body))
            rewritten = h11.Request(method=request.method, target=request.target, headers=headers)
            data = upstream.conn.send(rewritten) or b""
            data += upstream.conn.send(h11.Data(data=new_body)) or b""
            data += upstream.conn.send(h11.EndOfMessage()) or b""
            await upstream.send(data)
            log.info(
                "%s %s: resolved %s",
                request.method.decode(),
                path,
                ", ".join(sorted(prepared.references)) or "no variables",
            )
        if prepared is None or not prepared.files:
            return await self._relay_response(client, upstream, request, None)
        return await self._create_with_files(client, upstream, request, path, prepared)

    async def _prepare(self, body: bytes, *, is_create: bool) -> PreparedContainer | None:
        """The config with its references resolved, ``None`` when it has none to resolve."""
        try:
            config = json.loads(body) if body.strip() else {}
        except ValueError:
            return None  # the engine answers a body it cannot read better than we could
        if not isinstance(config, dict):
            return None
        try:
            if not wants_resolving(config, labels=is_create):
                return None
        except DockerPassError as exc:
            raise _Refusal(400, str(exc)) from None

        def work(engine: Engine) -> PreparedContainer:
            return prepare_config(config, engine.resolve, labels=is_create)

        try:
            prepared: PreparedContainer = await asyncio.wait_for(
                self._engine_call(work), self._resolve_timeout
            )
        except TimeoutError:
            raise _Refusal(
                504, f"docker-pass: resolving secrets took longer than {self._resolve_timeout:g} s"
            ) from None
        except DockerPassError as exc:
            raise _Refusal(400, _with_hints(exc)) from None
        except Exception as exc:  # noqa: BLE001 - never a traceback, never a value
            log.warning("resolving failed: %s", type(exc).__name__)
            raise _Refusal(
                500, f"docker-pass: resolving secrets failed ({type(exc).__name__})"
            ) from None
        return prepared

    async def _create_with_files(
        self,
        client: _Side,
        upstream: _Side,
        request: h11.Request,
        path: str,
        prepared: PreparedContainer,
    ) -> bool:
        """Read the create's answer whole; once the container exists, write its files, and
        remove it again if that fails, so no container is left without its secrets."""
        while True:
            event = await upstream.next_event()
            if isinstance(event, h11.InformationalResponse):
                continue
            break
        if not isinstance(event, h11.Response):
            return False
        body = await self._read_body(upstream)
        upstream.consumed()
        if event.status_code == 201:
            try:
                container_id = json.loads(body)["Id"]
                version = CREATE_PATH.fullmatch(path) or EXEC_PATH.fullmatch(path)
                prefix = (version.group(1) if version else "") or ""
                user = str(prepared.config.get("User") or "")
                await inject_files(
                    self.upstream, prefix, request, container_id, prepared.files, user
                )
            except FileInjectionError as exc:
                await self._answer(client, _Refusal(400, str(exc)))
                return True
            except (ValueError, KeyError, TypeError):
                await self._answer(
                    client,
                    _Refusal(502, "docker-pass: the engine's create answer has no container Id"),
                )
                return True
            log.info(
                "wrote %d secret file(s) into %s",
                len(prepared.files),
                container_id[:12],
            )
        headers = _headers_without_framing(event.headers, len(body))
        await self._respond(client, event.status_code, headers, body, event.reason)
        return True

    # -- helpers -------------------------------------------------------------------------------

    async def _read_body(self, side: _Side) -> bytes:
        parts = []
        size = 0
        while True:
            event = await side.next_event()
            if isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_REWRITE_BODY:
                    raise BodyTooLargeError("body too large to rewrite")
                parts.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return b"".join(parts)
            else:
                raise ConnectionResetError("connection closed mid-body")

    async def _drain_request(self, client: _Side) -> None:
        with suppress(Exception):
            await self._read_body(client)

    async def _answer(self, client: _Side, refusal: _Refusal, *, close: bool = False) -> None:
        """Answer the client ourselves, the way the engine words errors (``{"message": …}``)."""
        body = (json.dumps({"message": refusal.message}) + "\n").encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if close:
            headers.append((b"connection", b"close"))
        await self._respond(client, refusal.status, headers, body)

    async def _respond(
        self,
        client: _Side,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        reason: bytes = b"",
    ) -> None:
        data = (
            client.conn.send(h11.Response(status_code=status, headers=headers, reason=reason))
            or b""
        )
        data += client.conn.send(h11.Data(data=body)) or b""
        data += client.conn.send(h11.EndOfMessage()) or b""
        await client.send(data)


class BodyTooLargeError(ConnectionResetError):
    """A body too large to rewrite (the connection is closed)."""


def _mirror(conn: h11.Connection, event: Any) -> bool:
    """Tell ``conn`` about an event whose bytes were passed on raw; whether it could follow."""
    try:
        conn.send(event)
    except h11.LocalProtocolError:
        return False
    return True


def _done(conn: h11.Connection) -> bool:
    return conn.our_state is h11.DONE and conn.their_state is h11.DONE


def _with_hints(exc: DockerPassError) -> str:
    hints = "; ".join(exc.hints)
    return f"{exc} ({hints})" if hints else str(exc)
