"""Where the UI was when it quit: the filter, the open realms, the order, the cursor (no Textual).

``docker pass ui`` keeps its place in ``$XDG_STATE_HOME/docker-pass/ui-state.json`` and comes
back to it on the next start.  What is kept is what a person sees around the secrets, never a
secret: the filter's text, realm paths, an ID and a plugin name, the order and the focused
pane.  No value, no token, no metadata value other than one typed into the filter (``key=v``).

One file holds a *place* per store (:func:`place_key`): the configuration and data directories
and the store chosen by ``DOCKER_PASS_STORE``.  A cursor on a file-store secret means nothing
to the keychain, so each store comes back to its own place; the demo (``--demo``) has XDG
directories of its own, so it never writes into a person's real state file.  At most
:data:`MAX_PLACES` places are kept, the most recently saved first.

The file comes from a path someone else may have chosen: it is read through the one gate
(:func:`~docker_pass.core.regular_files.read_regular_file`: a regular file, not a link, at
most :data:`STATE_LIMIT` bytes, opened ``O_NONBLOCK``), and anything in it that is not what
this module writes is dropped field by field.  A file that cannot be used is ignored with a
note; it never stops the UI from starting.  It is written atomically (temp file, fsync,
rename), created 0600 in a 0700 directory.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docker_pass.core.config import write_json_atomic
from docker_pass.core.errors import DockerPassError
from docker_pass.core.grammar import id_problem
from docker_pass.core.regular_files import FileReadError, read_regular_file
from docker_pass.core.store import xdg_path

#: The state file's name, in ``$XDG_STATE_HOME/docker-pass``.
STATE_FILE = "ui-state.json"
#: The largest state file read: a few places of a few hundred realms fit many times over.
STATE_LIMIT = 256 * 1024
#: Places kept (stores used from this account), most recently saved first.
MAX_PLACES = 8
#: Open realms kept per place (the ones nearest the top when there are more).
MAX_OPEN = 500
#: The longest filter text kept (a filter is a few words; anything longer was a paste).
MAX_FILTER = 500
#: The longest plugin name kept.
MAX_NAME = 200
#: The format written; a file of another version is ignored (and replaced on quit).
VERSION = 1
#: The panes the cursor may be in.
FOCUS_PANES = ("tree", "filter")


@dataclass(frozen=True, slots=True)
class Cursor:
    """What the cursor was on: a secret (``id``, ``provider``) or a realm (``id`` its path)."""

    kind: str
    id: str
    provider: str = ""

    def ancestors(self) -> list[str]:
        """The realms above it, nearest first (where the cursor goes when it is gone)."""
        parts = self.id.split("/")
        return ["/".join(parts[:n]) for n in range(len(parts) - 1, 0, -1)]


@dataclass(frozen=True, slots=True)
class UiState:
    """One place: the filter (``filter`` its text; ``mode`` what the count line named, for a
    reader: the text alone decides the mode on restore), the open realms, the order (a
    ``SortOrder`` value), the cursor and the focused pane."""

    filter: str = ""
    mode: str = ""
    open_realms: tuple[str, ...] = ()
    sort: str = ""
    cursor: Cursor | None = None
    focus: str = "tree"
    #: When it was saved (seconds since the epoch): the oldest place goes first.
    saved: float = field(default=0.0, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The place as the file holds it."""
        doc: dict[str, Any] = {
            "filter": self.filter,
            "mode": self.mode,
            "open": list(self.open_realms),
            "sort": self.sort,
            "focus": self.focus,
            "saved": self.saved,
        }
        if self.cursor is not None:
            cursor = self.cursor
            doc["cursor"] = {"kind": cursor.kind, "id": cursor.id, "provider": cursor.provider}
        return doc


def state_path() -> Path:
    """``$XDG_STATE_HOME/docker-pass/ui-state.json``."""
    return Path(xdg_path("state")) / STATE_FILE


def place_key() -> str:
    """Which store this UI shows, as the state file keys its places: the configuration and
    data directories (where the config and the file store live) and ``DOCKER_PASS_STORE``."""
    store = os.environ.get("DOCKER_PASS_STORE", "")
    return f"config={xdg_path('config')};data={xdg_path('data')};store={store}"


def load_ui_state(path: Path | None = None, place: str | None = None) -> tuple[UiState | None, str]:
    """The remembered place of ``place`` (default: this store) and a note: ``(None, "")``
    when nothing is remembered, ``(None, why)`` when the file cannot be used."""
    where = path or state_path()
    doc, note = _read(where)
    if doc is None:
        return None, note
    entry = doc.get(place or place_key())
    return (_place(entry) if isinstance(entry, dict) else None), ""


def save_ui_state(state: UiState, path: Path | None = None, place: str | None = None) -> str:
    """Keep ``state`` as this store's place (the other stores' places stay); "" when it was
    written, else why not (the UI says so quietly and quits anyway)."""
    where = path or state_path()
    doc, _ = _read(where)  # a file that cannot be used is replaced
    places = {k: _place(v) for k, v in (doc or {}).items() if isinstance(v, dict)}
    kept = {k: v for k, v in places.items() if v is not None}
    kept[place or place_key()] = _bounded(state, saved=time.time())
    newest = sorted(kept.items(), key=lambda kv: kv[1].saved, reverse=True)[:MAX_PLACES]
    out = {"version": VERSION, "places": {k: v.to_json() for k, v in newest}}
    try:
        write_json_atomic(where, out)
    except (OSError, DockerPassError) as exc:
        return f"the UI's place was not kept: {exc}"
    return ""


# -- reading ----------------------------------------------------------------------------------


def _read(where: Path) -> tuple[dict[str, Any] | None, str]:
    """The file's places (key -> raw place), or ``None`` and why not ("" when it is absent)."""
    try:
        raw = read_regular_file(where, "UI state", limit=STATE_LIMIT, follow_links=False)
    except FileReadError as exc:
        return None, ("" if exc.missing else f"remembered UI state ignored: {exc.reason}")
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return None, "remembered UI state ignored: it is not JSON"
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        return None, "remembered UI state ignored: not a format this version writes"
    places = doc.get("places")
    if not isinstance(places, dict):
        return None, "remembered UI state ignored: it holds no places"
    return places, ""


def _place(raw: dict[str, Any]) -> UiState | None:
    """A place from the file, each field checked (a wrong one is dropped, not the place)."""
    saved = raw.get("saved")
    focus = raw.get("focus")
    return _bounded(
        UiState(
            filter=_text(raw.get("filter"), MAX_FILTER),
            mode=_text(raw.get("mode"), 20),
            open_realms=tuple(
                p for p in _list(raw.get("open")) if isinstance(p, str) and _is_id(p)
            ),
            sort=_text(raw.get("sort"), 20),
            cursor=_cursor(raw.get("cursor")),
            focus=focus if focus in FOCUS_PANES else "tree",
            saved=float(saved) if isinstance(saved, int | float) and math.isfinite(saved) else 0.0,
        )
    )


def _bounded(state: UiState, *, saved: float | None = None) -> UiState:
    """``state`` within the limits (and stamped ``saved``)."""
    realms = sorted(set(state.open_realms), key=lambda p: (p.count("/"), p))[:MAX_OPEN]
    return UiState(
        filter=state.filter if len(state.filter) <= MAX_FILTER else "",
        mode=state.mode,
        open_realms=tuple(realms),
        sort=state.sort,
        cursor=state.cursor,
        focus=state.focus if state.focus in FOCUS_PANES else "tree",
        saved=state.saved if saved is None else saved,
    )


def _cursor(raw: object) -> Cursor | None:
    if not isinstance(raw, dict):
        return None
    kind, id_, provider = raw.get("kind"), raw.get("id"), raw.get("provider", "")
    if kind not in ("secret", "realm") or not isinstance(id_, str) or not _is_id(id_):
        return None
    if not isinstance(provider, str) or len(provider) > MAX_NAME or not provider.isprintable():
        return None
    return Cursor(str(kind), id_, provider)


def _text(raw: object, limit: int) -> str:
    """A one-line printable string of at most ``limit`` characters, else ""."""
    if not isinstance(raw, str) or len(raw) > limit or not raw.isprintable():
        return ""
    return raw


def _list(raw: object) -> list[object]:
    return raw if isinstance(raw, list) else []


def _is_id(raw: str) -> bool:
    return len(raw) <= 4096 and not id_problem(raw)
