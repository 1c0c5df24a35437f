"""Run every detector over a store, streaming: whole vessels in chunks for the per-vessel
detectors, slow fixes in time windows for encounters, coverage queried per gap. Memory stays
bounded by one chunk, however many positions the store holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import geopandas as gpd
import pandas as pd

from tracker.analysis.encounters import detect_encounters
from tracker.analysis.events import events_frame
from tracker.analysis.gaps import detect_gaps
from tracker.analysis.implausible import detect_implausible
from tracker.analysis.loitering import detect_loitering
from tracker.analysis.port_calls import detect_port_calls
from tracker.analysis.status import annotate_sanctions
from tracker.store.ais import (
    count_vessels_near,
    distinct_identities,
    iter_positions,
    read_positions,
)
from tracker.store.engine import Store

__all__ = ["KINDS", "detect_store"]

KINDS = ("port_call", "gap", "encounter", "loitering", "implausible")


def _span(store: Store, since, until) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    import sqlalchemy as sa

    from tracker.store.tables import positions

    stmt = sa.select(sa.func.min(positions.c.ts), sa.func.max(positions.c.ts))
    if since is not None:
        stmt = stmt.where(positions.c.ts >= since)
    if until is not None:
        stmt = stmt.where(positions.c.ts <= until)
    with store.engine.connect() as conn:
        lo, hi = conn.execute(stmt).one()
    if lo is None:
        return None
    lo, hi = pd.Timestamp(lo), pd.Timestamp(hi)
    lo = lo.tz_localize("UTC") if lo.tzinfo is None else lo
    hi = hi.tz_localize("UTC") if hi.tzinfo is None else hi
    return lo, hi


def detect_store(
    store: Store,
    geofences: gpd.GeoDataFrame,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    kinds: Sequence[str] = KINDS,
    chunk_vessels: int = 500,
    window: timedelta = timedelta(days=7),
    options: dict[str, dict] | None = None,
    entries: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """All events of ``kinds`` in the store between ``since`` and ``until`` (UTC).

    ``options`` maps a kind to keyword arguments of its detector (thresholds). With list
    ``entries`` (every edition) each event gets the vessel's sanctions status at its start.
    """
    options = options or {}
    span = _span(store, since, until)
    if span is None:
        return events_frame([])
    found = []
    horizon = pd.Timestamp(until) if until is not None else span[1]

    def coverage(lon, lat, radius_m, start, end, exclude):
        return count_vessels_near(store, lon, lat, radius_m, start, end, exclude)

    for chunk in iter_positions(store, since=since, until=until, chunk_vessels=chunk_vessels):
        if "port_call" in kinds:
            found.append(detect_port_calls(chunk, geofences, **options.get("port_call", {})))
        if "gap" in kinds:
            found.append(
                detect_gaps(chunk, coverage=coverage, until=horizon, **options.get("gap", {}))
            )
        if "loitering" in kinds:
            found.append(
                detect_loitering(chunk, geofences=geofences, **options.get("loitering", {}))
            )
        if "implausible" in kinds:
            found.append(detect_implausible(chunk, **options.get("implausible", {})))
    if "encounter" in kinds:
        opts = options.get("encounter", {})
        overlap = opts.get("min_duration", timedelta(hours=2)) * 2
        lo = span[0]
        while lo <= span[1]:
            hi = lo + window
            slow = read_positions(
                store,
                since=lo - overlap,
                until=min(hi, span[1]),
                max_sog_kn=opts.get("max_sog_kn", 2.0),
            )
            if len(slow):
                found.append(detect_encounters(slow, geofences=geofences, **opts))
            lo = hi
    found = [f for f in found if len(f)]
    if not found:
        return events_frame([])
    out = pd.concat(found, ignore_index=True)
    # encounters seen in two overlapping windows: keep the longest of each key
    out = out.sort_values("duration_s", ascending=False, na_position="last").drop_duplicates("key")
    out = out.sort_values(["start", "kind", "mmsi"]).reset_index(drop=True)
    if entries is not None and len(entries):
        ids = distinct_identities(
            store, mmsi=sorted(set(out["mmsi"]) | set(out["other_mmsi"].dropna().astype(int)))
        )
        out = annotate_sanctions(out, ids, entries)
    return out
