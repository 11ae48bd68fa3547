"""The ``1password-cli`` plugin: 1Password through the ``op`` command-line tool.

On start it reads the item list once (``op item list --format json``) and keeps that metadata in
memory, reading it again when it is older than the refresh interval.  Values are read when a
secret is resolved (``op item get ID --vault VAULT --format json``), kept only while the
envelopes are built, and never written to disk.

Settings (environment first, then the ``plugins.1password-cli`` section of the config file):

- ``op_path`` / ``$DOCKER_PASS_OP_PATH``: the ``op`` executable (default: ``op`` on ``PATH``);
- ``timeout`` / ``$DOCKER_PASS_OP_TIMEOUT``: seconds one ``op`` call may take (default 30);
- ``refresh_interval`` / ``$DOCKER_PASS_OP_REFRESH``: seconds between reads of the item list
  (default 300).

Fatal conditions stop the plugin (the engine marks it crashed) with a message saying what to
do: ``op`` missing, the authorization prompt dismissed or timed out, not signed in.  Anything
else (an item gone, a slow call, an answer that is not the JSON expected) fails one request.
``op``'s stderr is never passed on: it is matched against the messages we know, and otherwise
reported as ``op failed (exit N)``, since an unknown message might quote a value.
"""

from __future__ import annotations

import builtins
import os
import subprocess
import time
from typing import TYPE_CHECKING, Any

from docker_pass.backends.onepassword.base import (
    DEFAULT_REFRESH_INTERVAL,
    DEFAULT_TIMEOUT,
    CachedItemsPlugin,
)
from docker_pass.backends.onepassword.items import Field, Item
from docker_pass.core.errors import FatalPluginError, PluginError
from docker_pass.core.plugin import enable_remedy
from docker_pass.core.plugin_settings import PluginSettings

# json, shutil and datetime are imported where used: every engine (``run``) loads this class.

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

PLUGIN_NAME = "1password-cli"
OP_PATH_ENV = "DOCKER_PASS_OP_PATH"
TIMEOUT_ENV = "DOCKER_PASS_OP_TIMEOUT"
REFRESH_ENV = "DOCKER_PASS_OP_REFRESH"

ENABLE = enable_remedy(PLUGIN_NAME)
OP_MISSING = (
    "the 1Password CLI (op) was not found on PATH: install the 1Password CLI "
    "(https://developer.1password.com/docs/cli/get-started/) and sign in, then run: " + ENABLE
)
PROMPT_DISMISSED = (
    "the 1Password authorization prompt was dismissed or timed out: run 'op item list' "
    "and approve the prompt (or unlock the 1Password app), then run: " + ENABLE
)
SIGNED_OUT = (
    "op is not signed in to 1Password: run 'op signin' (or turn on 'Integrate with "
    "1Password CLI' in the 1Password app), then run: " + ENABLE
)

# Lowercased fragments of op's error messages, mapped to what they mean for us.
_PROMPT_MARKERS = ("authorization prompt dismissed", "authorization timeout")
_SIGNED_OUT_MARKERS = (
    "you are not currently signed in",
    "account is not signed in",
    "no accounts configured",
    "session expired",
)
_NOT_FOUND_MARKERS = ("isn't an item", "isn't a vault")


class OpRunner:
    """Runs ``op`` with a timeout and turns its failures into plugin errors."""

    def __init__(self, op_path: str, timeout: float) -> None:
        self.op_path = op_path
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"OpRunner({self.op_path!r}, timeout={self.timeout:g})"

    def json(self, args: list[str], what: str) -> Any:
        """Run ``op ARGS`` and parse its stdout as JSON; ``what`` names the call in errors."""
        try:
            done = subprocess.run(
                [self.op_path, *args],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PluginError(f"{what} did not answer within {self.timeout:g} s") from None
        except FileNotFoundError:
            raise FatalPluginError(OP_MISSING) from None
        except OSError as exc:
            raise FatalPluginError(
                f"cannot run {clean_outside(self.op_path)}: "
                f"{exc.strerror or type(exc).__name__}; fix it, then run: {ENABLE}"
            ) from None
        if done.returncode != 0:
            raise classify_op_error(done.stderr, done.returncode, what)
        import json

        try:
            return json.loads(done.stdout)
        except (ValueError, UnicodeDecodeError):
            raise PluginError(f"{what} gave malformed JSON") from None


def clean_outside(text: str) -> str:
    """A path from the settings, as messages show it (the regexes load only when one does)."""
    from docker_pass.core.outside import clean_outside as clean

    return clean(text)


def classify_op_error(stderr: bytes, returncode: int, what: str) -> PluginError:
    """The error for a failed ``op`` call, from the messages op is known to print.

    The stderr text itself never reaches the message.
    """
    text = stderr.decode("utf-8", errors="replace").lower()
    if any(marker in text for marker in _PROMPT_MARKERS):
        return FatalPluginError(PROMPT_DISMISSED)
    if any(marker in text for marker in _SIGNED_OUT_MARKERS):
        return FatalPluginError(SIGNED_OUT)
    if any(marker in text for marker in _NOT_FOUND_MARKERS):
        return PluginError(
            f"{what}: not found in 1Password (deleted or moved since it was listed?)"
        )
    return PluginError(f"{what}: op failed (exit {returncode})")


class OnePasswordCliPlugin(CachedItemsPlugin):
    """``1password-cli``: read-only access to the items ``op`` can see."""

    name = PLUGIN_NAME

    def __init__(
        self,
        op_path: str | None = None,
        timeout: float | None = None,
        refresh_interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Arguments override the settings (tests); by default they come from env and config."""
        self.settings = PluginSettings(PLUGIN_NAME)
        if refresh_interval is None:
            refresh_interval = self.settings.seconds(
                "refresh_interval", DEFAULT_REFRESH_INTERVAL, env=REFRESH_ENV
            )
        super().__init__(refresh_interval, clock)
        self.timeout = (
            timeout
            if timeout is not None
            else self.settings.seconds("timeout", DEFAULT_TIMEOUT, env=TIMEOUT_ENV)
        )
        self._op_path = op_path
        self._runner: OpRunner | None = None

    def start(self) -> None:
        """Find ``op``, then read the item list (this may show 1Password's authorization prompt)."""
        self._runner = OpRunner(self._find_op(), self.timeout)
        super().start()

    def stop(self) -> None:
        """Forget the cache and the runner."""
        super().stop()
        self._runner = None

    def source(self) -> str:
        """Which ``op`` is used."""
        where = self._runner.op_path if self._runner else (self._op_path or "op")
        return f"1Password via {clean_outside(where)}"

    def _find_op(self) -> str:
        import shutil

        if self._op_path:
            configured, source = self._op_path, "given"
        else:
            configured = self.settings.text("op_path", env=OP_PATH_ENV)
            source = self.settings.where("op_path", env=OP_PATH_ENV)
        if "\0" in configured:  # no path holds one (os.access would raise ValueError)
            raise FatalPluginError(
                f"{source}: {clean_outside(configured)} is not an executable op (a path holds "
                f"no NUL byte): fix the setting, then run: {ENABLE}"
            )
        if not configured:
            found = shutil.which("op")
            if found is None:
                raise FatalPluginError(OP_MISSING)
            return found
        if os.sep in configured:
            if not os.access(configured, os.X_OK):
                raise FatalPluginError(
                    f"{source}: {clean_outside(configured)} is not an executable op: install "
                    f"the 1Password CLI or fix the setting, then run: {ENABLE}"
                )
            return configured
        found = shutil.which(configured)
        if found is None:
            raise FatalPluginError(OP_MISSING)
        return found

    def _op(self) -> OpRunner:
        if self._runner is None:
            raise PluginError(f"{PLUGIN_NAME} is not started")
        return self._runner

    def _fetch_items(self) -> builtins.list[Item]:
        what = "op item list"
        doc = self._op().json(["item", "list", "--format", "json"], what)
        if not isinstance(doc, builtins.list):
            raise PluginError(f"{what} gave an answer of an unexpected shape")
        try:
            return [item_from_op(entry) for entry in doc]
        except (KeyError, TypeError, ValueError):
            raise PluginError(f"{what} gave an answer of an unexpected shape") from None

    def _fetch_fields(self, item: Item) -> builtins.list[Field]:
        what = f"op item get {item.id}"
        args = ["item", "get", item.id, "--vault", item.vault_id, "--format", "json"]
        doc = self._op().json(args, what)
        try:
            return fields_from_op(doc)
        except (KeyError, TypeError, ValueError):
            raise PluginError(f"{what} gave an answer of an unexpected shape") from None


def item_from_op(doc: Any) -> Item:
    """An :class:`Item` from one object of ``op item list --format json``."""
    if not isinstance(doc, dict):
        raise TypeError("an item must be an object")
    vault = doc["vault"]
    if not isinstance(vault, dict):
        raise TypeError("vault must be an object")
    return Item(
        id=_text(doc["id"]),
        title=_text(doc.get("title", "")),
        vault_id=_text(vault["id"]),
        vault_name=_text(vault.get("name", "")),
        category=_text(doc.get("category", "")),
        version=str(doc.get("version", "")),
        created_at=_timestamp(doc.get("created_at")),
        updated_at=_timestamp(doc.get("updated_at")),
    )


def fields_from_op(doc: Any) -> builtins.list[Field]:
    """The fields of ``op item get --format json``'s answer (a section named by ID or label)."""
    if not isinstance(doc, dict):
        raise TypeError("an item must be an object")
    labels: dict[str, str] = {}
    for section in doc.get("sections", []) or []:
        if isinstance(section, dict) and "id" in section:
            labels[_text(section["id"])] = _text(section.get("label", ""))
    out: builtins.list[Field] = []
    for entry in doc.get("fields", []) or []:
        if not isinstance(entry, dict):
            raise TypeError("a field must be an object")
        section = entry.get("section") or {}
        if not isinstance(section, dict):
            raise TypeError("a field's section must be an object")
        section_id = _text(section.get("id", ""))
        value = entry.get("value", "")
        out.append(
            Field(
                id=_text(entry["id"]),
                label=_text(entry.get("label", "")),
                type=_text(entry.get("type", "")),
                purpose=_text(entry.get("purpose", "")),
                value=value if isinstance(value, str) else _json_text(value),
                section_id=section_id,
                section_label=_text(section.get("label", "")) or labels.get(section_id, ""),
            )
        )
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _json_text(value: object) -> str:
    import json

    return json.dumps(value)


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
