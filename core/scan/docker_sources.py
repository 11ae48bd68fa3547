"""The engine's surfaces a scan reads, straight from the engine (never through the proxy,
which would show references where the engine holds values):

- every container's configuration (``Env``, ``Cmd``, ``Entrypoint``, ``Labels``);
- every image's configuration (the same fields) and its history (``CreatedBy`` holds the
  build arguments a ``RUN`` saw, ``Comment`` what ``docker commit -m`` said);
- with ``logs``, every container's logs (``stdout`` and ``stderr``, numbered by line as
  ``docker logs`` prints them; a container without a TTY has its 8-byte frame headers removed).

A variable the Docker proxy resolved into a container it created (its name is in the
container's ``docker-pass.references`` label) is a finding marked *expected*: that is what the
proxy does, and it does not fail the scan.  An image never has expected findings: a value
committed into an image travels with it.  Images are those ``docker images`` lists (tagged and
dangling top-level images); the intermediate images of the legacy builder are not read (their
history is their child's).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from docker_pass.core.docker.container import REFERENCES_LABEL
from docker_pass.core.docker.engine_api import DockerApiError, DockerUnreachableError
from docker_pass.core.scan.report import Finding

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from docker_pass.core.docker.engine_api import DockerApi
    from docker_pass.core.scan.matcher import Matcher
    from docker_pass.core.scan.report import ScanReport

#: Bytes read at a time from a log stream.
CHUNK = 1 << 20
#: Frame header of a multiplexed log stream: stream (1 byte), 3 zero bytes, size (4, big endian).
FRAME_HEADER = 8


def _text(value: object) -> bytes:
    """A JSON string as the bytes the engine holds (a lone surrogate kept, never refused)."""
    return str(value).encode("utf-8", "surrogatepass")


def config_fields(config: object) -> Iterator[tuple[str, str, bytes]]:
    """``(location, variable, bytes)`` of each searched field of a container or image config:
    ``Env NAME`` (variable NAME), ``Cmd``, ``Entrypoint``, ``Labels[KEY]``."""
    if not isinstance(config, dict):
        return
    env = config.get("Env")
    for entry in env if isinstance(env, list) else ():
        name = str(entry).partition("=")[0]
        yield f"Env {name}", name, _text(entry)
    for part in ("Cmd", "Entrypoint"):
        value = config.get(part)
        items = value if isinstance(value, list) else [] if value is None else [value]
        for item in items:
            yield part, "", _text(item)
    labels = config.get("Labels")
    for key, value in labels.items() if isinstance(labels, dict) else ():
        yield f"Labels[{key}]", "", _text(key) + b"=" + _text(value)


def proxy_resolved(config: object) -> set[str]:
    """The variables the proxy resolved, by the container's ``docker-pass.references`` label
    (empty when there is none, or it is not a JSON object)."""
    labels = config.get("Labels") if isinstance(config, dict) else None
    raw = labels.get(REFERENCES_LABEL) if isinstance(labels, dict) else None
    try:
        references = json.loads(raw) if isinstance(raw, str) else None
    except (ValueError, RecursionError):
        return set()
    return {str(key) for key in references} if isinstance(references, dict) else set()


def _name(entry: dict[str, Any], names_key: str) -> str:
    """A container's first name, or an image's first tag, else its short ID."""
    names = entry.get(names_key)
    for name in names if isinstance(names, list) else ():
        if isinstance(name, str) and name and name != "<none>:<none>":
            return name.lstrip("/")
    ident = str(entry.get("Id", ""))
    return ident.removeprefix("sha256:")[:12]


def image_name(entry: dict[str, Any]) -> str:
    """An image's first tag, else its short ID."""
    return _name(entry, "RepoTags")


def _search_fields(
    matcher: Matcher,
    report: ScanReport,
    kind: str,
    target: str,
    fields: Iterator[tuple[str, str, bytes]],
    expected_vars: set[str] | frozenset[str] = frozenset(),
) -> None:
    values = matcher.values
    for location, variable, data in fields:
        report.bytes_read += len(data)
        for hit in matcher.find(data):
            value = values[hit.secret]
            expected = bool(variable) and variable in expected_vars
            report.add(
                Finding(
                    value.id, value.provider, hit.encoding, kind, target, location,
                    expected=expected,
                )
            )  # fmt: skip


def scan_containers(
    api: DockerApi, matcher: Matcher, report: ScanReport, *, logs: bool = False,
    progress: Callable[[int], None] | None = None,
) -> None:  # fmt: skip
    """Search every container's configuration (and, with ``logs``, its logs)."""
    for entry in api.containers():
        ident = str(entry.get("Id", ""))
        name = _name(entry, "Names")
        try:
            inspected = api.inspect_container(ident)
        except DockerApiError as exc:
            if exc.status == 404:
                continue  # removed since the listing
            raise
        config = inspected.get("Config")
        _search_fields(
            matcher, report, "container", name, config_fields(config), proxy_resolved(config)
        )
        report.count("container")
        if logs:
            tty = isinstance(config, dict) and config.get("Tty") is True
            scan_logs(api, ident, name, matcher, report, tty=tty, progress=progress)


def scan_images(api: DockerApi, matcher: Matcher, report: ScanReport) -> list[dict[str, Any]]:
    """Search every image's configuration and history; the image list entries (for layers),
    each with its inspect's ``RootFS`` (the layers it holds, which the layer streams split by)."""
    listed = api.call("GET", "/images/json")
    entries = (
        [entry for entry in listed if isinstance(entry, dict)] if isinstance(listed, list) else []
    )
    images: list[dict[str, Any]] = []
    for entry in entries:
        ident = str(entry.get("Id", ""))
        name = image_name(entry)
        path = f"/images/{quote(ident, safe='')}"
        try:
            inspected = api.call("GET", f"{path}/json")
            history = api.call("GET", f"{path}/history")
        except DockerApiError as exc:
            if exc.status == 404:
                continue  # removed since the listing: no layers to save either
            raise
        images.append(entry)
        if isinstance(inspected, dict):
            entry["RootFS"] = inspected.get("RootFS")
            _search_fields(matcher, report, "image", name, config_fields(inspected.get("Config")))
        steps = history if isinstance(history, list) else []
        for number, step in enumerate(reversed(steps), start=1):
            if not isinstance(step, dict):
                continue
            fields = (
                (f"step {number} {key}", "", _text(step[key]))
                for key in ("CreatedBy", "Comment")
                if isinstance(step.get(key), str) and step[key]
            )
            _search_fields(matcher, report, "history", name, fields)
        report.count("image")
    return images


def scan_logs(
    api: DockerApi,
    ident: str,
    name: str,
    matcher: Matcher,
    report: ScanReport,
    *,
    tty: bool,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Search one container's logs (both streams), numbering lines as ``docker logs`` does."""
    path = f"/containers/{quote(ident, safe='')}/logs"
    try:
        with api.stream("GET", path, query={"stdout": "1", "stderr": "1"}) as body:
            chunks = _raw_chunks(body) if tty else _demultiplexed(body)
            report.search_lines(chunks, matcher, "log", name, "logs", progress=progress)
    except DockerApiError as exc:
        if exc.status == 404:
            return  # removed since the listing
        # a logging driver that cannot be read back (none, syslog…): nothing to search here
        report.notes.append(f"logs of container {name}: {exc}")
        return
    report.count("log")


def _raw_chunks(body: Any) -> Iterator[bytes]:
    while chunk := body.read(CHUNK):
        yield chunk


def _demultiplexed(body: Any) -> Iterator[bytes]:
    """The payloads of a multiplexed log stream, in order; a stream that stops being framed
    (a header whose stream byte is not 0, 1 or 2) is passed on raw from there."""
    while True:
        header = _read_exactly(body, FRAME_HEADER)
        if not header:
            return
        if len(header) < FRAME_HEADER or header[0] > 2 or header[1:4] != b"\0\0\0":
            yield header
            yield from _raw_chunks(body)
            return
        size = int.from_bytes(header[4:8], "big")
        while size:
            chunk = body.read(min(size, CHUNK))
            if not chunk:
                return
            size -= len(chunk)
            yield chunk


def _read_exactly(body: Any, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = body.read(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def engine_problem(exc: DockerUnreachableError | DockerApiError) -> str:
    """The line a failed engine read adds to a report's problems."""
    return f"the Docker engine was not searched completely: {exc}"
