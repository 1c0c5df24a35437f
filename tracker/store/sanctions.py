"""Sanctions list editions in the store: load once per (list, edition), read entries back.

A newer edition never replaces an older one: both are kept, so "listed since" and "delisted"
can be answered from the editions held (see :func:`tracker.analysis.status.sanction_status`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd
import sqlalchemy as sa

from tracker.core.errors import InputError
from tracker.sources.sanctions.entries import ENTRY_COLUMNS, ListRead
from tracker.store.engine import Store
from tracker.store.tables import metadata
from tracker.store.types import BigId, UTCDateTime
from tracker.store.writes import insert_ignore

__all__ = [
    "LoadSummary",
    "list_editions",
    "read_list_entries",
    "sanction_editions",
    "sanction_entries",
    "store_list",
]

sanction_editions = sa.Table(
    "sanction_editions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("list", sa.String(32), nullable=False),
    sa.Column("edition", sa.Date, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("loaded_at", UTCDateTime, nullable=False),
    sa.Column("entries", sa.Integer, nullable=False),
    sa.Column("bad", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("list", "edition", name="uq_sanction_editions_list_edition"),
)

sanction_entries = sa.Table(
    "sanction_entries",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("edition_id", sa.ForeignKey("sanction_editions.id"), nullable=False),
    sa.Column("entry_id", sa.Text, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("aliases", sa.Text, nullable=False, server_default="[]"),
    sa.Column("imo", sa.BigInteger),
    sa.Column("imo_valid", sa.Boolean),
    sa.Column("mmsi", sa.BigInteger),
    sa.Column("callsign", sa.Text),
    sa.Column("flag", sa.String(2)),
    sa.Column("flag_text", sa.Text),
    sa.Column("vessel_type", sa.Text),
    sa.Column("programme", sa.Text),
    sa.Column("listed_on", sa.Date),
    sa.Column("remarks", sa.Text),
    sa.UniqueConstraint("edition_id", "entry_id", name="uq_sanction_entries_edition_entry"),
)


@dataclass
class LoadSummary:
    """What ``store_list`` did: the edition, entries stored, bad rows, whether it was new."""

    list: str
    edition: date
    entries: int
    bad: int
    new: bool

    def as_dict(self) -> dict:
        return {
            "list": self.list,
            "edition": self.edition.isoformat(),
            "entries": self.entries,
            "bad": self.bad,
            "new": self.new,
        }

    def __str__(self) -> str:
        state = "stored" if self.new else "already held, nothing added"
        return f"{self.list} edition {self.edition}: {self.entries} entries ({state}), {self.bad} bad rows"


def _content_hash(frame: pd.DataFrame) -> str:
    cols = [c for c in ENTRY_COLUMNS if c != "edition"]
    text = frame[cols].astype(str).to_csv(index=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _value(v):
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def store_list(store: Store, read: ListRead) -> LoadSummary:
    """Store one list edition; loading the same (list, edition) again adds nothing.

    Loading different content under an edition date already held is refused (give the file
    its own ``edition``): an edition is a fixed snapshot.
    """
    frame = read.entries.drop_duplicates("entry_id", keep="first")
    digest = _content_hash(frame)
    with store.engine.begin() as conn:
        held = conn.execute(
            sa.select(sanction_editions.c.id, sanction_editions.c.sha256).where(
                sanction_editions.c.list == read.list,
                sanction_editions.c.edition == read.edition,
            )
        ).first()
        if held is not None:
            if held.sha256 != digest:
                raise InputError(
                    f"{read.source}: {read.list} edition {read.edition} is already held with "
                    "different content; pass the file's own --edition date"
                )
            return LoadSummary(read.list, read.edition, len(frame), len(read.bad), False)
        edition_id = conn.execute(
            sa.insert(sanction_editions).values(
                list=read.list,
                edition=read.edition,
                source=read.source,
                sha256=digest,
                loaded_at=datetime.now(UTC),
                entries=len(frame),
                bad=len(read.bad),
            )
        ).inserted_primary_key[0]
        rows = []
        for rec in frame.to_dict(orient="records"):
            row = {c: _value(rec.get(c)) for c in ENTRY_COLUMNS if c not in ("list", "edition")}
            row["aliases"] = json.dumps(list(rec.get("aliases") or []), ensure_ascii=False)
            row["edition_id"] = edition_id
            rows.append(row)
        for start in range(0, len(rows), 2000):
            insert_ignore(conn, sanction_entries, rows[start : start + 2000])
    return LoadSummary(read.list, read.edition, len(frame), len(read.bad), True)


def list_editions(store: Store) -> pd.DataFrame:
    """One row per list edition held: list, edition, source, entries, bad rows, loaded_at."""
    stmt = sa.select(
        sanction_editions.c.list,
        sanction_editions.c.edition,
        sanction_editions.c.entries,
        sanction_editions.c.bad,
        sanction_editions.c.source,
        sanction_editions.c.loaded_at,
    ).order_by(sanction_editions.c.list, sanction_editions.c.edition)
    with store.engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(stmt).mappings().all(), columns=list(stmt.selected_columns.keys())
        )


def read_list_entries(
    store: Store, *, latest_only: bool = True, lists: list[str] | None = None
) -> pd.DataFrame:
    """Stored entries as the normalised entry frame (``aliases`` as lists).

    ``latest_only`` keeps the newest edition of each list; otherwise every edition is
    returned (for point-in-time status).
    """
    e, s = sanction_entries, sanction_editions
    stmt = sa.select(
        s.c.list,
        e.c.entry_id,
        e.c.kind,
        e.c.name,
        e.c.aliases,
        e.c.imo,
        e.c.imo_valid,
        e.c.mmsi,
        e.c.callsign,
        e.c.flag,
        e.c.flag_text,
        e.c.vessel_type,
        e.c.programme,
        e.c.listed_on,
        e.c.remarks,
        s.c.edition,
    ).join(s, e.c.edition_id == s.c.id)
    if latest_only:
        newest = (
            sa.select(s.c.list, sa.func.max(s.c.edition).label("edition"))
            .group_by(s.c.list)
            .subquery()
        )
        stmt = stmt.join(newest, (newest.c.list == s.c.list) & (newest.c.edition == s.c.edition))
    if lists:
        stmt = stmt.where(s.c.list.in_(lists))
    with store.engine.connect() as conn:
        rows = conn.execute(stmt.order_by(s.c.list, s.c.edition, e.c.id)).mappings().all()
    frame = pd.DataFrame(rows, columns=ENTRY_COLUMNS)
    frame["aliases"] = [json.loads(a) if isinstance(a, str) else [] for a in frame["aliases"]]
    for col in ("imo", "mmsi"):
        frame[col] = frame[col].astype("Int64")
    frame["imo_valid"] = frame["imo_valid"].astype("boolean")
    return frame
