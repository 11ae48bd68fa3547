"""The realm tree: secrets grouped by ID components, with counts, built lazily on expand.

A new content rebuilds the tree but keeps the realms a person opened, and the cursor on what
it was on — or, if that is gone (deleted), on its neighbour: the next sibling, else the
previous one, else the parent realm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Tree

from docker_pass.core.envelope import SecretInfo
from docker_pass.tui.model.realms import Notice
from docker_pass.tui.widgets.tree_content import (
    DeletedGroup,
    NodeData,
    RealmNode,
    TreeContent,
    key_of,
)
from docker_pass.tui.widgets.tree_labels import TreeLabels
from docker_pass.tui.widgets.tree_results import fill_screen, next_secret, reveal

if TYPE_CHECKING:
    from datetime import date

    from rich.style import Style
    from textual.timer import Timer
    from textual.widgets.tree import TreeNode

#: Expand every realm when a filter leaves at most this many secrets (they fit on screen).
EXPAND_ALL_LIMIT = 60
#: Seconds without a new content before more results are opened to fill the screen.
FILL_DELAY = 0.15


class RealmTree(Tree[NodeData]):
    """Realms and secrets; moving the cursor reports what it is on."""

    DEFAULT_CSS = """
    RealmTree {
        /* Long names end in … rather than scroll (render_label): the detail pane shows
           them whole. */
        scrollbar-size-horizontal: 0;
        & > .realm-tree--count { color: $text-muted; }
        & > .realm-tree--provider { color: $text-muted; text-style: italic; }
        & > .realm-tree--match { color: $text-accent; text-style: bold underline; }
        & > .realm-tree--notice { color: $text-warning; text-style: italic; }
        & > .realm-tree--error { color: $text-error; }
        & > .realm-tree--expired { color: $text-error; }
        & > .realm-tree--expiring { color: $text-warning; }
        & > .realm-tree--ambiguous { color: $text-warning; text-style: bold; }
        & > .realm-tree--deleted { color: $text-disabled; text-style: italic; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "realm-tree--count",
        "realm-tree--provider",
        "realm-tree--match",
        "realm-tree--notice",
        "realm-tree--error",
        "realm-tree--expired",
        "realm-tree--expiring",
        "realm-tree--ambiguous",
        "realm-tree--deleted",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, tooltip="Next line", id="tree.down"),
        Binding("k", "cursor_up", "Up", show=False, tooltip="Previous line", id="tree.up"),
        Binding("h,left", "collapse_or_parent", "Collapse / parent", show=False, id="tree.left"),
        Binding("l,right", "expand_or_child", "Expand / child", show=False, id="tree.right"),
        Binding(
            "enter",
            "open",
            "Open",
            show=False,
            tooltip="Open realm / secret detail",
            id="tree.open",
        ),
        Binding("g,home", "scroll_home", "First line", show=False, id="tree.first"),
        Binding("G,end", "scroll_end", "Last line", show=False, id="tree.last"),
    ]

    #: What to show; the app sets it (a new value rebuilds the tree).
    content: reactive[TreeContent | None] = reactive(None, always_update=True, init=False)

    class SecretHighlighted(Message):
        """The cursor is on a secret."""

        def __init__(self, tree: RealmTree, info: SecretInfo) -> None:
            super().__init__()
            self.tree = tree
            self.info = info

        @property
        def control(self) -> RealmTree:
            """The tree."""
            return self.tree

    class RealmHighlighted(Message):
        """The cursor is on a realm."""

        def __init__(self, tree: RealmTree, path: str, count: int) -> None:
            super().__init__()
            self.tree = tree
            self.path = path
            self.count = count

        @property
        def control(self) -> RealmTree:
            """The tree."""
            return self.tree

    class SecretOpened(Message):
        """Enter on a secret: the person wants to work with it (in the detail pane)."""

        def __init__(self, tree: RealmTree, info: SecretInfo) -> None:
            super().__init__()
            self.tree = tree
            self.info = info

        @property
        def control(self) -> RealmTree:
            """The tree."""
            return self.tree

    class DeletedHighlighted(Message):
        """The cursor is on the line above the deleted secrets."""

        def __init__(self, tree: RealmTree, count: int) -> None:
            super().__init__()
            self.tree = tree
            self.count = count

        @property
        def control(self) -> RealmTree:
            """The tree."""
            return self.tree

    class NoticeHighlighted(Message):
        """The cursor is on a notice (loading, failure, empty)."""

        def __init__(self, tree: RealmTree, notice: Notice) -> None:
            super().__init__()
            self.tree = tree
            self.notice = notice

        @property
        def control(self) -> RealmTree:
            """The tree."""
            return self.tree

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("secrets", id=id)
        self.show_root = False
        self.guide_depth = 3
        # Enter on a realm toggles it (Tree's auto_expand does that already).
        self.auto_expand = True
        #: "Now" for expiry marks (tests fix it); ``None`` is the clock.
        self.expiry_now: date | None = None
        #: The realms a person opened, kept across rebuilds (not the filter's expand-all).
        self._opened: set[str] = set()
        self._expanded_all = False
        self._styles: dict[str, Style] = {}
        self._fill_timer: Timer | None = None

    # -- what the app sets ------------------------------------------------------------------

    def watch_content(self, content: TreeContent | None) -> None:
        if content is None:
            return
        keep = self._cursor_candidates()
        self._styles.clear()  # the theme may have changed since the last content
        if not self._expanded_all:
            self._note_opened()
        self._expanded_all = False
        self.clear()
        for notice in content.notices:
            self.root.add_leaf(self._labels().notice(notice), notice)
        self._populate(self.root, "")
        if content.deleted:
            group = DeletedGroup(len(content.deleted))
            self.root.add(self._labels().deleted_group(group.count), group)
        loading = any(n.kind == "loading" for n in content.notices)
        if not len(content.index) and not loading:
            hint = (
                "No secret matches this filter"
                if content.filtered
                else "No secrets yet: n adds one"
            )
            empty = Notice("empty", "", hint)
            self.root.add_leaf(self._labels().notice(empty), empty)
        elif content.filtered and len(content.index) <= EXPAND_ALL_LIMIT:
            self._expand_all(self.root)
            self._expanded_all = True
        if not self._expanded_all:
            self._reopen(self._opened)
        self._schedule_fill(content.filtered and not self._expanded_all)
        target = next((n for key in keep if (n := self._node_for_key(key)) is not None), None)
        self._place_cursor(target)

    # -- navigation -------------------------------------------------------------------------

    def action_collapse_or_parent(self) -> None:
        """Collapse an open realm; otherwise go to the parent realm."""
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)

    def action_expand_or_child(self) -> None:
        """Open a closed realm; on an open one, go to its first child."""
        node = self.cursor_node
        if node is None or not node.allow_expand:
            return
        if not node.is_expanded:
            self._ensure_children(node)
            node.expand()
        elif node.children:
            self._fresh_lines()
            self.move_cursor(node.children[0])

    def action_open(self) -> None:
        """Enter: on a secret, say it was opened (the screen focuses its detail); on a realm,
        open or close it (Tree's own Enter; a click does that too)."""
        data = self.highlighted
        if isinstance(data, SecretInfo):
            self.post_message(self.SecretOpened(self, data))
        else:
            self.action_select_cursor()

    def step_result(self, delta: int) -> bool:
        """Put the cursor on the next (``delta`` 1) or previous (-1) secret, opening realms on
        the way; whether there was one."""
        node = next_secret(self.root, self.cursor_node, delta, self._ensure_children)
        if node is None:
            return False
        reveal(node)
        self._place_cursor(node)
        return True

    @property
    def fill_pending(self) -> bool:
        """Whether the filter's results are still to be opened (once typing pauses)."""
        return self._fill_timer is not None

    def _schedule_fill(self, wanted: bool) -> None:
        # Many results: open realms until the screen is full, not one closed row.  Opening a
        # realm of 1,000 results adds 1,000 lines (~0.1 ms each), too slow for every key:
        # done once typing pauses, each rebuild putting it off again.
        if self._fill_timer is not None:
            self._fill_timer.stop()
            self._fill_timer = None
        if wanted:
            self._fill_timer = self.set_timer(FILL_DELAY, self._fill)

    def fill_now(self) -> None:
        """Open the filter's results now, not once typing pauses (benchmarks time it)."""
        if self._fill_timer is not None:
            self._fill_timer.stop()
            self._fill()

    def _fill(self) -> None:
        self._fill_timer = None
        cursor = self.cursor_node
        fill_screen(self.root, self._rows(), self._ensure_children)
        self._expanded_all = True  # opened for the filter, not by the person
        if cursor is not None and cursor is not self.cursor_node:
            self._place_cursor(cursor)  # realms opened above it moved its line

    def _rows(self) -> int:
        # Before the first layout the tree has no size yet: the screen's height is the bound.
        return self.scrollable_content_region.height or self.app.size.height

    def show_realm(self, path: str) -> bool:
        """Open the realms down to ``path`` and put the cursor on it; whether it exists."""
        node = self._open_path(path)
        if node is None:
            return False
        self._place_cursor(node)
        return True

    def show_secret(self, id_: str, provider: str = "") -> bool:
        """Open the realms above a secret and put the cursor on it; whether it is listed."""
        node = self._node_for_key(("secret", id_, provider))
        if node is None:
            return False
        self._place_cursor(node)
        return True

    def opened_realms(self) -> frozenset[str]:
        """The realms a person opened (kept across rebuilds; not a filter's expand-all)."""
        if not self._expanded_all:
            self._note_opened()
        return frozenset(self._opened)

    def remember_opened(self, paths: set[str]) -> None:
        """Open ``paths`` (remembered from an earlier run) as if a person had opened them:
        in the tree shown now, and in every rebuild after it."""
        self._opened = set(paths)
        if not self._expanded_all:
            self._reopen(self._opened)

    @property
    def highlighted(self) -> NodeData | None:
        """What the cursor is on."""
        node = self.cursor_node
        return node.data if node is not None else None

    # -- events -----------------------------------------------------------------------------

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeData]) -> None:
        event.stop()
        self._ensure_children(event.node)

    def on_tree_node_collapsed(self, event: Tree.NodeCollapsed[NodeData]) -> None:
        event.stop()

    def on_tree_node_selected(self, event: Tree.NodeSelected[NodeData]) -> None:
        event.stop()

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeData]) -> None:
        event.stop()
        self._announce(event.node)

    # -- internals --------------------------------------------------------------------------

    def _announce(self, node: TreeNode[NodeData] | None) -> None:
        data = node.data if node is not None else None
        if isinstance(data, SecretInfo):
            self.post_message(self.SecretHighlighted(self, data))
        elif isinstance(data, RealmNode):
            self.post_message(self.RealmHighlighted(self, data.path, data.count))
        elif isinstance(data, Notice):
            self.post_message(self.NoticeHighlighted(self, data))
        elif isinstance(data, DeletedGroup):
            self.post_message(self.DeletedHighlighted(self, data.count))

    def _populate(self, node: TreeNode[NodeData], realm: str) -> None:
        content = self.content
        if content is None:
            return
        realms, leaves = content.index.children(realm, content.order)
        for child in realms:
            node.add(
                self._labels().realm(child.path, child.count), RealmNode(child.path, child.count)
            )
        for info in leaves:
            node.add_leaf(self._labels().leaf(info), info)

    def _ensure_children(self, node: TreeNode[NodeData]) -> None:
        data = node.data
        if isinstance(data, RealmNode) and not node.children:
            self._populate(node, data.path)
        elif isinstance(data, DeletedGroup) and not node.children and self.content is not None:
            for info in self.content.deleted:
                node.add_leaf(self._labels().deleted_leaf(info), info)

    def _expand_all(self, node: TreeNode[NodeData]) -> None:
        for child in node.children:
            if isinstance(child.data, RealmNode):
                self._ensure_children(child)
                child.expand()
                self._expand_all(child)

    def _open_path(self, path: str) -> TreeNode[NodeData] | None:
        """Expand the realms along ``path``; the realm node itself, or None if absent."""
        node = self.root
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            found = None
            for child in node.children:
                if isinstance(child.data, RealmNode) and child.data.path == prefix:
                    found = child
                    break
            if found is None:
                return None
            self._ensure_children(found)
            if depth < len(parts):
                found.expand()
            node = found
        return node

    def _node_for_key(self, key: tuple[str, str, str]) -> TreeNode[NodeData] | None:
        kind, name, provider = key
        if kind == "realm":
            return self._open_path(name)
        if kind in ("deleted", "deleted-secret"):
            return self._deleted_node(name, provider)
        parent_path, _, _ = name.rpartition("/")
        parent = self.root
        if parent_path:
            found = self._open_path(parent_path)
            if found is None:
                return None
            found.expand()
            parent = found
        for child in parent.children:
            data = child.data
            if not isinstance(data, SecretInfo) or data.id.value != name:
                continue
            if not provider or data.provider == provider:
                return child
        return None

    def _deleted_node(self, id_: str, provider: str) -> TreeNode[NodeData] | None:
        """The deleted secrets' line (``id_`` ""), or one of them (its line opened)."""
        group = next((c for c in self.root.children if isinstance(c.data, DeletedGroup)), None)
        if group is None or not id_:
            return group
        self._ensure_children(group)
        group.expand()
        for child in group.children:
            data = child.data
            if isinstance(data, SecretInfo) and (data.id.value, data.provider) == (id_, provider):
                return child
        return None

    def _cursor_candidates(self) -> list[tuple[str, str, str]]:
        """Where the cursor goes after a rebuild, best first: the node it is on, its next
        sibling, its previous one, then the same for its parent realm, and so on up."""
        keys: list[tuple[str, str, str]] = []
        node = self.cursor_node
        while node is not None and node.parent is not None:
            siblings = list(node.parent.children)
            at = siblings.index(node)
            for candidate in (
                [node],
                siblings[at + 1 :],
                reversed(siblings[:at]),
            ):
                key = next((k for n in candidate if (k := key_of(n.data)) is not None), None)
                if key is not None:
                    keys.append(key)
            node = node.parent
        return keys

    def _note_opened(self) -> None:
        """Update the opened realms from the tree as shown: an open realm is added, a closed
        one is dropped with every realm below it; realms the tree does not show now (a
        filter hides them) keep their state for when they come back."""
        opened = self._opened
        stack = [self.root]
        while stack:
            for child in stack.pop().children:
                if not isinstance(child.data, RealmNode):
                    continue
                path = child.data.path
                if child.is_expanded:
                    opened.add(path)
                    stack.append(child)
                elif opened:
                    below = path + "/"
                    gone = {p for p in opened if p == path or p.startswith(below)}
                    opened -= gone

    def _reopen(self, paths: set[str]) -> None:
        for path in sorted(paths, key=lambda p: p.count("/")):
            node = self._open_path(path)
            if node is not None:
                node.expand()

    def _fresh_lines(self) -> None:
        # Node line numbers are computed when the tree's lines are next built; asking for
        # the last line builds them now, so ``move_cursor`` gets a current line number.
        _ = self.last_line

    def _place_cursor(self, node: TreeNode[NodeData] | None) -> None:
        self._fresh_lines()
        if node is None:
            # The first realm or secret, not a plugin's notice row (a crash, "listing…"):
            # that is where a person starts moving from.
            line = next(
                (
                    n
                    for n in range(self.last_line + 1)
                    if isinstance(
                        getattr(self.get_node_at_line(n), "data", None), (RealmNode, SecretInfo)
                    )
                ),
                0,
            )
            self.cursor_line = line
            node = self.get_node_at_line(line)
        else:
            self.move_cursor(node)
        # A rebuilt tree may keep the cursor's line number while the node under it changed,
        # which Tree does not report: say what the cursor is on now.
        self._announce(node)

    def render_label(self, node: TreeNode[NodeData], base_style: Style, style: Style) -> Text:
        label = super().render_label(node, base_style, style)
        depth, parent = (0 if self.show_root else -1), node.parent
        while parent is not None:
            depth, parent = depth + 1, parent.parent
        room = self.scrollable_content_region.width - depth * self.guide_depth
        if label.cell_len > room > 0:
            # The expand icon before the label stays; the label is fitted in what is left.
            icon = label[: len(label.plain) - len(node._label.plain)]
            fitted = self._fitted_label(node, room - icon.cell_len)
            if fitted is not None:
                fitted.stylize(style)
                return Text.assemble(icon, fitted)
            label.truncate(room, overflow="ellipsis")  # at the tree's edge, not cut by it
        return label

    def _fitted_label(self, node: TreeNode[NodeData], width: int) -> Text | None:
        """A secret's or realm's label fitted by worth in ``width`` cells (marks and counts
        stay; the plugin, then the name, give way); ``None`` for other lines."""
        data = node.data
        if width <= 0:
            return None
        deleted = node.parent is not None and isinstance(node.parent.data, DeletedGroup)
        if isinstance(data, SecretInfo) and not deleted:
            return self._labels().leaf(data, width)
        if isinstance(data, RealmNode):
            return self._labels().realm(data.path, data.count, width)
        return None

    def _style(self, name: str) -> Style:
        # Asked a few times for every line added (~0.1 ms each): cached while a content is
        # shown, so opening realms with hundreds of results stays within a keystroke.
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(
                f"realm-tree--{name}", partial=True
            )
        return style

    def _labels(self) -> TreeLabels:
        return TreeLabels(self._style, self.content, self.expiry_now)
