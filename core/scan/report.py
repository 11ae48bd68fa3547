"""What a scan found: :class:`Finding` per value found, :class:`ScanReport` for the whole scan.

A finding names the secret (ID and plugin), where it was found and in which encoding; never
the value.  Where is a ``kind`` (``container``, ``image``, ``history``, ``layer``, ``log``,
``file``), the ``target`` (a container's or image's name, a file's path), the ``location``
inside it (``Env API_KEY``, ``Labels[k]``, ``Cmd``, a layer's digest and the path in it, the log
stream) and a 1-based ``line`` where lines mean something (logs, files; else 0).

``expected`` marks a value the Docker proxy put in a container it created (the container's
``docker-pass.references`` label names the variable): that is what the proxy is for, so it is
listed but does not make the scan fail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docker_pass.core.value import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from docker_pass.core.scan.matcher import Matcher

#: The kinds of place a finding can be, in the order a report lists them.
KINDS = ("container", "image", "history", "layer", "log", "file")


class Finding(FrozenValue):
    """One value found in one place (see the module's docstring for the fields)."""

    __slots__ = ("encoding", "expected", "kind", "line", "location", "plugin", "secret", "target")
    secret: str
    plugin: str
    encoding: str
    kind: str
    target: str
    location: str
    line: int
    expected: bool

    def __init__(
        self,
        secret: str,
        plugin: str,
        encoding: str,
        kind: str,
        target: str,
        location: str = "",
        line: int = 0,
        *,
        expected: bool = False,
    ) -> None:
        self._set("secret", secret)
        self._set("plugin", plugin)
        self._set("encoding", encoding)
        self._set("kind", kind)
        self._set("target", target)
        self._set("location", location)
        self._set("line", line)
        self._set("expected", expected)

    def __repr__(self) -> str:
        return f"Finding({self.secret!r} in {self.kind} {self.target!r} {self.location!r})"

    def sort_key(self) -> tuple[int, str, str, int, str, str, str]:
        """Order of a report: kind, target, location, line, secret, plugin, encoding."""
        return (
            KINDS.index(self.kind) if self.kind in KINDS else len(KINDS),
            self.target,
            self.location,
            self.line,
            self.secret,
            self.plugin,
            self.encoding,
        )

    def as_json(self) -> dict[str, object]:
        """The finding as a JSON object."""
        return {
            "secret": self.secret,
            "plugin": self.plugin,
            "encoding": self.encoding,
            "kind": self.kind,
            "target": self.target,
            "location": self.location,
            "line": self.line,
            "expected": self.expected,
        }


#: The most findings listed for one secret, encoding and place (a log or file that repeats a
#: value on every line would otherwise list millions); the rest are counted.
MAX_PER_PLACE = 100


class ScanReport:
    """Everything a scan did: findings, what it searched, what it left out and what failed.

    ``problems`` are sources asked for that could not be read (an engine that did not answer,
    a path given that is missing or a FIFO…), each a line: with any, a clean result cannot be
    trusted, so the scan fails; ``notes`` are things passed over on the way (a FIFO or device
    met in a walked folder), which do not; ``skipped`` are secrets not searched, with why;
    ``searched`` counts what was read per kind; ``interrupted`` says ctrl+c stopped it.
    """

    def __init__(self, *, values: int, min_length: int) -> None:
        self.values = values
        self.min_length = min_length
        self.findings: list[Finding] = []
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.skipped: list[tuple[str, str, str]] = []
        self.searched: dict[str, int] = {}
        self.bytes_read = 0
        self.interrupted = False
        #: findings past :data:`MAX_PER_PLACE` in one place, counted and not listed
        self.unlisted = 0
        self._seen: set[Finding] = set()
        self._per_place: dict[tuple[str, str, str, str, str, str], int] = {}

    def __repr__(self) -> str:
        return f"ScanReport({len(self.findings)} findings, {len(self.problems)} problems)"

    def add(self, finding: Finding) -> None:
        """Record ``finding`` once (the same value in the same place by two forms is two); past
        :data:`MAX_PER_PLACE` lines of one place it is only counted."""
        if finding in self._seen:
            return
        place = (
            finding.secret,
            finding.plugin,
            finding.encoding,
            finding.kind,
            finding.target,
            finding.location,
        )
        listed = self._per_place.get(place, 0)
        if listed >= MAX_PER_PLACE:
            self.unlisted += 1
            return
        self._per_place[place] = listed + 1
        self._seen.add(finding)
        self.findings.append(finding)

    def search_lines(
        self,
        chunks: Iterable[bytes],
        matcher: Matcher,
        kind: str,
        target: str,
        location: str = "",
        *,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Search a stream of ``chunks`` (a file, a container's logs) as one text, a value split
        between two chunks included, and record each value found with its 1-based line."""
        search = matcher.stream(lines=True)
        values = matcher.values
        for chunk in chunks:
            self.bytes_read += len(chunk)
            if progress is not None:
                progress(len(chunk))
            for hit in search.feed(chunk):
                value = values[hit.secret]
                self.add(
                    Finding(
                        value.id, value.provider, hit.encoding, kind, target, location, hit.line
                    )
                )

    def count(self, kind: str, n: int = 1) -> None:
        """Note that ``n`` more places of ``kind`` were searched."""
        self.searched[kind] = self.searched.get(kind, 0) + n

    @property
    def leaks(self) -> list[Finding]:
        """The findings that fail the scan (all but the expected ones)."""
        return [finding for finding in self.findings if not finding.expected]

    @property
    def failed(self) -> bool:
        """Whether the scan fails: a leak was found, a source asked for could not be read, or
        it was interrupted."""
        return bool(self.leaks) or bool(self.problems) or self.interrupted

    def sorted_findings(self) -> list[Finding]:
        """The findings in report order."""
        return sorted(self.findings, key=Finding.sort_key)

    def as_json(self) -> dict[str, object]:
        """The whole report as one JSON document."""
        return {
            "findings": [finding.as_json() for finding in self.sorted_findings()],
            "leaks": len(self.leaks),
            "unlisted": self.unlisted,
            "values_searched": self.values,
            "min_length": self.min_length,
            "skipped": [
                {"secret": secret, "plugin": plugin, "reason": reason}
                for secret, plugin, reason in self.skipped
            ],
            "searched": dict(self.searched),
            "bytes_read": self.bytes_read,
            "problems": list(self.problems),
            "notes": list(self.notes),
            "interrupted": self.interrupted,
        }
