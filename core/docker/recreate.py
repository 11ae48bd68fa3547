"""Recreate one plain container (made through the Docker proxy) so its references resolve again.

The new container is made from the old one's inspect document, with each variable the proxy
resolved put back as it was sent (``K=se://id``, ``GH_TOKEN=``), so the proxy resolves it
again on create and writes :data:`REFERENCES_LABEL` afresh.  Everything else is carried over:
name, image (by ID), command, entrypoint, user, labels, ports, health check, the whole host
config (binds, mounts, restart policy, network mode, resources) and the networks with their
aliases and static addresses (the network mode's own in the create, the others connected after
it, which every API version takes).  A replacement must also stay up :data:`SETTLE_SECONDS`.

Rename-then-swap, never delete first: the new container is created under a temporary name
(a failure there changes nothing), the old one is stopped, the new one started; only then is
the old one renamed away, the new one given the name and the old one removed (its volumes
kept).  A failed start removes the new container and starts the old one again.  The new
container carries :data:`ROLLOUT_OF_LABEL` (the old container's ID) and
:data:`ROLLOUT_NAME_LABEL` (the name it is to take), so one left under its temporary name by a
crash is found and cleaned up by :func:`docker_pass.core.docker.leftovers.clean_leftovers`.

:func:`refusal` says why a container cannot be reproduced faithfully (and what to run instead).
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from docker_pass.core.docker.container import FILE_LABEL_PREFIX, REFERENCES_LABEL, show_references
from docker_pass.core.docker.engine_api import (
    DEFAULT_TIMEOUT,
    DockerApiError,
    DockerUnreachableError,
)
from docker_pass.core.errors import DockerPassError, shorten
from docker_pass.core.outside import clean_outside

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from docker_pass.core.docker.engine_api import DockerApi

#: On a container a rollout created: the ID of the container it replaces.
ROLLOUT_OF_LABEL = "docker-pass.rollout-of"
#: On a container a rollout created: the name it takes once the swap is done.
ROLLOUT_NAME_LABEL = "docker-pass.rollout-name"
#: The temporary names: ``<name>.rollout-<old id[:12]>`` (the new container until the swap),
#: ``<name>.replaced-<old id[:12]>`` (the old one between its rename and its removal).
NEW_SUFFIX = ".rollout-"
OLD_SUFFIX = ".replaced-"
#: Config keys a create accepts, copied from the inspect document as they are.
_CONFIG_KEYS = (
    "Domainname",
    "User",
    "AttachStdin",
    "AttachStdout",
    "AttachStderr",
    "ExposedPorts",
    "Tty",
    "OpenStdin",
    "StdinOnce",
    "Env",
    "Cmd",
    "Healthcheck",
    "ArgsEscaped",
    "Volumes",
    "WorkingDir",
    "Entrypoint",
    "NetworkDisabled",
    "MacAddress",
    "OnBuild",
    "Labels",
    "StopSignal",
    "StopTimeout",
    "Shell",
)
#: Seconds a started replacement must run without exiting with an error before the old
#: container is removed (``docker start`` succeeds even when the kernel then refuses to run its
#: process).
SETTLE_SECONDS = 2.0
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


class RecreateError(DockerPassError):
    """Raised when a recreate did not go through; the text says what was left as it was."""


_LEFTOVER = re.compile(re.escape(NEW_SUFFIX) + r"[0-9a-f]{12}\Z")


def is_leftover_name(name: str) -> bool:
    """Whether ``name`` is a replacement's temporary name (left there by an interrupted
    rollout unless one is under way)."""
    return _LEFTOVER.search(name) is not None


def name_of(container: dict[str, Any]) -> str:
    """A container's name without Docker's leading ``/`` (inspect's ``Name`` or a list
    entry's first ``Names``)."""
    name = container.get("Name")
    if not isinstance(name, str):
        names = container.get("Names")
        name = names[0] if isinstance(names, list) and names and isinstance(names[0], str) else ""
    return name.lstrip("/")


def made_through_proxy(container: dict[str, Any]) -> bool:
    """Whether the proxy made this container (it holds our references label or a file label)."""
    labels = (container.get("Config") or {}).get("Labels") or container.get("Labels") or {}
    return isinstance(labels, dict) and (
        REFERENCES_LABEL in labels or any(str(k).startswith(FILE_LABEL_PREFIX) for k in labels)
    )


def refusal(container: dict[str, Any], recreated: Collection[str] = ()) -> str:
    """Why ``container`` (an inspect document) cannot be recreated faithfully, with what to run
    instead; ``""`` when it can.  ``recreated``: IDs and names of the containers this rollout
    recreates (one sharing the network of one of them would lose it)."""
    name = name_of(container) or str(container.get("Id", ""))[:12]
    host = container.get("HostConfig") or {}
    if not made_through_proxy(container):
        return (
            "it was not created through the docker-pass proxy (no references label), so its "
            "references cannot be put back: recreate it yourself with DOCKER_HOST pointing "
            "at the proxy"
        )
    if host.get("AutoRemove"):
        return (
            "it was started with --rm (stopping it removes it, so the old one cannot be kept "
            f"as a fallback): run 'docker rm -f {name}' and start it again through the proxy"
        )
    mode = host.get("NetworkMode")
    if isinstance(mode, str) and mode.startswith("container:"):
        target = mode.partition(":")[2]
        if target in recreated or any(r.startswith(target) for r in recreated if len(target) >= 12):
            return (
                f"it shares the network of container {shorten(target, 40)}, which this rollout "
                f"recreates: recreate both yourself ('docker rm -f {name}', then run it again "
                "with --network container:NAME)"
            )
    for mount in container.get("Mounts") or []:
        if not isinstance(mount, dict) or mount.get("Type") != "volume":
            continue
        volume, dest = str(mount.get("Name", "")), str(mount.get("Destination", ""))
        if _HEX64.match(volume) and not _named_in(host, volume):
            return (
                f"it keeps data in an anonymous volume at {shorten(dest, 60)} that a new "
                "container would not get: copy it to a named volume and recreate it yourself, "
                f"e.g. 'docker run --rm --volumes-from {name} -v {name}-data:/to busybox cp -a "
                f"{dest}/. /to/', then 'docker rm -f {name}' and run it again with "
                f"-v {name}-data:{dest}"
            )
    return ""


def _named_in(host: dict[str, Any], volume: str) -> bool:
    binds = host.get("Binds") or []
    mounts = host.get("Mounts") or []
    return any(isinstance(b, str) and b.split(":", 1)[0] == volume for b in binds) or any(
        isinstance(m, dict) and m.get("Source") == volume for m in mounts
    )


def create_body(
    container: dict[str, Any], image_id: str, *, name: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The create request that remakes ``container`` (an inspect document) from ``image_id`` (a
    name or an ID),
    its references put back; and the networks to connect after the create (name, endpoint
    config) beyond the first, which the create carries (API < 1.44 takes one there)."""
    shown = copy.deepcopy(container)
    show_references(shown)
    config = shown.get("Config") or {}
    body: dict[str, Any] = {key: config[key] for key in _CONFIG_KEYS if key in config}
    hostname = config.get("Hostname")
    if (
        isinstance(hostname, str)
        and hostname
        and not str(container.get("Id", "")).startswith(hostname)
    ):
        body["Hostname"] = hostname  # a name the person gave (the default is the ID's start)
    labels = dict(body.get("Labels") or {})
    labels.pop(REFERENCES_LABEL, None)  # the proxy writes it again from what it resolves
    labels[ROLLOUT_OF_LABEL] = str(container.get("Id", ""))
    labels[ROLLOUT_NAME_LABEL] = name
    body["Labels"] = labels
    body["Image"] = image_id
    body["HostConfig"] = shown.get("HostConfig") or {}
    networks = (shown.get("NetworkSettings") or {}).get("Networks") or {}
    endpoints = []
    old_short = str(container.get("Id", ""))[:12]
    for net, endpoint in networks.items() if isinstance(networks, dict) else ():
        if not isinstance(endpoint, dict):
            continue
        wanted: dict[str, Any] = {}
        aliases = [a for a in endpoint.get("Aliases") or [] if a != old_short]
        if aliases:
            wanted["Aliases"] = aliases
        if endpoint.get("IPAMConfig"):
            wanted["IPAMConfig"] = endpoint["IPAMConfig"]
        if endpoint.get("Links"):
            wanted["Links"] = endpoint["Links"]
        endpoints.append({"name": net, "config": wanted})
    mode = body["HostConfig"].get("NetworkMode")
    endpoints.sort(key=lambda e: e["name"] != mode)  # the network mode's own network first
    first, rest = endpoints[:1], endpoints[1:]
    if first:
        body["NetworkingConfig"] = {"EndpointsConfig": {first[0]["name"]: first[0]["config"]}}
    return body, rest


def _stop_wait(inspected: dict[str, Any]) -> float:
    """How long a stop may take: the container's own stop timeout (the engine's default 10 s
    when it has none; a negative one waits for ever, here an hour), then the engine's kill,
    with room to spare."""
    own = (inspected.get("Config") or {}).get("StopTimeout")
    grace = own if isinstance(own, int) and not isinstance(own, bool) else 10
    return float(grace if 0 <= grace < 3600 else 3600) + DEFAULT_TIMEOUT


class Recreated:
    """What :func:`recreate` did: the new container's ID, and notes (e.g. made from the image
    ID because the image's name now points elsewhere)."""

    __slots__ = ("new_id", "notes")

    def __init__(self, new_id: str, notes: list[str]) -> None:
        self.new_id = new_id
        self.notes = notes


def recreate(
    docker: DockerApi,
    proxy: DockerApi,
    container_id: str,
    *,
    report: Callable[[str], None],
    settle: float = SETTLE_SECONDS,
) -> Recreated:
    """Recreate one container: create the new one through ``proxy`` (its references resolve
    again), swap it in on ``docker`` (the engine itself).  Raises :class:`RecreateError` saying
    what was left as it was; on success the old container is gone, its volumes kept.  A new
    container that exits with an error within ``settle`` seconds of its start counts as not
    started."""
    old = docker.inspect_container(container_id)
    old_id = str(old.get("Id", container_id))
    name = name_of(old)
    temp, replaced = f"{name}{NEW_SUFFIX}{old_id[:12]}", f"{name}{OLD_SUFFIX}{old_id[:12]}"
    image_id, notes = _image(docker, old)
    body, more_networks = create_body(old, image_id, name=name)
    was_running = bool((old.get("State") or {}).get("Running"))
    report(f"{name}: creating its replacement through the proxy")
    try:
        made = proxy.call("POST", "/containers/create", query={"name": temp}, body=body)
    except (DockerApiError, DockerUnreachableError) as exc:
        raise RecreateError(
            f"{name}: creating the new container failed: {exc}; nothing changed"
        ) from None
    new_id = str((made or {}).get("Id", ""))
    try:
        for extra in more_networks:
            docker.call(
                "POST",
                f"/networks/{extra['name']}/connect",
                body={"Container": new_id, "EndpointConfig": extra["config"]},
            )
    except (DockerApiError, DockerUnreachableError) as exc:
        remove_quietly(docker, new_id)
        raise RecreateError(
            f"{name}: connecting the new container to its networks failed: {exc}; nothing changed"
        ) from None
    if was_running:
        report(f"{name}: stopping the old container")
        try:
            docker.call("POST", f"/containers/{old_id}/stop", timeout=_stop_wait(old))
        except (DockerApiError, DockerUnreachableError) as exc:
            remove_quietly(docker, new_id)
            raise RecreateError(
                f"{name}: stopping the old container failed: {exc}; the old container is "
                "still running"
            ) from None
        report(f"{name}: starting the new container")
        problem = _start(docker, new_id, settle=settle)
        if problem:
            remove_quietly(docker, new_id)
            restarted = _start(docker, old_id)
            left = (
                "the old container is still running"
                if not restarted
                else f"the old container is stopped (starting it again failed: {restarted})"
            )
            raise RecreateError(f"{name}: starting the new container failed: {problem}; {left}")
    report(f"{name}: swapping the names and removing the old container")
    try:
        docker.call("POST", f"/containers/{old_id}/rename", query={"name": replaced})
        docker.call("POST", f"/containers/{new_id}/rename", query={"name": name})
        docker.call("DELETE", f"/containers/{old_id}", query={"force": "1"})
    except (DockerApiError, DockerUnreachableError) as exc:
        raise RecreateError(
            f"{name}: the new container runs, but swapping the names failed: {exc}; run "
            "'docker pass rollout' again to finish it"
        ) from None
    return Recreated(new_id, notes)


def _image(docker: DockerApi, old: dict[str, Any]) -> tuple[str, list[str]]:
    """The image to create from: the name the old container was made from while it still names
    the same image (so ``docker ps`` shows it as before), else the image ID, with a note."""
    image_id = str(old.get("Image", ""))
    named = str((old.get("Config") or {}).get("Image", ""))
    if not named or named == image_id:
        return image_id, []
    try:
        current = docker.call("GET", f"/images/{quote(named, safe='/:@')}/json")
    except (DockerApiError, DockerUnreachableError):
        current = None
    if isinstance(current, dict) and current.get("Id") == image_id:
        return named, []
    return image_id, [
        f"{name_of(old)}: made from image {image_id[:19]} as before; "
        f"{shorten(clean_outside(named), 80)} now names another image"
    ]


def _start(docker: DockerApi, container_id: str, *, settle: float = 0.0) -> str:
    """Start a container: ``""``, or why it did not start.  With ``settle``: it must also not
    exit with an error within that many seconds (a process the kernel refuses to run, e.g. an
    environment string over 128 KiB, dies just after a successful start)."""
    since = int(time.time()) - 1
    try:
        docker.call("POST", f"/containers/{container_id}/start")
    except (DockerApiError, DockerUnreachableError) as exc:
        return str(exc)
    if settle <= 0:
        return ""
    # The span runs from before the start to ``settle`` after the engine answered it (a start
    # on a loaded engine can take longer than the span itself).
    died = _died(docker, container_id, since, time.time() + settle)
    if died:
        return died
    try:
        state = docker.inspect_container(container_id).get("State") or {}
    except (DockerApiError, DockerUnreachableError) as exc:
        return str(exc)
    if not state.get("Running") and str(state.get("ExitCode", 0)) != "0":
        return _exit_text(docker, container_id, str(state.get("ExitCode")))
    return ""


def _died(docker: DockerApi, container_id: str, since: int, until: float) -> str:
    """Why the container exited with an error between ``since`` and ``until`` (``""`` if it did
    not): the engine's event stream for that span, which it closes at ``until``."""
    query = {
        "since": str(since),
        "until": f"{until:.3f}",
        "filters": json.dumps({"container": [container_id], "event": ["die"]}),
    }
    try:
        status, data = docker.raw("GET", "/events", query=query, timeout=until - since + 30)
    except DockerUnreachableError as exc:
        return str(exc)
    if status != 200:
        return f"the Docker engine answered {status} when asked whether it kept running"
    for line in data.splitlines():
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(event, dict) or not isinstance(event.get("Actor"), dict):
            continue
        attributes = event["Actor"].get("Attributes") or {}
        code = str(attributes.get("exitCode", "0")) if isinstance(attributes, dict) else "0"
        if code != "0":
            return _exit_text(docker, container_id, code)
    return ""


def _exit_text(docker: DockerApi, container_id: str, code: str) -> str:
    """Says the container exited with status ``code`` at once, with the engine's error for it
    when it has one."""
    try:
        error = str((docker.inspect_container(container_id).get("State") or {}).get("Error") or "")
    except (DockerApiError, DockerUnreachableError):
        error = ""
    detail = f": {shorten(clean_outside(error), 200)}" if error.strip() else ""
    return f"it exited with status {shorten(clean_outside(code), 12)} at once{detail}"


def remove_quietly(docker: DockerApi, container_id: str) -> None:
    """Remove a container (forced), saying nothing if that fails."""
    # A leftover keeps its labels and temporary name: clean_leftovers finds it.
    with contextlib.suppress(DockerApiError, DockerUnreachableError):
        docker.call("DELETE", f"/containers/{container_id}", query={"force": "1"})
