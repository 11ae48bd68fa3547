"""What the Docker API proxy does to a container before it starts, in domain terms.

A container create's ``Env`` entries whose value *starts with* ``se://`` are references: each is
resolved with ``run``'s rules (an ID, exactly one value) and replaced.  An entry sent empty
(``GH_TOKEN=``, or ``GH_TOKEN`` alone) takes the secret named like the variable when the
empty-value lookup is on (Docker's "legacy fallback", :func:`empty_lookup_setting`), and stays
as it was sent when there is none.  Labels ``x-secret:<ID>=/abs/path`` (Docker's own injector
format) ask for the value as a file at that path.  Which variables were resolved is recorded
on the container, in the label :data:`REFERENCES_LABEL` (variable → what was sent, never a
value), so an inspect through the proxy shows ``X=se://ref`` or ``GH_TOKEN=`` again instead of
the value (:func:`show_references`).

Standard library only: the HTTP side is the daemon's.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from docker_pass.core.errors import DockerPassError, shorten
from docker_pass.core.ids import ID, Pattern
from docker_pass.core.references.resolution import (
    ReferenceResult,
    RunError,
    look_up_by_name,
    one_value,
    resolve_references,
)
from docker_pass.core.references.syntax import is_reference
from docker_pass.core.value import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from docker_pass.core.results import Resolution

#: The label recording which variables the proxy resolved, and how each was sent: JSON
#: ``{"VAR": "se://id", "GH_TOKEN": "", "BARE": null}`` (a reference, an empty value, a name
#: alone).
REFERENCES_LABEL = "docker-pass.references"
#: Turns the empty-value lookup on or off (``1``/``0``, ``on``/``off``, ``true``/``false``).
EMPTY_LOOKUP_ENV = "DOCKER_PASS_EMPTY_ENV_LOOKUP"
_ON = ("1", "on", "true", "yes")
_OFF = ("0", "off", "false", "no")
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
    maps each resolved variable to what was sent (its reference, ``""`` or ``None``, see
    :data:`REFERENCES_LABEL`); ``lookups`` says how each empty-value lookup fared (to log: it
    holds no value); ``files`` are the secrets to write before the container starts.
    ``changed`` is false when nothing needed rewriting, so the original request can go on byte
    for byte.
    """

    __slots__ = ("changed", "config", "files", "lookups", "references")
    config: dict[str, Any]
    references: dict[str, str | None]
    files: tuple[SecretFile, ...]
    changed: bool
    lookups: dict[str, ReferenceResult]

    def __init__(
        self,
        config: dict[str, Any],
        references: dict[str, str | None],
        files: tuple[SecretFile, ...],
        changed: bool,
        lookups: dict[str, ReferenceResult] | None = None,
    ) -> None:
        self._set("config", config)
        self._set("references", references)
        self._set("files", files)
        self._set("changed", changed)
        self._set("lookups", lookups or {})

    def __repr__(self) -> str:
        return f"PreparedContainer(references={sorted(self.references)!r}, files={self.files!r})"


def empty_lookup_setting() -> tuple[bool, str]:
    """Whether the empty-value lookup is on, and what said so: ``$DOCKER_PASS_EMPTY_ENV_LOOKUP``,
    then the config file's ``engine.empty_env_lookup``, then the default (on, as Docker's
    documentation shows it).  ``engine run --[no-]empty-env-lookup`` overrides both."""
    raw = os.environ.get(EMPTY_LOOKUP_ENV, "").strip().lower()
    if raw in _ON or raw in _OFF:
        return raw in _ON, f"${EMPTY_LOOKUP_ENV}"
    if raw:
        raise DockerPassError(
            f"${EMPTY_LOOKUP_ENV} must be on or off (1/0, true/false), not {shorten(raw, 40)!r}"
        )
    from docker_pass.core.config import config_path, load_config

    engine = load_config().get("engine")
    configured = engine.get("empty_env_lookup") if isinstance(engine, dict) else None
    if isinstance(configured, bool):
        return configured, f"config {config_path()}"
    return True, "default"


def sent_empty(entry: str) -> str | None:
    """The variable of an ``Env`` entry sent without a value (``NAME=`` or ``NAME`` alone) whose
    name could be a secret's ID; ``None`` for any other entry."""
    key, sep, value = entry.partition("=")
    if (sep and value) or not key:
        return None
    try:
        ID.parse(key)
    except DockerPassError:
        return None
    return key


def wants_resolving(
    config: Mapping[str, Any], *, labels: bool = True, empty_lookup: bool = False
) -> bool:
    """Whether a create (or exec) config holds a reference, an entry to look up by name
    (``empty_lookup``), an ``x-secret`` label or our own label (cheap: no engine call)."""
    for entry in _env_list(config):
        _, sep, value = entry.partition("=")
        if sep and is_reference(value):
            return True
        if empty_lookup and sent_empty(entry) is not None:
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
    empty_lookup: bool = False,
) -> PreparedContainer:
    """Resolve every reference in ``config["Env"]``, look up the entries sent empty (with
    ``empty_lookup``), and resolve every ``x-secret`` label.

    The first failing reference raises :class:`RunError` naming the variable (or label) and
    the reference, with ``run``'s wording: ``resolving X: secret not found: ID``; so does an
    entry with no name, or a value that is not UTF-8 text.  A lookup never raises: an entry
    whose name finds no secret stays as it was sent.  ``labels``: this config is a container's
    (a create), not an exec's: record what was resolved in :data:`REFERENCES_LABEL` and read
    the file labels.
    """
    entries = _env_list(config)
    env: dict[bytes, bytes] = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        if sep and not key:
            raise RunError("an Env entry has no variable name (it starts with =)")
        if sep and is_reference(value):
            env[os.fsencode(key)] = os.fsencode(value)
    resolved, _ = resolve_references(env, resolve)
    references: dict[str, str | None] = {
        os.fsdecode(key): os.fsdecode(value) for key, value in env.items()
    }
    lookups: dict[str, ReferenceResult] = {}
    rewritten = []
    for entry in entries:
        key, sep, value = entry.partition("=")
        if sep and key in references:
            rewritten.append(f"{key}={_text(key, resolved[os.fsencode(key)])}")
            continue
        name = sent_empty(entry) if empty_lookup and key not in lookups else None
        if name is not None:
            found, lookups[name] = look_up_by_name(name, resolve)
            if found is not None:
                references[name] = "" if sep else None
                rewritten.append(f"{name}={found}")
                continue
        rewritten.append(entry)
    out = dict(config)
    if rewritten != entries:
        out["Env"] = rewritten
    files: tuple[SecretFile, ...] = ()
    if labels:
        found_labels = dict(_labels(config))
        files = tuple(_files(found_labels, resolve))
        had_label = found_labels.pop(REFERENCES_LABEL, None) is not None
        if references:
            found_labels[REFERENCES_LABEL] = json.dumps(references, sort_keys=True)
        if references or had_label:
            out["Labels"] = found_labels
    changed = rewritten != entries or out.get("Labels") is not config.get("Labels")
    return PreparedContainer(out, references, files, changed, lookups)


def _text(variable: str, value: bytes) -> str:
    """A resolved value as the container's environment (JSON text) carries it."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise RunError(
            f"resolving {shorten(variable)}: the value is not UTF-8 text, and a container's "
            "environment holds text"
        ) from None


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
    """In an inspect document (a container's, or an image's made by committing one), show each
    variable the proxy resolved as it was sent (``X=se://id``, ``GH_TOKEN=``, ``GH_TOKEN``)
    instead of its value; whether anything changed."""
    changed = False
    for part in ("Config", "ContainerConfig"):
        config = container.get(part)
        if isinstance(config, dict):
            changed = _show_in(config) or changed
    return changed


def _show_in(config: dict[str, Any]) -> bool:
    labels = config.get("Labels")
    raw = labels.get(REFERENCES_LABEL) if isinstance(labels, dict) else None
    if not isinstance(raw, str):
        return False
    try:
        references = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    env = config.get("Env")
    if not isinstance(references, dict) or not isinstance(env, list):
        return False
    changed = False
    shown = []
    for entry in env:
        key, sep, _ = entry.partition("=") if isinstance(entry, str) else ("", "", "")
        sent = references.get(key, False) if sep else False
        if isinstance(sent, str) and (sent == "" or is_reference(sent)):
            shown.append(f"{key}={sent}")
        elif sent is None:
            shown.append(key)
        else:
            shown.append(entry)
            continue
        changed = True
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
