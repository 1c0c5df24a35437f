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

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tracker.core.records import BadRecord
from tracker.sources.ais.batch import MessageBatch
from tracker.sources.ais.fastpath import NMEADecoder, fast_decode
from tracker.sources.ais.records import AISMessage
from tracker.sources.ais.textio import numbered_lines, open_binary

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


def _line_chunks(path: str | Path, size: int) -> Iterator[tuple[int, list[bytes]]]:
    """``(first line number, lines)`` of ``size`` lines each (the last may be shorter)."""
    with open_binary(path) as fh:
        chunk: list[bytes] = []
        first = 1
        for number, line in numbered_lines(fh, path=path):
            if not chunk:
                first = number
            chunk.append(line)
            if len(chunk) >= size:
                yield first, chunk
                chunk = []
        if chunk:
            yield first, chunk


def _pool(workers: int) -> ProcessPoolExecutor:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["tracker.sources.ais.fastpath"])
    else:  # pragma: no cover - Windows/macOS default
        context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def iter_nmea_batches(
    path: str | Path,
    *,
    assume_time: datetime | None = None,
    batch_lines: int = DEFAULT_BATCH_LINES,
    fast: bool = True,
    workers: int | None = None,
) -> Iterator[DecodedBatch]:
    """Decoded batches of an NMEA file, in file order (see the module docstring).

    ``workers``: decoding processes (``None``: :func:`auto_workers`; 0: decode in this
    process). ``fast=False`` decodes every line with pyais (the reference path).
    """
    decoder = NMEADecoder(str(path), assume_time=assume_time, fast=fast)
    n_workers = auto_workers(path) if workers is None else max(0, workers)
    last = 0
    if not fast or n_workers == 0:
        for first, lines in _line_chunks(path, batch_lines):
            messages, bad = decoder.decode(lines, first)
            last = first + len(lines) - 1
            yield DecodedBatch(messages, bad, last)
    else:
        with _pool(n_workers) as pool:
            pending: deque[tuple[int, int, Future]] = deque()
            chunks = _line_chunks(path, batch_lines)
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
                yield DecodedBatch(messages, bad, last)
            while pending:
                first_done, count, future = pending.popleft()
                messages, bad = decoder.complete(future.result())
                last = first_done + count - 1
                yield DecodedBatch(messages, bad, last)
    messages, bad = decoder.finish()
    if len(messages) or bad:
        yield DecodedBatch(messages, bad, last)


def iter_message_batches(
    items: Iterable[AISMessage | BadRecord], size: int = DEFAULT_BATCH_LINES
) -> Iterator[DecodedBatch]:
    """Batches of ``size`` records (messages + bad records) from any reader's stream."""
    messages: list[AISMessage] = []
    bad: list[BadRecord] = []
    last = 0
    for item in items:
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
