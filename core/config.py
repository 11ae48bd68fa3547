"""The user's configuration file and small atomic writes shared by config and state.

``$XDG_CONFIG_HOME/docker-pass/config.json`` holds settings a person chooses (which storage the
``docker-pass`` plugin uses, plugin patterns, enabled flags).  Precedence everywhere is
environment, then config file, then the best available default, and every resolver reports
which of them won.
"""

from __future__ import annotations

import os
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from docker_pass.core.errors import DockerPassError
from docker_pass.core.store import xdg_dir, xdg_path

if TYPE_CHECKING:
    from pathlib import Path

CONFIG_FILE = "config.json"


def config_path() -> Path:
    """Where the configuration file lives."""
    return xdg_dir("config") / CONFIG_FILE


def load_config(path: Path | None = None) -> dict[str, Any]:
    """The configuration as a dict; ``{}`` when there is no file.

    Raises one :class:`DockerPassError` naming the file (and the key, see
    :mod:`.config_schema`) when it is unreadable, not UTF-8, not JSON, too deeply nested or holds
    a value of the wrong type.  Unknown keys are kept.
    """
    where = str(path) if path is not None else os.path.join(xdg_path("config"), CONFIG_FILE)
    from docker_pass.core.private_files import check_owned_by_user
    from docker_pass.core.regular_files import FileReadError, read_regular_file

    try:
        # As ssh does for its config: a file (or folder) someone else owns or may write could
        # name a program for us to run (the op CLI); a link is followed only if it is ours.
        check_owned_by_user(where)
        check_owned_by_user(os.path.dirname(where) or ".")
        # A regular file under the limit: a FIFO or a device there is an error, not a hang.
        raw = read_regular_file(where, "config").decode("utf-8")
    except FileNotFoundError:
        return {}
    except FileReadError as exc:
        if exc.missing:
            return {}
        raise DockerPassError(str(exc)) from None
    except OSError as exc:
        raise DockerPassError(f"reading config {where}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        message = f"reading config {where}: not UTF-8 text (a bad byte at offset {exc.start})"
        raise DockerPassError(message) from None
    import json  # only when there is a file to read

    from docker_pass.core.config_schema import MAX_DEPTH, validate_config

    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        message = f"reading config {where}: invalid JSON at line {exc.lineno}"
        raise DockerPassError(message) from None
    except RecursionError:
        # json's C decoder recurses once per level: tens of thousands of [ exhaust the stack.
        raise DockerPassError(f"config {where}: nested deeper than {MAX_DEPTH} levels") from None
    if not isinstance(data, dict):
        raise DockerPassError(f"reading config {where}: expected a JSON object")
    validate_config(data, where)
    return data


def save_config(data: dict[str, Any], path: Path | None = None) -> None:
    """Write the configuration atomically."""
    write_json_atomic(path or config_path(), data)


def write_json_atomic(path: Path, data: object) -> None:
    """Write ``data`` as JSON to ``path`` by temp file, fsync and rename, in a 0700 directory."""
    import json
    import tempfile  # ~5 ms (shutil, random): only writers pay it

    from docker_pass.core.private_files import ensure_private_dir

    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
