"""The ``environment:`` values of a Compose file's services, where each sits in the text, and
the text with some of them replaced.

PyYAML cannot write a file back as it was (comments, order, quoting are lost), so nothing is
dumped: each value's node carries its start and end offsets in the text, and a rewrite
replaces those characters only, in the value's own quoting.  The result is parsed again and
must read as intended (:func:`rewrite_compose`), or nothing is written.  Both forms are read:
``KEY: value`` (a mapping) and ``- KEY=value`` (a list).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from docker_pass.core.importing.dotenv_rewrite import RewriteError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    import yaml

__all__ = ["ComposeEntry", "compose_entries", "rewrite_compose"]


class ComposeEntry:
    """One variable of one service's ``environment:``: key, value (``None`` when unset), line,
    the span of its scalar in the text, its style and whether it is a list item."""

    __slots__ = ("end", "is_item", "key", "line", "start", "style", "value")

    def __init__(
        self,
        key: str,
        value: str | None,
        node: yaml.ScalarNode | None,
        line: int,
        *,
        is_item: bool,
    ) -> None:
        self.key = key
        self.value = value
        self.line = line
        self.is_item = is_item
        self.start = node.start_mark.index if node is not None else -1
        self.end = node.end_mark.index if node is not None else -1
        self.style = (node.style or "") if node is not None else ""

    def __repr__(self) -> str:  # never the value
        return f"ComposeEntry(key={self.key!r}, line={self.line})"


def compose_entries(text: str, path: Path) -> list[ComposeEntry]:
    """Every ``environment:`` variable of every service in Compose ``text``, in file order
    (values as written: one that Compose interpolates is left alone by ``import``, see
    :func:`interpolated`)."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise RewriteError(f"reading Compose file {path}:{where} not valid YAML") from None
    seen: set[int] = set()
    entries: list[ComposeEntry] = []
    for entry in _walk(root):
        if entry.start >= 0 and entry.start in seen:  # one node reached through an alias
            continue
        seen.add(entry.start)
        entries.append(entry)
    entries.sort(key=lambda entry: (entry.line, entry.start))
    return entries


def interpolated(value: str) -> bool:
    """Whether Compose would interpolate ``value`` (it holds a ``$`` that is not ``$$``)."""
    return "$" in value.replace("$$", "")


def passed_on(value: str) -> str:
    """What Compose passes to the container for ``value`` written in a Compose file that it
    does not interpolate: each ``$$`` is one ``$``."""
    return value.replace("$$", "$")


def _walk(root: yaml.Node | None) -> Iterator[ComposeEntry]:
    import yaml

    services = _get(root, "services")
    if not isinstance(services, yaml.MappingNode):
        return
    for _name, service in services.value:
        environment = _get(service, "environment")
        if isinstance(environment, yaml.MappingNode):
            for key_node, value_node in environment.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                    continue
                if not isinstance(value_node, yaml.ScalarNode):
                    continue
                line = value_node.start_mark.line + 1
                value = None if value_node.tag.endswith(":null") else value_node.value
                yield ComposeEntry(key_node.value, value, value_node, line, is_item=False)
        elif isinstance(environment, yaml.SequenceNode):
            for item in environment.value:
                if not isinstance(item, yaml.ScalarNode):
                    continue
                key, equals, value = item.value.partition("=")
                line = item.start_mark.line + 1
                yield ComposeEntry(key, value if equals else None, item, line, is_item=True)


def _get(node: yaml.Node | None, name: str) -> yaml.Node | None:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == name:
            return value  # type: ignore[no-any-return]
    return None


def rewrite_compose(
    text: str, entries: list[ComposeEntry], new_values: Mapping[int, str], path: Path
) -> str:
    """``text`` with the value of ``entries[i]`` replaced by ``new_values[i]`` (ID characters
    and ``se://`` only), in its own quoting; everything else kept character for character."""
    pieces: list[str] = []
    last = 0
    for index in sorted(new_values, key=lambda i: entries[i].start):
        entry = entries[index]
        scalar = f"{entry.key}={new_values[index]}" if entry.is_item else new_values[index]
        old = text[entry.start : entry.end]
        pieces.append(text[last : entry.start])
        pieces.append(_written(scalar, entry.style) + old[len(old.rstrip("\r\n")) :])
        last = entry.end
    pieces.append(text[last:])
    result = "".join(pieces)
    expected = [
        (entry.key, new_values.get(index, entry.value)) for index, entry in enumerate(entries)
    ]
    found = [(entry.key, entry.value) for entry in compose_entries(result, path)]
    if found != expected:
        raise RewriteError(f"rewriting {path} would change more than its values: nothing written")
    return result


def _written(scalar: str, style: str) -> str:
    """``scalar`` as YAML in ``style`` (a block scalar becomes double-quoted)."""
    if style == "'":
        return "'" + scalar.replace("'", "''") + "'"
    if (
        style == ""
        and scalar.replace("=", "")
        .replace(":", "")
        .replace("/", "")
        .replace(".", "")
        .replace("-", "")
        .replace("_", "")
        .isalnum()
    ):
        return scalar
    return json.dumps(scalar, ensure_ascii=False)
