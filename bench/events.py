"""Benchmark: event detection on N generated positions, against MovingPandas stop detection.

    python bench/events.py [--positions N] [--vessels V]

Fictitious vessels (MMSI 999...) sail between real port polygons of data/ports (Conakry,
Bata, Lomé, Abidjan, Dakar), stopping 6-30 h in each. Times, in one run on the same frame:
  1. tracker: detect_port_calls, detect_gaps, detect_loitering, detect_implausible,
     detect_encounters;
  2. the floor for stops: MovingPandas ``TrajectoryStopDetector.get_stop_segments`` with
     ``max_diameter=200 m``, ``min_duration=2 h`` on the same positions;
The legs are straight lines, so some cross land and detect_implausible rightly reports them
(on_land). Prints positions per second and the ratio of tracker's port-call detection to
MovingPandas' stop detection.
"""

from __future__ import annotations

import argparse
import time
import warnings
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from tracker.analysis.encounters import detect_encounters
from tracker.analysis.gaps import detect_gaps
from tracker.analysis.implausible import detect_implausible
from tracker.analysis.loitering import detect_loitering
from tracker.analysis.port_calls import detect_port_calls
from tracker.sources.ais.synth import sail, stay
from tracker.sources.ports import read_geofences

PORTS = ["CONAKRY", "BATA", "LOME", "ABIDJAN", "DAKAR"]


def fleet(positions: int, vessels: int, geofences) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    centres = {
        p: geofences[(geofences["port"] == p) & (geofences["kind"] == "port")]
        .geometry.iloc[0]
        .representative_point()
        for p in PORTS
    }
    per = positions // vessels
    frames = []
    for v in range(vessels):
        ts = datetime(2025, 5, 1, tzinfo=UTC) + timedelta(minutes=int(rng.integers(0, 600)))
        here = PORTS[v % len(PORTS)]
        parts, n = [], 0
        while n < per:
            stop_h = float(rng.uniform(6, 30))
            c = centres[here]
            s = stay(c.x, c.y, start=ts, duration=timedelta(hours=stop_h))
            nxt = PORTS[int(rng.integers(0, len(PORTS)))]
            if nxt == here:
                nxt = PORTS[(PORTS.index(here) + 1) % len(PORTS)]
            d = centres[nxt]
            leg = sail(
                [(c.x, c.y), (c.x - 0.5, c.y - 0.5), (d.x, d.y)],
                start=s["ts"].iloc[-1] + timedelta(minutes=10),
                speed_kn=12.0,
            )
            parts += [s, leg]
            n += len(s) + len(leg)
            ts, here = leg["ts"].iloc[-1] + timedelta(minutes=10), nxt
        f = pd.concat(parts, ignore_index=True).iloc[:per]
        f["mmsi"] = 999_300_000 + v
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    out["id"] = np.arange(len(out))
    return out


def timed(label: str, fn, n: int) -> float:
    t = time.perf_counter()
    result = fn()
    dt = time.perf_counter() - t
    print(f"{label:<34} {dt:8.2f} s  {n / dt:>12,.0f} positions/s  -> {len(result):,} rows")
    return dt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=200_000)
    parser.add_argument("--vessels", type=int, default=50)
    args = parser.parse_args()
    g = read_geofences()
    p = fleet(args.positions, args.vessels, g)
    n = len(p)
    print(f"{n:,} positions of {args.vessels} fictitious vessels between {', '.join(PORTS)}")
    t_ports = timed("tracker detect_port_calls", lambda: detect_port_calls(p, g), n)
    timed("tracker detect_gaps", lambda: detect_gaps(p), n)
    timed("tracker detect_loitering", lambda: detect_loitering(p, geofences=g), n)
    timed("tracker detect_implausible", lambda: detect_implausible(p), n)
    timed("tracker detect_encounters", lambda: detect_encounters(p, geofences=g), n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import geopandas as gpd
        import movingpandas as mpd

        def mpd_stops():
            gdf = gpd.GeoDataFrame(
                p[["mmsi", "ts", "sog_kn"]],
                geometry=gpd.points_from_xy(p["lon"], p["lat"]),
                crs="EPSG:4326",
            )
            gdf = gdf.set_index(gdf["ts"].dt.tz_convert(None))
            tc = mpd.TrajectoryCollection(gdf, "mmsi")
            return mpd.TrajectoryStopDetector(tc).get_stop_segments(
                max_diameter=200, min_duration=timedelta(hours=2)
            )

        t_mpd = timed("MovingPandas TrajectoryStopDetector", mpd_stops, n)
    print(f"ratio tracker port calls / MovingPandas stops: {t_ports / t_mpd:.3f}")


if __name__ == "__main__":
    main()
