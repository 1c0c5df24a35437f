"""Sanctions list editions in the store: load once per (list, edition), read entries back.

A newer edition never replaces an older one: both are kept, so "listed since" and "delisted"
can be answered from the editions held (see :func:`tracker.analysis.status.sanction_status`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd
import sqlalchemy as sa

from tracker.core.errors import InputError
from tracker.sources.sanctions.entries import ENTRY_COLUMNS, ListRead
from tracker.store.engine import Store
from tracker.store.tables import metadata
from tracker.store.types import BigId, UTCDateTime
from tracker.store.writes import insert_ignore, write_transaction

__all__ = [
    "LoadSummary",
    "find_editions",
    "list_editions",
    "read_list_entries",
    "remove_edition",
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


def store_list(store: Store, read: ListRead, *, allow_empty: bool = False) -> LoadSummary:
    """Store one list edition; loading the same (list, edition) again adds nothing.

    Loading different content under an edition date already held is refused (give the file
    its own ``edition``): an edition is a fixed snapshot. An edition without any vessel entry
    is refused when it would become the newest edition of a list whose held editions carry
    entries (it would silently "delist" them all) unless ``allow_empty``; an empty edition
    that hides nothing (the UN consolidated list, which lists no vessel today) is stored.
    """
    frame = read.entries.drop_duplicates("entry_id", keep="first")
    digest = _content_hash(frame)

    def work(conn) -> LoadSummary:
        if frame.empty and not allow_empty:
            s = sanction_editions
            hidden = conn.execute(
                sa.select(sa.func.count(), sa.func.sum(s.c.entries)).where(
                    s.c.list == read.list, s.c.edition < read.edition, s.c.entries > 0
                )
            ).one()
            newer = conn.execute(
                sa.select(sa.func.count()).where(s.c.list == read.list, s.c.edition > read.edition)
            ).scalar_one()
            if hidden[0] and not newer:
                records = read.counts.get("records")
                found = f"{records} records but" if records else "it holds"
                raise InputError(
                    f"{read.source}: {found} no vessel entry; as the newest {read.list} edition "
                    f"it would hide the {int(hidden[1])} entries of the {hidden[0]} older "
                    "edition(s) held; nothing stored (pass --allow-empty to store it anyway)"
                )
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

    # one loader at a time on PostgreSQL: a concurrent load of the same edition finds it held
    return write_transaction(store.engine, work, lock="sanctions")


def list_editions(store: Store) -> pd.DataFrame:
    """One row per list edition held: id, list, edition, entries, bad rows, source, loaded_at."""
    stmt = sa.select(
        sanction_editions.c.id,
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


def find_editions(store: Store, spec: str) -> pd.DataFrame:
    """The editions ``spec`` names, as :func:`list_editions` rows: an id (``3``), a list and
    date (``ofac:2025-05-16``, ``ofac@2025-05-16`` or ``ofac 2025-05-16``), a list alone or a
    date alone. Several rows mean the spec is ambiguous."""
    from tracker.sources.sanctions.entries import parse_list_date

    held = list_editions(store)
    text = " ".join(str(spec).split()).strip()
    if not text:
        raise InputError("expected an edition id, LIST:DATE, a list or a date; found nothing")
    if text.isdigit() and len(text) < 8:
        return held[held["id"] == int(text)].reset_index(drop=True)
    parts = [p for p in re.split(r"[:@ ]", text, maxsplit=1) if p]
    name, day = None, None
    for part in parts:
        parsed = parse_list_date(part)
        if parsed is not None:
            day = parsed
        else:
            name = part.lower()
    if len(parts) == 2 and (name is None or day is None):
        raise InputError(f"expected LIST:DATE such as ofac:2025-05-16, found {spec!r}")
    keep = pd.Series(True, index=held.index)
    if name is not None:
        keep &= held["list"] == name
    if day is not None:
        keep &= pd.to_datetime(held["edition"]).dt.date == day
    return held[keep].reset_index(drop=True)


def remove_edition(store: Store, edition_id: int) -> dict:
    """Delete one edition and its entries (one transaction); returns the edition's row."""

    def work(conn) -> dict:
        row = (
            conn.execute(sa.select(sanction_editions).where(sanction_editions.c.id == edition_id))
            .mappings()
            .first()
        )
        if row is None:
            raise InputError(f"no list edition with id {edition_id}")
        conn.execute(sa.delete(sanction_entries).where(sanction_entries.c.edition_id == edition_id))
        conn.execute(sa.delete(sanction_editions).where(sanction_editions.c.id == edition_id))
        return {k: row[k] for k in ("id", "list", "edition", "entries", "bad", "source")}

    return write_transaction(store.engine, work, lock="sanctions")


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
