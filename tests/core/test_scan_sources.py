"""The scan's readers without an engine: files and walks (FIFOs, devices, links, huge and
sparse files), a ``docker save``-shaped tar stream, and a multiplexed log stream."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import threading
from typing import TYPE_CHECKING, Any

import pytest

from docker_pass.core.scan import docker_sources
from docker_pass.core.scan.files import CHUNK, project_files, scan_paths
from docker_pass.core.scan.layers import LayerFindings, _attribute, walk_saved
from docker_pass.core.scan.matcher import Matcher, SecretValue
from docker_pass.core.scan.report import ScanReport

if TYPE_CHECKING:
    from pathlib import Path

VALUE = b"sk-live-0123456789abcdef"


@pytest.fixture
def matcher() -> Matcher:
    return Matcher([SecretValue("api/key", "docker-pass", VALUE)])


def new_report(m: Matcher) -> ScanReport:
    return ScanReport(values=len(m.values), min_length=m.min_length)


def places(report: ScanReport) -> list[tuple[str, str, str, int]]:
    return [(f.kind, f.target, f.location, f.line) for f in report.sorted_findings()]


# -- files ------------------------------------------------------------------------------------


def test_a_walk_reads_regular_files_and_passes_over_fifos_links_and_vcs_folders(
    tmp_path: Path, matcher: Matcher
) -> None:
    (tmp_path / "a.env").write_bytes(b"X=1\nKEY=" + VALUE + b"\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "clean.txt").write_bytes(b"nothing here\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_bytes(VALUE)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "leak").write_bytes(VALUE)
    (tmp_path / "link").symlink_to(outside / "leak")
    (tmp_path / "dirlink").symlink_to(outside)
    os.mkfifo(tmp_path / "pipe")  # a plain open would block forever
    report = new_report(matcher)
    scan_paths([tmp_path], matcher, report)
    assert places(report) == [("file", str(tmp_path / "a.env"), "", 2)]
    assert report.searched["file"] == 2
    assert report.notes == [f"{tmp_path / 'pipe'}: not searched: a FIFO (named pipe)"]
    assert not report.problems


def test_a_fifo_or_a_device_given_is_refused_without_reading_and_fails_the_scan(
    tmp_path: Path, matcher: Matcher
) -> None:
    os.mkfifo(tmp_path / "pipe")
    report = new_report(matcher)
    done = threading.Event()

    def scan() -> None:
        scan_paths([tmp_path / "pipe", tmp_path / "missing", "/dev/zero"], matcher, report)  # type: ignore[list-item]
        done.set()

    worker = threading.Thread(target=scan, daemon=True)
    worker.start()
    assert done.wait(20), "the scan blocked on a FIFO or a device"
    assert report.problems == [
        f"{tmp_path / 'pipe'}: not searched: a FIFO (named pipe)",
        f"{tmp_path / 'missing'}: No such file or directory",
        "/dev/zero: not searched: a character device",
    ]
    assert report.failed


def test_a_regular_file_that_fails_to_read_is_a_problem_and_not_counted_as_searched(
    matcher: Matcher,
) -> None:
    # /proc/self/mem stats as a regular file, and reading it at offset 0 fails (EIO)
    report = new_report(matcher)
    scan_paths(["/proc/self/mem"], matcher, report)  # type: ignore[list-item]
    assert report.problems == ["/proc/self/mem: Input/output error"]
    assert report.searched.get("file", 0) == 0
    assert report.failed


def test_a_large_sparse_file_is_streamed_and_the_line_is_right(
    tmp_path: Path, matcher: Matcher
) -> None:
    big = tmp_path / "big.log"
    with big.open("wb") as handle:
        handle.write(b"first\n")
        handle.seek(64 * 1024 * 1024 + CHUNK - 5)  # the value straddles a chunk boundary
        handle.write(b"\n" + VALUE + b"\n")
    report = new_report(matcher)
    scan_paths([big], matcher, report)
    assert places(report) == [("file", str(big), "", 3)]
    assert report.bytes_read == big.stat().st_size


def test_the_project_files_are_the_compose_file_its_env_files_and_dot_env(
    tmp_path: Path,
) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a:\n    image: x\n    env_file: [one.env, {path: opt.env, required: false}]\n"
    )
    (tmp_path / "one.env").write_text("A=1\n")
    (tmp_path / ".env").write_text("B=2\n")
    report = ScanReport(values=0, min_length=8)
    found = project_files(tmp_path, report)
    assert [p.name for p in found] == ["compose.yaml", "one.env", ".env"]
    assert not report.problems


def test_a_compose_file_that_is_a_device_or_missing_is_one_problem_not_two(
    tmp_path: Path, matcher: Matcher
) -> None:
    (tmp_path / ".env").write_text("B=2\n")
    setting = {"COMPOSE_FILE": f"/dev/zero:{tmp_path / 'gone.yaml'}"}
    report = new_report(matcher)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in setting.items():
            patch.setenv(key, value)
        found = project_files(tmp_path, report)
    scan_paths(found, matcher, report)
    assert report.problems == [
        "/dev/zero: not searched: a character device",
        f"{tmp_path / 'gone.yaml'}: No such file or directory",
    ]


def test_a_broken_compose_file_is_a_problem_and_the_rest_is_still_read(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services: [\n")
    (tmp_path / ".env").write_text("B=2\n")
    report = ScanReport(values=0, min_length=8)
    assert [p.name for p in project_files(tmp_path, report)] == ["compose.yaml", ".env"]
    assert len(report.problems) == 1
    assert "compose.yaml" in report.problems[0]


# -- layers (a docker save stream, as the engine sends it) -------------------------------------


def tar_of(files: dict[str, bytes], *, gz: bool = False) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = buffer.getvalue()
    return gzip.compress(data) if gz else data


def saved(images: list[tuple[str, list[str]]], blobs: dict[str, bytes]) -> bytes:
    manifest = [
        {"Config": f"blobs/sha256/{config}", "RepoTags": None, "Layers": layers}
        for config, layers in images
    ]
    return tar_of({**blobs, "manifest.json": json.dumps(manifest).encode()})


def test_a_file_in_a_layer_is_found_with_the_image_layer_and_path(matcher: Matcher) -> None:
    clean = tar_of({"bin/sh": b"\x7fELF" + b"\0" * 5000})
    leaky = tar_of({"app/": b"", "app/config.json": b'{"token": "' + VALUE + b'"}'})
    squashed = tar_of({"etc/secret": b"x" * CHUNK + VALUE}, gz=True)
    stream = saved(
        [
            ("c1", ["blobs/sha256/l1", "blobs/sha256/l2"]),
            ("c2", ["blobs/sha256/l1", "blobs/sha256/l3"]),
        ],
        {
            "blobs/sha256/c1": b'{"config": {}}',
            "blobs/sha256/l1": clean,
            "blobs/sha256/l2": leaky,
            "blobs/sha256/l3": squashed,
        },
    )
    images: list[dict[str, Any]] = [
        {"Id": "sha256:c1", "RepoTags": ["app:1"]},
        {"Id": "sha256:c2", "RepoTags": None},
    ]
    report = new_report(matcher)
    found = LayerFindings()
    walk_saved(io.BytesIO(stream), matcher, report, found)
    _attribute(found, images, matcher, report)
    assert places(report) == [
        ("layer", "app:1", "layer l2 /app/config.json", 0),
        ("layer", "c2", "layer l3 /etc/secret", 0),
    ]
    assert report.searched["layer"] == 3


def test_a_layer_that_is_not_a_readable_tar_is_a_problem_not_a_crash(matcher: Matcher) -> None:
    broken = tar_of({"f": VALUE})[:700]  # a header and a cut file
    stream = saved([("c", ["blobs/sha256/bad"])], {"blobs/sha256/bad": broken + b"\0" * 3})
    report = new_report(matcher)
    walk_saved(io.BytesIO(stream), matcher, report, LayerFindings())
    assert report.problems
    assert "layer bad" in report.problems[0]


# -- logs -------------------------------------------------------------------------------------


class Body(io.BytesIO):
    """A response body that hands out at most 3 bytes per read (frames arrive in pieces)."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(3 if size is None or size < 0 else min(size, 3))


def frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


def test_log_frames_are_demultiplexed_and_a_value_split_between_frames_is_found(
    matcher: Matcher,
) -> None:
    half = len(VALUE) // 2
    raw = (
        frame(1, b"starting\n")
        + frame(2, b"warn: key=" + VALUE[:half])
        + frame(2, VALUE[half:] + b"\n")
    )
    chunks = list(docker_sources._demultiplexed(Body(raw)))
    assert b"".join(chunks) == b"starting\nwarn: key=" + VALUE + b"\n"
    hits = [h for chunk in [b"".join(chunks)] for h in matcher.find(chunk, lines=True)]
    assert [h.line for h in hits] == [2]


def test_a_stream_that_stops_being_framed_is_passed_on_raw() -> None:
    raw = frame(1, b"ok\n") + b"\xffnot a frame " + VALUE
    assert b"".join(docker_sources._demultiplexed(io.BytesIO(raw))) == (
        b"ok\n\xffnot a frame " + VALUE
    )


def test_config_fields_and_the_proxy_label() -> None:
    config = {
        "Env": ["A=1", "TOKEN=x"],
        "Cmd": ["sh", "-c", "echo"],
        "Entrypoint": "/init",
        "Labels": {"k": "v", "docker-pass.references": '{"TOKEN": "se://api/key", "B": null}'},
    }
    fields = [(where, var) for where, var, _ in docker_sources.config_fields(config)]
    assert fields[:5] == [
        ("Env A", "A"),
        ("Env TOKEN", "TOKEN"),
        ("Cmd", ""),
        ("Cmd", ""),
        ("Cmd", ""),
    ]
    assert ("Entrypoint", "") in fields
    assert docker_sources.proxy_resolved(config) == {"TOKEN", "B"}
    for odd in ("not json", "[1, 2]", '"text"', "{" * 100000):
        assert docker_sources.proxy_resolved({"Labels": {"docker-pass.references": odd}}) == set()
    assert list(docker_sources.config_fields(None)) == []
    assert list(docker_sources.config_fields({"Env": "not a list", "Labels": []})) == []


# -- read-ahead -------------------------------------------------------------------------------


def test_read_ahead_gives_the_stream_in_order_and_passes_errors_on() -> None:
    from docker_pass.core.scan.prefetch import Prefetched

    data = bytes(range(256)) * 50000
    with Prefetched(io.BytesIO(data), chunk=4096) as ahead:
        parts = []
        while piece := ahead.read(1000):
            parts.append(piece)
    assert b"".join(parts) == data

    class Failing(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise ConnectionResetError("reset")

    with Prefetched(Failing()) as ahead, pytest.raises(ConnectionResetError):
        ahead.read(10)


def test_read_ahead_stops_when_the_reader_stops_early() -> None:
    from docker_pass.core.scan.prefetch import AHEAD, Prefetched

    endless = io.BytesIO(b"x" * (AHEAD * 4 * 1024))
    with Prefetched(endless, chunk=1024) as ahead:
        assert ahead.read(10) == b"x" * 10
    assert not ahead._thread.is_alive()
