"""The forward-only tar reader the layer walk uses, against tars Python's tarfile writes
(ustar, GNU long names, pax records), and against streams that are not tars or are cut."""

from __future__ import annotations

import io
import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docker_pass.core.scan.tar_stream import TarStreamError, members


def written(entries: list[tuple[str, bytes | None]], fmt: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                info.pax_headers = {"SCHILY.xattr.user.k": "v"} if fmt == tarfile.PAX_FORMAT else {}
                tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("a-link")
        link.type = tarfile.SYMTYPE
        link.linkname = "x" * 300 if fmt != tarfile.USTAR_FORMAT else "x"
        tar.addfile(link)
    return buffer.getvalue()


def read_all(data: bytes, chunk: int = 1000) -> list[tuple[str, bool, bytes]]:
    out = []
    for member in members(io.BytesIO(data)):
        parts = []
        while piece := member.reader.read(chunk):
            parts.append(piece)
        out.append((member.name, member.is_file, b"".join(parts)))
    return out


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_members_names_and_data_are_what_tarfile_wrote(fmt: int) -> None:
    long_name = "deep/" * 40 + "file.txt" if fmt != tarfile.USTAR_FORMAT else "dir/file.txt"
    entries: list[tuple[str, bytes | None]] = [
        ("dir", None),
        (long_name, b"hello\n" * 1000),
        ("empty", b""),
        ("odd-\u00e9\u4e2d", bytes(range(256)) * 3),
    ]
    found = read_all(written(entries, fmt))
    assert [(n, f) for n, f, _ in found] == [
        ("dir", False),
        (long_name, True),
        ("empty", True),
        ("odd-\u00e9\u4e2d", True),
        ("a-link", False),
    ]
    assert found[1][2] == b"hello\n" * 1000
    assert found[3][2] == bytes(range(256)) * 3


def test_unread_data_is_skipped_before_the_next_member() -> None:
    data = written([("a", b"A" * 5000), ("b", b"B" * 10)], tarfile.PAX_FORMAT)
    names = [member.name for member in members(io.BytesIO(data))]  # reads no data at all
    assert names == ["a", "b", "a-link"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(max_size=3000), max_size=5), st.integers(min_value=1, max_value=700))
def test_any_files_in_any_read_sizes(files: list[bytes], chunk: int) -> None:
    entries: list[tuple[str, bytes | None]] = [(f"f{i}", d) for i, d in enumerate(files)]
    found = read_all(written(entries, tarfile.PAX_FORMAT), chunk)
    assert [(n, d) for n, f, d in found if f] == [(n, d) for n, d in entries]


@pytest.mark.parametrize(
    "data",
    [
        b"not a tar at all" * 100,
        b"\x00" * 100 + b"\xff" * 412,
        bytes(range(256)) * 2,
    ],
)
def test_a_stream_that_is_not_a_tar_raises_one_error(data: bytes) -> None:
    with pytest.raises(TarStreamError):
        read_all(data)


def test_a_stream_cut_inside_a_member_raises() -> None:
    data = written([("a", b"A" * 5000)], tarfile.USTAR_FORMAT)
    for cut in (600, 512 + 5000, 512 + 5000 + 100):
        with pytest.raises(TarStreamError, match="ends inside"):
            read_all(data[:cut])
    with pytest.raises(TarStreamError, match="ends inside a header"):
        read_all(data[:100])


def test_an_empty_stream_has_no_members() -> None:
    assert read_all(b"") == []
    assert read_all(bytes(1024)) == []
