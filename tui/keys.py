"""Every key, read from the BINDINGS of the app, its screens and widgets, for the help screen.

Bindings carry ids (``main.reveal``), so a person can remap them in the config file's
``tui.keymap`` section (``{"main.reveal": "v"}``); the help screen shows the keys in effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.binding import Binding, BindingType

from docker_pass.tui.screens.editor import EditorScreen
from docker_pass.tui.screens.main import MainScreen
from docker_pass.tui.screens.plugins import PluginsScreen
from docker_pass.tui.widgets.pattern_bar import PatternBar
from docker_pass.tui.widgets.plugin_table import PluginTable
from docker_pass.tui.widgets.realm_tree import RealmTree

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


@dataclass(frozen=True, slots=True)
class KeyHelp:
    """One line of the help screen."""

    keys: str
    description: str


def _binding(item: BindingType) -> Binding:
    if isinstance(item, Binding):
        return item
    key, action, *rest = item
    return Binding(key, action, rest[0] if rest else "")


def describe_keys(
    bindings: Iterable[BindingType],
    keymap: Mapping[str, str],
    extra: Iterable[KeyHelp] = (),
) -> list[KeyHelp]:
    """Help lines for ``bindings``, with keys replaced as ``keymap`` says."""
    out: list[KeyHelp] = []
    for item in bindings:
        binding = _binding(item)
        if binding.system or not binding.description:
            continue
        key = keymap.get(binding.id, binding.key) if binding.id else binding.key
        out.append(KeyHelp(display_keys(key), binding.tooltip or binding.description))
    out.extend(extra)
    return out


def display_keys(key: str) -> str:
    """``h,left`` as ``h / ←``."""
    names = {
        "left": "←",
        "right": "→",
        "up": "↑",
        "down": "↓",
        "slash": "/",
        "question_mark": "?",
        "escape": "esc",
        "space": "space",
        "home": "home",
        "end": "end",
    }
    return " / ".join(names.get(k.strip(), k.strip()) for k in key.split(","))


def parse_keymap(raw: object) -> dict[str, str]:
    """The ``tui.keymap`` config section as binding id -> keys; anything malformed is dropped."""
    if not isinstance(raw, dict):
        return {}
    return {str(k): str(v) for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}


def help_sections(
    app_bindings: Iterable[BindingType], keymap: Mapping[str, str]
) -> list[tuple[str, list[KeyHelp]]]:
    """Every key, by where it works (the help screen's columns take the first three sections
    and the last three)."""
    palette = [KeyHelp("ctrl+p", "Command palette")]
    toggle = [KeyHelp("space", "Open or close a realm")]
    leave = [KeyHelp("enter", "Keep the filter, back to the tree")]
    plugins = [*PluginsScreen.BINDINGS, *PluginTable.BINDINGS]
    return [
        ("Secrets", describe_keys(MainScreen.BINDINGS, keymap)),
        ("Pattern field", describe_keys(PatternBar.BINDINGS, keymap, leave)),
        ("Anywhere", describe_keys(app_bindings, keymap, palette)),
        ("Realm tree", describe_keys(RealmTree.BINDINGS, keymap, toggle)),
        ("Editor", describe_keys(EditorScreen.BINDINGS, keymap)),
        ("Plugins panel", describe_keys(plugins, keymap)),
    ]
