"""Open input files: plain or gzip (by content, not by name), read as numbered byte lines."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from tracker.core.errors import InputError

__all__ = ["file_sha256", "is_gzip", "numbered_lines", "open_binary"]

_GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: str | Path) -> bool:
    """True when the file starts with the gzip magic bytes."""
    with open(path, "rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def open_binary(path: str | Path) -> BinaryIO:
    """Open ``path`` for reading bytes, transparently decompressing gzip."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a file")
    if is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def numbered_lines(fh: BinaryIO, *, path: str | Path = "<input>") -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_number, line)`` with 1-based numbers and line endings stripped."""
    try:
        for number, line in enumerate(fh, start=1):
            yield number, line.rstrip(b"\r\n")
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc


def file_sha256(path: str | Path) -> str:
    """SHA-256 of the file's bytes as stored (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
