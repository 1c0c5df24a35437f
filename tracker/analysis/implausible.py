"""Implausible positions: impossible speeds, one MMSI in two places at once, fixes on land."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tracker.analysis.events import (
    events_frame,
    note_skipped,
    position_ids,
    prepare_positions,
)
from tracker.analysis.shore import Land, default_land
from tracker.core.geo import geodesic_distance_m, m_s_to_knots

__all__ = ["detect_implausible"]


def detect_implausible(
    positions: pd.DataFrame,
    *,
    max_speed_kn: float = 50.0,
    min_jump_m: float = 1_000.0,
    land_margin_m: float = 2_000.0,
    land: Land | None = None,
    include_invalid_mmsi: bool = False,
) -> pd.DataFrame:
    """One row per implausible observation (kind ``implausible``; ``figures.reason`` says which).

    - ``speed``: consecutive fixes of one MMSI more than ``min_jump_m`` metres apart at an
      implied speed above ``max_speed_kn`` knots;
    - ``two_places``: such a jump out and straight back (A, B, A'), the sign of two
      transmitters sharing one MMSI or of spoofing;
    - ``on_land``: a run of fixes more than ``land_margin_m`` metres inland (the land layer is
      precise to about 1 km at the coast, hence the margin) by a vessel also seen at sea; a
      vessel never seen at sea is taken to sail inland waters the land layer does not cut out
      (Natural Earth land includes lakes, rivers and narrow fjords) and is not flagged.

    Fixes with assumed times (``ts_assumed``) are left out, and so are MMSIs that cannot be
    a ship unless ``include_invalid_mmsi``; ``figures.assumed_time_fixes_skipped`` says so.
    """
    thresholds = {
        "max_speed_kn": max_speed_kn,
        "min_jump_m": min_jump_m,
        "land_margin_m": land_margin_m,
    }
    p = prepare_positions(positions, include_invalid_mmsi=include_invalid_mmsi)
    if p.empty:
        return events_frame([])
    lon, lat = p["lon"].to_numpy(float), p["lat"].to_numpy(float)
    ts = p["ts"].to_numpy()
    mmsi = p["mmsi"].to_numpy()
    pid = p["pid"].to_numpy()
    same = mmsi[1:] == mmsi[:-1]
    d = geodesic_distance_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    dt = np.diff(ts).astype("timedelta64[ms]").astype(float) / 1000.0
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = m_s_to_knots(np.where(dt > 0, d / dt, np.inf))
    jump = same & (d > min_jump_m) & (speed > max_speed_kn)
    rows = []
    used = np.zeros(len(jump), dtype=bool)
    for i in np.nonzero(jump)[0]:
        if used[i]:
            continue
        back = (
            i + 1 < len(jump)
            and jump[i + 1]
            and geodesic_distance_m(lon[i], lat[i], lon[i + 2], lat[i + 2]) < d[i] / 2
        )
        reason = "two_places" if back else "speed"
        used[i] = True
        if back:
            used[i + 1] = True
        last = i + 2 if back else i + 1
        wording = (
            f"MMSI {mmsi[i]} reported {d[i] / 1000:.1f} km away and back within {(ts[last] - ts[i]) / np.timedelta64(1, 's'):.0f} s: two transmitters or spoofing"
            if back
            else (
                f"implied speed {speed[i]:.0f} kn over {d[i] / 1000:.1f} km in {dt[i]:.0f} s"
                if dt[i] > 0
                else f"two positions {d[i] / 1000:.1f} km apart at the same time"
            )
        )
        rows.append(
            {
                "kind": "implausible",
                "mmsi": int(mmsi[i]),
                "place": reason,
                "start": ts[i],
                "end": ts[last],
                "lon": float(lon[i]),
                "lat": float(lat[i]),
                "end_lon": float(lon[i + 1]),
                "end_lat": float(lat[i + 1]),
                "status": "closed",
                "confidence": "observed",
                "wording": wording,
                "figures": {
                    "reason": reason,
                    "distance_m": float(d[i]),
                    "implied_speed_kn": float(speed[i]) if dt[i] > 0 else None,
                    "dt_s": float(dt[i]),
                },
                "thresholds": thresholds,
                "position_ids": position_ids(pid[i : last + 1]),
            }
        )
    land = land or default_land()
    on_land = land.on_land(lon, lat)
    # A vessel with no fix at sea sails inland waters (lakes, rivers, fjords that the 1:10m
    # land layer fills in): only vessels also seen at sea can be "on land".
    at_sea = pd.Series(~on_land & np.isfinite(lon)).groupby(mmsi).transform("any").to_numpy()
    on_land &= at_sea
    # Distances are costly on large polygons: measure only the fixes found on land.
    shore = np.zeros(len(lon))
    if on_land.any():
        shore[on_land] = land.shore_distance_m(lon[on_land], lat[on_land])
    if on_land.any():
        new_run = np.r_[True, (mmsi[1:] != mmsi[:-1]) | (on_land[1:] != on_land[:-1])]
        run = np.cumsum(new_run)
        for r in np.unique(run[on_land]):
            idx = np.nonzero(run == r)[0]
            if shore[idx].min() >= -land_margin_m:
                continue
            rows.append(
                {
                    "kind": "implausible",
                    "mmsi": int(mmsi[idx[0]]),
                    "place": "on_land",
                    "start": ts[idx[0]],
                    "end": ts[idx[-1]],
                    "lon": float(lon[idx[0]]),
                    "lat": float(lat[idx[0]]),
                    "status": "closed",
                    "confidence": "observed",
                    "wording": f"{len(idx)} fixes on land, up to {-shore[idx].min() / 1000:.1f} km inland",
                    "figures": {
                        "reason": "on_land",
                        "fixes": len(idx),
                        "max_inland_m": float(-shore[idx].min()),
                    },
                    "thresholds": thresholds,
                    "position_ids": position_ids(pid[idx]),
                }
            )
    return note_skipped(events_frame(rows), positions)
