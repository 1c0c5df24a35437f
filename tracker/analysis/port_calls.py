"""Port calls: entry into a port's geofences, a stop, exit, with hysteresis and dwell.

Defaults follow Global Fishing Watch port visits: enter within 3 km of a port geofence (or
inside it), exit beyond 4 km; stopped below 0.2 kn, moving again above 0.5 kn; a silence of
more than 4 h splits a visit.
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

__all__ = ["detect_port_calls"]


def _confidence(entry: bool, exit_: bool, stop: bool) -> tuple[float, str]:
    score = 0.4 * stop + 0.3 * entry + 0.3 * exit_
    label = "high" if score >= 0.99 else "medium" if score >= 0.65 else "low"
    return round(score, 2), label


def detect_port_calls(
    positions: pd.DataFrame,
    geofences: gpd.GeoDataFrame,
    *,
    enter_m: float = 3_000.0,
    exit_m: float = 4_000.0,
    stop_kn: float = 0.2,
    resume_kn: float = 0.5,
    max_gap: timedelta = timedelta(hours=4),
    require_stop: bool = True,
    include_invalid_mmsi: bool = False,
) -> pd.DataFrame:
    """One row per port call (kind ``port_call``).

    A visit opens at the first fix within ``enter_m`` metres of a port's geofences (0 inside)
    and lasts while fixes stay within ``exit_m`` metres of the same port with no silence longer
    than ``max_gap``; ``start``/``end`` are its first and last fixes (UTC). A stop begins below
    ``stop_kn`` knots and ends above ``resume_kn``; with ``require_stop`` a visit without a stop
    (a ship passing through) is not a port call. ``confidence`` grows with what was observed:
    the entry (a fix outside before), the stop, the exit (a fix outside after); a visit still
    going at the end of the data has ``status`` ``open``.

    Fixes with assumed times (``ts_assumed``) are left out, and so are MMSIs that cannot be
    a ship unless ``include_invalid_mmsi``; ``figures.assumed_time_fixes_skipped`` says so.
    """
    thresholds = {
        "enter_m": enter_m,
        "exit_m": exit_m,
        "stop_kn": stop_kn,
        "resume_kn": resume_kn,
        "max_gap_s": max_gap.total_seconds(),
        "require_stop": require_stop,
    }
    p = prepare_positions(positions, include_invalid_mmsi=include_invalid_mmsi)
    if p.empty or len(geofences) == 0:
        return events_frame([])
    port, dist = nearest_port(p["lon"].to_numpy(), p["lat"].to_numpy(), geofences, within_m=exit_m)
    p["port"], p["dist"] = port, dist
    rows: list[dict] = []
    gap_s = max_gap.total_seconds()
    for mmsi, g in p.groupby("mmsi", sort=False):
        near = g["port"].notna().to_numpy()
        if not near.any():
            continue
        ts = g["ts"].to_numpy()
        d = g["dist"].to_numpy()
        ports = g["port"].to_numpy()
        sog = g["sog_kn"].to_numpy(dtype=float, na_value=np.nan)
        dt = np.diff(ts).astype("timedelta64[s]").astype(float)
        n = len(g)
        i = 0
        while i < n:
            if not (near[i] and d[i] <= enter_m):
                i += 1
                continue
            start, name = i, ports[i]
            entry = (
                i > 0
                and dt[i - 1] <= gap_s
                and not (near[i - 1] and ports[i - 1] == name and d[i - 1] <= enter_m)
            )
            j = i
            while (
                j + 1 < n
                and dt[j] <= gap_s
                and near[j + 1]
                and ports[j + 1] == name
                and d[j + 1] <= exit_m
            ):
                j += 1
            exit_ = j + 1 < n and dt[j] <= gap_s
            i = j + 1
            seg = slice(start, j + 1)
            s = sog[seg]
            stopped = np.nan_to_num(s, nan=np.inf) < stop_kn
            if require_stop and not stopped.any():
                continue
            stop_s = 0.0
            if stopped.any():
                k0 = int(np.argmax(stopped))
                moving = np.nan_to_num(s[k0:], nan=0.0) > resume_kn
                k1 = k0 + (int(np.argmax(moving)) if moving.any() else len(s) - k0)
                stop_s = float((ts[start + k1 - 1] - ts[start + k0]) / np.timedelta64(1, "s"))
            score, label = _confidence(bool(entry), bool(exit_), bool(stopped.any()))
            seg_g = g.iloc[seg]
            rows.append(
                {
                    "kind": "port_call",
                    "mmsi": int(mmsi),
                    "place": name,
                    "start": ts[start],
                    "end": ts[j],
                    "lon": float(np.median(seg_g["lon"])),
                    "lat": float(np.median(seg_g["lat"])),
                    "end_lon": None,
                    "end_lat": None,
                    "status": "closed" if exit_ else "open",
                    "confidence": label,
                    "wording": f"port call at {name}: {label} confidence ("
                    + ", ".join(
                        w
                        for w, ok in (
                            ("entry seen", entry),
                            ("stop seen", stopped.any()),
                            ("exit seen", exit_),
                        )
                        if ok
                    )
                    + ")",
                    "figures": {
                        "dwell_s": float((ts[j] - ts[start]) / np.timedelta64(1, "s")),
                        "stop_s": stop_s,
                        "fixes": int(j - start + 1),
                        "min_sog_kn": float(np.nanmin(s)) if np.isfinite(s).any() else None,
                        "min_distance_m": float(np.nanmin(d[seg])),
                        "entry_observed": bool(entry),
                        "exit_observed": bool(exit_),
                        "stop_observed": bool(stopped.any()),
                        "score": score,
                    },
                    "thresholds": thresholds,
                    "position_ids": position_ids(seg_g["pid"]),
                }
            )
    return note_skipped(events_frame(rows), positions)
