"""``uses``'s output: per secret ID its containers, Compose services and files (text or one
JSON document), and the words that mark an expiry (``check`` marks its rows with them too).

Everything shown of a place came from outside (container names, labels, file paths): a text
cell escapes what is not printable (JSON escapes it by itself).  Never a value: nothing here
has one.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from docker_pass.core.docker.usage import CONTAINER, FILE, SERVICE

if TYPE_CHECKING:
    from collections.abc import Sequence

    from docker_pass.core.docker.usage import Referrer, Use, UsesReport
    from docker_pass.core.expiry import Expiry
    from docker_pass.core.results import Listing

#: The most of one outside text a cell shows.
CELL_LIMIT = 200
#: Group titles, in the order groups are shown.
GROUPS = ((CONTAINER, "containers"), (SERVICE, "Compose services"), (FILE, "files"))


def expiry_words(expiry: Expiry | None, soon_days: int | None = None) -> str:
    """``expired 3 days ago``, ``expired today``, ``expires today``, ``expires in 5 days`` for
    an expired secret or one that expires within ``soon_days`` (default
    :data:`~docker_pass.core.expiry.SOON_DAYS`); ``""`` otherwise (later, unparsable, none)."""
    from docker_pass.core.expiry import ExpiryState, plural_days

    if not expiry_due(expiry, soon_days) or expiry is None or expiry.days is None:
        return ""
    days = expiry.days
    if expiry.state == ExpiryState.EXPIRED:
        return "expired today" if days == 0 else f"expired {-days} {plural_days(-days)} ago"
    return "expires today" if days == 0 else f"expires in {days} {plural_days(days)}"


def expiry_due(expiry: Expiry | None, soon_days: int | None = None) -> bool:
    """Whether ``expiry`` has passed or comes within ``soon_days`` days (``0``: expired only;
    default :data:`~docker_pass.core.expiry.SOON_DAYS`)."""
    from docker_pass.core.expiry import SOON_DAYS, ExpiryState

    if expiry is None or expiry.days is None or expiry.state == ExpiryState.UNPARSABLE:
        return False
    if expiry.state == ExpiryState.EXPIRED:
        return True
    window = SOON_DAYS if soon_days is None else soon_days
    return window > 0 and expiry.days <= window


def expiry_entry(expiry: Expiry) -> dict[str, object]:
    """An expiry in JSON: the metadata text, its state, whole days left, the words."""
    return {
        "expires": expiry.text,
        "state": expiry.state.value,
        "days": expiry.days,
        "mark": expiry_words(expiry) or None,
    }


def cell(text: str) -> str:
    """Outside text for one table cell: cut at the quote limit, what is not printable
    escaped (Go's quoting), so no escape sequence reaches the terminal."""
    if text.isprintable():
        return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"
    from docker_pass.core.errors import go_quote

    return go_quote(text, CELL_LIMIT)


def uses(report: UsesReport, listing: Listing, pattern: str, *, as_json: bool) -> int:
    """``uses``: the report as text groups or one JSON document; the Docker engine's line,
    problems and plugins that did not list on stderr.  Exit 1 only when no plugin listed."""
    from docker_pass.cli.render import clean_outside

    if as_json:
        print(_json_text(_document(report)))
    else:
        lines = _text(report)
        if lines:
            print("\n".join(lines))
        elif not report.docker:
            print(f"nothing uses a secret matching {cell(pattern)}", file=sys.stderr)
    if report.docker:
        print(f"Warning: {clean_outside(report.docker)}", file=sys.stderr)
    for problem in report.problems:
        print(f"Warning: {clean_outside(problem)}", file=sys.stderr)
    for name, message in listing.errors.items():
        print(f"Warning: plugin {name}: {clean_outside(message)}", file=sys.stderr)
    for name, why in listing.down.items():
        print(f"Warning: plugin {name} is {clean_outside(why)}", file=sys.stderr)
    if listing.failed and not listing.infos:
        names = ", ".join(listing.failed)
        print(f"Error: no secrets listed: no plugin could answer ({names})", file=sys.stderr)
        return 1
    return 0


# -- JSON ----------------------------------------------------------------------------------------


def _document(report: UsesReport) -> dict[str, Any]:
    return {
        "uses": {id_: [_use_entry(u) for u in found] for id_, found in report.uses.items()},
        "expiry": {id_: expiry_entry(e) for id_, e in report.expiry.items()},
        "dangling": [_dangling_entry(r) for r in report.dangling],
        "unused": list(report.unused),
        "docker": report.docker,
        "problems": list(report.problems),
    }


def _json_text(document: dict[str, Any]) -> str:
    """The document indented to its lists, each place on one line: ``json.dumps`` with an
    ``indent`` takes its pure-Python path (~10 ms over a thousand places), one line per
    place is its C encoder, and as easy to read and to grep."""
    import json

    dump = json.dumps
    lines = ["{"]
    last = len(document) - 1
    for n, (key, value) in enumerate(document.items()):
        comma = "," if n < last else ""
        if key == "uses" and value:
            lines.append(f"  {dump(key)}: {{")
            ids = list(value.items())
            for i, (id_, entries) in enumerate(ids):
                lines.append(f"    {dump(id_)}: [")
                lines.append(",\n".join(f"      {dump(e)}" for e in entries))
                lines.append("    ]" + ("," if i < len(ids) - 1 else ""))
            lines.append("  }" + comma)
        elif isinstance(value, list) and value:
            lines.append(f"  {dump(key)}: [")
            lines.append(",\n".join(f"    {dump(e)}" for e in value))
            lines.append("  ]" + comma)
        else:
            lines.append(f"  {dump(key)}: {dump(value)}{comma}")
    lines.append("}")
    return "\n".join(lines)


def _referrer_entry(referrer: Referrer) -> dict[str, Any]:
    place = referrer.place
    return {
        "kind": place.kind,
        "name": place.name,
        "state": place.state,
        "via": referrer.via,
        "reference": None if referrer.lookup else referrer.reference,
        "lookup": referrer.target if referrer.lookup else None,
        "project": place.project,
        "service": place.service,
        "working_dir": place.working_dir,
        "config_files": list(place.config_files),
        "file": place.file,
        "container_id": place.container_id,
    }


def _use_entry(use: Use) -> dict[str, Any]:
    entry = _referrer_entry(use.referrer)
    entry["by_pattern"] = use.by_pattern
    return entry


def _dangling_entry(referrer: Referrer) -> dict[str, Any]:
    from docker_pass.core.docker.uses import dangling_reason

    entry = _referrer_entry(referrer)
    entry["reason"] = dangling_reason(referrer)
    return entry


# -- text ----------------------------------------------------------------------------------------


def _text(report: UsesReport) -> list[str]:
    lines: list[str] = []
    for id_, found in report.uses.items():
        mark = expiry_words(report.expiry.get(id_))
        lines.append(f"{id_}  ({mark})" if mark else id_)
        for kind, title in GROUPS:
            rows = [_row(u.referrer, u.by_pattern) for u in found if u.place.kind == kind]
            if rows:
                lines.append(f"  {title}:")
                lines.extend(_aligned(rows, "    "))
    if report.dangling:
        lines.append("dangling references (no secret):")
        from docker_pass.core.docker.uses import dangling_reason

        rows = [[*_row(r, False), cell(dangling_reason(r))] for r in report.dangling]
        lines.extend(_aligned(rows, "  "))
    if report.unused:
        lines.append("unused (nothing refers to them):")
        lines.extend(f"  {id_}" for id_ in report.unused)
    return lines


def _row(referrer: Referrer, by_pattern: bool) -> list[str]:
    place = referrer.place
    notes = []
    if by_pattern:
        notes.append("by pattern")
    reference = referrer.reference
    if place.kind == CONTAINER:
        if place.project:
            notes.append(f"compose {place.project}/{place.service}".rstrip("/"))
        head = [place.name, place.state or "-"]
    elif place.kind == SERVICE:
        if place.state:
            notes.append(place.state)
        head = [place.name, place.working_dir or "-", place.file]
    else:
        if place.service:
            notes.append(f"service {place.service}")
        head = [place.file or place.name]
    return [cell(c) for c in (*head, referrer.via, reference, ", ".join(notes))]


def _aligned(rows: Sequence[list[str]], indent: str) -> list[str]:
    """Rows with each column padded to its widest cell (per column count: groups differ)."""
    if not rows:
        return []
    width = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        (indent + "  ".join(c.ljust(w) for c, w in zip(row, width, strict=False))).rstrip()
        for row in rows
    ]
