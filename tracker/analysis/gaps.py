"""AIS gaps: silences of a vessel, worded by where they began and what else was heard.

A gap is flagged "likely disabled" only when it began far from shore (default 50 nm) and the
receiving coverage around it was good (other vessels heard within ``coverage_radius_m`` during
the silence); otherwise it is worded "no AIS received". Defaults from Global Fishing Watch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from tracker.analysis.events import events_frame, position_ids, prepare_positions
from tracker.analysis.shore import Land, shore_distance_m
from tracker.core.geo import M_PER_NM, geodesic_distance_m, m_s_to_knots

__all__ = ["CoverageFn", "coverage_from_positions", "detect_gaps"]

#: coverage(lon, lat, radius_m, start, end, exclude_mmsi) -> number of other vessels heard
CoverageFn = Callable[[float, float, float, pd.Timestamp, pd.Timestamp, int], int]


def coverage_from_positions(reference: pd.DataFrame) -> CoverageFn:
    """A coverage function counting other MMSIs in ``reference`` positions near a place and time."""
    ref = reference[reference["lon"].notna() & reference["lat"].notna()]
    ref = ref.assign(ts=pd.to_datetime(ref["ts"], utc=True)).sort_values("ts")
    ts = ref["ts"].dt.as_unit("ns").astype("int64").to_numpy()
    lon, lat, mmsi = ref["lon"].to_numpy(float), ref["lat"].to_numpy(float), ref["mmsi"].to_numpy()

    def count(x: float, y: float, radius_m: float, start, end, exclude: int) -> int:
        a = np.searchsorted(ts, pd.Timestamp(start).as_unit("ns").value, side="right")
        b = np.searchsorted(ts, pd.Timestamp(end).as_unit("ns").value, side="left")
        if b <= a:
            return 0
        sel = slice(a, b)
        others = mmsi[sel] != exclude
        if not others.any():
            return 0
        d = geodesic_distance_m(x, y, lon[sel][others], lat[sel][others])
        return int(len(np.unique(mmsi[sel][others][d <= radius_m])))

    return count


def detect_gaps(
    positions: pd.DataFrame,
    *,
    min_gap: timedelta = timedelta(hours=6),
    min_shore_distance_m: float = 50 * M_PER_NM,
    coverage_radius_m: float = 100_000.0,
    min_other_vessels: int = 1,
    coverage: CoverageFn | pd.DataFrame | None = None,
    until: datetime | None = None,
    land: Land | None = None,
) -> pd.DataFrame:
    """One row per AIS gap (kind ``gap``) of at least ``min_gap``.

    ``start``/``end`` are the last fix before and the first after the silence (UTC), with
    their positions (``lon``/``lat``, ``end_lon``/``end_lat``). A gap is "likely disabled"
    when it began at least ``min_shore_distance_m`` metres from shore and at least
    ``min_other_vessels`` other vessels were heard within ``coverage_radius_m`` metres of its
    start during it (``coverage``: reference positions or a function; default: ``positions``).
    ``until`` (default: the newest fix in ``positions``) closes the data: a vessel silent for
    ``min_gap`` before it has an ``open`` gap with no ``end``.
    """
    thresholds = {
        "min_gap_s": min_gap.total_seconds(),
        "min_shore_distance_m": min_shore_distance_m,
        "coverage_radius_m": coverage_radius_m,
        "min_other_vessels": min_other_vessels,
    }
    p = prepare_positions(positions)
    if p.empty:
        return events_frame([])
    cover = (
        coverage_from_positions(p)
        if coverage is None
        else (coverage_from_positions(coverage) if isinstance(coverage, pd.DataFrame) else coverage)
    )
    horizon = (
        pd.Timestamp(until).tz_convert("UTC")
        if until is not None and pd.Timestamp(until).tzinfo
        else (pd.Timestamp(until, tz="UTC") if until is not None else p["ts"].max())
    )
    same = p["mmsi"].to_numpy()[1:] == p["mmsi"].to_numpy()[:-1]
    dt = np.diff(p["ts"].to_numpy()).astype("timedelta64[s]").astype(float)
    idx = np.nonzero(same & (dt >= min_gap.total_seconds()))[0]
    last = p.groupby("mmsi", sort=False).tail(1)
    open_rows = last[(horizon - last["ts"]).dt.total_seconds() >= min_gap.total_seconds()]
    starts = np.concatenate([idx, open_rows.index.to_numpy()])
    if len(starts) == 0:
        return events_frame([])
    shore = shore_distance_m(p["lon"].to_numpy()[starts], p["lat"].to_numpy()[starts], land=land)
    rows = []
    for k, i in enumerate(starts):
        a = p.iloc[i]
        is_open = k >= len(idx)
        b = None if is_open else p.iloc[i + 1]
        end_ts = horizon if is_open else b["ts"]
        others = cover(
            float(a["lon"]), float(a["lat"]), coverage_radius_m, a["ts"], end_ts, int(a["mmsi"])
        )
        far = bool(shore[k] >= min_shore_distance_m)
        covered = others >= min_other_vessels
        disabled = far and covered
        hours = (end_ts - a["ts"]).total_seconds() / 3600
        if disabled:
            wording = f"likely disabled: {hours:.1f} h silent {shore[k] / M_PER_NM:.0f} nm from shore while {others} other vessels were heard within {coverage_radius_m / 1000:.0f} km"
        else:
            why = []
            if not far:
                why.append(f"began {max(shore[k], 0) / M_PER_NM:.0f} nm from shore")
            if not covered:
                why.append(f"no other vessel heard within {coverage_radius_m / 1000:.0f} km")
            wording = f"no AIS received for {hours:.1f} h ({'; '.join(why)})"
        if is_open:
            wording += "; still silent at the end of the data"
        figures = {
            "gap_s": (end_ts - a["ts"]).total_seconds(),
            "shore_distance_m": float(shore[k]),
            "other_vessels_heard": int(others),
            "likely_disabled": disabled,
        }
        if b is not None:
            dist = float(geodesic_distance_m(a["lon"], a["lat"], b["lon"], b["lat"]))
            figures["distance_m"] = dist
            figures["implied_speed_kn"] = float(m_s_to_knots(dist / max(figures["gap_s"], 1.0)))
        rows.append(
            {
                "kind": "gap",
                "mmsi": int(a["mmsi"]),
                "start": a["ts"],
                "end": None if is_open else b["ts"],
                "lon": float(a["lon"]),
                "lat": float(a["lat"]),
                "end_lon": None if is_open else float(b["lon"]),
                "end_lat": None if is_open else float(b["lat"]),
                "status": "open" if is_open else "closed",
                "confidence": "likely disabled" if disabled else "no AIS received",
                "wording": wording,
                "figures": figures,
                "thresholds": thresholds,
                "position_ids": position_ids([a["pid"]] + ([] if is_open else [b["pid"]])),
            }
        )
    return events_frame(rows)
