"""Every key, read from the BINDINGS of the app, its screens and widgets, for the help screen.

Bindings carry ids (``main.reveal``), so a person can remap them in the config file's
``tui.keymap`` section (``{"main.reveal": "v"}``).  :func:`check_keymap` drops (and names) an
entry whose id no binding has or whose key Textual cannot parse; :func:`key_for` gives the key in
effect, so every hint (help screen, detail pane, panel intro, button labels) shows it.

Screens and widgets are imported inside the functions that walk their BINDINGS: they import
:func:`key_for` from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.binding import Binding, BindingType
from textual.keys import REPLACED_KEYS, Keys, key_to_character

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping

    from textual.app import App

#: What Textual accepts before the ``+`` of a key (``ctrl+shift+a``).
MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
#: Named keys (``escape``, ``f5``, ``pageup``…), from Textual's own list.
KEY_NAMES = frozenset(
    k.value.rpartition("+")[2] for k in Keys if not k.value.rpartition("+")[2].startswith("<")
)
#: At most this many characters of a keymap entry reach a warning.
SHOWN = 40


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


def key_for(app: App[object] | App[None], binding_id: str, default: str) -> str:
    """The key(s) of binding ``binding_id`` in effect in ``app`` (its keymap, else
    ``default``), as hints show them: ``key_for(app, "editor.save", "ctrl+s")``."""
    keymap: Mapping[str, str] = getattr(app, "user_keymap", None) or {}
    return display_keys(keymap.get(binding_id, default))


def key_problem(keys: str) -> str:
    """Why Textual cannot bind ``keys`` (``"ctrl+s,f2"``); empty when it can."""
    if not keys.strip():
        return "no key given"
    for part in keys.split(","):
        key = part.strip()
        if not key:
            return "an empty key between commas"
        if any(char.isspace() for char in key) or not key.isprintable():
            return f"{_shown(key)} holds a space or a control character"
        *modifiers, name = key.split("+") if len(key) > 1 else [key]
        unknown = [m for m in modifiers if m not in MODIFIERS]
        if unknown:
            modifier = _shown(unknown[0])
            return f"{_shown(key)}: {modifier} is not a modifier ({', '.join(MODIFIERS)})"
        if not name:
            return f"{_shown(key)} names no key after its modifier"
        if len(name) == 1 or name in KEY_NAMES:
            continue
        if key_to_character(REPLACED_KEYS.get(name, name)) is None:
            return f"{_shown(key)} is not a key name Textual knows"
    return ""


def check_keymap(
    keymap: Mapping[str, str], known: Collection[str]
) -> tuple[dict[str, str], list[str]]:
    """The entries of ``keymap`` that can apply, and a warning for each one that cannot (an id
    no binding has, a key Textual cannot parse); those are ignored."""
    valid: dict[str, str] = {}
    warnings: list[str] = []
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            warnings.append(f"{_shown(binding_id)}: no binding has this id")
            continue
        problem = key_problem(keys)
        if problem:
            warnings.append(f"{binding_id}: {problem}")
            continue
        valid[binding_id] = keys
    return valid, warnings


def keymap_warning(warnings: Iterable[str]) -> str:
    """One line for the status line (and stderr): the keymap entries ignored, and why."""
    items = list(warnings)
    noun = "entry" if len(items) == 1 else "entries"
    return f"tui.keymap: ignored {len(items)} {noun}: " + "; ".join(items)


def _shown(text: str) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text)
    return repr(text if len(text) <= SHOWN else text[: SHOWN - 1] + "…")


def known_binding_ids(app_bindings: Iterable[BindingType]) -> set[str]:
    """Every binding id of the app, its screens and widgets (what a keymap may name)."""
    from docker_pass.tui.screens.choice import ChoiceScreen
    from docker_pass.tui.screens.confirm import ConfirmScreen
    from docker_pass.tui.screens.help import HelpScreen
    from docker_pass.tui.screens.move import MoveScreen
    from docker_pass.tui.screens.setup import SetupScreen

    extra = [
        *ConfirmScreen.BINDINGS,
        *ChoiceScreen.BINDINGS,
        *HelpScreen.BINDINGS,
        *SetupScreen.BINDINGS,
        *MoveScreen.BINDINGS,
    ]
    groups = [list(app_bindings), extra, *(b for _, b in _binding_groups())]
    return {b.id for group in groups for b in map(_binding, group) if b.id}


def _binding_groups() -> list[tuple[str, list[BindingType]]]:
    from docker_pass.tui.screens.editor import EditorScreen
    from docker_pass.tui.screens.main import MainScreen
    from docker_pass.tui.screens.plugins import PluginsScreen
    from docker_pass.tui.widgets.pattern_bar import PatternBar
    from docker_pass.tui.widgets.plugin_table import PluginTable
    from docker_pass.tui.widgets.realm_tree import RealmTree

    return [
        ("Secrets", list(MainScreen.BINDINGS)),
        ("Pattern field", list(PatternBar.BINDINGS)),
        ("Realm tree", list(RealmTree.BINDINGS)),
        ("Editor", list(EditorScreen.BINDINGS)),
        ("Plugins panel", [*PluginsScreen.BINDINGS, *PluginTable.BINDINGS]),
    ]


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
    leave = [
        KeyHelp("typing", "The last term reads as a prefix: docker/*/h keeps docker/*/h…"),
        KeyHelp(
            "enter",
            "Filter exactly; open the result chosen with ↓ ↑, or the only one; else to the tree",
        ),
    ]
    groups = dict(_binding_groups())
    return [
        ("Secrets", describe_keys(groups["Secrets"], keymap)),
        ("Pattern field", describe_keys(groups["Pattern field"], keymap, leave)),
        ("Anywhere", describe_keys(app_bindings, keymap, palette)),
        ("Realm tree", describe_keys(groups["Realm tree"], keymap, toggle)),
        ("Editor", describe_keys(groups["Editor"], keymap)),
        ("Plugins panel", describe_keys(groups["Plugins panel"], keymap)),
    ]
