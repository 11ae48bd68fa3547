"""``run --mask``'s cost: the streaming masker's throughput, and a real ``run --mask -- cat``.

Anchors, measured in the same run: copying the same chunks without a masker (the floor of any
filter written in Python), and ``run -- cat`` without ``--mask`` (the command alone).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from docker_pass.cli.mask import StreamMasker, patterns_of

SIZE = 64 * 1024 * 1024
VALUES = [f"s3cr3t-{n:04d}-{'x' * (8 + n)}".encode() for n in range(20)]


def _data() -> bytes:
    rng = random.Random(7)
    words = [b"info", b"request", b"served", b"s", b"s3", b"ok", b"\n", b"latency=12ms"]
    pieces: list[bytes] = []
    size = 0
    while size < SIZE:
        piece = rng.choice(VALUES) if rng.random() < 0.001 else rng.choice(words) + b" "
        pieces.append(piece)
        size += len(piece)
    return b"".join(pieces)[:SIZE]


def _rate(seconds: float) -> str:
    return f"{SIZE / seconds / 1e6:7.1f} MB/s"


def _masker(data: bytes, chunk: int) -> float:
    masker = StreamMasker(patterns_of(VALUES))
    start = time.perf_counter()
    for offset in range(0, len(data), chunk):
        masker.feed(data[offset : offset + chunk])
    masker.finish()
    return time.perf_counter() - start


def _copy(data: bytes, chunk: int) -> float:
    start = time.perf_counter()
    held = b""
    for offset in range(0, len(data), chunk):
        held = (held + data[offset : offset + chunk])[-64:]
    return time.perf_counter() - start


def _run(path: Path, *, mask: bool) -> float:
    exe = Path(sys.executable).parent / "docker-pass"
    args = [str(exe), "run", *(["--mask"] if mask else []), "--", "cat", str(path)]
    env = dict(os.environ, T="se://bench/token")
    start = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, env=env, check=True)
    return time.perf_counter() - start


def main() -> int:
    data = _data()
    for chunk in (4096, 65536):
        floor = min(_copy(data, chunk) for _ in range(3))
        masked = min(_masker(data, chunk) for _ in range(3))
        print(
            f"masker, {len(VALUES)} values x 3 forms, {chunk // 1024:>2} KiB writes: "
            f"{_rate(masked)}  (anchor: plain copy {_rate(floor)}, x{masked / floor:.1f})"
        )
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        os.environ.update(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / "c"),
            XDG_DATA_HOME=str(home / "d"),
            XDG_STATE_HOME=str(home / "s"),
            XDG_CACHE_HOME=str(home / "k"),
            DOCKER_PASS_STORE="file",  # noqa: S106 - the store kind, not a password
        )
        exe = Path(sys.executable).parent / "docker-pass"
        subprocess.run(
            [str(exe), "set", "bench/token"], input=VALUES[3], check=True, capture_output=True
        )
        path = home / "output.log"
        path.write_bytes(data)
        plain = min(_run(path, mask=False) for _ in range(3))
        masked = min(_run(path, mask=True) for _ in range(3))
        print(
            f"run --mask -- cat (64 MiB to a pipe): {_rate(masked)}  "
            f"(anchor: run -- cat {_rate(plain)}, x{masked / plain:.1f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
