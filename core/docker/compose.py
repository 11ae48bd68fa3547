"""Find the ``se://`` references in Compose files and env files, for ``check``.

A Compose file's services are read in order: each service's ``environment:`` (a mapping, or a
list of ``KEY=VALUE`` strings), then its ``env_file:`` entries (a string, a list of strings, or
a list of ``{path:, required:}`` mappings; relative to the Compose file's directory), each read
with the dotenv parser ``run --env-file`` uses.  A plain env file's references have no service.

Only a value that starts with ``se://`` as written is a reference.  Compose would first expand
``${VAR}`` in values; this module reads values as written, so ``${REF}`` holding ``se://…`` in
the shell is not seen, and ``se://${X}`` is reported as it stands (an invalid ID, with a note).

A variable that reaches the container empty (``GH_TOKEN=``, ``GH_TOKEN:`` with no value, or
``- GH_TOKEN`` with nothing in this shell) is a lookup by name: the proxy gives it the secret
whose ID is its name, if there is one (:func:`~docker_pass.core.docker.container.sent_empty`),
and leaves it empty otherwise, so such a row never fails ``check``.

PyYAML is imported only when a Compose file is read: ``get``/``ls``/``run`` never load it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from docker_pass.core.docker.container import sent_empty
from docker_pass.core.errors import DockerPassError, shorten
from docker_pass.core.references.syntax import reference_target
from docker_pass.core.value import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from pathlib import Path

    from docker_pass.core.expiry import Expiry
    from docker_pass.core.ids import Pattern
    from docker_pass.core.references.resolution import ReferenceResult
    from docker_pass.core.results import Resolution

#: The Compose file names ``docker compose`` looks for, in the order it picks the first.
COMPOSE_FILE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
#: The override file names it looks for beside that file, in the order it picks the first.
OVERRIDE_FILE_NAMES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)
DEFAULT_ENV_FILE = ".env"
COMPOSE_SUFFIXES = (".yaml", ".yml")
INTERPOLATION_NOTE = "Compose expands ${...} first; check reads the value as written"
#: Docker's file-injection labels (``x-secret:<ID>=/path``), which the proxy writes as files.
FILE_LABEL_PREFIX = "x-secret:"
MAPPING_LABEL_NOTE = (
    "Compose keeps mapping keys that start with x- as extensions, so this label never reaches "
    "the container: write it in the list form, - x-secret:ID=/path"
)


class ComposeFileError(DockerPassError):
    """Raised when a file to check is missing or unreadable, is YAML that does not parse, or is
    a Compose file whose shape is not Compose's (not a mapping, a service that is a list…)."""


class FoundReference(FrozenValue):
    """One ``se://`` reference in a file: where it is, and its text after ``se://``.

    ``service`` is ``""`` for a plain env file; for an env file a service names in ``env_file:``
    it is that service.  ``note`` says why the reference may not be what Compose passes on.
    ``lookup``: a variable sent empty, looked up by its name (``target`` is the name).
    """

    __slots__ = ("file", "lookup", "note", "service", "target", "variable")
    file: Path
    service: str
    variable: str
    target: str
    note: str
    lookup: bool

    def __init__(
        self,
        file: Path,
        service: str,
        variable: str,
        target: str,
        note: str = "",
        *,
        lookup: bool = False,
    ) -> None:
        self._set("file", file)
        self._set("service", service)
        self._set("variable", variable)
        self._set("target", target)
        self._set("note", note or (INTERPOLATION_NOTE if "$" in target else ""))
        self._set("lookup", lookup)

    @property
    def dropped(self) -> bool:
        """Whether Compose never passes this on (an ``x-secret`` label in the mapping form)."""
        return self.note == MAPPING_LABEL_NOTE

    def __repr__(self) -> str:
        return (
            f"FoundReference({str(self.file)!r}, {self.service!r}, {self.variable!r}, "
            f"{self.target!r})"
        )


#: A lookup's status when it finds no secret: the variable reaches the container empty.
LEFT_EMPTY = "left empty"
#: Why nothing was looked up, for the DETAIL column.
LOOKUP_OFF = "the empty-value lookup is off ({source})"


class CheckedReference(FrozenValue):
    """A found reference and how it fared by ``run``'s rules (never its value).

    A lookup by name (:attr:`FoundReference.lookup`) never fails: with no secret of that name
    the variable is left empty, as it was written.  ``lookup_off`` names what turned lookups
    off (``""`` while they are on).
    """

    __slots__ = ("expiry", "found", "lookup_off", "result")
    found: FoundReference
    result: ReferenceResult
    lookup_off: str
    #: The resolved secret's expiry (its ``expires`` metadata), ``None`` when it has none or
    #: nothing resolved.
    expiry: Expiry | None

    def __init__(
        self,
        found: FoundReference,
        result: ReferenceResult,
        lookup_off: str = "",
        expiry: Expiry | None = None,
    ) -> None:
        self._set("found", found)
        self._set("result", result)
        self._set("lookup_off", lookup_off if found.lookup else "")
        self._set("expiry", expiry)

    @property
    def failed(self) -> bool:
        """Whether this reference would fail a ``run`` or a container's create, or never
        reach the container at all."""
        if self.found.lookup:
            return False
        return self.result.failed or self.found.dropped

    @property
    def status(self) -> str:
        """The STATUS column: the resolution's, ``dropped`` for what Compose drops, and for a
        lookup that finds nothing, what it found and that the variable is left empty."""
        if self.found.dropped:
            return "dropped"
        if self.found.lookup:
            if self.lookup_off:
                return LEFT_EMPTY
            if self.result.failed:
                return f"{self.result.status.value} — {LEFT_EMPTY}"
        return self.result.status.value


def compose_files(directory: Path, environ: Mapping[str, str] | None = None) -> list[Path]:
    """The Compose files ``docker compose`` reads when run in ``directory`` without ``-f``
    (an empty list when there is none).

    They are those ``COMPOSE_FILE`` names (split at ``COMPOSE_PATH_SEPARATOR``, else ``:``;
    relative to ``directory``), else the first of :data:`COMPOSE_FILE_NAMES` in ``directory``
    or, when it has none, in the nearest folder above that has one, with the first of
    :data:`OVERRIDE_FILE_NAMES` beside it.  Whatever is there counts (a FIFO, a link to a
    device): reading it then says what it is.
    """
    env = os.environ if environ is None else environ
    named = env.get("COMPOSE_FILE", "")
    if named:
        separator = env.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        return [directory / part for part in named.split(separator) if part]
    return _discovered(directory)


def project_env_file(directory: Path, composes: Sequence[Path]) -> Path | None:
    """The ``.env`` ``docker compose`` reads in ``directory``: that folder's, else the one
    beside the first of ``composes`` (the project's); ``None`` when neither exists."""
    for candidate in (directory, *(path.parent for path in composes[:1])):
        env_file = candidate / DEFAULT_ENV_FILE
        if env_file.exists():
            return env_file
    return None


def _discovered(directory: Path) -> list[Path]:
    """The first Compose file in ``directory`` or the nearest folder above it, and its
    override file (see :func:`compose_files`)."""
    folder = directory.absolute()
    while True:
        first = [folder / name for name in COMPOSE_FILE_NAMES if (folder / name).exists()][:1]
        if first:
            override = [folder / name for name in OVERRIDE_FILE_NAMES if (folder / name).exists()]
            # As given when it is this folder: check's rows name the files as the person would.
            here = folder == directory.absolute()
            return [directory / path.name if here else path for path in first + override[:1]]
        if folder.parent == folder:
            return []
        folder = folder.parent


def default_files(directory: Path) -> list[Path]:
    """The files ``check`` reads when given none: the Compose files and the ``.env`` that
    ``docker compose`` reads in ``directory`` (:func:`compose_files`,
    :func:`project_env_file`).

    None existing is an error that names what was looked for.
    """
    found = compose_files(directory)
    env_file = project_env_file(directory, found)
    if env_file is not None:
        found.append(env_file)
    if not found:
        names = ", ".join(COMPOSE_FILE_NAMES)
        raise ComposeFileError(
            f"no Compose file ({names}) and no {DEFAULT_ENV_FILE} in {directory.absolute()}"
        )
    return found


def find_references(paths: Sequence[Path]) -> list[FoundReference]:
    """Every reference in ``paths``, in file order, then service and variable order as written.

    A path is read as a Compose file when its name ends in ``.yaml``/``.yml`` or it parses as a
    YAML mapping with ``services``; else as an env file.
    """
    found: list[FoundReference] = []
    for path in paths:
        text = read_compose_text(path, "file")
        document = compose_document(path, text)
        if document is None:
            found.extend(_env_file_references(path, "", text))
        else:
            found.extend(_compose_references(path, document))
    return found


def check_references(
    found: Sequence[FoundReference],
    resolve: Callable[[Pattern], Resolution],
    *,
    lookup_off: str = "",
) -> list[CheckedReference]:
    """How each found reference fares by ``run``'s rules; each distinct target is resolved once
    (and its value dropped at once).  Lookups by name follow the proxy's rule; ``lookup_off``
    names what turned them off (then none is looked up).  A reference that resolves carries
    its secret's expiry (from the metadata of what resolved)."""
    from docker_pass.core.references.resolution import (
        ReferenceResult,
        check_reference,
        look_up_by_name,
    )

    metadata: dict[tuple[str, str], Mapping[str, str]] = {}

    def resolving(pattern: Pattern) -> Resolution:
        """``resolve``, keeping each answer's metadata (never its value) for the expiry."""
        answer = resolve(pattern)
        for envelope in answer.envelopes:
            if envelope.metadata:
                metadata[(envelope.id.value, envelope.provider)] = dict(envelope.metadata)
        return answer

    by_target: dict[tuple[str, bool], ReferenceResult] = {}
    checked = []
    for ref in found:
        key = (ref.target, ref.lookup)
        result = by_target.get(key)
        if result is None and ref.lookup and lookup_off:
            result = ReferenceResult(ref.variable, None, [], [], "", {}, target=ref.target)
        elif result is None and ref.lookup:
            result = by_target[key] = look_up_by_name(ref.target, resolving)[1]
        elif result is None:
            result = by_target[key] = check_reference(ref.variable, ref.target, resolving)
        checked.append(CheckedReference(ref, result, lookup_off, _expiry(result, metadata)))
    return checked


def _expiry(
    result: ReferenceResult, metadata: Mapping[tuple[str, str], Mapping[str, str]]
) -> Expiry | None:
    """The expiry of what ``result`` resolved to, from its provider's metadata."""
    from docker_pass.core.references.resolution import ReferenceStatus

    if result.status != ReferenceStatus.RESOLVES or result.id is None:
        return None
    found = metadata.get((result.id.value, result.provider))
    if not found:
        return None
    from docker_pass.core.expiry import expiry_of

    return expiry_of(found)


# -- reading ------------------------------------------------------------------------------------


def read_compose_text(path: Path, kind: str) -> str:
    """The text of ``path`` (named ``kind`` when missing): a regular file under the limit, so a
    FIFO, a device or a huge file is an error that says so, never a hang or a MemoryError."""
    from docker_pass.core.regular_files import FileReadError, read_regular_file

    what = "Compose file" if path.name.endswith(COMPOSE_SUFFIXES) else "env-file"
    try:
        return read_regular_file(path, what).decode("utf-8")
    except FileReadError as exc:
        if exc.missing:
            raise ComposeFileError(f"{kind} not found: {path}") from None
        raise ComposeFileError(f"reading {path}: {exc.reason}") from None
    except UnicodeDecodeError:
        raise ComposeFileError(f"reading {path}: not UTF-8 text") from None


def compose_document(path: Path, text: str) -> dict[object, object] | None:
    """The Compose mapping ``text`` holds, or ``None`` when ``path`` is an env file."""
    import yaml  # ~17 ms here (with libyaml): only check reads YAML, never get/ls/run

    by_name = path.name.endswith(COMPOSE_SUFFIXES)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        if not by_name:
            return None  # not YAML: an env file (whose own parser says what is wrong)
        raise ComposeFileError(f"reading Compose file {path}: {_yaml_problem(exc)}") from None
    if isinstance(document, dict) and "services" in document:
        return document
    if not by_name:
        return None
    if not isinstance(document, dict):
        raise ComposeFileError(
            f"reading Compose file {path}: the top level must be a mapping, not {_kind(document)}"
        )
    return document


def _yaml_problem(exc: Exception) -> str:
    """``line L, column C: problem`` from a PyYAML error (its text spans several lines)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "not valid YAML"
    if mark is None:
        return shorten(str(problem))
    return f"line {mark.line + 1}, column {mark.column + 1}: {shorten(str(problem))}"


def _kind(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _compose_references(path: Path, document: dict[object, object]) -> Iterator[FoundReference]:
    services = document.get("services")
    if services is None:
        return
    if not isinstance(services, dict):
        raise ComposeFileError(
            f"reading Compose file {path}: services must be a mapping, not {_kind(services)}"
        )
    for name, service in services.items():
        if service is None:
            continue
        where = f"reading Compose file {path}: service {name}"
        if not isinstance(service, dict):
            raise ComposeFileError(f"{where} must be a mapping, not {_kind(service)}")
        yield from _environment_references(path, str(name), service.get("environment"), where)
        yield from _label_references(path, str(name), service.get("labels"), where)
        for env_file in env_file_paths(path, service.get("env_file"), where):
            text = read_compose_text(env_file, f"env_file of service {name} in {path}")
            yield from _env_file_references(env_file, str(name), text)


def _environment_references(
    path: Path, service: str, environment: object, where: str
) -> Iterator[FoundReference]:
    if environment is None:
        return
    # Each variable's value as written; None where Compose takes the shell's (`KEY` alone in a
    # list, `KEY:` with no value in a mapping).
    pairs: list[tuple[str, object]]
    if isinstance(environment, dict):
        pairs = [(str(k), v) for k, v in environment.items()]
    elif isinstance(environment, list):
        pairs = []
        for entry in environment:
            if not isinstance(entry, str):
                raise ComposeFileError(
                    f"{where}: an environment list holds KEY=VALUE strings, not {_kind(entry)}"
                )
            key, sep, text = entry.partition("=")
            pairs.append((key, text if sep else None))
    else:
        raise ComposeFileError(
            f"{where}: environment must be a mapping or a list, not {_kind(environment)}"
        )
    for key, written in pairs:
        # Compose passes the shell's value where none is written (or nothing).
        value = os.environ.get(key, "") if written is None else written
        target = reference_target(value) if isinstance(value, str) else None
        if target is not None:
            yield FoundReference(path, service, key, target)
        elif value == "" and sent_empty(key) is not None:
            yield FoundReference(path, service, key, key, lookup=True)


def _label_references(
    path: Path, service: str, labels: object, where: str
) -> Iterator[FoundReference]:
    """``x-secret:<ID>=/path`` labels: each names a secret written as a file (its variable
    column shows the label).  In the mapping form Compose drops them, which the note says."""
    if labels is None:
        return
    if isinstance(labels, dict):
        pairs = [(str(k), str(v), MAPPING_LABEL_NOTE) for k, v in labels.items()]
    elif isinstance(labels, list):
        pairs = []
        for entry in labels:
            if not isinstance(entry, str):
                raise ComposeFileError(
                    f"{where}: a labels list holds KEY=VALUE strings, not {_kind(entry)}"
                )
            key, _, value = entry.partition("=")
            pairs.append((key, value, ""))
    else:
        raise ComposeFileError(f"{where}: labels must be a mapping or a list, not {_kind(labels)}")
    for key, value, note in pairs:
        if key.startswith(FILE_LABEL_PREFIX):
            yield FoundReference(
                path, service, f"{key}={value}", key[len(FILE_LABEL_PREFIX) :], note
            )


def env_file_paths(path: Path, env_file: object, where: str) -> Iterator[Path]:
    """The env files a service's ``env_file:`` names that exist or are required."""
    if env_file is None:
        return
    entries = env_file if isinstance(env_file, list) else [env_file]
    for entry in entries:
        required = True
        if isinstance(entry, dict):
            required = entry.get("required", True) is not False
            entry = entry.get("path")  # noqa: PLW2901 - the mapping form's path
        if not isinstance(entry, str) or not entry:
            raise ComposeFileError(
                f"{where}: an env_file entry is a path or a mapping with a path, not {_kind(entry)}"
            )
        file = path.parent / os.path.expanduser(entry)
        if required or file.exists():
            yield file


#: A line the dotenv parser reads as written: ``KEY=value`` with no quote, space, ``#``, ``\\``
#: or ``$`` in it (nothing to unquote, strip, expand or cut), or a comment line.
_PLAIN_LINE = r"(?:[A-Za-z_][A-Za-z0-9_.]*=[^\s'\"#\\$\x00]*|#[^\r\n]*)?"


def _plain_env_values(text: str) -> dict[str, str] | None:
    """The variables of an env file made only of plain lines (:data:`_PLAIN_LINE`), as the
    dotenv parser would read them; ``None`` for anything else (then the parser reads it).

    ``uses`` reads every env file of every Compose project it meets: most are plain, and
    importing the dotenv parser alone costs ~20 ms."""
    import re

    if "\r" in text:
        return None
    line = re.compile(_PLAIN_LINE)
    values: dict[str, str] = {}
    for entry in text.split("\n"):
        if line.fullmatch(entry) is None:
            return None
        if entry and entry[0] != "#":
            key, _, value = entry.partition("=")
            values[key] = value
    return values


def _env_file_references(path: Path, service: str, text: str) -> Iterator[FoundReference]:
    from docker_pass.core.envfiles import parse_env_text
    from docker_pass.core.references.resolution import RunError

    values = _plain_env_values(text)
    if values is None:
        try:
            # Only values written in the file: a bare KEY (the shell's value) is not checked.
            values = parse_env_text(text, path, inherit=False)
        except RunError as exc:
            raise ComposeFileError(str(exc)) from None
    for key, value in values.items():
        target = reference_target(value)
        if target is not None:
            yield FoundReference(path, service, key, target)
        elif value == "" and sent_empty(key) is not None:
            yield FoundReference(path, service, key, key, lookup=True)
