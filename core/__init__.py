"""docker-pass core: IDs, patterns, references, envelopes, errors, and the engine.

The public API for automation is ``from docker_pass.core import ID, Pattern``.  This package
never imports Textual, Rich or any backend.
"""

from __future__ import annotations

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
