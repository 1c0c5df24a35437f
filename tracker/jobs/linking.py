"""Link stored sightings to the AIS positions in a store: read per sighting only the fixes
that could matter, then :func:`tracker.analysis.linking.link_sightings` (pure) decides."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from tracker.analysis.linking import (
    COVERAGE_FACTOR,
    DEFAULT_LINK_RADIUS_M,
    DEFAULT_LINK_WINDOW,
    DEFAULT_MAX_UNCERTAINTY_H,
    LINK_COLUMNS,
    _too_vague,
    link_sightings,
)
from tracker.store.ais import distinct_identities, read_positions
from tracker.store.engine import Store

__all__ = ["link_stored_sightings"]


def link_stored_sightings(
    store: Store,
    sightings: pd.DataFrame,
    *,
    radius_m: float = DEFAULT_LINK_RADIUS_M,
    window: timedelta = DEFAULT_LINK_WINDOW,
    max_uncertainty_h: float = DEFAULT_MAX_UNCERTAINTY_H,
) -> pd.DataFrame:
    """:func:`link_sightings` against the AIS positions in ``store``, read per sighting (its
    time interval ± ``window``, and an area a fast ship could cross in that time)."""
    out = []
    for _, s in sightings.iterrows():
        unc = timedelta(hours=float(s.get("time_uncertainty_h") or 0.0))
        if unc.total_seconds() > max_uncertainty_h * 3600.0:
            out.append(
                pd.DataFrame(
                    [_too_vague(s, unc.total_seconds() / 3600.0, max_uncertainty_h)],
                    columns=LINK_COLUMNS,
                )
            )
            continue
        t = pd.Timestamp(s["time"]).to_pydatetime()
        span_h = (window + unc).total_seconds() / 3600.0
        # 60 kn for the whole span, plus the coverage ring: nothing that could matter is left out
        reach_km = (
            max(30.0, (radius_m + float(s.get("radius_m") or 0.0)) * COVERAGE_FACTOR / 1000)
            + 111.0 * span_h
        )
        dlat = min(90.0, reach_km / 111.0)
        dlon = min(
            180.0, reach_km / (111.0 * max(0.05, float(np.cos(np.radians(float(s["lat"]))))))
        )
        bbox = (
            max(-180.0, float(s["lon"]) - dlon),
            max(-90.0, float(s["lat"]) - dlat),
            min(180.0, float(s["lon"]) + dlon),
            min(90.0, float(s["lat"]) + dlat),
        )
        pos = read_positions(store, since=t - unc - window, until=t + unc + window, bbox=bbox)
        mmsis = sorted(set(pos["mmsi"].astype(int))) if len(pos) else []
        ids = distinct_identities(store, mmsi=mmsis) if mmsis else None
        out.append(
            link_sightings(
                s.to_frame().T,
                pos,
                radius_m=radius_m,
                window=window,
                identities=ids,
                max_uncertainty_h=max_uncertainty_h,
            )
        )
    if not out:
        return pd.DataFrame(columns=LINK_COLUMNS)
    return pd.concat(out, ignore_index=True)
