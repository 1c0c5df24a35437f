"""Open input files: plain or gzip (by content, not by name), read as numbered byte lines.

Every input is opened here, so the resource limits of :func:`tracker.core.config.limits`
hold for every reader: only regular files are read (a FIFO or ``/dev/zero`` is refused), a
gzip input stops with one :class:`InputError` line once it has produced more than
``max_decompressed_bytes`` or more than ``max_gzip_ratio`` bytes per compressed byte (a gzip
bomb), a line longer than ``max_line_bytes`` is never held in memory (it is yielded as an
:class:`OverlongLine` for the reader to quarantine), and a file read whole is capped at
``max_text_file_bytes``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from tracker.core.config import limits
from tracker.core.errors import InputError

__all__ = [
    "OverlongLine",
    "file_sha256",
    "is_gzip",
    "numbered_lines",
    "open_binary",
    "read_capped",
    "text_lines",
]

_GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: str | Path) -> bool:
    """True when the file starts with the gzip magic bytes."""
    with open(path, "rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


class _CappedGzip(io.RawIOBase):
    """A gzip stream that refuses to inflate past the size and ratio limits."""

    def __init__(self, path: Path) -> None:
        lim = limits()
        self._path = path
        self._raw = open(path, "rb")
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="rb")
        self._out = 0
        self._max = lim.max_decompressed_bytes
        self._ratio = lim.max_gzip_ratio
        self._ratio_after = lim.gzip_ratio_after_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._gz.read(min(len(buffer), 1 << 20))
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"{self._path}: cannot read: {exc}") from exc
        size = len(data)
        buffer[:size] = data
        self._out += size
        if self._out > self._max:
            raise InputError(
                f"{self._path}: gzip input inflates past {self._max:,} bytes "
                "(limit $TRACKER_MAX_DECOMPRESSED_BYTES); nothing more read"
            )
        if self._out > self._ratio_after:
            consumed = max(1, self._raw.tell())
            if self._out / consumed > self._ratio:
                raise InputError(
                    f"{self._path}: gzip input inflates more than {self._ratio:g} times "
                    f"({self._out:,} bytes from {consumed:,}): a decompression bomb? "
                    "(limit $TRACKER_MAX_GZIP_RATIO); nothing more read"
                )
        return size

    def close(self) -> None:
        try:
            self._gz.close()
            self._raw.close()
        finally:
            super().close()


def open_binary(path: str | Path) -> BinaryIO:
    """Open ``path`` for reading bytes, transparently decompressing gzip (within the limits)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a file")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file (a pipe or device?); give a file")
    if is_gzip(path):
        return io.BufferedReader(_CappedGzip(path), buffer_size=1 << 16)  # type: ignore[return-value]
    return open(path, "rb")


class OverlongLine(bytes):
    """A line longer than the limit: holds its first 200 bytes; ``length`` is the full size."""

    length: int

    def __new__(cls, head: bytes, length: int) -> OverlongLine:
        obj = super().__new__(cls, head[:200])
        obj.length = length
        return obj

    def __reduce__(self) -> tuple:
        # bytes' own reduction would call OverlongLine(head) without the length: chunks of
        # lines travel to worker processes and back, so pickle both.
        return OverlongLine, (bytes(self), self.length)

    def reason(self, limit: int) -> str:
        """The quarantine reason for this line."""
        return f"line of {self.length:,} bytes is longer than {limit:,} (limit $TRACKER_MAX_LINE_BYTES)"


def _limited_lines(fh: BinaryIO, limit: int) -> Iterator[bytes]:
    """Lines of ``fh`` (with their line ending); an over-long one as :class:`OverlongLine`."""
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        if len(line) <= limit or line.endswith(b"\n"):
            yield line
            continue
        head, length = line, len(line)
        while True:  # skip the rest of the line without keeping it
            chunk = fh.readline(1 << 20)
            length += len(chunk)
            if not chunk or chunk.endswith(b"\n"):
                break
        yield OverlongLine(head, length)


def numbered_lines(fh: BinaryIO, *, path: str | Path = "<input>") -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_number, line)`` with 1-based numbers and line endings stripped.

    A line longer than ``$TRACKER_MAX_LINE_BYTES`` comes as an :class:`OverlongLine`.
    """
    limit = limits().max_line_bytes
    try:
        for number, line in enumerate(_limited_lines(fh, limit), start=1):
            yield number, line if isinstance(line, OverlongLine) else line.rstrip(b"\r\n")
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc


def text_lines(fh: BinaryIO, *, overlong: list[int], encoding: str = "utf-8") -> Iterator[str]:
    """Decoded lines (endings kept) for ``csv.reader``; an over-long line becomes an empty line
    and its number is appended to ``overlong`` (the caller quarantines it)."""
    limit = limits().max_line_bytes
    for number, line in enumerate(_limited_lines(fh, limit), start=1):
        if isinstance(line, OverlongLine):
            overlong.append(number)
            yield "\n"
        else:
            yield line.decode(encoding, "replace")


def read_capped(path: str | Path) -> bytes:
    """The whole (decompressed) file, refused with one line when over ``max_text_file_bytes``."""
    cap = limits().max_text_file_bytes
    with open_binary(path) as fh:
        data = fh.read(cap + 1)
    if len(data) > cap:
        raise InputError(
            f"{path}: larger than {cap:,} bytes (limit $TRACKER_MAX_TEXT_FILE_BYTES); not read"
        )
    return data


def file_sha256(path: str | Path) -> str:
    """SHA-256 of the file's bytes as stored (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
