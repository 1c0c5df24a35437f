"""Events in the store: re-detection replaces what it covers, so nothing is stored twice and
late data updates or retracts an event instead of duplicating it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa

from tracker.store.engine import Store
from tracker.store.tables import metadata
from tracker.store.types import BigId, UTCDateTime
from tracker.store.writes import write_transaction

__all__ = ["EventSummary", "events", "read_events", "replace_events"]

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
)

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
        if c.name not in ("id", "detected_at")
    }
    for col in _JSON:
        row[col] = json.dumps(
            rec.get(col) if rec.get(col) is not None else ({} if col != "position_ids" else []),
            sort_keys=True,
            default=str,
        )
    return row


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

    Events with the same key are updated in place when their content changed; stored events
    no longer found are retracted (deleted); all in one transaction. ``mmsi`` (an incremental
    run over these vessels only): only events of those vessels are compared and retracted,
    an encounter when either of its vessels (``mmsi`` or ``other_mmsi``) is one of them.
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

    def work(conn) -> EventSummary:
        added = updated = unchanged = 0
        stored = {r["key"]: dict(r) for r in conn.execute(sa.select(events).where(cond)).mappings()}
        retract = [k for k in stored if k not in new]
        for start in range(0, len(retract), 500):
            conn.execute(sa.delete(events).where(events.c.key.in_(retract[start : start + 500])))
        inserts = []
        for key, row in new.items():
            old = stored.get(key)
            if old is None:
                inserts.append({**row, "detected_at": now})
                added += 1
                continue
            if all(_same(old[c], row[c]) for c in _COMPARE):
                unchanged += 1
                continue
            conn.execute(
                sa.update(events).where(events.c.key == key).values(**row, detected_at=now)
            )
            updated += 1
        if inserts:
            # an event found again outside the window it was first stored in keeps its row
            keys = [r["key"] for r in inserts]
            clash = {
                r[0] for r in conn.execute(sa.select(events.c.key).where(events.c.key.in_(keys)))
            }
            for r in inserts:
                if r["key"] in clash:
                    conn.execute(sa.update(events).where(events.c.key == r["key"]).values(**r))
            fresh = [r for r in inserts if r["key"] not in clash]
            for start in range(0, len(fresh), 1000):
                conn.execute(sa.insert(events), fresh[start : start + 1000])
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
) -> pd.DataFrame:
    """Stored events (JSON columns decoded), ordered by start time."""
    stmt = sa.select(events)
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
    for col in ("start", "end", "detected_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame
