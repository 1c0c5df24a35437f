"""Sightings and imported routes in the store.

A sighting is stored once per key (the analyst's id, or a hash of its content), so importing
the same file again adds nothing; rows that could not be read go to ``quarantine``. Routes
imported by an analyst are stored by name as GeoJSON; re-importing a name with the same
content changes nothing, with new content it replaces the stored route.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa

from tracker.core.records import BadRecord
from tracker.sources.routes import Route, route_from_geojson, route_to_geojson
from tracker.sources.sightings import SIGHTING_COLUMNS, sightings_frame
from tracker.store.engine import Store
from tracker.store.tables import metadata, quarantine
from tracker.store.types import BigId, UTCDateTime
from tracker.store.writes import (
    insert_ignore,
    insert_ignore_returning,
    quarantine_rows,
    write_transaction,
)

__all__ = [
    "RouteSaved",
    "SightingsSaved",
    "read_stored_routes",
    "read_stored_sightings",
    "routes",
    "sightings",
    "store_route",
    "store_sightings",
]

sightings = sa.Table(
    "sightings",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("time", UTCDateTime, nullable=False),
    sa.Column("time_uncertainty_h", sa.Float, nullable=False, server_default="0"),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("radius_m", sa.Float, nullable=False, server_default="0"),
    sa.Column("wkt", sa.Text),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("source_id", sa.Text),
    sa.Column("url", sa.Text),
    sa.Column("licence", sa.Text),
    sa.Column("vessel_name", sa.Text),
    sa.Column("vessel_imo", sa.BigInteger),
    sa.Column("vessel_mmsi", sa.BigInteger),
    sa.Column("vehicles", sa.Text, nullable=False, server_default="{}"),
    sa.Column("confidence", sa.String(16)),
    sa.Column("analyst", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("imported_from", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_sightings_time", "time"),
)

routes = sa.Table(
    "routes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("geojson", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("imported_from", sa.Text),
    sa.Column("imported_at", UTCDateTime, nullable=False),
)


@dataclass
class SightingsSaved:
    """What storing sightings did: ``added`` new, ``duplicates`` already stored, ``quarantined`` bad rows."""

    added: int
    duplicates: int
    quarantined: int
    keys: list[str]

    def as_dict(self) -> dict:
        return {
            "added": self.added,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "keys": self.keys,
        }


@dataclass
class RouteSaved:
    """What storing a route did: ``status`` is added, updated or unchanged."""

    name: str
    status: str
    length_km: float
    waypoints: int

    def as_dict(self) -> dict:
        return dict(vars(self))


def _plain(v):
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float) and v != v:
        return None
    if v is pd.NA:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if hasattr(v, "item"):
        return v.item()
    return v


def store_sightings(
    store: Store,
    frame: pd.DataFrame,
    *,
    bad: Sequence[BadRecord] = (),
    imported_from: str | None = None,
) -> SightingsSaved:
    """Store sightings (a frame with :data:`SIGHTING_COLUMNS`) and put ``bad`` rows in quarantine.

    Sightings already stored (same key) are left as they are and counted as duplicates.
    """
    now = datetime.now(UTC)
    rows = []
    for rec in frame.to_dict(orient="records"):
        row = {c: _plain(rec.get(c)) for c in SIGHTING_COLUMNS if c != "vehicles"}
        row["vehicles"] = json.dumps(rec.get("vehicles") or {}, sort_keys=True, ensure_ascii=False)
        row["imported_from"] = imported_from
        row["created_at"] = now
        rows.append(row)
    q_rows = quarantine_rows(
        bad,
        key=lambda b: hashlib.sha1(
            f"sighting|{b.path}|{b.line}|{b.reason}|{b.raw}".encode("utf-8", "surrogatepass"),
            usedforsecurity=False,
        ).hexdigest(),
        input_id=None,
        now=now,
    )

    def work(conn) -> set:
        added = insert_ignore_returning(conn, sightings, rows, "key")
        insert_ignore(conn, quarantine, q_rows)
        return added

    added = write_transaction(store.engine, work)
    return SightingsSaved(
        added=len(added),
        duplicates=len(rows) - len(added),
        quarantined=len(q_rows),
        keys=[r["key"] for r in rows],
    )


def read_stored_sightings(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    kinds: Sequence[str] = (),
) -> pd.DataFrame:
    """Stored sightings in time order as a frame with :data:`SIGHTING_COLUMNS` (+ ``imported_from``)."""
    stmt = sa.select(sightings).order_by(sightings.c.time, sightings.c.key)
    if since is not None:
        stmt = stmt.where(sightings.c.time >= since)
    if until is not None:
        stmt = stmt.where(sightings.c.time <= until)
    if kinds:
        stmt = stmt.where(sightings.c.kind.in_(list(kinds)))
    with store.engine.connect() as conn:
        recs = [dict(r._mapping) for r in conn.execute(stmt)]
    for r in recs:
        r["vehicles"] = json.loads(r["vehicles"] or "{}")
    frame = sightings_frame(recs)
    frame["imported_from"] = [r["imported_from"] for r in recs]
    return frame


def store_route(store: Store, route: Route, *, imported_from: str | None = None) -> RouteSaved:
    """Store ``route`` under its name (replacing a stored route of that name if it differs)."""
    text = json.dumps(route_to_geojson(route), sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    now = datetime.now(UTC)

    def work(conn) -> str:
        old = conn.execute(sa.select(routes.c.sha256).where(routes.c.name == route.name)).scalar()
        if old is None:
            conn.execute(
                routes.insert().values(
                    name=route.name,
                    geojson=text,
                    sha256=digest,
                    imported_from=imported_from,
                    imported_at=now,
                )
            )
            status = "added"
        elif old == digest:
            status = "unchanged"
        else:
            conn.execute(
                routes.update()
                .where(routes.c.name == route.name)
                .values(geojson=text, sha256=digest, imported_from=imported_from, imported_at=now)
            )
            status = "updated"
        return status

    status = write_transaction(store.engine, work, lock="routes")
    return RouteSaved(route.name, status, round(route.length_m / 1000, 1), len(route.waypoints))


def read_stored_routes(store: Store) -> list[Route]:
    """Routes imported into the store, by name."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(routes.c.name, routes.c.geojson).order_by(routes.c.name)
        ).all()
    return [route_from_geojson(json.loads(g), name=n) for n, g in rows]
