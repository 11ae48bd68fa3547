"""Messages the app's thread workers post with their results (the app routes them down).

Widget messages live on the widget that sends them (``RealmTree.SecretHighlighted``); these
come from :mod:`docker_pass.tui.workers`, which belong to the app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from docker_pass.core.envelope import SecretInfo
    from docker_pass.core.results import PluginStatus
    from docker_pass.tui.gateway import SecretListing
    from docker_pass.tui.preview import Preview
    from docker_pass.tui.realms import RealmIndex


class PluginsLoaded(Message):
    """Every plugin's status, fresh from the engine."""

    def __init__(self, plugins: list[PluginStatus]) -> None:
        super().__init__()
        self.plugins = plugins


class SecretsLoaded(Message):
    """The listing of every enabled plugin (failures per plugin in ``listing.errors``)."""

    def __init__(self, listing: SecretListing) -> None:
        super().__init__()
        self.listing = listing


class ValueFetched(Message):
    """A secret's value, read for ``purpose`` ("reveal", "copy" or "edit": into the editor)."""

    def __init__(self, info: SecretInfo, value: bytes, purpose: str) -> None:
        super().__init__()
        self.info = info
        self.value = value
        self.purpose = purpose

    def __repr__(self) -> str:
        return f"ValueFetched({self.info.id.value!r}, {self.purpose!r})"


class SecretSaved(Message):
    """A secret was saved; ``info`` is what the listing shows for it now."""

    def __init__(self, info: SecretInfo, created: bool) -> None:
        super().__init__()
        self.info = info
        self.created = created


class SecretDeleted(Message):
    """A secret was removed (``existed`` is false if someone removed it first)."""

    def __init__(self, info: SecretInfo, existed: bool) -> None:
        super().__init__()
        self.info = info
        self.existed = existed


class PluginToggled(Message):
    """A plugin was enabled or disabled; ``status`` is its state afterwards."""

    def __init__(self, status: PluginStatus, enabled: bool) -> None:
        super().__init__()
        self.status = status
        self.enabled = enabled


class PreviewComputed(Message):
    """A pattern preview computed off the event loop, over the listing ``source``."""

    def __init__(self, preview: Preview, source: RealmIndex) -> None:
        super().__init__()
        self.preview = preview
        self.source = source


class PluginStateChanged(Message):
    """Another process changed the plugins' shared state (enabled flags, crashes)."""
