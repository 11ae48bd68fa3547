"""A commit, through the proxy, of a container that holds secrets the proxy put there is refused.

``docker commit`` keeps a container's config in the image twice: as the image's ``Config``
(which a commit's own config or ``--change`` can alter) and, whatever the request says, as its
``ContainerConfig`` (moby's ``CreateImageFromContainer`` stores ``container.Config`` as it is).
The container's files, secret files included, become the image's top layer.  No rewrite of the
request keeps resolved values out of the image, and an image is made to be pushed and shared;
so a commit of a container whose labels record resolved variables (``docker-pass.references``)
or secret files (``x-secret:…``) is refused (403), naming them, and any other commit goes on
unchanged.

The container is the one dockerd's ``GetContainer`` would pick for the ``container`` parameter
(first value, as Go's ``url.ParseQuery`` reads the query): an exact ID, else a name (with or
without its leading ``/``), else the one container whose ID starts with it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import h11

from docker_pass.core.docker.container import FILE_LABEL_PREFIX, REFERENCES_LABEL
from docker_pass.core.errors import shorten
from docker_pass.daemon.docker.api import EngineApi, engine_message
from docker_pass.daemon.docker.gate import query_values
from docker_pass.daemon.docker.relay import Refusal

if TYPE_CHECKING:
    from docker_pass.daemon.docker.gate import Route
    from docker_pass.daemon.docker.relay import Upstream


async def commit_refusal(upstream: Upstream, route: Route, host: bytes) -> Refusal | None:
    """Why a commit must not go on (``None``: it may); :class:`Refusal` (400) if its query
    cannot be read, as dockerd would not read it either."""
    name = query_values(route.query).get("container", [""])[0]
    if not name:
        return None  # dockerd answers it: no container is committed
    api = EngineApi(upstream, host)
    try:
        # The engine's own API version: every version it serves lists labels the same way.
        status, body = await api.call(b"GET", "/containers/json?all=1")
    except (OSError, TimeoutError, h11.ProtocolError) as exc:
        return _unchecked(type(exc).__name__)
    finally:
        await api.close()
    try:
        containers: Any = json.loads(body) if status == 200 else None
    except (ValueError, RecursionError):
        containers = None
    if not isinstance(containers, list):
        return _unchecked(engine_message(body) or f"status {status}")
    container = _container_named([c for c in containers if isinstance(c, dict)], name)
    if container is None:
        return None  # dockerd answers "No such container"
    labels = container.get("Labels")
    held = _secrets_held(labels if isinstance(labels, dict) else {})
    if not held:
        return None
    short = str(container.get("Id", ""))[:12]
    return Refusal(
        403,
        f"docker-pass: container {short} holds secrets resolved by docker-pass ({held}); "
        "committing it would store them in the image (its config and its files), so the "
        "proxy does not",
    )


def _container_named(containers: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The container dockerd's ``GetContainer(name)`` finds among ``containers``."""
    for container in containers:
        if container.get("Id") == name:
            return container
    full_name = name if name.startswith("/") else "/" + name
    for container in containers:
        names = container.get("Names")
        if isinstance(names, list) and full_name in names:
            return container
    found = [
        c for c in containers if isinstance(c.get("Id"), str) and str(c["Id"]).startswith(name)
    ]
    return found[0] if len(found) == 1 else None  # none or ambiguous: dockerd refuses it


def _secrets_held(labels: dict[str, Any]) -> str:
    """What ``labels`` say the proxy put into a container: ``"variables A, B; files /p"``."""
    parts = []
    if REFERENCES_LABEL in labels:
        try:
            recorded: Any = json.loads(str(labels[REFERENCES_LABEL]))
        except (ValueError, RecursionError):
            recorded = None
        names = sorted(recorded) if isinstance(recorded, dict) else []
        parts.append(
            "variables " + ", ".join(shorten(str(n)) for n in names) if names else "variables"
        )
    files = sorted(str(labels[k]) for k in labels if k.startswith(FILE_LABEL_PREFIX))
    if files:
        parts.append("files " + ", ".join(shorten(path) for path in files))
    return "; ".join(parts)


def _unchecked(reason: str) -> Refusal:
    return Refusal(
        502, f"docker-pass: cannot look the container up before committing it: {shorten(reason)}"
    )
