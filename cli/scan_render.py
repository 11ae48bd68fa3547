"""``scan``'s output: the findings as a table or one JSON document, problems on stderr, and a
Rich progress bar on stderr for a long scan (Rich is imported only when the bar is drawn)."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from docker_pass.cli.render import clean_outside

if TYPE_CHECKING:
    from types import TracebackType

    from docker_pass.core.scan.report import Finding, ScanReport

#: Seconds a scan runs before its progress bar appears (a quick scan draws nothing).
PROGRESS_AFTER = 1.0
HEADERS = ("SECRET", "PLUGIN", "ENCODING", "WHERE")


def render_report(report: ScanReport, *, as_json: bool) -> int:
    """Print ``report``; the exit code (0 clean, 1 found or incomplete, 130 interrupted)."""
    for line in report.problems:
        print(f"Error: {clean_outside(line)}", file=sys.stderr)
    for line in report.notes:
        print(f"Note: {clean_outside(line)}", file=sys.stderr)
    if as_json:
        import json

        doc = report.as_json()
        for entry in doc["findings"]:  # type: ignore[attr-defined]
            entry["target"] = clean_outside(entry["target"])
            entry["location"] = clean_outside(entry["location"])
        print(json.dumps(doc, indent=2))
    else:
        _table(report.sorted_findings())
        print(_summary(report))
    if report.interrupted:
        print("Error: interrupted; the findings above are those made so far", file=sys.stderr)
        return 130
    return 1 if report.failed else 0


def where(finding: Finding) -> str:
    """A finding's place in words: ``container web: Env API_KEY``, ``file .env:3``."""
    target = clean_outside(finding.target)
    location = clean_outside(finding.location)
    if finding.kind == "file":
        return f"file {target}:{finding.line}"
    text = f"{finding.kind} {target}"
    if location:
        text += f": {location}"
    if finding.line:
        text += f" line {finding.line}"
    if finding.expected:
        text += " (resolved by the docker-pass proxy: expected)"
    return text


def _table(findings: list[Finding]) -> None:
    if not findings:
        return
    rows = [
        (clean_outside(f.secret), clean_outside(f.plugin), f.encoding, where(f)) for f in findings
    ]
    widths = [max(len(row[i]) for row in [HEADERS, *rows]) for i in range(3)]
    for row in [HEADERS, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[3]
        )


def _summary(report: ScanReport) -> str:
    leaks = len(report.leaks)
    expected = len(report.findings) - leaks
    found = f"{leaks} finding{'s' * (leaks != 1)}" if leaks else "no value found"
    if expected:
        found += f" ({expected} expected: placed by the docker-pass proxy)"
    searched = ", ".join(
        f"{n} {kind}{'s' * (n != 1 and not kind.endswith('s'))}"
        for kind, n in report.searched.items()
    )
    line = (
        f"{found}; searched {report.values} value{'s' * (report.values != 1)} "
        f"(at least {report.min_length} bytes) in {searched or 'nothing'}"
    )
    if report.skipped:
        line += (
            f"; {len(report.skipped)} value{'s' * (len(report.skipped) != 1)} not searched: "
            f"shorter than {report.min_length} bytes"
        )
    return line


class TerminalProgress:
    """A Rich progress bar on stderr, drawn only when stderr is a terminal and the scan has run
    for :data:`PROGRESS_AFTER` seconds; a no-op otherwise."""

    def __init__(self, *, enabled: bool) -> None:
        self._enabled = enabled
        self._began = time.monotonic()
        self._bar: Any = None
        self._task: Any = None
        self._phase: tuple[str, int | None] = ("", None)

    @classmethod
    def for_stderr(cls) -> TerminalProgress:
        """The bar for this process's stderr (enabled when it is a terminal)."""
        return cls(enabled=sys.stderr.isatty())

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def start(self, description: str, total: int | None) -> None:
        """A new phase: a fresh bar (``total`` bytes, or a pulse when unknown)."""
        self._phase = (description, total)
        if self._bar is not None:
            self._task = self._bar.add_task(description, total=total)
        else:
            self._maybe_draw()

    def advance(self, size: int) -> None:
        """``size`` more bytes were read."""
        if self._bar is None:
            self._maybe_draw()
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, size)

    def _maybe_draw(self) -> None:
        if not self._enabled or time.monotonic() - self._began < PROGRESS_AFTER:
            return
        from rich.console import Console  # ~40 ms: paid only by a long scan on a terminal
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )

        self._bar = Progress(
            TextColumn("scanning {task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self._bar.start()
        description, total = self._phase
        self._task = self._bar.add_task(description or "", total=total)
