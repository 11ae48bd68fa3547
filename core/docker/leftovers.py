"""What an interrupted rollout left behind, found and cleaned up by the next one.

A replacement is created under a temporary name (``<name>.rollout-<old id[:12]>``) with the
labels :data:`~docker_pass.core.docker.recreate.ROLLOUT_OF_LABEL` and
:data:`~docker_pass.core.docker.recreate.ROLLOUT_NAME_LABEL`; one still under that name when no
rollout runs was left by a crash between the create and the swap.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from docker_pass.core.docker.engine_api import DockerApiError, DockerUnreachableError
from docker_pass.core.docker.recreate import (
    NEW_SUFFIX,
    ROLLOUT_NAME_LABEL,
    ROLLOUT_OF_LABEL,
    name_of,
    remove_quietly,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from docker_pass.core.docker.engine_api import DockerApi


def clean_leftovers(docker: DockerApi, *, report: Callable[[str], None]) -> list[str]:
    """Finish or undo what an interrupted rollout left: a container still under its temporary
    name is removed when the container it replaces still exists (that one gets its name back),
    else it takes its name.  Lines saying what was done (and what could not be)."""
    said = []
    found = docker.call(
        "GET",
        "/containers/json",
        query={"all": "1", "filters": json.dumps({"label": [ROLLOUT_OF_LABEL]})},
    )
    for entry in found if isinstance(found, list) else []:
        if not isinstance(entry, dict):
            continue
        labels = entry.get("Labels") or {}
        name, wanted = name_of(entry), str(labels.get(ROLLOUT_NAME_LABEL, ""))
        old_id = str(labels.get(ROLLOUT_OF_LABEL, ""))
        if not wanted or name != f"{wanted}{NEW_SUFFIX}{old_id[:12]}":
            continue
        try:
            old = docker.inspect_container(old_id)
        except DockerApiError:
            old = None
        try:
            if old is not None:
                remove_quietly(docker, str(entry.get("Id", "")))
                if name_of(old) != wanted:
                    docker.call("POST", f"/containers/{old_id}/rename", query={"name": wanted})
                line = f"removed {name}, left by an interrupted rollout of {wanted}"
                if not (old.get("State") or {}).get("Running"):
                    line += f" ({wanted} is not running: 'docker start {wanted}' if it should)"
            else:
                docker.call("POST", f"/containers/{entry.get('Id')}/rename", query={"name": wanted})
                line = f"renamed {name} to {wanted}, finishing an interrupted rollout"
        except (DockerApiError, DockerUnreachableError) as exc:
            line = f"could not clean up {name}, left by an interrupted rollout: {exc}"
        report(line)
        said.append(line)
    return said
