"""Reaching a filter's results in the realm tree: open realms until the screen is full, and
step the cursor from one secret to the next (the filter field's Down/Up, ctrl+n/ctrl+p).

Plain functions over a tree's nodes; the tree passes its own way to build a realm's children
(``ensure``: children are built lazily, on expand).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.core.envelope import SecretInfo
from docker_pass.tui.widgets.tree_content import RealmNode

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.widgets.tree import TreeNode

    from docker_pass.tui.widgets.tree_content import NodeData

    Node = TreeNode[NodeData]
    Ensure = Callable[[Node], None]


def fill_screen(root: Node, rows: int, ensure: Ensure) -> None:
    """Open each realm on the first ``rows`` lines, top to bottom, so the screen fills with
    results: a realm opened pushes the lines below it down, and those still on screen are
    opened in turn (``payments/prod/svc1`` among 50,000 shows svc1's secrets, then as many
    of its siblings' as fit, not one closed row above empty lines)."""
    line = 0

    def walk(node: Node) -> bool:
        nonlocal line
        for child in node.children:
            if line >= rows:
                return False
            line += 1
            if not isinstance(child.data, RealmNode):
                continue
            if not child.is_expanded:
                ensure(child)
                child.expand()
            if not walk(child):
                return False
        return True

    walk(root)


def _is_realm(node: Node) -> bool:
    return isinstance(node.data, RealmNode)


def _after(node: Node, ensure: Ensure) -> Node | None:
    """The node after ``node`` in the tree's order, as if every realm were open."""
    if _is_realm(node):
        ensure(node)
        if node.children:
            return node.children[0]
    while node.parent is not None:
        siblings = node.parent.children
        at = siblings.index(node)
        if at + 1 < len(siblings):
            return siblings[at + 1]
        node = node.parent
    return None


def _before(node: Node, ensure: Ensure) -> Node | None:
    """The node before ``node`` in the tree's order, as if every realm were open."""
    parent = node.parent
    if parent is None:
        return None
    siblings = parent.children
    at = siblings.index(node)
    if at == 0:
        return parent if parent.parent is not None else None
    node = siblings[at - 1]
    while _is_realm(node):
        ensure(node)
        if not node.children:
            break
        node = node.children[-1]
    return node


def next_secret(root: Node, start: Node | None, delta: int, ensure: Ensure) -> Node | None:
    """The secret after (``delta`` > 0) or before ``start`` in the tree's order, looking inside
    closed realms too; from the top (or the bottom) when ``start`` is ``None``; ``None`` when
    there is no further secret."""
    if start is None or start is root:
        if not root.children:
            return None
        node: Node | None = root.children[0]
        if delta < 0:
            node = root.children[-1]
            while node is not None and _is_realm(node):
                ensure(node)
                if not node.children:
                    break
                node = node.children[-1]
        if node is not None and isinstance(node.data, SecretInfo):
            return node
        start = node
    step = _after if delta > 0 else _before
    node = start
    while node is not None:
        node = step(node, ensure)
        if node is not None and isinstance(node.data, SecretInfo):
            return node
    return None


def reveal(node: Node) -> None:
    """Open every realm above ``node``, so that it is on a line."""
    parent = node.parent
    while parent is not None and parent.parent is not None:
        parent.expand()
        parent = parent.parent
