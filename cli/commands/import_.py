"""`import FILE`: store a .env's (or Compose file's) plain values as secrets and rewrite the
file to se:// references."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from docker_pass.cli.plugin_choice import add_plugin_option
from docker_pass.core.errors import DockerPassError

if TYPE_CHECKING:
    from pathlib import Path

    from docker_pass.core.ids import ID
    from docker_pass.core.importing.plan import Plan
    from docker_pass.core.remote.front import EngineFront

EXAMPLES = """\
examples:
  docker pass import .env --dry-run          # what would be stored, reused, rewritten (no values)
  docker pass import .env                    # in folder myapp: DB_PASSWORD=... -> se://myapp/db_password
  docker pass import .env --prefix team/api --plugin vault
  docker pass import compose.yaml --format compose

Names: PREFIX/key. PREFIX is --prefix, else the name of the file's folder; both the folder's
name and the variable's name are lower-cased, and every character an ID cannot hold (anything
but a-z 0-9 . _ - :) becomes '-': DB_PASSWORD in folder 'My App' is my-app/db_password.

Each plain value is stored as a secret (in the keychain unless --plugin names another writable
plugin), or reused when that ID already holds the same value. A different value already at the
ID is never replaced unless --overwrite is given: that variable is left as it is and the exit
status is 1. Values that are se:// references already, empty values and a bare KEY are left
alone, and so is a value Compose interpolates: in a .env, an unquoted or double-quoted one
holding '$' (single-quoted, it is imported as written); in a Compose file, one with '${VAR}' or
'$VAR' ('$$' is stored as the one '$' Compose passes on). The file is then rewritten with each
imported value replaced by its reference, in the quotes it had (KEY="x" ->
KEY="se://myapp/key"); comments, order, spacing, 'export', line endings and every other line
stay byte for byte; a multi-line value becomes one line.
The old file is kept as FILE.docker-pass-backup (0600; .1, .2 ... if that exists): it holds
the plain values, so delete it once you have checked. If storing fails half-way, the file is
not changed and the error names the secrets already stored (run import again to reuse them).
Values never appear in the output, --dry-run's or --json's."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "import",
        help="Store a .env's plain values as secrets and rewrite it to se:// references",
        description=(
            "Store each plain value of a dotenv file (or, with --format compose, of a Compose "
            "file's services' environment:) as a secret PREFIX/key, and rewrite the file so "
            "each becomes KEY=se://PREFIX/key."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE", help="the .env (or Compose) file to import")
    parser.add_argument(
        "--format",
        choices=("dotenv", "compose"),
        default="dotenv",
        help="dotenv (the default: the grammar of 'run --env-file') or compose",
    )
    parser.add_argument(
        "--prefix", metavar="ID", help="the realm of the new secrets (default: the folder name)"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="say what would be stored, reused and rewritten; change nothing",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a secret that holds a different value (default: leave that key alone)",
    )
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    add_plugin_option(parser, "store the secrets in")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from docker_pass.core.importing.files import read_text
    from docker_pass.core.importing.naming import checked_prefix, default_prefix

    path = Path(args.file)
    given = checked_prefix(args.prefix) if args.prefix else None  # a usage error comes first
    data = read_text(path, "Compose file" if args.format == "compose" else "env-file")
    prefix = given if given is not None else default_prefix(path.parent)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DockerPassError(f"reading {path}: not UTF-8 text") from None
    source = _source(args.format, text, path)
    from docker_pass.cli.commands.engine import engine_for

    # Every running plugin, not only the one written to: the duplicate rule asks them all.
    with engine_for(args) as engine:
        _check_writable(engine, args.plugin)
        plan = _plan(engine, source, prefix, args)
        from docker_pass.core.names import REFERENCE_SCHEME

        new_text = source.rewrite(
            {item.index: f"{REFERENCE_SCHEME}{item.id}" for item in plan.rewritten}
        )
        backup: Path | None = None
        if not args.dry_run:
            backup = _carry_out(plan, engine, args.plugin, path, data, new_text.encode("utf-8"))
    from docker_pass.cli.import_render import render

    render(plan, path=path, prefix=prefix, plugin=args.plugin, backup=backup, args=args)
    return 1 if plan.refused else 0


def _carry_out(
    plan: Plan, engine: EngineFront, plugin: str, path: Path, old: bytes, new: bytes
) -> Path | None:
    """Back the file up, store the values, then replace the file; the backup (``None`` when
    the file is unchanged).  On a failure, say what was stored already and leave the file as
    it was (a backup made for nothing is removed)."""
    from docker_pass.core.importing.files import ImportFileError, replace_file, write_backup
    from docker_pass.core.importing.plan import carry_out

    backup = write_backup(path, old) if new != old else None
    try:
        stored = carry_out(plan, lambda id_, value: engine.save(id_, value, {}, plugin=plugin))
    except BaseException:  # a plugin's error, or ctrl+c: the file stays as it was
        if backup is not None:
            backup.unlink(missing_ok=True)
        raise
    if backup is None:
        return None
    try:
        replace_file(path, old, new)
    except ImportFileError as exc:
        names = ", ".join(str(id_) for id_ in stored) or "none"
        raise ImportFileError(f"{exc}; already stored: {names}").with_hints(
            "run import again: it reuses what was stored"
        ) from None
    return backup


class _Source:
    """The bindings of one file and how to rewrite it (dotenv or Compose)."""

    def kept(self, index: int) -> str:
        """Why the value of binding ``index`` is left alone in this kind of file ("" when it
        is not)."""
        del index
        return ""

    def bindings(self) -> list[tuple[str, int, str | None]]:
        raise NotImplementedError

    def rewrite(self, new_values: dict[int, str]) -> str:
        raise NotImplementedError


class _Dotenv(_Source):
    def __init__(self, text: str, path: Path) -> None:
        from docker_pass.core.importing.dotenv_rewrite import entries_of

        self.text = text
        self.path = path
        self.entries = entries_of(text, path)

    def bindings(self) -> list[tuple[str, int, str | None]]:
        return [(entry.key, entry.line, entry.value) for entry in self.entries]

    def kept(self, index: int) -> str:
        # Compose interpolates unquoted and double-quoted values (each "$$" is one "$" there);
        # docker run --env-file and run --env-file take them as written: no one value would
        # keep its meaning everywhere.  A single-quoted value means the same to all three.
        entry = self.entries[index]
        if entry.quote != "'" and "$" in (entry.value or ""):
            return "Compose interpolates it ($); single-quoted, it is imported as written"
        return ""

    def rewrite(self, new_values: dict[int, str]) -> str:
        from docker_pass.core.importing.dotenv_rewrite import rewrite

        return rewrite(self.text, self.entries, new_values, self.path) if new_values else self.text


class _Compose(_Source):
    def __init__(self, text: str, path: Path) -> None:
        from docker_pass.core.importing.compose_rewrite import compose_entries

        self.text = text
        self.path = path
        self.entries = compose_entries(text, path)

    def bindings(self) -> list[tuple[str, int, str | None]]:
        from docker_pass.core.importing.compose_rewrite import passed_on

        # The value stored is what Compose passes on ("$$" is "$"), so the container that
        # gets it through the reference gets what it got before.
        return [
            (entry.key, entry.line, None if entry.value is None else passed_on(entry.value))
            for entry in self.entries
        ]

    def kept(self, index: int) -> str:
        from docker_pass.core.importing.compose_rewrite import interpolated

        value = self.entries[index].value
        return "Compose interpolates it ($)" if interpolated(value or "") else ""

    def rewrite(self, new_values: dict[int, str]) -> str:
        from docker_pass.core.importing.compose_rewrite import rewrite_compose

        if not new_values:
            return self.text
        return rewrite_compose(self.text, self.entries, new_values, self.path)


def _source(kind: str, text: str, path: Path) -> _Source:
    return _Compose(text, path) if kind == "compose" else _Dotenv(text, path)


def _check_writable(engine: EngineFront, plugin: str) -> None:
    """A clear refusal before anything is planned when ``plugin`` cannot store secrets."""
    from docker_pass.core.plugin import Capability

    for status in engine.plugins(start=False):
        if status.name == plugin and Capability.WRITE not in status.capabilities:
            from docker_pass.core.errors import ReadOnlyError

            raise ReadOnlyError(
                f"plugin {plugin} is read-only: it cannot store secrets "
                "(see 'docker pass plugins ls' for the writable ones)"
            )


def _plan(
    engine: EngineFront,
    source: _Source,
    prefix: str,
    args: argparse.Namespace,
) -> Plan:
    from docker_pass.core.errors import SecretNotFoundError
    from docker_pass.core.importing.plan import make_plan

    def stored_value(id_: ID) -> bytes | None:
        try:
            return engine.get(id_, plugin=args.plugin).value
        except SecretNotFoundError:
            return None

    def held_elsewhere(ids: list[ID]) -> dict[ID, list[str]]:
        if not ids:
            return {}
        from docker_pass.cli.questions import duplicates_of

        return duplicates_of(engine, {id_: id_ for id_ in ids}, args.plugin)

    return make_plan(
        source.bindings(),
        prefix,
        stored_value=stored_value,
        held_elsewhere=held_elsewhere,
        overwrite=args.overwrite,
        kept=source.kept,
    )
