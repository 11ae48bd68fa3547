"""One module per CLI verb; each has ``register(subparsers)`` and keeps its imports light."""

from __future__ import annotations

from types import ModuleType


def all_verbs() -> list[ModuleType]:
    """The verb modules, in the order ``--help`` lists them."""
    from docker_pass.cli.commands import (
        get,
        install,
        ls,
        plugins,
        rm,
        run,
        set,
        ui,
        version,
    )

    return [set, get, ls, rm, run, plugins, ui, version, install]
