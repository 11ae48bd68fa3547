"""docker-pass core: IDs, patterns, references, envelopes, errors, and the engine.

The public API for automation is ``from docker_pass.core import ID, Pattern``.  This package
never imports Textual, Rich or any backend.  Its names are loaded when first used (PEP 562):
importing one core module (as every command does) does not load the others.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from docker_pass.core.envelope import Envelope, SecretInfo
    from docker_pass.core.errors import (
        DockerPassError,
        ExpandError,
        InvalidIdentifierError,
        InvalidPatternError,
        NoPluginMatchesError,
        SecretNotFoundError,
    )
    from docker_pass.core.ids import ID, Pattern
    from docker_pass.core.references.syntax import SecretReference, is_reference

__version__ = "0.1.0"

#: Each public name and the module it comes from.
_HOMES = {
    "Envelope": "envelope",
    "SecretInfo": "envelope",
    "DockerPassError": "errors",
    "ExpandError": "errors",
    "InvalidIdentifierError": "errors",
    "InvalidPatternError": "errors",
    "NoPluginMatchesError": "errors",
    "SecretNotFoundError": "errors",
    "ID": "ids",
    "Pattern": "ids",
    "SecretReference": "references.syntax",
    "is_reference": "references.syntax",
}

__all__ = [
    "ID",
    "DockerPassError",
    "Envelope",
    "ExpandError",
    "InvalidIdentifierError",
    "InvalidPatternError",
    "NoPluginMatchesError",
    "Pattern",
    "SecretInfo",
    "SecretNotFoundError",
    "SecretReference",
    "__version__",
    "is_reference",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = f"{__name__}.{home}"
    __import__(module)  # not importlib: the package costs ~0.1 ms of every start
    value = getattr(sys.modules[module], name)
    globals()[name] = value  # found once; later lookups are plain
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
