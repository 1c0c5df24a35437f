"""Events in the store: re-detection replaces what it covers, so nothing is stored twice and
late data updates or retracts an event instead of duplicating it. A retracted event keeps its
row (``status`` ``retracted``, ``retracted_at``, ``retracted_why``); readers leave it out
unless asked (``read_events(retracted=True)``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa

from tracker.store.engine import Store
from tracker.store.tables import metadata
from tracker.store.types import BigId, UTCDateTime
from tracker.store.writes import write_transaction

__all__ = ["RETRACTED", "EventSummary", "events", "read_events", "replace_events"]

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(24), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("mmsi", sa.BigInteger, nullable=False),
    sa.Column("other_mmsi", sa.BigInteger),
    sa.Column("place", sa.Text),
    sa.Column("start", UTCDateTime, nullable=False),
    sa.Column("end", UTCDateTime),
    sa.Column("duration_s", sa.Float),
    sa.Column("lon", sa.Float),
    sa.Column("lat", sa.Float),
    sa.Column("end_lon", sa.Float),
    sa.Column("end_lat", sa.Float),
    sa.Column("status", sa.String(16)),
    sa.Column("confidence", sa.Text),
    sa.Column("wording", sa.Text),
    sa.Column("figures", sa.Text, nullable=False, server_default="{}"),
    sa.Column("thresholds", sa.Text, nullable=False, server_default="{}"),
    sa.Column("position_ids", sa.Text, nullable=False, server_default="[]"),
    sa.Column("sanctions", sa.Text),
    sa.Column("detected_at", UTCDateTime, nullable=False),
    # migration 0008: a retracted event keeps its row (status "retracted"), with when and why
    sa.Column("retracted_at", UTCDateTime),
    sa.Column("retracted_why", sa.Text),
)

#: ``status`` of an event that a later detection no longer found.
RETRACTED = "retracted"
#: Rows per multi-row upsert statement (24 bound columns each: well under SQLite's limit).
_UPSERT_ROWS = 400

_JSON = ("figures", "thresholds", "position_ids")
_COMPARE = (
    "kind",
    "mmsi",
    "other_mmsi",
    "place",
    "start",
    "end",
    "status",
    "confidence",
    "wording",
    "figures",
    "position_ids",
    "sanctions",
)


@dataclass
class EventSummary:
    """What a detection run changed in the store."""

    found: int
    added: int
    updated: int
    unchanged: int
    retracted: int

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))

    def __str__(self) -> str:
        return f"found {self.found} events: added {self.added}, updated {self.updated}, unchanged {self.unchanged}, retracted {self.retracted}"


def _plain(v):
    if isinstance(v, np.ndarray):  # position ids as detected
        return v.tolist()
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item") and not isinstance(v, pd.Timestamp):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v


def _row(rec: dict) -> dict:
    row = {
        c.name: _plain(rec.get(c.name))
        for c in events.columns
        if c.name not in ("id", "detected_at", "retracted_at", "retracted_why")
    }
    for col in _JSON:
        value = _plain(rec.get(col))
        row[col] = json.dumps(
            value if value is not None else ({} if col != "position_ids" else []),
            sort_keys=True,
            default=str,
        )
    return row


def _retraction_why(
    now: datetime,
    kinds: Sequence[str],
    since: datetime | None,
    until: datetime | None,
    mmsi: Sequence[int] | None,
) -> str:
    scope = ", ".join(kinds)
    if since is not None or until is not None:
        lo = "the start" if since is None else f"{since:%Y-%m-%d %H:%M}"
        hi = "the end" if until is None else f"{until:%Y-%m-%d %H:%M}"
        scope += f"; starts from {lo} to {hi}"
    if mmsi is not None:
        scope += f"; {len(set(mmsi))} vessel(s) re-detected"
    return (
        f"no longer found by the detection run of {now:%Y-%m-%d %H:%M:%S} UTC ({scope}): "
        "the data or the thresholds changed since it was found"
    )


def _upsert(conn, rows: list[dict]) -> None:
    """Insert ``rows``, or overwrite the stored event of the same key (also a retracted one,
    which is restored), in multi-row statements."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    for start in range(0, len(rows), _UPSERT_ROWS):
        stmt = insert(events).values(rows[start : start + _UPSERT_ROWS])
        names = [c.name for c in events.columns if c.name not in ("id", "key")]
        stmt = stmt.on_conflict_do_update(
            index_elements=[events.c.key], set_={n: stmt.excluded[n] for n in names}
        )
        conn.execute(stmt)


def replace_events(
    store: Store,
    found: pd.DataFrame,
    *,
    kinds: Sequence[str],
    since: datetime | None = None,
    until: datetime | None = None,
    mmsi: Sequence[int] | None = None,
) -> EventSummary:
    """Make the stored events of ``kinds`` starting in [since, until] exactly ``found``.

    Events with the same key are updated in place when their content changed (a retracted
    one found again is restored); stored events no longer found are retracted: their rows are
    kept with ``status`` ``retracted``, ``retracted_at`` and ``retracted_why``. All in one
    transaction, in bulk statements (a multi-row upsert, one UPDATE per 500 retractions).
    ``mmsi`` (an incremental run over these vessels only): only events of those vessels are
    compared and retracted, an encounter when either of its vessels (``mmsi`` or
    ``other_mmsi``) is one of them.
    """
    new = {r["key"]: _row(r) for r in found.to_dict(orient="records")}
    cond = events.c.kind.in_(list(kinds))
    if since is not None:
        cond &= events.c.start >= since
    if until is not None:
        cond &= events.c.start <= until
    if mmsi is not None:
        wanted = sorted({int(m) for m in mmsi})
        cond &= events.c.mmsi.in_(wanted) | events.c.other_mmsi.in_(wanted)
    now = datetime.now(UTC)
    why = _retraction_why(now, kinds, since, until, mmsi)

    def work(conn) -> EventSummary:
        added = updated = unchanged = 0
        stored = {r["key"]: dict(r) for r in conn.execute(sa.select(events).where(cond)).mappings()}
        retract = sorted(k for k, r in stored.items() if k not in new and r["retracted_at"] is None)
        for start in range(0, len(retract), 500):
            conn.execute(
                sa.update(events)
                .where(events.c.key.in_(retract[start : start + 500]))
                .values(status=RETRACTED, retracted_at=now, retracted_why=why)
            )
        writes = []
        for key, row in new.items():
            old = stored.get(key)
            if old is None:
                added += 1
            elif old["retracted_at"] is None and all(_same(old[c], row[c]) for c in _COMPARE):
                unchanged += 1
                continue
            else:
                updated += 1
            writes.append({**row, "detected_at": now, "retracted_at": None, "retracted_why": None})
        # an event found again outside the window it was first stored in keeps its row
        _upsert(conn, sorted(writes, key=lambda r: r["key"]))
        return EventSummary(len(new), added, updated, unchanged, len(retract))

    # one writer of events at a time: a concurrent detection sees the other's result
    return write_transaction(store.engine, work, lock="events")


def _same(a, b) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        return abs((a - b).total_seconds()) < 1e-3
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) < 1e-9
    return a == b


def read_events(
    store: Store,
    *,
    kind: str | Sequence[str] | None = None,
    place: str | None = None,
    mmsi: Sequence[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    retracted: bool = False,
) -> pd.DataFrame:
    """Stored events (JSON columns decoded), ordered by start time; retracted events (no
    longer found by a later detection) only with ``retracted``."""
    stmt = sa.select(events)
    if not retracted:
        stmt = stmt.where(events.c.retracted_at.is_(None))
    if kind:
        stmt = stmt.where(events.c.kind.in_([kind] if isinstance(kind, str) else list(kind)))
    if place:
        stmt = stmt.where(sa.func.upper(events.c.place) == place.upper())
    if mmsi:
        wanted = [int(m) for m in mmsi]
        stmt = stmt.where(events.c.mmsi.in_(wanted) | events.c.other_mmsi.in_(wanted))
    if since is not None:
        stmt = stmt.where(sa.or_(events.c.end >= since, events.c.end.is_(None)))
    if until is not None:
        stmt = stmt.where(events.c.start <= until)
    with store.engine.connect() as conn:
        rows = conn.execute(stmt.order_by(events.c.start, events.c.id)).mappings().all()
    frame = pd.DataFrame(rows, columns=[c.name for c in events.columns])
    for col in _JSON:
        frame[col] = [json.loads(v) if isinstance(v, str) else v for v in frame[col]]
    for col in ("start", "end", "detected_at", "retracted_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame
