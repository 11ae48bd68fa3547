"""A third-party plugin with a setup form, installed as any would be: a dist with an entry point.

``courier`` asks for an endpoint (a setting) and an API key (a secret, checked: it begins with
``ck_``).  On start it reads the key back (``read_setup_secret``) and the endpoint from its
config section, and serves ``courier/endpoint`` and ``courier/key-length`` (the key's length:
proof it was read, without the key).  No docker-pass module names it: its commands come from
its form alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.dists import install_plugin_dist

if TYPE_CHECKING:
    from pathlib import Path

NAME = "courier"
#: What a stored key is refused for, and what the plugin says when none is stored.
NOT_A_KEY = "this is not a Courier API key: those begin with ck_"
NO_KEY = "no Courier API key is stored: run: docker pass plugins setup courier --endpoint URL"

PLUGIN_MODULE = f'''
"""A third-party plugin with a setup form: an endpoint and an API key."""
from docker_pass.core import ID, Envelope, Pattern, SecretInfo
from docker_pass.core.errors import FatalPluginError
from docker_pass.core.plugin import READ_ONLY


def check(values):
    from docker_pass.core.setup import SetupError

    if not values.get("api_key", "").startswith("ck_"):
        raise SetupError({NOT_A_KEY!r}, "api_key")


class CourierPlugin:
    name = {NAME!r}
    version = "1.2.3"
    pattern = Pattern("courier/**")
    configurable = True
    enabled_by_default = False
    capabilities = READ_ONLY

    @classmethod
    def setup_form(cls):
        from docker_pass.core.setup import Setup, SetupField

        fields = (
            SetupField(
                "endpoint", "Endpoint", one_word=True, metavar="URL", help="Where Courier answers."
            ),
            SetupField(
                "api_key", "API key", secret=True, one_word=True, help="From Courier's settings."
            ),
        )
        intro = "The courier plugin serves what Courier knows."
        return Setup({NAME!r}, "Courier", fields, intro=intro, check=check)

    def start(self):
        from docker_pass.core.plugin_settings import PluginSettings
        from docker_pass.core.setup import read_setup_secret

        self.key = read_setup_secret({NAME!r}, "api_key")
        if self.key is None:
            raise FatalPluginError({NO_KEY!r})
        self.endpoint = PluginSettings({NAME!r}).text("endpoint")

    def stop(self):
        self.key = None

    def storage(self):
        return "Courier at " + self.endpoint

    def _values(self):
        return {{
            "courier/endpoint": self.endpoint.encode(),
            "courier/key-length": str(len(self.key)).encode(),
        }}

    def list(self, pattern):
        return [SecretInfo(ID(k)) for k in self._values() if pattern.matches(k)]

    def resolve(self, pattern):
        return [Envelope(ID(k), v) for k, v in self._values().items() if pattern.matches(k)]
'''


@pytest.fixture
def setup_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Install ``courier`` (through an entry point on PYTHONPATH); returns its name."""
    site = install_plugin_dist(
        tmp_path / "courier-site",
        "courier-plugin",
        "1.2.3",
        NAME,
        "courier_plugin_mod",
        "CourierPlugin",
        PLUGIN_MODULE,
    )
    monkeypatch.setenv("PYTHONPATH", str(site))
    return NAME
