"""Writing ``x-secret`` files into a created container, through the engine's archive API.

Between create and start, each secret goes in as a one-file tar archive
(``PUT /containers/{id}/archive``), mode 0400, into the container's writable layer; folders
that are missing from the image are created (0755).  The file belongs to root, or, when the
container runs as another user, to that user (``copyUIDGID``: the engine looks the user up in
the container's own ``/etc/passwd``).  The archive is built in memory and sent over the socket:
the value never touches the host's disk through us.  If any file cannot be written the
container is removed again, so no container is left to start without its secrets.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import time
from contextlib import suppress
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

import h11

from docker_pass.core.errors import DockerPassError, shorten
from docker_pass.daemon.docker.api import EngineApi, engine_message

if TYPE_CHECKING:
    from collections.abc import Sequence

    from docker_pass.core.docker.container import SecretFile
    from docker_pass.daemon.docker.relay import Upstream

FILE_MODE = 0o400
DIR_MODE = 0o755


class FileInjectionError(DockerPassError):
    """A secret file could not be written into a container (which was then removed)."""


def secret_archive(base: str, missing: Sequence[str], file: SecretFile) -> bytes:
    """A tar archive, to extract at ``base``, of folders ``missing`` (each inside the one
    before) and the secret's file."""
    buffer = io.BytesIO()
    now = int(time.time())
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        prefix = ""
        for name in missing:
            prefix = posixpath.join(prefix, name)
            folder = tarfile.TarInfo(prefix)
            folder.type = tarfile.DIRTYPE
            folder.mode = DIR_MODE
            folder.mtime = now
            tar.addfile(folder)
        entry = tarfile.TarInfo(posixpath.join(prefix, posixpath.basename(file.path)))
        entry.size = len(file.value)
        entry.mode = FILE_MODE
        entry.mtime = now
        tar.addfile(entry, io.BytesIO(file.value))
    return buffer.getvalue()


async def _existing_folder(
    api: EngineApi, prefix: str, container: str, folder: str
) -> tuple[str, list[str]]:
    """The nearest folder of ``folder`` (itself or a parent) that exists in the container,
    and the names below it still to create."""
    missing: list[str] = []
    while folder != "/":
        query = urlencode({"path": folder})
        status, body = await api.call(
            b"HEAD", f"{prefix}/containers/{quote(container)}/archive?{query}"
        )
        if status == 200:
            break
        if status != 404:
            raise FileInjectionError(
                f"checking {folder} in the container: {engine_message(body) or status}"
            )
        missing.insert(0, posixpath.basename(folder))
        folder = posixpath.dirname(folder)
    return folder, missing


async def _put_file(
    api: EngineApi, prefix: str, container: str, file: SecretFile, owner: dict[str, str]
) -> None:
    base, missing = await _existing_folder(
        api, prefix, container, posixpath.dirname(file.path) or "/"
    )
    query = urlencode({"path": base, "noOverwriteDirNonDir": "true", **owner})
    status, body = await api.call(
        b"PUT",
        f"{prefix}/containers/{quote(container)}/archive?{query}",
        secret_archive(base, missing, file),
        b"application/x-tar",
    )
    if status != 200:
        raise FileInjectionError(engine_message(body) or f"status {status}")


async def inject_files(
    upstream: Upstream,
    prefix: str,
    request: h11.Request,
    container: str,
    files: Sequence[SecretFile],
    user: str,
) -> None:
    """Write ``files`` into created container ``container``; on failure remove it and raise
    :class:`FileInjectionError` naming the secret and the path."""
    host = dict(request.headers).get(b"host", b"docker")
    api = EngineApi(upstream, host)
    owner = (
        {"copyUIDGID": "true"}
        if user and user.split(":", maxsplit=1)[0] not in ("root", "0")
        else {}
    )
    current: SecretFile | None = None
    try:
        for file in files:
            current = file
            await _put_file(api, prefix, container, file, owner)
    except (FileInjectionError, OSError, TimeoutError, h11.ProtocolError) as exc:
        reason = str(exc) if isinstance(exc, FileInjectionError) else type(exc).__name__
        with suppress(Exception):
            await api.call(b"DELETE", f"{prefix}/containers/{quote(container)}?force=1&v=1")
        what = f"{shorten(current.id.value)} to {shorten(current.path)}" if current else "a secret"
        raise FileInjectionError(
            f"writing secret {what} in the container: {reason} (the container was removed)"
        ) from None
    finally:
        await api.close()
