"""Ingest AIS files into the store: batched, idempotent, resumable.

Each batch of messages is written in one transaction: positions, static reports, lineage,
quarantined lines and the per-vessel summary. Any number of ingests may run at once on one
store: rows are written in key order, a batch that meets a deadlock or a busy store is run
again (:func:`tracker.store.writes.write_transaction`), and batches with window-identified
messages take one advisory lock on PostgreSQL; the store ends as if the files had been
ingested one after another. Everything is keyed (transmission key, input and
line), so re-running an ingest, or re-running one that was killed half-way, stores nothing twice.

A message identified by a time window (no usable UTC second: see
:mod:`tracker.sources.ais.nmea`) is a repeat when the same content is stored within 60 s: the
batch looks up the keys of its own and the neighbouring 60 s buckets in the table, and the
message's lineage row then points at the stored row. Messages from MMSIs that cannot be a ship
(:func:`tracker.core.identifiers.mmsi_problem`) are stored like the others and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from tracker.core.identifiers import mmsi_problem
from tracker.core.records import BadRecord
from tracker.sources.ais.formats import detect_format, iter_ais
from tracker.sources.ais.records import (
    VESSEL_POSITION_TYPES,
    AISMessage,
    TransmissionIndex,
    text_key,
)
from tracker.sources.ais.textio import file_sha256
from tracker.store.engine import Store
from tracker.store.tables import (
    ingest_runs,
    lineage,
    positions,
    quarantine,
    static_reports,
    vessels,
)
from tracker.store.types import UTCDateTime
from tracker.store.writes import (
    insert_ignore,
    insert_ignore_returning,
    quarantine_rows,
    upsert,
    write_transaction,
)

__all__ = ["IngestSummary", "begin_feed_run", "ingest_ais_file", "ingest_messages"]

DEFAULT_BATCH_SIZE = 5000
#: Message types a ship sends: their MMSI is checked with ``mmsi_problem`` and counted when invalid.
SHIP_MESSAGE_TYPES = VESSEL_POSITION_TYPES | {5, 24}
_IN_CHUNK = 500


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


def _invalid_mmsi(msg: AISMessage, cache: dict[int, bool]) -> bool:
    """True for a ship message whose MMSI cannot be a ship's (see ``mmsi_problem``)."""
    if msg.msg_type not in SHIP_MESSAGE_TYPES:
        return False
    bad = cache.get(msg.mmsi)
    if bad is None:
        bad = cache[msg.mmsi] = mmsi_problem(msg.mmsi) is not None
    return bad


def _stored_index(conn, messages: list[AISMessage]) -> TransmissionIndex:
    """Keys and times of stored rows that window-identified ``messages`` may repeat."""
    index = TransmissionIndex()
    wanted: dict[sa.Table, set[str]] = {positions: set(), static_reports: set()}
    for msg in messages:
        if msg.neighbours is None:
            continue
        table = positions if msg.position is not None else static_reports
        wanted[table].update((msg.key, *msg.neighbours))
    for table, keys in wanted.items():
        ordered = sorted(keys)
        for start in range(0, len(ordered), _IN_CHUNK):
            chunk = ordered[start : start + _IN_CHUNK]
            for key, ts in conn.execute(
                sa.select(table.c.key, table.c.ts).where(table.c.key.in_(chunk))
            ):
                index.add(key, ts)
    return index


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


def _write_batch(
    store: Store,
    input_id: int,
    messages: list[AISMessage],
    bad: list[BadRecord],
    summary: IngestSummary,
    lines_done: int,
) -> None:
    with_data = [m for m in messages if m.position is not None or m.static is not None]
    original_keys = [m.key for m in with_data]
    # window-identified messages are repeats of rows *another* writer may be adding: their
    # batches take one advisory lock on PostgreSQL so the look-up sees those rows
    lock = "ais-window" if any(m.neighbours is not None for m in with_data) else None

    def work(conn) -> IngestSummary:
        for msg, key in zip(with_data, original_keys, strict=True):
            msg.key = key  # a retried attempt starts from the reader's keys again
        trial = IngestSummary(**summary.as_dict())
        pos_rows: dict[str, dict] = {}
        static_rows: dict[str, dict] = {}
        index = _stored_index(conn, with_data)
        for msg in with_data:
            if index.resolve(msg):
                continue  # a repeat: msg.key now names the transmission already kept
            common = {
                "key": msg.key,
                "mmsi": msg.mmsi,
                "ts": msg.ts,
                "ts_assumed": msg.ts_assumed,
                "msg_type": msg.msg_type,
                "source": msg.source,
                "input_id": input_id,
                "line": msg.line,
            }
            if msg.position is not None:
                pos_rows.setdefault(msg.key, common | msg.position)
            if msg.static is not None:
                static_rows.setdefault(msg.key, common | msg.static)
        _write_rows(conn, input_id, messages, bad, pos_rows, static_rows, trial, lines_done)
        return trial

    done = write_transaction(store.engine, work, lock=lock)
    for name, value in done.as_dict().items():
        setattr(summary, name, value)


def _write_rows(
    conn,
    input_id: int,
    messages: list[AISMessage],
    bad: list[BadRecord],
    pos_rows: dict[str, dict],
    static_rows: dict[str, dict],
    summary: IngestSummary,
    lines_done: int,
) -> None:
    lineage_rows = [
        {
            "input_id": input_id,
            "line": msg.line,
            "line_end": msg.line_end,
            "msg_type": msg.msg_type,
            "mmsi": msg.mmsi,
            "kind": msg.kind,
            "record_key": msg.key,
            "raw": msg.raw,
        }
        for msg in messages
    ]
    now = _now()
    bad_rows = quarantine_rows(
        bad,
        key=lambda b: text_key(input_id, b.line, b.reason, b.raw),
        input_id=input_id,
        now=now,
    )
    new_pos = insert_ignore_returning(conn, positions, list(pos_rows.values()), "key")
    new_static = insert_ignore_returning(conn, static_reports, list(static_rows.values()), "key")
    insert_ignore(conn, lineage, lineage_rows)
    insert_ignore(conn, quarantine, bad_rows)
    per_vessel: dict[int, dict] = {}
    for key in new_pos | new_static:
        row = pos_rows.get(key) or static_rows[key]
        entry = per_vessel.setdefault(
            row["mmsi"],
            {
                "mmsi": row["mmsi"],
                "first_seen": row["ts"],
                "last_seen": row["ts"],
                "positions": 0,
                "statics": 0,
            },
        )
        entry["first_seen"] = min(entry["first_seen"], row["ts"])
        entry["last_seen"] = max(entry["last_seen"], row["ts"])
        entry["positions"] += key in new_pos
        entry["statics"] += key in new_static
    upsert(
        conn,
        vessels,
        list(per_vessel.values()),
        keys=["mmsi"],
        update={
            "first_seen": lambda old, new, d: (sa.func.least if d == "postgresql" else sa.func.min)(
                old, new
            ),
            "last_seen": lambda old, new, d: (
                sa.func.greatest if d == "postgresql" else sa.func.max
            )(old, new),
            "positions": lambda old, new, d: old + new,
            "statics": lambda old, new, d: old + new,
        },
    )
    stored_pos, stored_static = len(new_pos), len(new_static)
    # every message carrying data is either the first holder of a newly stored key, or a repeat
    with_data = [m for m in messages if m.position is not None or m.static is not None]
    new_keys = new_pos | new_static
    cache: dict[int, bool] = {}
    summary.invalid_mmsi += sum(_invalid_mmsi(m, cache) for m in messages)
    duplicates = len(with_data) - len({m.key for m in with_data if m.key in new_keys})
    summary.read += len(messages) + len(bad)
    summary.positions += stored_pos
    summary.statics += stored_static
    summary.duplicates += duplicates
    summary.quarantined += len(bad)
    spans = {}
    timed = [r["ts"] for r in pos_rows.values() if not r.get("ts_assumed")]
    if timed:
        lo = sa.literal(min(timed), type_=UTCDateTime)
        hi = sa.literal(max(timed), type_=UTCDateTime)
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
            lines_done=lines_done,
            read=summary.read,
            positions=ingest_runs.c.positions + stored_pos,
            statics=ingest_runs.c.statics + stored_static,
            duplicates=summary.duplicates,
            quarantined=summary.quarantined,
            **spans,
        )
    )


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
    summary = IngestSummary()
    messages: list[AISMessage] = []
    bad: list[BadRecord] = []
    last_line = 0
    for item in items:
        if isinstance(item, BadRecord):
            bad.append(item)
            if on_bad is not None:
                on_bad(item)
            last_line = max(last_line, item.line)
        else:
            messages.append(item)
            last_line = max(last_line, item.line_end)
        if len(messages) + len(bad) >= batch_size:
            _write_batch(store, input_id, messages, bad, summary, last_line)
            if on_batch is not None:
                on_batch(len(messages) + len(bad))
            messages, bad = [], []
    if messages or bad:
        _write_batch(store, input_id, messages, bad, summary, last_line)
        if on_batch is not None:
            on_batch(len(messages) + len(bad))
    return summary


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
) -> IngestSummary:
    """Ingest one AIS file. A file-level error (no times, unknown format) stores nothing.

    Re-running on the same file (same bytes) adds nothing; re-running after a crash completes
    the file without duplicates. A file whose bytes were already ingested in full is not read
    again (``already_ingested`` = 1) unless ``reread``: then every message is read and found
    to be a repeat by its transmission identity.
    """
    path = Path(path)
    if not reread:
        done = _completed_run(store, file_sha256(path))
        if done is not None:
            return IngestSummary(already_ingested=1)
    fmt = detect_format(path) if format == "auto" else format
    items = _prime(iter_ais(path, format=fmt, assume_time=assume_time))
    input_id = _begin_run(
        store, sha256=file_sha256(path), path=str(path), fmt=fmt, assume_time=assume_time
    )
    summary = ingest_messages(
        store, items, input_id=input_id, batch_size=batch_size, on_bad=on_bad, on_batch=on_batch
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
