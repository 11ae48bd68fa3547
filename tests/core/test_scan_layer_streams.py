"""`scan --layers` in several ``docker save`` streams at once: images that share a layer stay in
one stream, the streams' findings and counts are merged, an error in one still reports the
other's findings, and ctrl+c stops every stream and keeps what was found (a fake engine that
serves docker-save-shaped tars; the real one is in tests/containers/test_scan.py)."""

from __future__ import annotations

import io
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from docker_pass.core.docker.engine_api import DockerUnreachableError
from docker_pass.core.scan.layers import scan_layers, stream_groups
from docker_pass.core.scan.matcher import Matcher, SecretValue
from docker_pass.core.scan.report import ScanReport
from tests.core.test_scan_sources import saved, tar_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

VALUE = b"sk-live-0123456789abcdef"
OTHER = b"pw-other-9876543210zyxw"


def image(
    ident: str, layers: list[str] | None, size: int = 1, tag: str | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Id": f"sha256:{ident}",
        "Size": size,
        "RepoTags": [tag] if tag else None,
    }
    if layers is not None:
        entry["RootFS"] = {"Type": "layers", "Layers": layers}
    return entry


def ids(groups: list[list[dict[str, Any]]]) -> list[list[str]]:
    return [[entry["Id"].removeprefix("sha256:") for entry in group] for group in groups]


def test_images_that_share_a_layer_stay_in_one_stream_and_sizes_are_balanced() -> None:
    images = [
        image("a", ["l1", "l2"], size=50),
        image("b", ["l3"], size=60),
        image("c", ["l2", "l4"], size=20),  # shares l2 with a
        image("d", ["l5"], size=40),
        image("e", ["l4"], size=5),  # shares l4 with c, so with a too
    ]
    assert ids(stream_groups(images, 2)) == [["a", "c", "e"], ["b", "d"]]
    assert ids(stream_groups(images, 1)) == [["a", "b", "c", "d", "e"]]
    assert ids(stream_groups(images, 8)) == [["a", "c", "e"], ["b"], ["d"]]
    # one image whose layers are not known: every image in one stream
    assert ids(stream_groups([*images, image("f", None)], 2)) == [["a", "b", "c", "d", "e", "f"]]
    assert stream_groups([], 2) == []


class FakeEngine:
    """Serves ``GET /images/get?names=…`` with a saved stream of the images named; ``slow``
    images' streams send their layer a little at a time, without end (until closed)."""

    def __init__(
        self,
        streams: dict[str, bytes],
        *,
        fail: frozenset[str] = frozenset(),
        slow: frozenset[str] = frozenset(),
    ) -> None:
        self.streams = streams
        self.fail = fail
        self.slow = slow
        self.asked: list[list[str]] = []
        self.lock = threading.Lock()
        self.open = 0

    @contextmanager
    def stream(self, method: str, path: str, **_: Any) -> Iterator[Any]:
        names = [n.removeprefix("sha256:") for n in parse_qs(urlsplit(path).query)["names"]]
        with self.lock:
            self.asked.append(names)
            self.open += 1
        try:
            if any(name in self.fail for name in names):
                yield Failing()
            elif any(name in self.slow for name in names):
                yield Endless(self.streams[names[0]])
            else:
                yield io.BytesIO(b"".join(self.streams[name] for name in names))
        finally:
            with self.lock:
                self.open -= 1


class Failing:
    def read(self, _size: int = -1) -> bytes:
        raise DockerUnreachableError("cannot reach the Docker engine at test: connection reset")


class Endless:
    """The start of ``data`` (a tar whose one layer holds one huge file), then filler for ever."""

    def __init__(self, data: bytes) -> None:
        self.head = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        chunk = self.head.read(size if size > 0 else 1 << 16)
        if chunk:
            return chunk
        time.sleep(0.001)
        return b"x" * min(size if size > 0 else 1 << 16, 1 << 16)


def one_image_stream(config: str, layer: str, files: dict[str, bytes]) -> bytes:
    return saved([(config, [f"blobs/sha256/{layer}"])], {f"blobs/sha256/{layer}": tar_of(files)})


@pytest.fixture
def matcher() -> Matcher:
    return Matcher(
        [SecretValue("api/key", "docker-pass", VALUE), SecretValue("db/pw", "docker-pass", OTHER)]
    )


def run(
    engine: FakeEngine,
    images: list[dict[str, Any]],
    matcher: Matcher,
    progress: Callable[[int], None] | None = None,
) -> ScanReport:
    report = ScanReport(values=len(matcher.values), min_length=8)
    scan_layers(engine, images, matcher, report, progress=progress)  # type: ignore[arg-type]
    return report


def places(report: ScanReport) -> set[tuple[str, str, str]]:
    return {(f.secret, f.target, f.location) for f in report.findings}


def test_two_streams_at_once_and_their_findings_merged(matcher: Matcher) -> None:
    engine = FakeEngine(
        {
            "c1": one_image_stream("c1", "l1", {"app/env": b"K=" + VALUE}),
            "c2": one_image_stream("c2", "l2", {"etc/pw": b"P=" + OTHER, "clean": b"x" * 5000}),
        }
    )
    images = [image("c1", ["l1"], tag="one:1"), image("c2", ["l2"], tag="two:1")]
    sizes: list[int] = []
    report = run(engine, images, matcher, progress=sizes.append)
    assert sorted(engine.asked) == [["c1"], ["c2"]]
    assert places(report) == {
        ("api/key", "one:1", "layer l1 /app/env"),
        ("db/pw", "two:1", "layer l2 /etc/pw"),
    }
    assert report.searched["layer"] == 2
    assert report.bytes_read == sum(sizes) == len(b"K=" + VALUE) + len(b"P=" + OTHER) + 5000
    assert not [t for t in threading.enumerate() if t.name.startswith("scan-layers")]


def test_an_error_in_one_stream_is_raised_after_the_others_findings_are_kept(
    matcher: Matcher,
) -> None:
    engine = FakeEngine(
        {"c1": one_image_stream("c1", "l1", {"app/env": b"K=" + VALUE})}, fail=frozenset({"c2"})
    )
    images = [image("c1", ["l1"], tag="one:1"), image("c2", ["l2"])]
    report = ScanReport(values=2, min_length=8)
    with pytest.raises(DockerUnreachableError):
        scan_layers(engine, images, matcher, report)  # type: ignore[arg-type]
    assert places(report) == {("api/key", "one:1", "layer l1 /app/env")}


def test_ctrl_c_stops_every_stream_and_keeps_what_was_found(matcher: Matcher) -> None:
    import tarfile

    # a layer whose one file is announced as 4 GiB: the filler never reaches its end
    header = tarfile.TarInfo("var/log/big")
    header.size = 1 << 32
    layer = header.tobuf(format=tarfile.USTAR_FORMAT) + b"T=" + VALUE
    outer = tarfile.TarInfo("blobs/sha256/l2")
    outer.size = (1 << 33) - 1024
    slow_stream = outer.tobuf(format=tarfile.USTAR_FORMAT) + layer
    engine = FakeEngine(
        {"c1": one_image_stream("c1", "l1", {"app/env": b"K=" + OTHER}), "c2": slow_stream},
        slow=frozenset({"c2"}),
    )
    images = [image("c1", ["l1"], tag="one:1"), image("c2", ["l2"], tag="two:1")]
    seen = 0

    def progress(size: int) -> None:
        nonlocal seen
        seen += size
        if seen > 4 << 20:  # the endless stream is well under way: the person presses ctrl+c
            raise KeyboardInterrupt

    report = ScanReport(values=2, min_length=8)
    with pytest.raises(KeyboardInterrupt):
        scan_layers(engine, images, matcher, report, progress=progress)  # type: ignore[arg-type]
    # the finished stream's finding and the cut one's (its manifest never came: by digest)
    assert ("db/pw", "one:1", "layer l1 /app/env") in places(report)
    assert ("api/key", "(an image)", "layer l2 /var/log/big") in places(report)
    deadline = time.monotonic() + 10
    while engine.open and time.monotonic() < deadline:
        time.sleep(0.01)
    assert engine.open == 0, "a stream was left open after ctrl+c"


class ListingEngine:
    """Lists two images; the second is removed before its inspect (a `docker rmi` meanwhile)."""

    def call(self, method: str, path: str, **_: Any) -> Any:
        from docker_pass.core.docker.engine_api import DockerApiError

        if path == "/images/json":
            return [
                {"Id": "sha256:kept", "RepoTags": ["kept:1"], "Size": 1},
                {"Id": "sha256:gone", "RepoTags": ["gone:1"], "Size": 1},
            ]
        if path.startswith("/images/sha256%3Agone/"):
            raise DockerApiError(404, "No such image: gone")
        if path.endswith("/json"):
            return {"Config": {"Env": ["X=1"]}, "RootFS": {"Type": "layers", "Layers": ["l1"]}}
        return []  # history


def test_an_image_removed_since_the_listing_is_left_out_of_the_layer_streams(
    matcher: Matcher,
) -> None:
    from docker_pass.core.scan.docker_sources import scan_images

    report = ScanReport(values=2, min_length=8)
    images = scan_images(ListingEngine(), matcher, report)  # type: ignore[arg-type]
    assert [entry["Id"] for entry in images] == ["sha256:kept"]
    assert images[0]["RootFS"] == {"Type": "layers", "Layers": ["l1"]}
    assert report.searched == {"image": 1}
    assert not report.problems
