"""Yes/no questions on the terminal, and the one ID, one answer rule of ``set`` and ``mv``.

A question is asked only when a person is there to answer it: stdin and stderr both
terminals.  It goes to stderr (stdout carries data) and an answer other than ``y``/``yes``,
or the end of input, is a no.  Without a terminal the command refuses instead, and a flag
says yes (``--allow-duplicate``, ``-y``): a script never hangs on a question, and never gets
a silent yes.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from docker_pass.core.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from docker_pass.core.duplicates import Lister
    from docker_pass.core.ids import ID, Pattern


def on_terminal() -> bool:
    """Whether a person can answer a question: stdin and stderr are terminals."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def ask(question: str) -> bool:
    """Ask ``question`` (ending ``[y/N]``) on stderr; whether the answer is yes."""
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def duplicates_of(
    front: Lister,
    ids: Mapping[ID, ID],
    plugin: str,
    *,
    moving_from: str | None = None,
    within: Pattern | None = None,
) -> dict[ID, list[str]]:
    """For each ID to be written to ``plugin``, the other running plugins that hold it now
    (IDs nobody else holds are left out).

    ``ids`` maps each ID to write to the ID it comes from (itself for ``set``): a secret moved
    under the same ID out of plugin ``moving_from`` leaves that plugin, which is then no
    second holder.  ``within``: one listing of that pattern (a realm's) answers for every ID,
    rather than one listing per ID (:func:`~docker_pass.core.duplicates.holders`).
    """
    from docker_pass.core.duplicates import holders
    from docker_pass.core.errors import DockerPassError

    held: dict[ID, set[str]] = {}
    try:
        if within is not None:
            for info in front.list_secrets(within).infos:
                held.setdefault(info.id, set()).add(info.provider)
        else:
            for id_ in ids:
                held[id_] = set(holders(front, id_))
    except DockerPassError as exc:
        # The write itself will say what is wrong, if anything; this one is not kept quiet.
        from docker_pass.cli.render import clean_outside

        print(
            f"Warning: could not ask the other plugins for the ID: {clean_outside(str(exc))}",
            file=sys.stderr,
        )
        return {}
    found: dict[ID, list[str]] = {}
    for id_, source in ids.items():
        names = set(held.get(id_, ()))
        names.discard(plugin)
        if moving_from is not None and source == id_:
            names.discard(moving_from)
        if names:
            found[id_] = sorted(names)
    return found


#: What was not done, by verb, when the person says no.
_UNDONE = {"save": "nothing saved", "move": "nothing moved"}


def allow_duplicates(
    duplicates: Mapping[ID, list[str]], plugin: str, *, allowed: bool, verb: str
) -> None:
    """Warn about each ID another plugin holds too; then go on (``allowed``, or a yes on the
    terminal) or refuse with :class:`UsageError`, nothing written.  ``verb``: ``save`` or
    ``move``."""
    if not duplicates:
        return
    from docker_pass.core.duplicates import duplicate_warning

    for id_, others in duplicates.items():
        print(f"Warning: {duplicate_warning(id_, plugin, others)}", file=sys.stderr)
    if allowed:
        return
    if on_terminal():
        if ask(f"{verb.capitalize()} anyway?"):
            return
        raise UsageError(f"{_UNDONE[verb]}: {_which(duplicates)} stays with one plugin")
    raise UsageError(
        f"refusing to {verb} {_which(duplicates)} to {plugin} while another plugin holds it "
        f"({_UNDONE[verb]}); --allow-duplicate does it anyway"
    )


def _which(duplicates: Mapping[ID, list[str]]) -> str:
    ids = sorted(id_.value for id_ in duplicates)
    if len(ids) == 1:
        return ids[0]
    shown = ", ".join(ids[:3]) + (", …" if len(ids) > 3 else "")
    return f"{len(ids)} secrets ({shown})"
