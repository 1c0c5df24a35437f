"""Alerts in the store: fired once per (rule, vessel, event) by a UNIQUE key (insert-or-ignore,
so overlapping runs and concurrent processes never fire twice), and deliveries per channel
kept until delivered, each claimed by one process at a time."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from tracker.store.engine import Store
from tracker.store.tables import metadata
from tracker.store.types import BigId, UTCDateTime
from tracker.store.writes import insert_ignore, insert_ignore_returning, write_transaction

__all__ = [
    "alert_deliveries",
    "alert_key",
    "alerts",
    "claim_delivery",
    "pending_deliveries",
    "read_alerts",
    "read_deliveries",
    "record_alerts",
    "record_attempt",
    "release_claim",
]

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("mmsi", sa.BigInteger, nullable=False),
    sa.Column("event_key", sa.Text, nullable=False),
    sa.Column("what", sa.String(24), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_alerts_at", "at"),
)

alert_deliveries = sa.Table(
    "alert_deliveries",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("alert_id", BigId, sa.ForeignKey("alerts.id"), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("log", sa.Text, nullable=False, server_default="[]"),
    sa.Column("claimed_until", UTCDateTime),
    sa.Column("delivered_at", UTCDateTime),
    sa.UniqueConstraint("alert_id", "channel", name="uq_alert_deliveries_alert_channel"),
)


def alert_key(rule: str, mmsi: int, event_key: str) -> str:
    """The natural key of an alert: SHA-256 of (rule, MMSI, event key)."""
    text = json.dumps([rule, int(mmsi), str(event_key)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_alerts(store: Store, rows: Sequence[dict]) -> list[int]:
    """Insert alerts (dicts with ``rule, mmsi, event_key, what, at, payload`` (dict) and
    ``channels``), skipping any already fired; returns the ids of those this call inserted.
    Their deliveries (one per channel, pending) are inserted in the same transaction."""
    if not rows:
        return []
    now = datetime.now(UTC)
    items = [
        {
            "key": alert_key(r["rule"], r["mmsi"], r["event_key"]),
            "rule": r["rule"],
            "mmsi": int(r["mmsi"]),
            "event_key": str(r["event_key"]),
            "what": r["what"],
            "at": r["at"],
            "payload": json.dumps(r["payload"], sort_keys=True, default=str),
            "created_at": now,
        }
        for r in rows
    ]
    channels = {
        alert_key(r["rule"], r["mmsi"], r["event_key"]): r.get("channels", ()) for r in rows
    }

    def work(conn) -> list[int]:
        new = insert_ignore_returning(conn, alerts, items, "key")
        if not new:
            return []
        ids = dict(
            conn.execute(sa.select(alerts.c.key, alerts.c.id).where(alerts.c.key.in_(new))).all()
        )
        deliveries = [
            {"alert_id": ids[k], "channel": ch, "attempts": 0, "log": "[]"}
            for k in sorted(new)
            for ch in channels[k]
        ]
        insert_ignore(conn, alert_deliveries, deliveries)
        return sorted(ids.values())

    return write_transaction(store.engine, work)


def pending_deliveries(store: Store) -> pd.DataFrame:
    """Deliveries not yet made, with their alert's payload (decoded), oldest first."""
    d, a = alert_deliveries, alerts
    stmt = (
        sa.select(d.c.id, d.c.alert_id, d.c.channel, d.c.attempts, a.c.payload)
        .join(a, a.c.id == d.c.alert_id)
        .where(d.c.delivered_at.is_(None))
        .order_by(d.c.id)
    )
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    for r in rows:
        r["payload"] = json.loads(r["payload"])
    return pd.DataFrame(rows, columns=["id", "alert_id", "channel", "attempts", "payload"])


def claim_delivery(
    store: Store, delivery_id: int, *, hold: timedelta = timedelta(minutes=5)
) -> bool:
    """Claim a pending delivery for ``hold``: True for exactly one of concurrent claimants."""
    now = datetime.now(UTC)
    d = alert_deliveries

    def work(conn) -> bool:
        res = conn.execute(
            sa.update(d)
            .where(
                (d.c.id == delivery_id)
                & d.c.delivered_at.is_(None)
                & (d.c.claimed_until.is_(None) | (d.c.claimed_until < now))
            )
            .values(claimed_until=now + hold)
        )
        return res.rowcount == 1

    return write_transaction(store.engine, work)


def record_attempt(store: Store, delivery_id: int, *, error: str | None) -> None:
    """Record one delivery attempt: delivered when ``error`` is None, else the error kept."""
    now = datetime.now(UTC)
    d = alert_deliveries

    def work(conn) -> None:
        row = conn.execute(sa.select(d.c.attempts, d.c.log).where(d.c.id == delivery_id)).one()
        log = json.loads(row.log or "[]")
        log.append({"at": now.isoformat(), "ok": error is None, "error": error})
        values = {"attempts": row.attempts + 1, "log": json.dumps(log)}
        if error is None:
            values.update(delivered_at=now, claimed_until=None)
        else:
            values["last_error"] = error
        conn.execute(sa.update(d).where(d.c.id == delivery_id).values(**values))

    write_transaction(store.engine, work)


def release_claim(store: Store, delivery_id: int) -> None:
    """Give a claimed, undelivered delivery back so the next run retries it at once."""
    d = alert_deliveries
    write_transaction(
        store.engine,
        lambda conn: conn.execute(
            sa.update(d)
            .where((d.c.id == delivery_id) & d.c.delivered_at.is_(None))
            .values(claimed_until=None)
        ),
    )


def read_alerts(store: Store, *, limit: int | None = None) -> pd.DataFrame:
    """Stored alerts, newest first, payload decoded, with per-channel delivery state."""
    stmt = sa.select(alerts).order_by(alerts.c.at.desc(), alerts.c.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    deliveries = read_deliveries(store)
    for r in rows:
        r["payload"] = json.loads(r["payload"])
        mine = deliveries[deliveries["alert_id"] == r["id"]] if len(deliveries) else deliveries
        r["deliveries"] = {
            d["channel"]: "delivered"
            if d["delivered_at"] is not None and not pd.isna(d["delivered_at"])
            else f"pending ({d['attempts']} attempts{': ' + d['last_error'] if d['last_error'] else ''})"
            for d in mine.to_dict(orient="records")
        }
    return pd.DataFrame(rows, columns=[c.name for c in alerts.columns] + ["deliveries"])


def read_deliveries(store: Store) -> pd.DataFrame:
    """Every delivery row, ``log`` decoded (one entry per attempt)."""
    with store.engine.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(
                sa.select(alert_deliveries).order_by(alert_deliveries.c.id)
            ).mappings()
        ]
    for r in rows:
        r["log"] = json.loads(r["log"] or "[]")
    return pd.DataFrame(rows, columns=[c.name for c in alert_deliveries.columns])
