"""The block line reader of the ingest pipeline gives exactly the lines of the line-at-a-time
reader (``textio.numbered_lines``, ``readline`` based), on real files and hostile bytes, with
blocks small enough that lines straddle them."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest

from tracker.sources.ais import pipeline
from tracker.sources.ais.textio import OverlongLine, numbered_lines, open_binary


def _reference(path: Path) -> list[tuple[int, bytes, type, int | None]]:
    with open_binary(path) as fh:
        return [(n, bytes(x), type(x), getattr(x, "length", None)) for n, x in numbered_lines(fh)]


def _blocked(path: Path, chunk: int) -> list[tuple[int, bytes, type, int | None]]:
    out = []
    chunks = list(pipeline._line_chunks(path, chunk))
    assert all(len(lines) == chunk for _, lines in chunks[:-1])
    for first, lines in chunks:
        out += [
            (first + i, bytes(x), type(x), getattr(x, "length", None)) for i, x in enumerate(lines)
        ]
    return out


def _hostile_bytes(seed: int) -> bytes:
    rng = random.Random(seed)
    pieces = [
        b"!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23\r\n",
        b"\\s:r1,c:1444132800*5B\\!AIVDM,1,1,,B,100h00PP0@PHFV`Mg5gTH?vNPUIp,0*3B\n",
        b"x" * 70_000 + b"\n",  # over the 65,536-byte limit set below
        b"y" * 65_536 + b"\n",  # exactly the limit
        b"z" * 65_537 + b"\r\n",
        b"\r\r\n",
        b"\n",
        b"lone\rcarriage\n",
        b"\x00\x1b[31m\xff\n",
    ]
    body = b"".join(rng.choice(pieces) for _ in range(400))
    return body + b"no final newline" + b"w" * rng.choice([10, 100_000])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hostile_bytes_split_like_readline(tmp_path, monkeypatch, seed):
    monkeypatch.setattr(pipeline, "_READ_BYTES", 1 << 12)
    monkeypatch.setenv("TRACKER_MAX_LINE_BYTES", "65536")
    path = tmp_path / "hostile.nmea"
    path.write_bytes(_hostile_bytes(seed))
    ref = _reference(path)
    assert len(ref) > 300 and any(t is OverlongLine for _, _, t, _ in ref)
    assert _blocked(path, 7) == ref
    gz = tmp_path / "hostile.nmea.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert _blocked(gz, 1000) == ref


def test_real_recordings_split_like_readline(shared_data, monkeypatch):
    monkeypatch.setattr(pipeline, "_READ_BYTES", 1 << 14)
    files = sorted(p for p in (shared_data / "ais").rglob("*") if p.is_file())
    assert len(files) >= 10
    for path in files:
        ref = _reference(path)
        assert ref, path
        assert _blocked(path, 997) == ref, path
