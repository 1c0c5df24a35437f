"""Build data/routes/conakry-bamako.geojson from the flownet trans-African road network.

    python scripts/make_route_conakry_bamako.py [SHARED_DATA]

Source: routes/flownet_africa_network/africa_network.geojson.gz in ../shared/data (SebKrantz/
flownet, GPL-3; Krantz 2024, World Bank PRWP 10893; OpenStreetMap-based road routing). The
route follows the network's edges between its city nodes Conakry -> Coyah -> Kindia -> Mamou
-> Kankan -> Siguiri -> Bamako; each edge is a road route simplified to 10 vertices, so the
line is a schematic of the road, not a survey of it. Waypoints come from the shipped gazetteer
(OSM nodes); each is written with its offset from the line, which this script also prints.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.analysis.route_progress import locate_points  # noqa: E402
from tracker.sources.gazetteer import lookup_place  # noqa: E402
from tracker.sources.routes import Route, route_to_geojson  # noqa: E402

OUT = ROOT / "data" / "routes" / "conakry-bamako.geojson"
#: flownet node ids along the road, with the town each stands for
PATH = [
    ("39", "Conakry"),
    ("40", "Coyah"),
    ("43", "Kindia"),
    ("49", "Mamou"),
    ("56", "Kankan"),
    ("82", "Siguiri"),
    ("81", "Bamako"),
]
#: (gazetteer name, waypoint kind)
WAYPOINTS = [
    ("Conakry", "city"),
    ("Coyah", "town"),
    ("Kindia", "town"),
    ("Mamou", "town"),
    ("Kankan", "town"),
    ("Siguiri", "town"),
    ("Kourémalé", "border"),
    ("Naréna", "town"),
    ("Bamako", "city"),
]


def main(shared: Path) -> None:
    src = shared / "routes" / "flownet_africa_network" / "africa_network.geojson.gz"
    edges = {}
    for f in json.loads(gzip.decompress(src.read_bytes()))["features"]:
        p = f["properties"]
        edges[(p["from"], p["to"])] = (f["geometry"]["coordinates"], p["distance"])
    coords: list[list[float]] = []
    road_m = 0.0
    for (a, _), (b, _) in zip(PATH, PATH[1:], strict=False):
        if (a, b) in edges:
            pts, dist = edges[(a, b)]
        else:
            pts, dist = edges[(b, a)]
            pts = pts[::-1]
        road_m += dist
        coords += [
            [round(x, 6), round(y, 6)]
            for x, y in pts
            if not coords or [round(x, 6), round(y, 6)] != coords[-1]
        ]
    import pandas as pd
    from shapely.geometry import LineString

    line = LineString(coords)
    places = [lookup_place(n) for n, _ in WAYPOINTS]
    wps = pd.DataFrame(
        {
            "name": [p.name for p in places],
            "kind": [k for _, k in WAYPOINTS],
            "lon": [p.lon for p in places],
            "lat": [p.lat for p in places],
        }
    )
    route = Route(
        name="Conakry–Bamako (N1/RN5)",
        line=line,
        waypoints=wps,
        source=(
            "flownet africa_network (SebKrantz/flownet @ 3db3638, GPL-3; Krantz 2024, World Bank PRWP "
            "10893; OpenStreetMap-based road routing) edges 39-40-43-49-56-82-81; waypoints from "
            "OpenStreetMap nodes (ODbL 1.0)"
        ),
        note=(
            "Schematic: each network edge is the road simplified to at most 10 vertices, so the line can lie "
            "several km from the real road between towns. The network's road distance for these edges "
            f"is {road_m / 1000:.0f} km."
        ),
    )
    located = locate_points(route, wps["lon"].to_numpy(), wps["lat"].to_numpy())
    gj = route_to_geojson(route)
    gj["features"][0]["properties"]["road_distance_km"] = round(road_m / 1000, 1)
    for feat, (_, row) in zip(gj["features"][1:], located.iterrows(), strict=True):
        feat["properties"]["along_km"] = round(float(row["along_km"]), 1)
        feat["properties"]["offset_m"] = round(float(row["offset_m"]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(gj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(
        f"{OUT.relative_to(ROOT)}: {len(coords)} vertices, {route.length_m / 1000:.1f} km along the line, {road_m / 1000:.1f} km road distance"
    )
    for name, row in zip(wps["name"], located.itertuples(), strict=True):
        print(f"  {name:<12} along {row.along_km:7.1f} km  offset {row.offset_m / 1000:6.2f} km")
    assert np.all(np.diff(located["along_km"].to_numpy()) > 0), (
        "waypoints out of order along the line"
    )


if __name__ == "__main__":
    base = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(os.environ.get("TRACKER_SHARED_DATA", ROOT.parent / "shared" / "data"))
    )
    main(base)
