"""The Textual terminal UI behind ``docker pass ui``.

Imported only by the ``ui`` verb, so no other command pays for Textual.  The modules
:mod:`realms`, :mod:`preview`, :mod:`gateway` and :mod:`demo` are plain Python that the app,
its workers and the benchmarks share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docker_pass.tui.app import DockerPassApp


def load_app() -> type[DockerPassApp]:
    """The app's class, imported (Textual and the UI's modules) as ``docker pass ui`` does.

    Automatic collection is held off meanwhile: the imports make some 300,000 objects, none
    garbage, and collecting on the way (~100 young passes, each walking what is still young)
    costs ~15 ms of the first tree.  What they made is frozen at the end
    (:func:`~docker_pass.core.collecting.freeze_once`): modules, classes and functions live
    as long as the process, so no later collection need walk them.
    """
    from docker_pass.core.collecting import collection_held, freeze_once

    with collection_held():
        from docker_pass.tui.app import DockerPassApp

        freeze_once("imports")
    return DockerPassApp
