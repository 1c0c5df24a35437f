"""Benchmark: map size and Chromium load time for 10 k, 100 k and 1 M AIS positions.

    python bench/map.py [--sizes 10000 100000 1000000] [--vessels 100] [--sanctioned 5] [--out bench-maps]
    python bench/map.py --store tracker.db [--port P] [--out bench-maps]   # a real store

Fictitious vessels (MMSI 999...) wander the Gulf of Guinea: 10-minute fixes at 8-14 kn with
a course change every few hours and a 6-30 h stop now and then (random, seeded). For each size
it times ``build_map`` + ``write_map`` (tiles none: nothing from the network), prints the HTML
size against the 5 MB budget, and opens the file in headless Chromium (Debian chromium +
chromium-driver) to time the page load until Leaflet has drawn the map. The floor for the
build time is writing the same positions as plain GeoJSON points with ``json.dumps``.
``--sanctioned N`` marks the first N vessels sanctioned (drawn in full; with more vessels than
the map draws in full, the others are thinned or gridded).

``--store`` times the whole ``tracker map`` path on a real store instead: reading the layers
(``collect_layers``), building, writing, and the Chromium load; it prints what the map drew.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tracker.outputs.maps import build_map, write_map

BUDGET_BYTES = 5_000_000


def fleet(n: int, vessels: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    per = n // vessels
    frames = []
    t0 = pd.Timestamp("2025-05-01T00:00Z")
    for v in range(vessels):
        steps = per
        course = np.cumsum(
            np.where(rng.random(steps) < 1 / 24, rng.normal(0, 60, steps), 0.0)
        ) + rng.uniform(0, 360)
        speed = np.full(steps, rng.uniform(8, 14))
        # stops: 6-30 h at a few random points
        for _ in range(max(1, steps // 2000)):
            start = rng.integers(0, steps)
            speed[start : start + rng.integers(36, 180)] = 0.0
        dist_nm = speed / 6.0  # 10 minutes
        lat0, lon0 = rng.uniform(-2, 6), rng.uniform(-10, 8)
        dlat = dist_nm * np.cos(np.radians(course)) / 60
        lat = np.clip(lat0 + np.cumsum(dlat), -30, 30)
        dlon = dist_nm * np.sin(np.radians(course)) / 60 / np.cos(np.radians(lat))
        lon = lon0 + np.cumsum(dlon)
        frames.append(
            pd.DataFrame(
                {
                    "mmsi": 999_100_000 + v,
                    "ts": t0 + pd.to_timedelta(np.arange(steps) * 600, unit="s"),
                    "lon": lon,
                    "lat": lat,
                    "sog_kn": speed,
                    "source": "bench FICTITIOUS",
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def chromium_load_s(path: Path) -> float | None:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,900",
    ):
        options.add_argument(arg)
    try:
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    except Exception as exc:  # noqa: BLE001 - report and go on without browser timings
        print(f"  (no Chromium: {str(exc).splitlines()[0]})")
        return None
    try:
        driver.set_page_load_timeout(600)
        start = time.perf_counter()
        driver.get(path.resolve().as_uri())
        while driver.execute_script("return document.readyState") != "complete":
            time.sleep(0.05)
        # Leaflet has drawn: the track layer's SVG paths exist
        while not driver.execute_script(
            "return document.querySelectorAll('path.leaflet-interactive').length"
        ):
            time.sleep(0.05)
        return time.perf_counter() - start
    finally:
        driver.quit()


def real_store(db: str, out: Path, ports: list[str]) -> None:
    from tracker.jobs.case_layers import collect_layers
    from tracker.store import open_store

    t = time.perf_counter()
    layers = collect_layers(open_store(db), ports=ports)
    collect = time.perf_counter() - t
    t = time.perf_counter()
    m = build_map(layers, tiles="none")
    build = time.perf_counter() - t
    t = time.perf_counter()
    path = write_map(m, out / "real-store.html")
    write = time.perf_counter() - t
    size = path.stat().st_size
    load = chromium_load_s(path)
    s = m.tracker_summary
    print(
        f"store {db}: {len(layers.positions):,} positions of {layers.positions['mmsi'].nunique():,} vessels, {len(layers.events):,} events"
    )
    print(
        f"  collect {collect:.2f} s, build {build:.2f} s, write {write:.2f} s, HTML {size / 1e6:.2f} MB ({'ok' if size < BUDGET_BYTES else 'OVER'} budget 5 MB), Chromium load {load if load is not None else float('nan'):.2f} s"
    )
    print(
        f"  drawn: {s.tracks_full} in full, {s.tracks_thinned} thinned, {s.grid_vessels:,} vessels in the grid ({s.grid_cell_deg}°), {s.vertices:,} track vertices, {s.events_drawn} events, coarsened {s.coarsened}"
    )
    for note in s.notes:
        print(f"  {note}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--vessels", type=int, default=100)
    ap.add_argument("--sanctioned", type=int, default=0)
    ap.add_argument("--store", help="time a map of this real store instead (SQLite path or URL)")
    ap.add_argument("--port", action="append", default=[])
    ap.add_argument("--out", type=Path, default=Path("bench-maps"))
    args = ap.parse_args()
    args.out.mkdir(exist_ok=True)
    if args.store:
        real_store(args.store, args.out, args.port)
        return
    print(
        f"{'positions':>10} {'vessels':>7} {'build s':>8} {'floor s':>8} {'ratio':>6} {'HTML MB':>8} {'budget':>7} {'Chromium s':>10}"
    )
    for n in args.sizes:
        positions = fleet(n, args.vessels)
        vessels = pd.DataFrame({"mmsi": positions["mmsi"].unique(), "name": "BENCH FICTITIOUS"})
        vessels["sanctioned"] = vessels.index < args.sanctioned
        t = time.perf_counter()
        floor_text = json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [x, y]},
                        "properties": {},
                    }
                    for x, y in zip(
                        positions["lon"].tolist(), positions["lat"].tolist(), strict=True
                    )
                ],
            }
        )
        floor = time.perf_counter() - t
        t = time.perf_counter()
        path = write_map(
            build_map(positions=positions, vessels=vessels, tiles="none"),
            args.out / f"map-{n}.html",
        )
        build = time.perf_counter() - t
        size = path.stat().st_size
        load = chromium_load_s(path)
        print(
            f"{len(positions):>10,} {args.vessels:>7} {build:>8.2f} {floor:>8.2f} {build / floor:>6.1f} {size / 1e6:>8.2f} "
            f"{'ok' if size < BUDGET_BYTES else 'OVER':>7} {load if load is not None else float('nan'):>10.2f}"
        )
        del floor_text


if __name__ == "__main__":
    main()
