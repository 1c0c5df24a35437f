"""Loitering: a vessel drifting slowly for a long time away from port and shore.

Defaults from Global Fishing Watch: mean below 2 kn for at least 2 h, at least 20 nm from shore.
"""

from __future__ import annotations

from datetime import timedelta

import geopandas as gpd
import numpy as np
import pandas as pd

from tracker.analysis.events import (
    events_frame,
    note_skipped,
    position_ids,
    prepare_positions,
)
from tracker.analysis.geofences import nearest_port
from tracker.analysis.shore import Land, shore_distance_m
from tracker.core.geo import M_PER_NM

__all__ = ["detect_loitering"]


def detect_loitering(
    positions: pd.DataFrame,
    *,
    geofences: gpd.GeoDataFrame | None = None,
    max_mean_sog_kn: float = 2.0,
    max_sog_kn: float = 3.0,
    min_duration: timedelta = timedelta(hours=2),
    min_shore_distance_m: float = 20 * M_PER_NM,
    port_distance_m: float = 4_000.0,
    max_gap: timedelta = timedelta(hours=1),
    land: Land | None = None,
    include_invalid_mmsi: bool = False,
) -> pd.DataFrame:
    """One row per loitering episode (kind ``loitering``).

    An episode is a run of consecutive fixes each below ``max_sog_kn`` knots, with no silence
    longer than ``max_gap``, lasting at least ``min_duration``, whose mean speed is below
    ``max_mean_sog_kn``, at least ``min_shore_distance_m`` metres from shore (at its median
    position) and no fix within ``port_distance_m`` metres of a port geofence.

    Fixes with assumed times (``ts_assumed``) are left out, and so are MMSIs that cannot be
    a ship unless ``include_invalid_mmsi``; ``figures.assumed_time_fixes_skipped`` says so.
    """
    thresholds = {
        "max_mean_sog_kn": max_mean_sog_kn,
        "max_sog_kn": max_sog_kn,
        "min_duration_s": min_duration.total_seconds(),
        "min_shore_distance_m": min_shore_distance_m,
        "port_distance_m": port_distance_m,
        "max_gap_s": max_gap.total_seconds(),
    }
    p = prepare_positions(positions, include_invalid_mmsi=include_invalid_mmsi)
    if p.empty:
        return events_frame([])
    slow = (p["sog_kn"] < max_sog_kn).fillna(False).to_numpy()
    new_vessel = np.r_[True, p["mmsi"].to_numpy()[1:] != p["mmsi"].to_numpy()[:-1]]
    gap = np.r_[
        True,
        np.diff(p["ts"].to_numpy()).astype("timedelta64[s]").astype(float)
        > max_gap.total_seconds(),
    ]
    run = np.cumsum(new_vessel | gap | ~slow | np.r_[True, ~slow[:-1]])
    p = p.assign(run=run)[slow]
    candidates = []
    for _, g in p.groupby("run", sort=False):
        if (
            g["ts"].iloc[-1] - g["ts"].iloc[0] >= min_duration
            and g["sog_kn"].mean() < max_mean_sog_kn
        ):
            candidates.append(g)
    if not candidates:
        return events_frame([])
    med = np.array([[g["lon"].median(), g["lat"].median()] for g in candidates])
    shore = shore_distance_m(med[:, 0], med[:, 1], land=land)
    rows = []
    for g, (lon, lat), sd in zip(candidates, med, shore, strict=True):
        if sd < min_shore_distance_m:
            continue
        if geofences is not None and len(geofences):
            port, _ = nearest_port(
                g["lon"].to_numpy(), g["lat"].to_numpy(), geofences, within_m=port_distance_m
            )
            if pd.notna(port).any():
                continue
        start, end = g["ts"].iloc[0], g["ts"].iloc[-1]
        rows.append(
            {
                "kind": "loitering",
                "mmsi": int(g["mmsi"].iloc[0]),
                "start": start,
                "end": end,
                "lon": float(lon),
                "lat": float(lat),
                "status": "closed",
                "confidence": "observed",
                "wording": f"loitering {(end - start).total_seconds() / 3600:.1f} h at mean {g['sog_kn'].mean():.1f} kn, {sd / M_PER_NM:.0f} nm from shore",
                "figures": {
                    "mean_sog_kn": float(g["sog_kn"].mean()),
                    "fixes": len(g),
                    "shore_distance_m": float(sd),
                },
                "thresholds": thresholds,
                "position_ids": position_ids(g["pid"]),
            }
        )
    return note_skipped(events_frame(rows), positions)
