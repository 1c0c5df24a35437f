"""Encounters: two vessels close together, both slow, for a long time, away from port.

Defaults from Global Fishing Watch: within 500 m for at least 2 h, both below 2 kn. Fixes are
put on a time grid (``step``, default 10 min; each vessel's last fix in a step), close pairs
found per step with an STRtree and confirmed geodesically, and runs of steps joined.
"""

from __future__ import annotations

from datetime import timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tracker.analysis.events import (
    events_frame,
    note_skipped,
    position_ids,
    prepare_positions,
)
from tracker.analysis.geofences import nearest_port
from tracker.core.geo import geodesic_distance_m

__all__ = ["detect_encounters"]


def detect_encounters(
    positions: pd.DataFrame,
    *,
    geofences: gpd.GeoDataFrame | None = None,
    max_distance_m: float = 500.0,
    min_duration: timedelta = timedelta(hours=2),
    max_sog_kn: float = 2.0,
    port_distance_m: float = 4_000.0,
    step: timedelta = timedelta(minutes=10),
    max_missing_steps: int = 3,
    include_invalid_mmsi: bool = False,
) -> pd.DataFrame:
    """One row per encounter (kind ``encounter``; ``mmsi`` < ``other_mmsi``).

    Two vessels meet when both report below ``max_sog_kn`` knots within ``max_distance_m``
    metres of each other in the same ``step``; runs of such steps (allowing
    ``max_missing_steps`` steps without a pair) lasting ``min_duration`` make an encounter.
    Fixes within ``port_distance_m`` of a port geofence are left out (in-port moorings).

    Fixes with assumed times (``ts_assumed``) are left out, and so are MMSIs that cannot be
    a ship unless ``include_invalid_mmsi``; ``figures.assumed_time_fixes_skipped`` says so.
    """
    thresholds = {
        "max_distance_m": max_distance_m,
        "min_duration_s": min_duration.total_seconds(),
        "max_sog_kn": max_sog_kn,
        "port_distance_m": port_distance_m,
        "step_s": step.total_seconds(),
    }
    p = prepare_positions(positions, include_invalid_mmsi=include_invalid_mmsi)
    p = p[p["sog_kn"].notna() & (p["sog_kn"] < max_sog_kn)]
    if geofences is not None and len(geofences) and len(p):
        port, _ = nearest_port(
            p["lon"].to_numpy(), p["lat"].to_numpy(), geofences, within_m=port_distance_m
        )
        p = p[pd.isna(port)]
    if p["mmsi"].nunique() < 2:
        return events_frame([])
    step_ns = int(step.total_seconds() * 1e9)
    p = p.assign(step=p["ts"].dt.as_unit("ns").astype("int64") // step_ns)
    p = p.drop_duplicates(["mmsi", "step"], keep="last")
    pad_deg = max_distance_m / 111_320.0
    pairs = []
    for stp, g in p.groupby("step", sort=True):
        if len(g) < 2:
            continue
        lon, lat = g["lon"].to_numpy(), g["lat"].to_numpy()
        pts = shapely.points(lon, lat)
        tree = shapely.STRtree(pts)
        scale = np.maximum(np.cos(np.radians(lat)), 0.05)
        a, b = tree.query(shapely.buffer(pts, pad_deg / scale, quad_segs=2), predicate="intersects")
        keep = a < b
        a, b = a[keep], b[keep]
        if len(a) == 0:
            continue
        d = geodesic_distance_m(lon[a], lat[a], lon[b], lat[b])
        close = d <= max_distance_m
        m = g["mmsi"].to_numpy()
        pid = g["pid"].to_numpy()
        ts = g["ts"].to_numpy()
        for i, j, dist in zip(a[close], b[close], d[close], strict=True):
            (x, y) = (i, j) if m[i] < m[j] else (j, i)
            pairs.append(
                (
                    int(m[x]),
                    int(m[y]),
                    int(stp),
                    float(dist),
                    ts[x],
                    ts[y],
                    pid[x],
                    pid[y],
                    lon[x],
                    lat[x],
                )
            )
    if not pairs:
        return events_frame([])
    pf = pd.DataFrame(
        pairs, columns=["a", "b", "step", "d", "ts_a", "ts_b", "pid_a", "pid_b", "lon", "lat"]
    ).sort_values(["a", "b", "step"])
    rows = []
    for (a, b), g in pf.groupby(["a", "b"], sort=True):
        run = (g["step"].diff().fillna(1) > max_missing_steps + 1).cumsum()
        for _, r in g.groupby(run):
            start = min(r["ts_a"].min(), r["ts_b"].min())
            end = max(r["ts_a"].max(), r["ts_b"].max())
            if end - start < min_duration:
                continue
            rows.append(
                {
                    "kind": "encounter",
                    "mmsi": a,
                    "other_mmsi": b,
                    "start": start,
                    "end": end,
                    "lon": float(r["lon"].median()),
                    "lat": float(r["lat"].median()),
                    "status": "closed",
                    "confidence": "observed",
                    "wording": f"encounter: {a} and {b} within {r['d'].max():.0f} m for {(end - start).total_seconds() / 3600:.1f} h, both below {max_sog_kn:g} kn",
                    "figures": {
                        "median_distance_m": float(r["d"].median()),
                        "max_distance_m": float(r["d"].max()),
                        "steps": len(r),
                    },
                    "thresholds": thresholds,
                    "position_ids": position_ids(sorted(set(r["pid_a"]) | set(r["pid_b"]))),
                }
            )
    return note_skipped(events_frame(rows), positions)
