"""The TUI over the real keychain plugin on a file store with damaged records: it goes on.

(The store's warning goes to stderr, which Textual captures while the app runs: it never
reaches the screen.)
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pytest

from docker_pass.backends.keychain import KeychainPlugin
from docker_pass.backends.keychain.filestore import FileStore
from docker_pass.core.ids import ID
from docker_pass.tui.widgets.realm_tree import RealmTree
from tests.support.store_damage import damage
from tests.tui.conftest import Recorder, app_of, make_app, run

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot


@pytest.mark.parametrize("kind", ["truncated", "symlink"])
def test_the_tree_shows_every_healthy_secret_past_a_damaged_record(
    tmp_path: Path, kind: str
) -> None:
    store = FileStore()  # the default place, where the plugin will look
    for raw in ("app/one", "app/two", "db/url"):
        store.save(ID.parse(raw), raw.encode(), {})
    damage(store.root / f"{hashlib.sha256(b'app/two').hexdigest()}.json", kind, tmp_path)

    async def scenario(pilot: Pilot[None], seen: Recorder) -> None:
        app = app_of(pilot)
        assert len(app.listing.index) == 2
        tree = pilot.app.screen.query_one(RealmTree)
        lines = [tree.get_node_at_line(i) for i in range(tree.last_line + 1)]
        assert [str(n.label) for n in lines if n is not None] == ["app/ 1", "db/ 1"]

    run(make_app({"docker-pass": KeychainPlugin}), scenario)
