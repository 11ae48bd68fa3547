"""Env files (dotenv), read as ``docker run --env-file`` reads them, for ``run`` and ``check``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from docker_pass.core.references.resolution import RunError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path


def load_environment(env_files: Sequence[Path], base: Mapping[bytes, bytes]) -> dict[bytes, bytes]:
    """``base`` then each env file in order (later ones override earlier ones)."""
    env = dict(base)
    for path in env_files:
        for key, value in read_env_file(path).items():
            env[os.fsencode(key)] = os.fsencode(value)
    return env


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a dotenv file with python-dotenv; a bad file is an error naming it and the line.

    A line that is a bare ``KEY`` takes its value from this process's environment, as docker's
    ``--env-file`` does.
    """
    from docker_pass.core.regular_files import FileReadError, read_regular_file

    try:
        text = read_regular_file(path, "env-file").decode("utf-8")
    except FileReadError as exc:
        raise RunError(str(exc)) from None
    except UnicodeDecodeError:
        raise RunError(f"reading env-file {path}: not UTF-8 text") from None
    return parse_env_text(text, path)


def parse_env_text(text: str, path: Path, *, inherit: bool = True) -> dict[str, str]:
    """The variables of dotenv ``text`` read from ``path`` (named in errors), as
    :func:`read_env_file` returns them; without ``inherit`` a bare ``KEY`` is left out, so only
    values written in the text are returned."""
    import io

    from dotenv.parser import parse_stream  # ~50 ms: only paid when an env file is read

    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            line = binding.original.line
            raise RunError(f"reading env-file {path}: cannot parse line {line}")
        if binding.key is None:
            continue
        if "=" in binding.key:  # `'A=B'=x`: quotes let dotenv read a name no variable has
            line = binding.original.line
            raise RunError(
                f"reading env-file {path}: line {line} names a variable with '=' in its name, "
                "which an environment variable cannot have"
            )
        if "\0" in binding.key or "\0" in (binding.value or ""):
            line = binding.original.line
            raise RunError(
                f"reading env-file {path}: line {line} holds a NUL byte, "
                "which an environment variable cannot carry"
            )
        if binding.value is None:
            # `KEY` alone: take it from the environment, as docker's --env-file does.
            inherited = os.environ.get(binding.key) if inherit else None
            if inherited is not None:
                values[binding.key] = inherited
            continue
        values[binding.key] = binding.value
    return values
