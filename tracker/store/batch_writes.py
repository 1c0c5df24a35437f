"""Write one decoded batch (:class:`~tracker.sources.ais.batch.MessageBatch`) in one transaction.

The bulk of a batch goes in without SQLAlchemy statement building per row:

- **SQLite**: ``executemany`` on the driver connection with prepared column tuples (integer
  epoch-microsecond times, integer keys); ``INSERT OR IGNORE`` lets the unique key index
  skip stored transmissions, and the rows actually stored are read back by rowid (the write
  lock is held, so rows above the previous maximum id are this batch's).
- **PostgreSQL**: ``COPY`` into a temporary staging table, then one
  ``INSERT ... SELECT ... ORDER BY key ON CONFLICT (key) DO NOTHING RETURNING key``. Positions
  are partitioned by month of ``ts`` there (migration 0009): a unique constraint of a
  partitioned table must hold the partition key, and one transmission heard by two receivers
  has two reception times, so their keys are unique in the unpartitioned ``position_keys``:
  the batch's keys go there first (``ON CONFLICT DO NOTHING RETURNING key``) and the positions
  of the keys returned into ``positions``, in one statement; any month partition missing is
  created first, in the same transaction (:func:`ensure_position_partitions`).

Before that, repeats inside the batch are dropped (the first hearing by input line wins) and
window-identified messages are resolved against stored rows of the neighbouring 60 s windows
(:class:`~tracker.sources.ais.records.TransmissionIndex`, few rows: statics and type 27).
The raw text of the messages stored goes into one compressed ``raw_blocks`` row.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tracker.sources.ais.batch import MessageBatch, datetime_from_us
from tracker.sources.ais.records import TransmissionIndex
from tracker.store.lineage import encode_block
from tracker.store.tables import positions, raw_blocks, static_reports
from tracker.store.types import SCALES, scaled_column

__all__ = [
    "BatchResult",
    "KnownKeys",
    "claim_position_keys",
    "ensure_position_partitions",
    "position_partition",
    "upsert_vessels",
    "write_message_batch",
]

_POSITION_COLUMNS = (
    "key", "mmsi", "ts", "ts_assumed", "lon", "lat", "sog_kn", "cog_deg", "heading_deg",
    "nav_status", "msg_type", "source", "input_id", "line", "line_end",
)  # fmt: skip
_STATIC_COLUMNS = (
    "key", "mmsi", "ts", "ts_assumed", "msg_type", "imo", "name", "callsign", "ship_type",
    "to_bow", "to_stern", "to_port", "to_starboard", "length_m", "beam_m", "draught_m",
    "destination", "eta", "source", "input_id", "line", "line_end",
)  # fmt: skip
_PG_TYPES = {
    "key": "bigint", "mmsi": "bigint", "ts": "timestamp", "ts_assumed": "boolean",
    "lon": "double precision", "lat": "double precision", "sog_kn": "double precision",
    "cog_deg": "double precision", "heading_deg": "double precision", "nav_status": "smallint",
    "msg_type": "smallint", "source": "text", "input_id": "bigint", "line": "integer",
    "line_end": "integer", "imo": "bigint", "name": "text", "callsign": "text",
    "ship_type": "smallint", "to_bow": "smallint", "to_stern": "smallint", "to_port": "smallint",
    "to_starboard": "smallint", "length_m": "double precision", "beam_m": "double precision",
    "draught_m": "double precision", "destination": "text", "eta": "text",
}  # fmt: skip
_IN_CHUNK = 500
#: PostgreSQL: how far (either way) from a batch's window-identified positions their kept
#: transmissions are looked for (keys of one transmission lie within about 2 minutes)
_PG_KEY_MARGIN = timedelta(days=1)


@dataclass
class BatchResult:
    """What one batch stored: new rows per table, repeats, and the new rows' per-vessel spans."""

    positions: int
    statics: int
    duplicates: int
    #: per MMSI (ascending) of the new rows: columns mmsi, first ts µs, last ts µs, new
    #: positions, new statics
    per_vessel: tuple[np.ndarray, ...] | None
    #: first/last reception time (µs) of new positions with a real (not assumed) time
    timed_span: tuple[int, int] | None
    #: keys stored after this batch (new or found stored), per table (``pos``, ``static``)
    held: dict[str, list[int]] = field(default_factory=dict)


def _resolve_windowed(conn: Connection, batch: MessageBatch, rows: np.ndarray) -> np.ndarray:
    """Keys after resolving window-identified ``rows`` (indices) against the store and each
    other: a repeat's key becomes the kept transmission's (see ``TransmissionIndex``)."""
    keys = batch.key.copy()
    if not len(rows):
        return keys
    index = TransmissionIndex()
    for table, mask in ((positions, batch.has_pos), (static_reports, batch.has_static)):
        chosen = rows[mask[rows]]
        wanted = sorted(
            {
                int(k)
                for k in np.concatenate(
                    [keys[chosen], batch.nb_prev[chosen], batch.nb_next[chosen]]
                )
            }
        )
        near = []
        if table is positions and conn.dialect.name == "postgresql" and len(chosen):
            # partitioned by month, no index on key alone: a kept transmission of these keys
            # is one of these vessels' within a minute or two, so the (mmsi, ts) index and
            # partition pruning find it
            lo = datetime_from_us(int(batch.ts_us[chosen].min())) - _PG_KEY_MARGIN
            hi = datetime_from_us(int(batch.ts_us[chosen].max())) + _PG_KEY_MARGIN
            near = [
                table.c.mmsi.in_(sorted({int(m) for m in batch.mmsi[chosen]})),
                table.c.ts.between(lo.replace(tzinfo=None), hi.replace(tzinfo=None)),
            ]
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            for key, ts in conn.execute(
                sa.select(table.c.key, table.c.ts).where(table.c.key.in_(chunk), *near)
            ):
                index.add(int(key), ts)

    class _Msg:  # the attributes TransmissionIndex.resolve reads and sets
        __slots__ = ("key", "neighbours", "ts")

    for i in rows:
        msg = _Msg()
        msg.key, msg.ts = int(keys[i]), datetime_from_us(int(batch.ts_us[i]))
        msg.neighbours = (int(batch.nb_prev[i]), int(batch.nb_next[i]))
        index.resolve(msg)  # type: ignore[arg-type]
        keys[i] = msg.key
    return keys


def _none_where(values: np.ndarray, missing: np.ndarray) -> list:
    out = values.astype(object)
    out[missing] = None
    return out.tolist()


def _common_columns(batch: MessageBatch, rows: np.ndarray, input_id: int, pg: bool) -> dict:
    """The columns positions and static reports share, for ``rows``, as bindable lists."""
    line, line_end = batch.line[rows], batch.line_end[rows]
    ts = batch.ts_us[rows]
    assumed = batch.ts_assumed[rows]
    return {
        "key": batch.key[rows].tolist(),
        "mmsi": batch.mmsi[rows].tolist(),
        "ts": _pg_times(ts) if pg else ts.tolist(),
        "ts_assumed": assumed.tolist() if pg else assumed.astype(np.int8).tolist(),
        "msg_type": batch.msg_type[rows].astype(np.int64).tolist(),
        "source": batch.source[rows].tolist(),
        "input_id": [input_id] * len(rows),
        "line": line.tolist(),
        "line_end": _none_where(line_end, line_end == line),
    }


def _position_columns(batch: MessageBatch, rows: np.ndarray, input_id: int, pg: bool) -> list[list]:
    cols = _common_columns(batch, rows, input_id, pg)
    for name in ("lon", "lat", "sog_kn", "cog_deg", "heading_deg"):
        values = getattr(batch, name)[rows]
        # SQLite: ScaledFloat's exact scaled integers (types.SCALES); PostgreSQL: doubles
        cols[name] = (
            scaled_column(values, SCALES[name])
            if name in SCALES and not pg
            else _none_where(values, np.isnan(values))
        )
    nav = batch.nav_status[rows]
    cols["nav_status"] = _none_where(nav.astype(np.int64), nav < 0)
    return [cols[name] for name in _POSITION_COLUMNS]


def _static_columns(batch: MessageBatch, rows: np.ndarray, input_id: int, pg: bool) -> list[list]:
    cols = _common_columns(batch, rows, input_id, pg)
    for name in _STATIC_COLUMNS:
        if name in batch.statics:
            cols[name] = batch.statics[name][rows].tolist()
    return [cols[name] for name in _STATIC_COLUMNS]


def _pg_times(ts_us: np.ndarray) -> list[str]:
    """ISO text of µs epoch times for COPY into a ``timestamp`` column (UTC)."""
    return np.datetime_as_string(ts_us.astype("datetime64[us]"), unit="us").tolist()


def _insert_sqlite(
    conn: Connection, table: sa.Table, names: tuple[str, ...], columns: list[list]
) -> set[int]:
    """INSERT OR IGNORE the rows; the keys of the rows actually stored."""
    raw = conn.connection.driver_connection
    # identifiers below are this module's constants; every value is bound
    before = raw.execute(f"SELECT coalesce(max(id), 0) FROM {table.name}").fetchone()[0]  # noqa: S608
    raw.executemany(
        f"INSERT OR IGNORE INTO {table.name} ({', '.join(names)}) "  # noqa: S608
        f"VALUES ({', '.join('?' * len(names))})",
        zip(*columns, strict=True),
    )
    new = raw.execute(f"SELECT key FROM {table.name} WHERE id > ?", (before,))  # noqa: S608
    return {k for (k,) in new}


_COPY_SPECIAL = ("\\", "\t", "\n", "\r")


def _copy_strings(column: list) -> list[str]:
    """One column in PostgreSQL's COPY text format (``\\N`` for NULL), built column-wise."""
    sample = next((v for v in column if v is not None), None)
    if sample is None:
        return ["\\N"] * len(column)
    if isinstance(sample, bool):
        return ["\\N" if v is None else ("t" if v else "f") for v in column]
    if isinstance(sample, float):
        return ["\\N" if v is None else repr(v) for v in column]
    if isinstance(sample, str):
        text = [v for v in column if v is not None]
        joined = "".join(text)
        if any(c in joined for c in _COPY_SPECIAL):
            return [
                "\\N"
                if v is None
                else v.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
                for v in column
            ]
        return ["\\N" if v is None else v for v in column]
    return ["\\N" if v is None else str(v) for v in column]


def _copy_buffer(columns: list[list]) -> io.StringIO:
    """COPY text format of the rows given as columns."""
    text = "\n".join(map("\t".join, zip(*map(_copy_strings, columns), strict=True)))
    return io.StringIO(text + "\n" if text else "")


def position_partition(month: np.datetime64) -> tuple[str, str, str]:
    """Name and bounds (``[lo, hi)`` as ISO dates) of the positions partition of ``month``
    (a ``datetime64[M]``), e.g. ``positions_y2021m07``."""
    month = np.datetime64(month, "M")
    year, mon = divmod(int(month.astype(np.int64)) + 1970 * 12, 12)
    lo = f"{year:04d}-{mon + 1:02d}-01"
    hi = str(np.datetime64(month + 1, "D"))
    return f"positions_y{year:04d}m{mon + 1:02d}", lo, hi


def ensure_position_partitions(conn: Connection, ts_us: np.ndarray) -> list[str]:
    """PostgreSQL: create the month partitions of ``positions`` that the times ``ts_us`` (µs
    since the epoch, UTC) need and that do not exist yet, in the open transaction; returns the
    names created. Race-safe: creation happens under a transaction-level advisory lock and
    with ``CREATE TABLE IF NOT EXISTS ... PARTITION OF``, so two writers needing the same new
    month create it once (the second finds it made). Indexes, the ``geom`` column and the
    foreign key come from the partitioned table."""
    if not len(ts_us):
        return []
    months = np.unique(np.asarray(ts_us, dtype=np.int64).astype("datetime64[us]").astype("M"))
    parts = [position_partition(m) for m in months]
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(
            "SELECT n FROM unnest(%s::text[]) AS n WHERE to_regclass(n) IS NULL",
            ([name for name, _, _ in parts],),
        )
        missing = {n for (n,) in cur.fetchall()}
        if not missing:
            return []
        from tracker.store.engine import advisory_lock_id

        cur.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_lock_id("partitions"),))
        for name, lo, hi in parts:
            if name in missing:
                # name and bounds are made here from integers
                cur.execute(
                    f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF positions"
                    f" FOR VALUES FROM ('{lo}') TO ('{hi}')"
                )
    return sorted(missing)


def claim_position_keys(conn: Connection, keys: Sequence[int], ts: Sequence[datetime]) -> None:
    """PostgreSQL, for positions written some other way than :func:`write_message_batch`
    (a store copy, a benchmark fill, a test): create the month partitions their times
    ``ts`` need and record their ``keys`` in ``position_keys`` (a key already there raises
    the unique violation the key constraint used to). Nothing on SQLite."""
    if conn.dialect.name != "postgresql" or not len(keys):
        return
    ts_us = np.array(
        [t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t for t in ts],
        dtype="datetime64[us]",
    ).astype(np.int64)
    ensure_position_partitions(conn, ts_us)
    conn.execute(
        sa.text("INSERT INTO position_keys (key) SELECT unnest(CAST(:keys AS bigint[]))"),
        {"keys": [int(k) for k in keys]},
    )


def _insert_postgres(
    conn: Connection, table: sa.Table, names: tuple[str, ...], columns: list[list]
) -> set[int]:
    """COPY the rows into a staging table, then insert the new ones in key order. Positions:
    their keys into ``position_keys`` first, then the positions of the keys new there."""
    stage = f"_stage_{table.name}"
    if table is positions:
        ts = np.array(columns[names.index("ts")], dtype="datetime64[us]").astype(np.int64)
        ensure_position_partitions(conn, ts)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ("
            + ", ".join(f"{n} {_PG_TYPES[n]}" for n in names)
            + ") ON COMMIT DELETE ROWS"
        )
        cur.execute(f"TRUNCATE {stage}")
        cur.copy_expert(f"COPY {stage} ({', '.join(names)}) FROM STDIN", _copy_buffer(columns))
        cols = ", ".join(names)
        if table is positions:
            cur.execute(
                "WITH new AS (INSERT INTO position_keys (key)"  # noqa: S608 - constants
                f" SELECT key FROM {stage} ORDER BY key ON CONFLICT (key) DO NOTHING"
                f" RETURNING key) INSERT INTO positions ({cols})"
                f" SELECT {', '.join(f's.{n}' for n in names)} FROM {stage} s"
                " JOIN new ON new.key = s.key ORDER BY s.key RETURNING key"
            )
        else:
            cur.execute(
                f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {stage} ORDER BY key "  # noqa: S608
                "ON CONFLICT (key) DO NOTHING RETURNING key"
            )
        return {k for (k,) in cur.fetchall()}


class KnownKeys:
    """Transmission keys known to be stored, of the most recent batches (at most ``cap`` per
    table): hearings of them are dropped before SQL. Receivers hear one transmission within
    seconds of each other, so repeats meet a recent key; older repeats still meet the unique
    key index. Add keys only after their transaction committed."""

    def __init__(self, cap: int = 1 << 18) -> None:
        self.cap = cap
        self._sets: dict[str, set[int]] = {"pos": set(), "static": set()}
        self._batches: dict[str, deque[list[int]]] = {"pos": deque(), "static": deque()}

    def unknown(self, table: str, keys: np.ndarray) -> np.ndarray:
        """Mask of ``keys`` not known to be stored in ``table`` (``pos`` or ``static``)."""
        known = self._sets[table]
        if not known:
            return np.ones(len(keys), dtype=bool)
        return ~np.fromiter(map(known.__contains__, keys.tolist()), dtype=bool, count=len(keys))

    def add(self, table: str, keys: Sequence[int]) -> None:
        """Record ``keys`` as stored in ``table``; forget the oldest batches beyond ``cap``."""
        known, batches = self._sets[table], self._batches[table]
        keys = list(keys)
        known.update(keys)
        batches.append(keys)
        while len(known) > self.cap and len(batches) > 1:
            known.difference_update(batches.popleft())


def write_message_batch(
    conn: Connection, input_id: int, batch: MessageBatch, known: KnownKeys | None = None
) -> BatchResult:
    """Store ``batch`` (in input-line order) under ``input_id`` in the open transaction ``conn``.

    ``known``: keys known to be stored (repeats of them skip SQL); the keys this batch holds
    are in :attr:`BatchResult.held`, to add to it once the transaction has committed.
    """
    n = len(batch)
    if n == 0:
        return BatchResult(0, 0, 0, None, None)
    with_data = batch.has_pos | batch.has_static
    windowed = np.flatnonzero(batch.windowed & with_data)
    if known is not None and len(windowed):
        # a hearing whose own key is stored repeats it: TransmissionIndex's first rule, no SQL
        own = batch.key[windowed]
        stored = np.ones(len(windowed), dtype=bool)
        for table, mask in (("pos", batch.has_pos), ("static", batch.has_static)):
            stored &= ~mask[windowed] | ~known.unknown(table, own)
        windowed = windowed[~stored]
    keys = _resolve_windowed(conn, batch, windowed)
    resolved = MessageBatch(**{**batch.__dict__, "key": keys})
    pg = conn.dialect.name == "postgresql"
    insert = _insert_postgres if pg else _insert_sqlite
    new_keys: dict[str, set[int]] = {}
    first_rows: dict[str, np.ndarray] = {}
    for name, table, mask, build, cols in (
        ("pos", positions, batch.has_pos, _position_columns, _POSITION_COLUMNS),
        ("static", static_reports, batch.has_static, _static_columns, _STATIC_COLUMNS),
    ):
        rows = np.flatnonzero(mask)
        # a repeat resolved to a kept window key was stored before: not a candidate
        rows = rows[~batch.windowed[rows] | (keys[rows] == batch.key[rows])]
        if known is not None:
            rows = rows[known.unknown(name, keys[rows])]
        _, first = np.unique(keys[rows], return_index=True)
        rows = rows[np.sort(first)]  # the first hearing of each key, by input line
        rows = rows[np.lexsort((batch.ts_us[rows], batch.mmsi[rows]))]  # write in (mmsi, ts) order
        first_rows[name] = rows
        new_keys[name] = (
            insert(conn, table, cols, build(resolved, rows, input_id, pg)) if len(rows) else set()
        )
    new_pos = first_rows["pos"][np.isin(keys[first_rows["pos"]], list(new_keys["pos"]))]
    new_static = first_rows["static"][np.isin(keys[first_rows["static"]], list(new_keys["static"]))]
    stored_msgs = np.union1d(new_pos, new_static)
    if len(stored_msgs):
        conn.execute(
            raw_blocks.insert().values(
                input_id=input_id,
                first_line=int(batch.line[stored_msgs].min()),
                last_line=int(batch.line_end[stored_msgs].max()),
                messages=len(stored_msgs),
                data=encode_block(
                    batch.line[stored_msgs].tolist(),
                    batch.line_end[stored_msgs].tolist(),
                    batch.raw[stored_msgs].tolist(),
                ),
            )
        )
    per_vessel = None
    if len(stored_msgs):
        mmsi, ts = batch.mmsi[stored_msgs], batch.ts_us[stored_msgs]
        is_pos = np.isin(stored_msgs, new_pos)
        is_static = np.isin(stored_msgs, new_static)
        order = np.argsort(mmsi, kind="stable")
        uniq, starts = np.unique(mmsi[order], return_index=True)
        per_vessel = (
            uniq,
            np.minimum.reduceat(ts[order], starts),
            np.maximum.reduceat(ts[order], starts),
            np.add.reduceat(is_pos[order].astype(np.int64), starts),
            np.add.reduceat(is_static[order].astype(np.int64), starts),
        )
    timed = new_pos[~batch.ts_assumed[new_pos]]
    span = (int(batch.ts_us[timed].min()), int(batch.ts_us[timed].max())) if len(timed) else None
    return BatchResult(
        positions=len(new_pos),
        statics=len(new_static),
        duplicates=int(with_data.sum()) - len(stored_msgs),
        per_vessel=per_vessel,
        timed_span=span,
        held={name: keys[rows].tolist() for name, rows in first_rows.items()},
    )


_VESSEL_COLUMNS = ("mmsi", "first_seen", "last_seen", "positions", "statics")


def upsert_vessels(conn: Connection, per_vessel: tuple[np.ndarray, ...] | None) -> None:
    """Add a batch's new rows to the per-MMSI summary (first/last seen, counts), in MMSI order
    (:attr:`BatchResult.per_vessel`)."""
    if per_vessel is None or not len(per_vessel[0]):
        return
    mmsi, lo, hi, n_pos, n_static = per_vessel
    if conn.dialect.name == "postgresql":
        columns = [
            mmsi.tolist(),
            _pg_times(lo),
            _pg_times(hi),
            n_pos.tolist(),
            n_static.tolist(),
        ]
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS _stage_vessels (mmsi bigint, first_seen timestamp,"
                " last_seen timestamp, positions bigint, statics bigint) ON COMMIT DELETE ROWS"
            )
            cur.execute("TRUNCATE _stage_vessels")
            cur.copy_expert("COPY _stage_vessels FROM STDIN", _copy_buffer(columns))
            cur.execute(
                "INSERT INTO vessels (mmsi, first_seen, last_seen, positions, statics)"
                " SELECT mmsi, first_seen, last_seen, positions, statics FROM _stage_vessels"
                " ORDER BY mmsi ON CONFLICT (mmsi) DO UPDATE SET"
                " first_seen = least(vessels.first_seen, excluded.first_seen),"
                " last_seen = greatest(vessels.last_seen, excluded.last_seen),"
                " positions = vessels.positions + excluded.positions,"
                " statics = vessels.statics + excluded.statics"
            )
        return
    conn.connection.driver_connection.executemany(
        "INSERT INTO vessels (mmsi, first_seen, last_seen, positions, statics) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (mmsi) DO UPDATE SET"
        " first_seen = min(first_seen, excluded.first_seen),"
        " last_seen = max(last_seen, excluded.last_seen),"
        " positions = positions + excluded.positions,"
        " statics = statics + excluded.statics",
        zip(
            mmsi.tolist(), lo.tolist(), hi.tolist(), n_pos.tolist(), n_static.tolist(), strict=True
        ),
    )


def span_datetimes(span: tuple[int, int] | None) -> tuple[datetime, datetime] | None:
    """The (first, last) datetimes of a µs span."""
    return None if span is None else (datetime_from_us(span[0]), datetime_from_us(span[1]))
