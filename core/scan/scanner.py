"""A whole scan: load the values once, build the matcher, read each source in turn.

The values come from one resolution of the pattern (every running plugin serving part of it,
each answering once), stay in this process's memory (the caller makes it non-dumpable) and are
dropped when the scan ends.  A plugin that fails to answer is a problem (its values were not
searched, so a clean result would be a false one); a plugin that is down is a note.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from docker_pass.core.docker.engine_api import DockerApiError, DockerUnreachableError
from docker_pass.core.scan.matcher import Matcher, SecretValue
from docker_pass.core.scan.report import ScanReport

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from docker_pass.core.docker.engine_api import DockerApi
    from docker_pass.core.ids import Pattern
    from docker_pass.core.results import Resolution


class Progress(Protocol):
    """Where a scan says how far it is (a front draws it, or nothing does)."""

    def start(self, description: str, total: int | None) -> None:
        """A new phase begins; ``total`` bytes are expected when known."""

    def advance(self, size: int) -> None:
        """``size`` more bytes were read."""


class ScanPlan:
    """What to search: the engine (``None``: not at all) with ``layers`` and ``logs``, and the
    files (paths given; a folder is walked)."""

    __slots__ = ("engine", "layers", "logs", "paths")

    def __init__(
        self,
        engine: DockerApi | None,
        paths: Sequence[Path],
        *,
        layers: bool = False,
        logs: bool = False,
    ) -> None:
        self.engine = engine
        self.paths = list(paths)
        self.layers = layers
        self.logs = logs

    def __repr__(self) -> str:
        return f"ScanPlan({self.engine!r}, {len(self.paths)} paths, layers={self.layers})"


def load_values(
    resolve: Callable[[Pattern], Resolution], pattern: Pattern
) -> tuple[list[SecretValue], list[str], list[str]]:
    """The values ``pattern`` selects, and the problems and notes of getting them."""
    resolution = resolve(pattern)
    values = [
        SecretValue(env.id.value, env.provider, bytes(env.value)) for env in resolution.envelopes
    ]
    problems = [
        f"plugin {name} did not answer, its values were not searched: {why}"
        for name, why in resolution.errors.items()
    ]
    notes = [
        f"plugin {name} is down, its values were not searched: {why}"
        for name, why in resolution.down.items()
    ]
    return values, problems, notes


def new_report(matcher: Matcher) -> ScanReport:
    """An empty report for a scan with ``matcher`` (which says what it left out)."""
    report = ScanReport(values=len(matcher.values), min_length=matcher.min_length)
    report.skipped = [(item.id, item.provider, why) for item, why in matcher.skipped]
    return report


def run_scan(
    plan: ScanPlan, matcher: Matcher, report: ScanReport, progress: Progress | None = None
) -> None:
    """Search every source of ``plan``, adding to ``report``.  ``KeyboardInterrupt`` passes
    through (the caller marks the report interrupted; what was found so far stands)."""
    if matcher.empty:
        return
    advance = progress.advance if progress is not None else None
    if plan.engine is not None:
        _scan_engine(plan, matcher, report, progress, advance)
    if plan.paths:
        from docker_pass.core.scan.files import scan_paths

        if progress is not None:
            progress.start("files", None)
        scan_paths(plan.paths, matcher, report, progress=advance)


def _scan_engine(
    plan: ScanPlan,
    matcher: Matcher,
    report: ScanReport,
    progress: Progress | None,
    advance: Callable[[int], None] | None,
) -> None:
    from docker_pass.core.scan import docker_sources

    api = plan.engine
    assert api is not None  # noqa: S101 - the caller checked
    try:
        if progress is not None:
            progress.start("containers", None)
        docker_sources.scan_containers(api, matcher, report, logs=plan.logs, progress=advance)
        if progress is not None:
            progress.start("images", None)
        images = docker_sources.scan_images(api, matcher, report)
        if plan.layers:
            from docker_pass.core.scan.layers import scan_layers

            if progress is not None:
                total = sum(int(entry.get("Size") or 0) for entry in images)
                progress.start("layers", total or None)
            scan_layers(api, images, matcher, report, progress=advance)
    except (DockerUnreachableError, DockerApiError) as exc:
        report.problems.append(docker_sources.engine_problem(exc))
