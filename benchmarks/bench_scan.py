"""``scan --layers``: 10,000 stored values against ~1 GB of image layers, in one run with its
anchor.

Setup (not timed): a private dockerd (tests/support/docker_engine.py: vfs, no network) and
:data:`IMAGES` images imported from tars of :data:`FILES_PER_IMAGE` files each (random bytes
and repeated text, ~1 GiB of layer files in all; three of the values are planted in files);
10,000 random token-like values in memory (the scanning is timed, not a store's reads); the
``docker save`` stream of every image written once to a file.

Timed, each over the same bytes:

- ``scan --layers`` end to end: :func:`docker_pass.core.scan.layers.scan_layers` against the
  engine, the images listed as a scan lists them (``GET /images/get`` streamed, two streams of
  images that share no layer at once, outer and layer tars walked, every file matched);
- the layer walk over the saved file (tar parsing and matching, no engine);
- the matcher alone over the saved file's raw bytes in 1 MiB chunks, with each engine
  (Hyperscan, and the Aho-Corasick DFA it falls back to);
- the anchor: ``grep -F -c`` of ONE of the values over the saved file;
- and, to show what bounds the first row, the engine alone: one ``docker save`` stream of
  every image read and dropped (the better of a read before and one after the scan).

Figures are MB/s of layer-file data (the bytes of the files inside the layers; the saved
stream is a little larger, by tar headers) and ratios to the anchor.  Target: >= 200 MB/s end
to end; where the engine alone streams ``docker save`` slower than that (vfs, a shared
machine), the scan's own rate is the layer walk's.  Needs root (dockerd); run
``python -m benchmarks scan``.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks._setup import ROOT

if TYPE_CHECKING:
    from collections.abc import Callable

VALUES = 10_000
IMAGES = 4
FILES_PER_IMAGE = 16
FILE_SIZE = 16 * 1024 * 1024  # 4 images x 16 files x 16 MiB = 1 GiB
TARGET_MB_S = 200.0
MB = 1_000_000


def _values() -> list[bytes]:
    return [secrets.token_urlsafe(24).encode() for _ in range(VALUES)]


def _layer_tar(path: Path, image: int, planted: bytes) -> None:
    text = b"".join(b"line %d of a config file, nothing secret here\n" % i for i in range(4096))
    with tarfile.open(path, "w") as tar:
        for number in range(FILES_PER_IMAGE):
            if number % 2:
                data = os.urandom(FILE_SIZE)
            else:
                data = (text * (FILE_SIZE // len(text) + 1))[:FILE_SIZE]
            if number == 3:
                middle = FILE_SIZE // 2
                data = data[:middle] + planted + data[middle + len(planted) :]
            info = tarfile.TarInfo(f"data/{image}/file-{number:02d}.bin")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _import_images(dockerd: Any, scratch: Path, planted: list[bytes]) -> bool:
    started = time.perf_counter()
    for image in range(IMAGES):
        tar = scratch / "layer.tar"
        _layer_tar(tar, image, planted[image] if image < len(planted) else b"")
        done = dockerd.docker("import", str(tar), f"bench-scan:{image}", timeout=600)
        tar.unlink()
        if done.returncode:
            print(f"docker import failed: {done.stderr.decode()[-300:]}")
            return False
    print(f"setup: {IMAGES} images imported in {time.perf_counter() - started:.1f} s")
    return True


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _match_file(matcher: Any, path: Path) -> None:
    search = matcher.stream()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            search.feed(chunk)


def _measure(dockerd: Any, scratch: Path, values: list[bytes]) -> None:
    from docker_pass.core.docker.endpoint import DockerHost
    from docker_pass.core.docker.engine_api import DockerApi
    from docker_pass.core.scan.docker_sources import scan_images
    from docker_pass.core.scan.layers import LayerFindings, scan_layers, walk_saved
    from docker_pass.core.scan.matcher import ENGINES, Matcher, SecretValue
    from docker_pass.core.scan.report import ScanReport

    api = DockerApi(DockerHost(dockerd.host, "bench"), timeout=600)
    items = [SecretValue(f"bench/{i}", "file", v) for i, v in enumerate(values)]
    # As a scan lists them: with each image's layers (RootFS), which split the save streams.
    listed = scan_images(api, Matcher(items[:1]), ScanReport(values=1, min_length=8))
    images = [e for e in listed if any("bench-scan" in t for t in e.get("RepoTags") or [])]
    matchers = {}
    for engine in ENGINES:
        started = time.perf_counter()
        matchers[engine] = Matcher(items, engine=engine)
        print(
            f"matcher {engine}: {len(matchers[engine].values)} values, "
            f"{len(matchers[engine]._owners)} patterns (raw, base64 cores, url), "
            f"built in {time.perf_counter() - started:.2f} s"
        )
    matcher = matchers[ENGINES[0]]

    query = "&".join(f"names={e['Id']}" for e in images)

    def read_only() -> None:
        with api.stream("GET", f"/images/get?{query}", timeout=600) as body:
            while body.read(1 << 20):
                pass

    engine_only_s = _timed(read_only)
    report = ScanReport(values=VALUES, min_length=8)
    engine_s = _timed(lambda: scan_layers(api, images, matcher, report))
    engine_only_s = min(engine_only_s, _timed(read_only))
    layer_bytes = report.bytes_read

    saved = scratch / "saved.tar"  # the same stream, saved once (not timed)
    with api.stream("GET", f"/images/get?{query}", timeout=600) as body, saved.open("wb") as out:
        shutil.copyfileobj(body, out, 1 << 20)
    saved_bytes = saved.stat().st_size

    def walk() -> None:
        with saved.open("rb") as handle:
            walk_saved(handle, matcher, ScanReport(values=VALUES, min_length=8), LayerFindings())

    walk_s = _timed(walk)
    alone = {engine: _timed(partial(_match_file, m, saved)) for engine, m in matchers.items()}
    # a generated value, not a secret: on grep's argv only in this benchmark
    grep = ["grep", "-F", "-c", "-a", "-e", values[0].decode(), str(saved)]
    grep_s = _timed(lambda: subprocess.run(grep, capture_output=True, check=False))

    found = sorted({f.secret for f in report.findings})
    print(
        f"data: {layer_bytes / MB:.0f} MB of layer files in {len(images)} images "
        f"({saved_bytes / MB:.0f} MB saved stream); found the planted values {found}"
    )
    grep_rate = saved_bytes / grep_s / MB
    rows = [
        (f"scan --layers from the engine ({ENGINES[0]})", layer_bytes / engine_s / MB, engine_s),
        (f"layer walk over the saved file ({ENGINES[0]})", layer_bytes / walk_s / MB, walk_s),
        *(
            (f"matcher alone over the file ({engine})", saved_bytes / s / MB, s)
            for engine, s in alone.items()
        ),
    ]
    print(f"{'anchor: grep -F -c of one value':<48} {grep_rate:7.0f} MB/s {grep_s:6.2f} s")
    engine_rate = saved_bytes / engine_only_s / MB
    print(
        f"{'the engine alone: docker save stream, read only':<48} {engine_rate:7.0f} MB/s "
        f"{engine_only_s:6.2f} s  {engine_rate / grep_rate:5.2f}x grep"
    )
    for label, rate, seconds in rows:
        print(f"{label:<48} {rate:7.0f} MB/s {seconds:6.2f} s  {rate / grep_rate:5.2f}x grep")
    for label, rate in (("end to end", rows[0][1]), ("layer walk", rows[1][1])):
        ok = rate >= TARGET_MB_S
        print(f"target >= {TARGET_MB_S:g} MB/s {label}: {'ok' if ok else 'MISSED'}")


def main() -> int:
    if os.geteuid() != 0:
        print("needs root to start a private dockerd")
        return 1
    sys.path.insert(0, str(ROOT))
    from _pytest.outcomes import Skipped

    from tests.support.docker_engine import start_dockerd, stop_dockerd

    try:
        dockerd, work = start_dockerd()
    except Skipped as exc:
        print(f"cannot start dockerd: {exc}")
        return 1
    scratch = Path(tempfile.mkdtemp(prefix="dpscan-", dir="/tmp"))
    try:
        values = _values()
        if not _import_images(dockerd, scratch, values[: IMAGES - 1]):
            return 1
        _measure(dockerd, scratch, values)
        return 0
    finally:
        for image in range(IMAGES):
            dockerd.docker("rmi", "-f", f"bench-scan:{image}")
        stop_dockerd(dockerd, work)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
