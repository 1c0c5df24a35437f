"""AIS input as a stream of decoded batches, decoded on every core.

:func:`iter_nmea_batches` reads an NMEA file in chunks of lines and decodes each chunk with
the vectorised decoder (:func:`tracker.sources.ais.fastpath.fast_decode`) in worker
processes, while this process completes each chunk in file order with the pyais path
(:class:`~tracker.sources.ais.fastpath.NMEADecoder`, which keeps the state that spans chunks:
multi-part fragments, ``$PGHP`` times). At most ``workers + 2`` chunks are in flight, so
memory does not grow with the file. Results are identical with any number of workers and
with the fast path off (tests). :func:`iter_message_batches` turns any reader's message
stream (CSV exports, JSON, live feeds) into the same batches.
"""

from __future__ import annotations

import gzip
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tracker.core.config import limits
from tracker.core.errors import InputError
from tracker.core.records import BadRecord
from tracker.sources.ais.batch import MessageBatch
from tracker.sources.ais.fastpath import NMEADecoder, fast_decode
from tracker.sources.ais.records import AISMessage
from tracker.sources.ais.textio import OverlongLine, open_binary

__all__ = [
    "DEFAULT_BATCH_LINES",
    "DecodedBatch",
    "auto_workers",
    "iter_message_batches",
    "iter_nmea_batches",
]

#: Input lines per batch (one write transaction each).
DEFAULT_BATCH_LINES = 20_000
#: Below this many bytes of input, worker processes cost more to start than they save.
_PARALLEL_MIN_BYTES = 4 << 20


@dataclass
class DecodedBatch:
    """Messages and bad records of consecutive input lines; ``lines_done`` is the last line read."""

    messages: MessageBatch
    bad: list[BadRecord] = field(default_factory=list)
    lines_done: int = 0


def auto_workers(path: str | Path) -> int:
    """Decoding processes worth starting for ``path``: 0 (decode here) for small files, else
    one per core beyond this one (at least 1), capped at 4."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        return 0
    if Path(path).suffix == ".gz":
        size *= 4
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if size < _PARALLEL_MIN_BYTES or (cores or 1) < 2:
        return 0
    return max(1, min(4, (cores or 2) - 1))


_READ_BYTES = 1 << 22


def _split_lines(fh, limit: int) -> Iterator[list[bytes]]:
    """Lists of the lines of ``fh`` as :func:`textio.numbered_lines` gives them (endings
    stripped; a line longer than ``limit`` as an :class:`OverlongLine`), read in 4 MiB blocks.
    An over-long line is never held whole: beyond ``limit`` its bytes are counted, not kept."""
    carry = b""
    overlong: tuple[bytes, int] | None = None  # (head, bytes so far) of a line being skipped
    while True:
        block = fh.read(_READ_BYTES)
        if not block:
            break
        if overlong is not None:
            cut = block.find(b"\n")
            if cut < 0:
                overlong = (overlong[0], overlong[1] + len(block))
                continue
            yield [OverlongLine(overlong[0], overlong[1] + cut + 1)]
            overlong, block = None, block[cut + 1 :]
        lines = (carry + block).split(b"\n")
        carry = lines.pop()
        if len(carry) > limit:
            overlong, carry = (carry[: limit + 1], len(carry)), b""
        if not lines:
            continue
        if max(map(len, lines)) > limit:
            lines = [OverlongLine(x, len(x) + 1) if len(x) > limit else x for x in lines]
        if b"\r" in block:
            lines = [x if isinstance(x, OverlongLine) else x.rstrip(b"\r\n") for x in lines]
        yield lines
    if overlong is not None:
        yield [OverlongLine(*overlong)]
    elif carry:
        yield [carry.rstrip(b"\r\n")]


def _line_chunks(
    path: str | Path, size: int, boundary: int = 0
) -> Iterator[tuple[int, list[bytes]]]:
    """``(first line number, lines)`` of ``size`` lines each (the last may be shorter); with a
    ``boundary`` line number, the chunk holding it ends there."""
    limit = limits().max_line_bytes
    with open_binary(path) as fh:
        chunk: list[bytes] = []
        number = 1
        try:
            for lines in _split_lines(fh, limit):
                chunk.extend(lines)
                while len(chunk) >= size or number <= boundary < number + len(chunk):
                    take = size if not number <= boundary < number + size else boundary - number + 1
                    if take > len(chunk):
                        break
                    yield number, chunk[:take]
                    number += take
                    chunk = chunk[take:]
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"{path}: cannot read: {exc}") from exc
        if chunk:
            yield number, chunk


def _pool(workers: int) -> ProcessPoolExecutor:
    """Decoding processes. ``fork`` where the platform has it: workers start at once, without
    importing the caller's main module again (scripts without a ``__main__`` guard and
    notebooks work); they only run :func:`fast_decode` on the lines they are sent."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def iter_nmea_batches(
    path: str | Path,
    *,
    assume_time: datetime | None = None,
    batch_lines: int = DEFAULT_BATCH_LINES,
    fast: bool = True,
    workers: int | None = None,
    resume_after: int = 0,
) -> Iterator[DecodedBatch]:
    """Decoded batches of an NMEA file, in file order (see the module docstring).

    ``resume_after``: the last line of a batch already stored by an interrupted run; lines up
    to it are decoded again (multi-part and ``$PGHP`` state) but what they give is not
    yielded, since it was stored with that batch.

    ``workers``: decoding processes (``None``: :func:`auto_workers`; 0: decode in this
    process). ``fast=False`` decodes every line with pyais (the reference path).
    """
    decoder = NMEADecoder(str(path), assume_time=assume_time, fast=fast)
    n_workers = auto_workers(path) if workers is None else max(0, workers)
    last = 0
    if not fast or n_workers == 0:
        for first, lines in _line_chunks(path, batch_lines, resume_after):
            messages, bad = decoder.decode(lines, first)
            last = max(last, first + len(lines) - 1)
            if last > resume_after:
                yield DecodedBatch(messages, bad, last)
    else:
        with _pool(n_workers) as pool:
            pending: deque[tuple[int, int, Future]] = deque()
            chunks = _line_chunks(path, batch_lines, resume_after)
            for first, lines in chunks:
                pending.append(
                    (
                        first,
                        len(lines),
                        pool.submit(fast_decode, lines, first, assume_time=assume_time),
                    )
                )
                if len(pending) < n_workers + 2:
                    continue
                first_done, count, future = pending.popleft()
                messages, bad = decoder.complete(future.result())
                last = first_done + count - 1
                if last > resume_after:
                    yield DecodedBatch(messages, bad, last)
            while pending:
                first_done, count, future = pending.popleft()
                messages, bad = decoder.complete(future.result())
                last = first_done + count - 1
                if last > resume_after:
                    yield DecodedBatch(messages, bad, last)
    messages, bad = decoder.finish()
    # what is still pending at the end (incomplete multi-part messages) is stored as one more
    # batch, marked one line past the end so that a resumed run knows it was stored
    if (len(messages) or bad) and resume_after <= last:
        yield DecodedBatch(messages, bad, last + 1)


def iter_message_batches(
    items: Iterable[AISMessage | BadRecord],
    size: int = DEFAULT_BATCH_LINES,
    *,
    resume_after: int = 0,
) -> Iterator[DecodedBatch]:
    """Batches of ``size`` records (messages + bad records) from any reader's stream; records
    up to line ``resume_after`` (stored by an interrupted run) are skipped."""
    messages: list[AISMessage] = []
    bad: list[BadRecord] = []
    last = 0
    for item in items:
        if (item.line if isinstance(item, BadRecord) else item.line_end) <= resume_after:
            continue
        if isinstance(item, BadRecord):
            bad.append(item)
            last = max(last, item.line)
        else:
            messages.append(item)
            last = max(last, item.line_end)
        if len(messages) + len(bad) >= size:
            yield DecodedBatch(MessageBatch.from_messages(messages), bad, last)
            messages, bad = [], []
    if messages or bad:
        yield DecodedBatch(MessageBatch.from_messages(messages), bad, last)
