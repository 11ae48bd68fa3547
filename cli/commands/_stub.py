"""A verb that is named but not built yet: it says so and fails (it never claims success)."""

from __future__ import annotations

import argparse

from docker_pass.core.errors import DockerPassError


def fail(args: argparse.Namespace) -> int:
    """Handler of a verb that is not built yet."""
    raise DockerPassError(f"'{args.command}' is not implemented yet")
