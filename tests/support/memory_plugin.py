"""A third-party plugin for tests, installed as any would be: a dist with an entry point.

The ``memory_plugin`` fixture writes the dist onto ``PYTHONPATH`` (so subprocesses find it) and
returns the JSON file the plugin serves its secrets from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.dists import install_plugin_dist

if TYPE_CHECKING:
    from pathlib import Path

PLUGIN_MODULE = '''
"""A third-party plugin installed the way any would be: a dist with an entry point."""
import json, os
from docker_pass.core.plugin import READ_ONLY
from docker_pass.core import ID, Envelope, Pattern, SecretInfo

class MemoryPlugin:
    name = "memory"
    version = "9.9.9"
    pattern = Pattern("**")
    configurable = True
    enabled_by_default = True
    capabilities = READ_ONLY

    def start(self): pass
    def stop(self): pass
    def storage(self): return "memory"

    def _data(self):
        with open(os.environ["MEMORY_PLUGIN_DATA"]) as f:
            return {k: v.encode() for k, v in json.load(f).items()}

    def list(self, pattern):
        return [SecretInfo(ID(k)) for k in self._data() if pattern.matches(k)]

    def resolve(self, pattern):
        return [Envelope(ID(k), v) for k, v in self._data().items() if pattern.matches(k)]
'''


@pytest.fixture
def memory_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install a second plugin (through an entry point on PYTHONPATH); returns its data file."""
    site = install_plugin_dist(
        tmp_path / "site",
        "memory-plugin",
        "0.1",
        "memory",
        "memory_plugin_mod",
        "MemoryPlugin",
        PLUGIN_MODULE,
    )
    data = tmp_path / "memory.json"
    data.write_text("{}")
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("MEMORY_PLUGIN_DATA", str(data))
    return data
