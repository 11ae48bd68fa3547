"""The CLI's one renderer: every verb's result object printed as text or JSON.

Data goes to stdout, diagnostics to stderr; a function that decides an exit code returns it.
Values are printed only where a person asked for them (``get --reveal``); ``json`` is imported
only when JSON is asked for.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from docker_pass.core.docker.compose import CheckedReference
    from docker_pass.core.envelope import Envelope, SecretInfo
    from docker_pass.core.errors import VersionConflictError
    from docker_pass.core.ids import ID
    from docker_pass.core.references.resolution import ReferenceResult
    from docker_pass.core.results import Listing, PluginStatus, Removal

from docker_pass.core.plugin import with_remedy

MASKED_VALUE = "**********"


def clean_outside(text: str) -> str:
    """``text`` from outside (a plugin's or a server's message, a state file's) as one safe
    line: :func:`docker_pass.core.outside.clean_outside`, imported only when a message is shown."""
    from docker_pass.core.outside import clean_outside as clean

    return clean(text, OUTSIDE_MESSAGE_LIMIT)


#: How much of a plugin's message a line shows (a remedy at its end must survive).
OUTSIDE_MESSAGE_LIMIT = 600


def _print_json(doc: Any) -> None:
    import json

    print(json.dumps(doc, indent=2))


def envelope(env: Envelope, *, reveal: bool, as_json: bool) -> None:
    """``get``: the ID and a masked value; the value alone with ``reveal``; or JSON."""
    if as_json:
        doc: dict[str, object] = {
            "id": env.id.value,
            "provider": env.provider,
            "metadata": dict(env.metadata),
            # The token for --if-version; "" from a plugin that keeps no versions.
            "version": env.version,
        }
        if reveal:
            try:
                doc["value"] = env.value.decode()
            except UnicodeDecodeError:
                import base64

                doc["value_base64"] = base64.b64encode(env.value).decode()
        _print_json(doc)
    elif reveal:
        sys.stdout.flush()
        sys.stdout.buffer.write(env.value)
        if sys.stdout.isatty():
            sys.stdout.buffer.write(b"\n")
        sys.stdout.buffer.flush()
    else:
        print(f"ID: {env.id.value}\nValue: {MASKED_VALUE}")


def listing(result: Listing, *, long: bool, as_json: bool, deleted: bool = False) -> int:
    """``ls``: IDs, or a table with provider and metadata, or JSON; plugins that did not list
    are named on stderr.  Exit 1 when plugins failed and nothing was listed.

    A secret with ``expires`` metadata gets ``expires``/``expiry``/``expired`` fields in
    JSON, and ``--long`` an EXPIRES column when any listed secret has one (so listings
    without expiries keep their columns).  ``deleted`` (``ls --deleted``): a deleted secret
    reads ``ID (deleted)``, and every JSON entry says ``deleted`` true or false."""
    infos = result.infos
    if as_json:
        _print_json([_listing_entry(i, deleted) for i in infos])
    elif long:
        print("\n".join(_long_lines(infos)))
    elif infos:
        print("\n".join(_shown_id(i) for i in infos))
    for name, message in result.errors.items():
        print(f"Warning: plugin {name}: {clean_outside(message)}", file=sys.stderr)
    for name, why in result.down.items():
        text = with_remedy(name, f"plugin {name} is {clean_outside(why)}")
        print(f"Warning: {text}", file=sys.stderr)
    if result.failed and not infos:
        # The failure's own line comes last, so a script reading the last line reads it.
        names = ", ".join(result.failed)
        print(f"Error: nothing listed: no plugin could answer ({names})", file=sys.stderr)
        return 1
    return 0


def _shown_id(info: SecretInfo) -> str:
    """The ID as ``ls`` prints it: marked when its latest version is deleted."""
    return f"{info.id.value} (deleted)" if info.deleted else info.id.value


def _listing_entry(info: SecretInfo, deleted: bool = False) -> dict[str, object]:
    # Imported here: plain ``ls`` (IDs only) never needs the expiry rule (~1 ms).
    from docker_pass.core.expiry import expiry_of

    doc: dict[str, object] = {
        "id": info.id.value,
        "provider": info.provider,
        "metadata": dict(info.metadata),
        # "" where the listing does not know it cheaply (get --json does).
        "version": info.version,
    }
    if deleted or info.deleted:
        doc["deleted"] = info.deleted
    expiry = expiry_of(info.metadata)
    if expiry is not None:
        doc["expires"] = expiry.text
        doc["expiry"] = expiry.state.value
        doc["expired"] = expiry.is_expired
    return doc


def _long_lines(infos: Sequence[SecretInfo]) -> list[str]:
    width = max((len(_shown_id(i)) for i in infos), default=2)
    provider_width = max((len(i.provider) for i in infos), default=0)
    provider_width = max(provider_width, 11)
    expiries = [_expiry_cell(i) for i in infos]
    expiry_width = max((len(cell) for cell in expiries), default=0)
    expiry_header = ""
    if expiry_width:
        expiry_width = max(expiry_width, len("EXPIRES"))
        expiry_header = f"{'EXPIRES':<{expiry_width}}  "
    lines = [f"{'ID':<{width}}  {'PROVIDER':<{provider_width}}  {expiry_header}METADATA"]
    for i, cell in zip(infos, expiries, strict=True):
        meta = ", ".join(f"{k}={v}" for k, v in sorted(i.metadata.items()))
        expiry = f"{cell:<{expiry_width}}  " if expiry_width else ""
        line = f"{_shown_id(i):<{width}}  {i.provider:<{provider_width}}  {expiry}{meta}"
        lines.append(line.rstrip())
    return lines


def _expiry_cell(info: SecretInfo) -> str:
    """``2026-01-31 (expired)``, ``2026-12-06 (expires in 5 d)``, the bare date when far off."""
    from docker_pass.core.expiry import ExpiryState, expiry_of

    expiry = expiry_of(info.metadata)
    if expiry is None:
        return ""
    if expiry.state == ExpiryState.UNPARSABLE:
        return f"{expiry.text} (unparsable)"
    mark = expiry.mark()
    return f"{expiry.text} ({mark})" if mark else expiry.text


def version(env: Envelope) -> int:
    """``get --version``: the version token alone, for ``set --if-version``; a plugin that
    keeps none is an error (an empty token would check nothing)."""
    if not env.version:
        from docker_pass.core.versions import UNVERSIONED

        print(
            f"Error: plugin {env.provider} keeps no versions ({UNVERSIONED}): "
            "set --if-version cannot check its secrets",
            file=sys.stderr,
        )
        return 1
    print(env.version)
    return 0


def conflict(id_: ID, exc: VersionConflictError) -> str:
    """A refused versioned write as one line: ``ID changed since version V: it is now
    version W (changed at …, by …)``, or that it exists already, or was removed."""
    from docker_pass.core.versions import NO_SECRET

    if exc.expected == NO_SECRET:
        text = f"{id_.value} exists already"
        text += f": it is version {exc.found}" if exc.found and exc.found != NO_SECRET else ""
    elif exc.found == NO_SECRET:
        text = f"{id_.value} changed since version {exc.expected}: it was removed"
    elif exc.found:
        text = f"{id_.value} changed since version {exc.expected}: it is now version {exc.found}"
    else:
        text = f"{id_.value} changed since version {exc.expected}"
    when = []
    if exc.changed_at is not None:
        from datetime import datetime

        stamp = datetime.fromtimestamp(exc.changed_at).astimezone()
        when.append(f"changed at {stamp.isoformat(timespec='seconds')}")
    if exc.changed_by:
        when.append(f"by {clean_outside(exc.changed_by)}")
    if when:
        text += f" ({', '.join(when)})"
    return f"{text}; nothing was written"


def removal(result: Removal) -> int:
    """``rm``: ``RM: <id>`` per removed secret, ``ERR: <id>: <error>`` per failure."""
    return _per_id(result, result.REMOVED, "RM", "secret not found, nothing to remove", "removed")


def restoration(result: Removal) -> int:
    """``undelete``: ``RESTORED: <id>`` per restored secret, ``ERR: <id>: <error>`` per
    failure."""
    return _per_id(result, result.RESTORED, "RESTORED", "no deleted secret to restore", "restored")


def _per_id(result: Removal, done: str, mark: str, missing: str, verb: str) -> int:
    """One line per ID: ``MARK: <id>`` when its outcome is ``done`` (stdout), ``<id>:
    MISSING`` when there was nothing to do (stderr), ``ERR: <id>: <error>`` otherwise; exit 1
    with a count on stderr when any failed."""
    for id_, outcome in result.outcomes:
        if outcome == done:
            print(f"{mark}: {id_.value}", flush=True)
        elif outcome == result.MISSING:
            print(f"{id_.value}: {missing}", file=sys.stderr)
        else:
            print(f"ERR: {id_.value}: {clean_outside(outcome)}", flush=True)
    if not result.failed:
        return 0
    failed = sum(1 for _, o in result.outcomes if o not in result.DONE)
    total = len(result.outcomes)
    noun = "secret" if total == 1 else "secrets"
    print(f"Error: {failed} of {total} {noun} could not be {verb} (ERR: lines)", file=sys.stderr)
    return 1


def plugin_statuses(statuses: Sequence[PluginStatus], *, as_json: bool) -> None:
    """``plugins ls``: a table, or JSON."""
    if as_json:
        _print_json([s.to_json() for s in statuses])
        return
    rows = [("NAME", "VERSION", "STATUS", "CONFIGURABLE", "PATTERN", "STORAGE / MESSAGE")]
    wrapped = set()
    for s in statuses:
        detail = s.message or _home_as_tilde(s.storage)
        if s.message and s.is_down and s.remedy not in s.message:
            detail = f"{s.message} (then: {s.remedy})"
        if not s.message and s.store_kind:
            # Where the keychain keeps secrets and what chose it: a sentence, wrapped to the
            # width (other plugins' cells stay one line, for scripts that read the rows).
            wrapped.add(len(rows))
        rows.append(
            (s.name, s.version, s.status, "yes" if s.configurable else "no", s.pattern, detail)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for number, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        start = "  ".join(cells) + "  "
        if number in wrapped:
            print("\n".join(_wrapped_cell(start, row[-1])))
        else:
            print((start + row[-1]).rstrip())


def _home_as_tilde(text: str) -> str:
    """``text`` with the home directory written ``~`` (paths are long, lines short)."""
    import os

    home = os.path.expanduser("~")
    return text.replace(home + "/", "~/") if home not in ("", "/") else text


def _wrapped_cell(start: str, cell: str) -> list[str]:
    """The last cell of a row after ``start``, wrapped at word boundaries to the terminal's
    width (80 when there is none); continuation lines indented to the cell when it leaves
    room for words, else by four spaces."""
    import os
    import textwrap  # only `plugins ls` wraps

    try:
        width = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size(1).columns
    except (ValueError, OSError):
        width = 80
    width = max(width, 40)
    first = max(width - len(start), 20)
    indent = " " * (len(start) if width - len(start) >= 30 else 4)
    words = textwrap.wrap(cell, first, break_on_hyphens=False, break_long_words=False)
    if len(words) <= 1:
        return [(start + cell).rstrip()]
    rest = textwrap.wrap(
        cell[len(words[0]) :].strip(),
        width - len(indent),
        break_on_hyphens=False,
        break_long_words=False,
    )
    return [start + words[0], *(indent + line for line in rest)]


def plugin_change(status: PluginStatus) -> int:
    """``plugins enable|disable``: ``NAME: STATUS (message)``; exit 1 if an enable did not run."""
    from docker_pass.core.state import RunStatus

    message = clean_outside(status.message) if status.message else ""
    print(f"{status.name}: {status.status}" + (f" ({message})" if message else ""), flush=True)
    if status.status in (RunStatus.RUNNING, RunStatus.DISABLED):
        return 0
    # The status line is the answer (stdout); the failure's one line goes last on stderr.
    print(f"Error: plugin {status.name} did not start: it is {status.status}", file=sys.stderr)
    return 1


def explain(report: Sequence[ReferenceResult]) -> int:
    """``run --explain``: how each reference resolved, or why it failed, never the value (on
    stderr).  Exit 1 when any reference failed."""
    from docker_pass.core.errors import shorten

    if not report:
        print("no se:// references in the environment", file=sys.stderr)
    for item in report:
        asked = f"asked: {', '.join(item.asked) or 'none'}; answered: {', '.join(item.answered)}"
        if item.errors:
            asked += f"; errors: {item.errors}"
        reference = f"{item.variable}: se://{shorten(item.target)}"
        if item.failed:
            context = f" ({asked})" if item.asked else ""
            print(f"{reference} -> failed: {item.error}{context}", file=sys.stderr)
            for hint in item.hints:
                print(f"Hint: {hint}", file=sys.stderr)
        else:
            print(f"{reference} -> provider {item.provider} ({asked})", file=sys.stderr)
    return 1 if any(item.failed for item in report) else 0


def check(
    checked: Sequence[CheckedReference],
    files: Sequence[Path],
    *,
    as_json: bool,
    expiry_days: int | None = None,
    fail_on_expiry: bool = False,
) -> int:
    """``check``: a table of references (file, service, variable, reference, status, detail),
    or JSON; never a value.  Hints of failures (plugins that were down) go to stderr once each.
    Exit 1 when any reference fails, or (``fail_on_expiry``) when a referenced secret is
    expired or expires within ``expiry_days`` (each named on stderr).  A row whose secret
    expires gets an EXPIRY column (JSON: an ``expiry`` field), as ``uses`` marks it."""
    from docker_pass.cli.render_uses import expiry_due, expiry_entry, expiry_words

    marks = [expiry_words(c.expiry, expiry_days) for c in checked]
    if as_json:
        entries = [_check_entry(c) for c in checked]
        for entry, item in zip(entries, checked, strict=True):
            if item.expiry is not None:
                entry["expiry"] = expiry_entry(item.expiry)
        _print_json(entries)
    elif checked:
        expiring = any(marks)
        head = ("FILE", "SERVICE", "VARIABLE", "REFERENCE", "STATUS")
        rows = [(*head, *(("EXPIRY",) if expiring else ()), "DETAIL")]
        rows += [
            (
                _printable(str(c.found.file)),
                _printable(c.found.service),
                _printable(c.found.variable),
                _printable(_reference_cell(c)),
                c.status,
                *((mark or "-",) if expiring else ()),
                _check_detail(c),
            )
            for c, mark in zip(checked, marks, strict=True)
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            print(("  ".join(cells) + "  " + row[-1]).rstrip())
    if not checked:
        names = ", ".join(str(f) for f in files)
        print(f"no se:// references in {_printable(names)}", file=sys.stderr)
    hints = dict.fromkeys(hint for c in checked for hint in c.result.hints)
    for hint in hints:
        print(f"Hint: {hint}", file=sys.stderr)
    due = {}
    if fail_on_expiry:
        for c in checked:
            if c.result.id is not None and expiry_due(c.expiry, expiry_days):
                due[c.result.id.value] = expiry_words(c.expiry, expiry_days)
    for id_, words in due.items():
        print(f"Error: {id_} {words}", file=sys.stderr)
    return 1 if any(c.failed for c in checked) or due else 0


def _reference_cell(item: CheckedReference) -> str:
    from docker_pass.core.references.syntax import reference_text

    if item.found.lookup:
        return f"{item.found.target} (by name)"
    return reference_text(item.found.target)


def _check_entry(item: CheckedReference) -> dict[str, object]:
    from docker_pass.core.references.syntax import reference_text

    found, result = item.found, item.result
    return {
        "file": str(found.file),
        "service": found.service or None,
        "variable": found.variable,
        "reference": None if found.lookup else reference_text(found.target),
        "lookup": found.variable if found.lookup else None,
        "status": item.status,
        "provider": result.provider or None,
        "providers": list(result.matched),
        "error": result.error or None,
        "note": found.note or None,
    }


def _check_detail(item: CheckedReference) -> str:
    """The provider when it resolves, the plugins when ambiguous, else the error; then the note."""
    from docker_pass.core.docker.compose import LOOKUP_OFF
    from docker_pass.core.references.resolution import ReferenceStatus

    result = item.result
    if item.lookup_off:
        detail = LOOKUP_OFF.format(source=item.lookup_off)
    elif result.status == ReferenceStatus.RESOLVES:
        detail = result.provider
    elif result.status == ReferenceStatus.AMBIGUOUS:
        detail = ", ".join(result.matched)
    else:
        detail = result.error
    detail = _printable(detail)
    return f"{detail} ({item.found.note})" if item.found.note else detail


def _printable(text: str) -> str:
    """``text`` for one cell of a table: cut at the quote limit, control characters escaped."""
    from docker_pass.core.errors import go_quote, shorten

    return shorten(text) if text.isprintable() else go_quote(text)
