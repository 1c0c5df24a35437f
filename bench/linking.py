"""Benchmark: linking sightings to AIS tracks, against a bare nearest-fix search.

    python bench/linking.py [--positions 1000000] [--vessels 1000] [--sightings 200]

Fictitious vessels (MMSI 999...) from bench/map.py's generator; sightings are put on random
vessels' tracks between two fixes (so each should be identified), half of them moved 20 km
off (so they should be dark-ship candidates). Times, in one run on the same frames:
  1. tracker: ``link_sightings`` (interpolated closest approach, coverage, reasons);
  2. the floor: for each sighting, numpy over the fixes within ±1 h: the nearest fix
     (no interpolation, no reasons).
Prints sightings per second of each, their ratio, and how many came out identified.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tracker.analysis.linking import link_sightings
from tracker.sources.sightings import sighting_from_fields, sightings_frame

sys.path.insert(0, str(Path(__file__).resolve().parent))
from map import fleet  # bench/map.py: the same fictitious fleet


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--positions", type=int, default=1_000_000)
    ap.add_argument("--vessels", type=int, default=1000)
    ap.add_argument("--sightings", type=int, default=200)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    pos = fleet(args.positions, args.vessels)
    picks = rng.integers(0, len(pos) - 1, args.sightings)
    recs = []
    for n, i in enumerate(picks):
        a, b = pos.iloc[i], pos.iloc[i + 1]
        if a["mmsi"] != b["mmsi"]:
            a, b = pos.iloc[i - 1], pos.iloc[i]
        f = 0.3
        lon, lat = a["lon"] + f * (b["lon"] - a["lon"]), a["lat"] + f * (b["lat"] - a["lat"])
        off = 0.18 if n % 2 else 0.0  # ~20 km north for every other sighting
        when = a["ts"] + (b["ts"] - a["ts"]) * f
        recs.append(
            sighting_from_fields(
                {
                    "time": when.isoformat(),
                    "lon": lon,
                    "lat": lat + off,
                    "kind": "sar",
                    "source": "bench FICTITIOUS",
                }
            )
        )
    s = sightings_frame(recs)

    t = time.perf_counter()
    out = link_sightings(s, pos)
    tracker_s = time.perf_counter() - t

    t = time.perf_counter()
    ts = (pos["ts"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
    order = np.argsort(ts, kind="stable")
    ts, x, y = ts[order], pos["lon"].to_numpy()[order], pos["lat"].to_numpy()[order]
    found = 0
    for r in s.itertuples():
        t0 = r.time.timestamp()
        lo, hi = np.searchsorted(ts, t0 - 3600), np.searchsorted(ts, t0 + 3600)
        k = np.cos(np.radians(r.lat))
        d = np.hypot((x[lo:hi] - r.lon) * k, y[lo:hi] - r.lat) * 111_195
        found += bool(len(d)) and d.min() < 1500
    floor_s = time.perf_counter() - t

    n = len(s)
    counts = out["status"].value_counts().to_dict()
    print(
        f"{len(pos):,} positions of {args.vessels} vessels, {n} sightings (half on a track, half 20 km off)"
    )
    print(
        f"  floor (nearest fix within ±1 h): {floor_s:.2f} s  {n / floor_s:,.0f} sightings/s  ({found} within 1,500 m)"
    )
    print(
        f"  tracker link_sightings:          {tracker_s:.2f} s  {n / tracker_s:,.0f} sightings/s  {counts}"
    )
    print(f"  ratio tracker / floor: {tracker_s / floor_s:.1f}")


if __name__ == "__main__":
    main()
