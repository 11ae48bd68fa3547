"""What the Docker API proxy does to a container before it starts, in domain terms.

A container create's ``Env`` entries whose value *starts with* ``se://`` are references: each is
resolved with ``run``'s rules (an ID, exactly one value) and replaced.  Labels
``x-secret:<ID>=/abs/path`` (Docker's own injector format) ask for the value as a file at that
path.  Which variables were references is recorded on the container, in the label
:data:`REFERENCES_LABEL` (variable → reference, never a value), so an inspect through the proxy
can show ``X=se://ref`` instead of the value (:func:`show_references`).

Standard library only: the HTTP side is the daemon's.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from docker_pass.core.errors import DockerPassError, shorten
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.references.resolution import RunError, one_value, resolve_references
from docker_pass.core.references.syntax import is_reference
from docker_pass.core.value import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from docker_pass.core.results import Resolution

#: The label recording which variables the proxy resolved: JSON ``{"VAR": "se://id", …}``.
REFERENCES_LABEL = "docker-pass.references"
#: Docker's file-injection labels: ``x-secret:<ID>`` = absolute path in the container.
FILE_LABEL_PREFIX = "x-secret:"


class SecretFile(FrozenValue):
    """A secret to write into a container before it starts: its ID, path and value.

    The ``repr`` shows the ID and path, never the value.
    """

    __slots__ = ("id", "path", "value")
    id: ID
    path: str
    value: bytes

    def __init__(self, id_: ID, path: str, value: bytes) -> None:
        self._set("id", id_)
        self._set("path", path)
        self._set("value", value)

    def __repr__(self) -> str:
        return f"SecretFile({self.id.value!r}, {self.path!r})"


class PreparedContainer(FrozenValue):
    """A create request's config with its references resolved (see :func:`prepare_config`).

    ``config`` is the rewritten body (values in it: send it on, never log it); ``references``
    maps each resolved variable to its reference; ``files`` are the secrets to write before
    the container starts.  ``changed`` is false when nothing needed rewriting, so the original
    request can go on byte for byte.
    """

    __slots__ = ("changed", "config", "files", "references")
    config: dict[str, Any]
    references: dict[str, str]
    files: tuple[SecretFile, ...]
    changed: bool

    def __init__(
        self,
        config: dict[str, Any],
        references: dict[str, str],
        files: tuple[SecretFile, ...],
        changed: bool,
    ) -> None:
        self._set("config", config)
        self._set("references", references)
        self._set("files", files)
        self._set("changed", changed)

    def __repr__(self) -> str:
        return f"PreparedContainer(references={sorted(self.references)!r}, files={self.files!r})"


def wants_resolving(config: Mapping[str, Any], *, labels: bool = True) -> bool:
    """Whether a create (or exec) config holds a reference, an ``x-secret`` label or our own
    label (cheap: no engine call)."""
    for entry in _env_list(config):
        _, sep, value = entry.partition("=")
        if sep and is_reference(value):
            return True
    if not labels:
        return False
    found = _labels(config)
    return REFERENCES_LABEL in found or any(k.startswith(FILE_LABEL_PREFIX) for k in found)


def prepare_config(
    config: dict[str, Any],
    resolve: Callable[[Pattern], Resolution],
    *,
    labels: bool = True,
) -> PreparedContainer:
    """Resolve every reference in ``config["Env"]`` and every ``x-secret`` label.

    The first failure raises :class:`RunError` naming the variable (or label) and the
    reference, with ``run``'s wording: ``resolving X: secret not found: ID``.  ``labels``:
    this config is a container's (a create), not an exec's: record the references in
    :data:`REFERENCES_LABEL` and read the file labels.
    """
    entries = _env_list(config)
    env: dict[bytes, bytes] = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        if sep and is_reference(value):
            env[os.fsencode(key)] = os.fsencode(value)
    resolved, _ = resolve_references(env, resolve)
    references = {os.fsdecode(key): os.fsdecode(value) for key, value in env.items()}
    out = dict(config)
    if env:
        rewritten = []
        for entry in entries:
            key, sep, value = entry.partition("=")
            if sep and key in references:
                value = os.fsdecode(resolved[os.fsencode(key)])
            rewritten.append(f"{key}{sep}{value}" if sep else entry)
        out["Env"] = rewritten
    files: tuple[SecretFile, ...] = ()
    if labels:
        found = dict(_labels(config))
        files = tuple(_files(found, resolve))
        had_label = found.pop(REFERENCES_LABEL, None) is not None
        if references:
            found[REFERENCES_LABEL] = json.dumps(references, sort_keys=True)
        if references or had_label:
            out["Labels"] = found
    changed = bool(env) or out.get("Labels") is not config.get("Labels")
    return PreparedContainer(out, references, files, changed)


def _files(labels: Mapping[str, str], resolve: Callable[[Pattern], Resolution]) -> list[SecretFile]:
    files = []
    for key in sorted(labels):
        if not key.startswith(FILE_LABEL_PREFIX):
            continue
        raw, path = key[len(FILE_LABEL_PREFIX) :], labels[key]
        where = f"label {shorten(key)}"
        try:
            id_ = ID.parse(raw)
        except DockerPassError as exc:
            raise RunError(f"resolving {where}: {exc}") from None
        if not isinstance(path, str) or not path.startswith("/") or path.rstrip("/") == "":
            raise RunError(f"resolving {where}: {shorten(str(path))} is not an absolute file path")
        if "\0" in path or any(part == ".." for part in path.split("/")):
            raise RunError(f"resolving {where}: {shorten(path)} is not a plain absolute path")
        try:
            value, _ = one_value(id_, resolve(Pattern.parse(id_.value)), binary=True)
        except DockerPassError as exc:
            raise RunError(f"resolving {where}: {exc}").with_hints(*exc.hints) from None
        files.append(SecretFile(id_, path.rstrip("/"), value))
    return files


def show_references(container: dict[str, Any]) -> bool:
    """In a container's inspect document, show each variable the proxy resolved as its
    reference (``X=se://id``) again; whether anything changed."""
    config = container.get("Config")
    if not isinstance(config, dict):
        return False
    labels = config.get("Labels")
    raw = labels.get(REFERENCES_LABEL) if isinstance(labels, dict) else None
    if not isinstance(raw, str):
        return False
    try:
        references = json.loads(raw)
    except ValueError:
        return False
    if not isinstance(references, dict):
        return False
    env = config.get("Env")
    if not isinstance(env, list):
        return False
    changed = False
    shown = []
    for entry in env:
        key, sep, _ = entry.partition("=") if isinstance(entry, str) else ("", "", "")
        ref = references.get(key) if sep else None
        if isinstance(ref, str) and is_reference(ref):
            shown.append(f"{key}={ref}")
            changed = True
        else:
            shown.append(entry)
    config["Env"] = shown
    return changed


def _env_list(config: Mapping[str, Any]) -> list[str]:
    env = config.get("Env")
    if env is None:
        return []
    if not isinstance(env, list) or not all(isinstance(entry, str) for entry in env):
        raise RunError("the container's Env must be a list of strings")
    return env


def _labels(config: Mapping[str, Any]) -> dict[str, str]:
    labels = config.get("Labels")
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise RunError("the container's Labels must be an object")
    return labels
