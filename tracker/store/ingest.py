"""Ingest AIS files into the store: batched, idempotent, resumable, on every core.

NMEA files are read in batches of lines, decoded by the vectorised fast path in worker
processes (:mod:`tracker.sources.ais.pipeline`), and each batch is written in one transaction
(:mod:`tracker.store.batch_writes`): positions, static reports, their raw text (compressed
``raw_blocks``), quarantined lines and the per-vessel summary. Any number of ingests may run at once on one
store: rows are written in key order, a batch that meets a deadlock or a busy store is run
again (:func:`tracker.store.writes.write_transaction`), and batches with window-identified
messages take one advisory lock on PostgreSQL; the store ends as if the files had been
ingested one after another. Everything is keyed (transmission key, input and
line), so re-running an ingest, or re-running one that was killed half-way, stores nothing twice.

A message identified by a time window (no usable UTC second: see
:mod:`tracker.sources.ais.nmea`) is a repeat when the same content is stored within 60 s: the
batch looks up the keys of its own and the neighbouring 60 s buckets in the table, and the
message counts as a repeat of the stored row. Messages from MMSIs that cannot be a ship
(:func:`tracker.core.identifiers.mmsi_problem`) are stored like the others and counted.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from tracker.core.identifiers import mmsi_problem
from tracker.core.records import BadRecord
from tracker.sources.ais.batch import MessageBatch
from tracker.sources.ais.formats import detect_format, iter_ais
from tracker.sources.ais.pipeline import (
    DEFAULT_BATCH_LINES,
    DecodedBatch,
    iter_message_batches,
    iter_nmea_batches,
)
from tracker.sources.ais.records import VESSEL_POSITION_TYPES, AISMessage, text_key
from tracker.sources.ais.textio import file_sha256
from tracker.store.batch_writes import (
    KnownKeys,
    span_datetimes,
    upsert_vessels,
    write_message_batch,
)
from tracker.store.engine import Store
from tracker.store.tables import ingest_runs, quarantine
from tracker.store.types import UTCDateTime
from tracker.store.writes import (
    insert_ignore,
    insert_ignore_returning,
    quarantine_rows,
    write_transaction,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "IngestSummary",
    "begin_feed_run",
    "ingest_ais_file",
    "ingest_messages",
]

DEFAULT_BATCH_SIZE = DEFAULT_BATCH_LINES
#: Message types a ship sends: their MMSI is checked with ``mmsi_problem`` and counted when invalid.
SHIP_MESSAGE_TYPES = VESSEL_POSITION_TYPES | {5, 24}


@dataclass
class IngestSummary:
    """Counts of one ingest: input records read, new rows stored, repeats skipped, lines kept aside."""

    read: int = 0
    positions: int = 0
    statics: int = 0
    duplicates: int = 0
    quarantined: int = 0
    invalid_mmsi: int = 0
    already_ingested: int = 0

    def add(self, other: IngestSummary) -> None:
        """Add another summary's counts to this one."""
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain dict (the ``--json`` output)."""
        return asdict(self)

    def __str__(self) -> str:
        text = (
            f"read {self.read}, stored {self.positions} positions and {self.statics} static reports, "
            f"duplicates {self.duplicates}, quarantined {self.quarantined}"
        )
        if self.invalid_mmsi:
            text += f"; {self.invalid_mmsi} messages from invalid MMSIs (kept, flagged)"
        if self.already_ingested:
            text += (
                f"; {self.already_ingested} files already ingested in full, not read again "
                "(--reread to read them)"
            )
        return text


def _now() -> datetime:
    return datetime.now(UTC)


def _completed_run(store: Store, sha256: str):
    """The ingest run of these bytes if it completed, else None."""
    with store.engine.connect() as conn:
        return conn.execute(
            sa.select(ingest_runs.c.id, ingest_runs.c.finished_at).where(
                ingest_runs.c.sha256 == sha256, ingest_runs.c.status == "complete"
            )
        ).first()


def _unfinished_run(store: Store, sha256: str):
    """The stored counts of an interrupted run of these bytes (a batch or more stored), or None."""
    with store.engine.connect() as conn:
        return conn.execute(
            sa.select(
                ingest_runs.c.lines_done,
                ingest_runs.c.read,
                ingest_runs.c.positions,
                ingest_runs.c.statics,
                ingest_runs.c.duplicates,
                ingest_runs.c.quarantined,
            ).where(
                ingest_runs.c.sha256 == sha256,
                ingest_runs.c.status != "complete",
                ingest_runs.c.lines_done > 0,
            )
        ).first()


def _begin_run(
    store: Store, *, sha256: str, path: str, fmt: str, assume_time: datetime | None
) -> int:
    def work(conn) -> int:
        # insert-or-skip first: two processes starting the same file get one run row
        created = insert_ignore_returning(
            conn,
            ingest_runs,
            [
                {
                    "sha256": sha256,
                    "path": path,
                    "format": fmt,
                    "status": "running",
                    "started_at": _now(),
                    "runs": 1,
                    "assume_time": assume_time,
                }
            ],
            "id",
        )
        if created:
            return next(iter(created))
        row_id = conn.execute(
            sa.select(ingest_runs.c.id).where(ingest_runs.c.sha256 == sha256)
        ).scalar_one()
        conn.execute(
            ingest_runs.update()
            .where(ingest_runs.c.id == row_id)
            .values(
                status="running",
                started_at=_now(),
                finished_at=None,
                runs=ingest_runs.c.runs + 1,
                path=path,
            )
        )
        return row_id

    return write_transaction(store.engine, work)


def begin_feed_run(store: Store, *, url: str, session: str, fmt: str = "nmea") -> int:
    """Begin (or resume) the ingest run of one live-feed session; returns its input id.

    The run's input is the feed URL and the session (``path`` = ``"<url> session <id>"``,
    keyed by a hash of both); lineage ``line`` numbers are the message sequence within the
    session. Give it to :func:`ingest_messages` batch after batch.
    """
    import hashlib

    digest = hashlib.sha256(f"feed\0{url}\0{session}".encode()).hexdigest()
    return _begin_run(
        store,
        sha256=digest,
        path=f"{url} session {session}",
        fmt=f"feed:{fmt}"[:32],
        assume_time=None,
    )


def _invalid_mmsi_count(batch: MessageBatch, cache: dict[int, bool]) -> int:
    """Messages of a ship type whose MMSI cannot be a ship's (see ``mmsi_problem``)."""
    ship = np.isin(batch.msg_type, list(SHIP_MESSAGE_TYPES))
    if not ship.any():
        return 0
    mmsis, counts = np.unique(batch.mmsi[ship], return_counts=True)
    total = 0
    for mmsi, count in zip(mmsis.tolist(), counts.tolist(), strict=True):
        bad = cache.get(mmsi)
        if bad is None:
            bad = cache[mmsi] = mmsi_problem(mmsi) is not None
        total += count if bad else 0
    return total


def _write_batch(
    store: Store,
    input_id: int,
    decoded: DecodedBatch,
    summary: IngestSummary,
    mmsi_cache: dict[int, bool],
    known: KnownKeys | None = None,
) -> None:
    """Write one decoded batch in one transaction (run again on a deadlock / busy store)."""
    batch, bad = decoded.messages, decoded.bad
    # window-identified messages may repeat rows *another* writer is adding: their batches
    # take one advisory lock on PostgreSQL so the look-up sees those rows
    lock = (
        "ais-window" if bool((batch.windowed & (batch.has_pos | batch.has_static)).any()) else None
    )
    invalid = _invalid_mmsi_count(batch, mmsi_cache)

    held: dict[str, list[int]] = {}

    def work(conn) -> IngestSummary:
        if conn.dialect.name == "postgresql":
            # like SQLite's synchronous=NORMAL: a server crash may lose the last batches
            # committed (never half of one); a re-run of the ingest stores them again
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        trial = IngestSummary(**summary.as_dict())
        result = write_message_batch(conn, input_id, batch, known)
        held.clear()
        held.update(result.held)
        now = _now()
        insert_ignore(
            conn,
            quarantine,
            quarantine_rows(
                bad,
                key=lambda b: text_key(input_id, b.line, b.reason, b.raw),
                input_id=input_id,
                now=now,
            ),
        )
        upsert_vessels(conn, result.per_vessel)
        trial.read += len(batch) + len(bad)
        trial.positions += result.positions
        trial.statics += result.statics
        trial.duplicates += result.duplicates
        trial.quarantined += len(bad)
        trial.invalid_mmsi += invalid
        spans = {}
        span = span_datetimes(result.timed_span)
        if span is not None:
            lo = sa.literal(span[0], type_=UTCDateTime)
            hi = sa.literal(span[1], type_=UTCDateTime)
            least = sa.func.least if conn.dialect.name == "postgresql" else sa.func.min
            greatest = sa.func.greatest if conn.dialect.name == "postgresql" else sa.func.max
            spans = {
                "first_ts": least(sa.func.coalesce(ingest_runs.c.first_ts, lo), lo),
                "last_ts": greatest(sa.func.coalesce(ingest_runs.c.last_ts, hi), hi),
            }
        conn.execute(
            ingest_runs.update()
            .where(ingest_runs.c.id == input_id)
            .values(
                lines_done=decoded.lines_done,
                read=trial.read,
                positions=ingest_runs.c.positions + result.positions,
                statics=ingest_runs.c.statics + result.statics,
                duplicates=trial.duplicates,
                quarantined=trial.quarantined,
                **spans,
            )
        )
        return trial

    done = write_transaction(store.engine, work, lock=lock)
    if known is not None:  # committed: these keys are stored
        for table, keys in held.items():
            known.add(table, keys)
    for name, value in done.as_dict().items():
        setattr(summary, name, value)


def _ingest_batches(
    store: Store,
    batches: Iterable[DecodedBatch],
    *,
    input_id: int,
    on_bad: Callable[[BadRecord], None] | None = None,
    on_batch: Callable[[int], None] | None = None,
    threaded: bool = False,
    start: IngestSummary | None = None,
) -> IngestSummary:
    """Write ``batches`` one transaction each, in order. ``threaded``: a writer thread writes
    while this thread reads and decodes the next batch (the SQLite and zlib calls release the
    GIL); at most two batches wait between them, so memory stays bounded. ``start``: the
    counts of an interrupted run being resumed."""
    summary = start if start is not None else IngestSummary()
    cache: dict[int, bool] = {}
    known = KnownKeys()

    def write(decoded: DecodedBatch) -> None:
        _write_batch(store, input_id, decoded, summary, cache, known)
        if on_batch is not None:
            on_batch(len(decoded.messages) + len(decoded.bad))

    if not threaded:
        for decoded in batches:
            if on_bad is not None:
                for record in decoded.bad:
                    on_bad(record)
            write(decoded)
        return summary
    waiting: queue.Queue[DecodedBatch | None] = queue.Queue(maxsize=2)
    failed: list[BaseException] = []

    def writer() -> None:
        while (decoded := waiting.get()) is not None:
            if not failed:
                try:
                    write(decoded)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                    failed.append(exc)

    thread = threading.Thread(target=writer, name="tracker-ingest-writer", daemon=True)
    thread.start()
    try:
        for decoded in batches:
            if failed:
                break
            if on_bad is not None:
                for record in decoded.bad:
                    on_bad(record)
            waiting.put(decoded)
    finally:
        waiting.put(None)
        thread.join()
    if failed:
        raise failed[0]
    return summary


def ingest_messages(
    store: Store,
    items: Iterable[AISMessage | BadRecord],
    *,
    input_id: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_bad: Callable[[BadRecord], None] | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> IngestSummary:
    """Store reader output in batches of ``batch_size`` (one transaction each) under ``input_id``."""
    return _ingest_batches(
        store,
        iter_message_batches(items, batch_size),
        input_id=input_id,
        on_bad=on_bad,
        on_batch=on_batch,
    )


def _prime(items: Iterator) -> Iterator:
    """Pull the first item now, so a file-level error is raised before anything is stored."""
    iterator = iter(items)
    try:
        first = next(iterator)
    except StopIteration:
        return iter(())

    def chain():
        yield first
        yield from iterator

    return chain()


def ingest_ais_file(
    store: Store,
    path: str | Path,
    *,
    format: str = "auto",
    assume_time: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_bad: Callable[[BadRecord], None] | None = None,
    on_batch: Callable[[int], None] | None = None,
    reread: bool = False,
    fast: bool = True,
    workers: int | None = None,
) -> IngestSummary:
    """Ingest one AIS file. A file-level error (no times, unknown format) stores nothing.

    Re-running on the same file (same bytes) adds nothing; re-running after a crash completes
    the file without duplicates: it resumes after the last batch the interrupted run stored
    (earlier lines are decoded again for their multi-part state, not written or counted
    again), so the run's counts end as those of one clean run. A file whose bytes were already ingested in full is not read
    again (``already_ingested`` = 1) unless ``reread``: then every message is read and found
    to be a repeat by its transmission identity.

    NMEA is decoded by the vectorised fast path (``fast=False``: pyais for every line; the
    store is identical) on ``workers`` processes (``None``: chosen from the file size and
    cores; 0: this process only). ``batch_size`` is input lines (records for other formats)
    per transaction.
    """
    path = Path(path)
    sha256 = file_sha256(path)
    if not reread:
        done = _completed_run(store, sha256)
        if done is not None:
            return IngestSummary(already_ingested=1)
    fmt = detect_format(path) if format == "auto" else format
    # file-level refusals (no times, wrong format, nothing usable) before anything is stored
    items = _prime(iter_ais(path, format=fmt, assume_time=assume_time))
    # an interrupted run resumes after its last stored batch, with its counts
    partial = _unfinished_run(store, sha256)
    resume_after = int(partial.lines_done) if partial is not None else 0
    start = IngestSummary()
    if partial is not None:
        start = IngestSummary(
            read=partial.read,
            positions=partial.positions,
            statics=partial.statics,
            duplicates=partial.duplicates,
            quarantined=partial.quarantined,
        )
    input_id = _begin_run(store, sha256=sha256, path=str(path), fmt=fmt, assume_time=assume_time)
    if fmt == "nmea":
        close = getattr(items, "close", None)
        if close is not None:
            close()
        batches: Iterable[DecodedBatch] = iter_nmea_batches(
            path,
            assume_time=assume_time,
            batch_lines=batch_size,
            fast=fast,
            workers=workers,
            resume_after=resume_after,
        )
    else:
        batches = iter_message_batches(items, batch_size, resume_after=resume_after)
    summary = _ingest_batches(
        store,
        batches,
        input_id=input_id,
        on_bad=on_bad,
        on_batch=on_batch,
        threaded=fmt == "nmea",
        start=start,
    )
    write_transaction(
        store.engine,
        lambda conn: conn.execute(
            ingest_runs.update()
            .where(ingest_runs.c.id == input_id)
            .values(
                status="complete",
                finished_at=_now(),
                read=summary.read,
                duplicates=summary.duplicates,
            )
        ),
    )
    return summary
