"""Build data/routes/conakry-bamako.geojson from Krantz's OSRM road network (real road geometry).

    python scripts/make_route_conakry_bamako.py [SHARED_DATA]

Sources, in ../shared/data/routes/krantz_osrm (SebKrantz/OptimalAfricanRoads @ b1f7b5a, GPL-3;
Krantz 2024, World Bank PRWP 10893; OSRM routes on OpenStreetMap data, ODbL 1.0):

- ``net_smoothed_corridor.geojson``: the smoothed OSRM road network (98 edges, real road
  geometry at about one vertex per 3-4 km). The line is the shortest path over it (networkx,
  geodesic metres) from the network's Conakry node (the end of the road at the port, Kaloum)
  through the points of the network nearest to Coyah, Kindia, Mamou, Dabola, Kouroussa,
  Kankan, Siguiri, Kourémalé and Naréna, to the point nearest to Bamako. Each town is a via
  point: the edge it lies closest to is split at the town's foot on it; every town is also a
  waypoint of the route.
- ``edges_real_corridor.geojson``: OSRM road distance and driving time of the network edges
  Conakry (39) - Coyah/Dubréka (40) - Kindia (43) - Mamou (49) - Kankan (56) - Siguiri (82) -
  Bamako (81). Each leg's ends are projected onto the line; between them km along the line map
  linearly to that leg's OSRM road km (beyond the last leg end: 1 road km a line km). The
  route carries these knots (``road_km_knots``) and the estimated road length (``road_km``).

The line is simplified (Douglas-Peucker in a transverse Mercator frame centred on the corridor)
with SIMPLIFY_M, which keeps every point of it within that distance of the unsimplified OSRM
path and vice versa; the script measures and prints that distance. Waypoints are the
gazetteer's OSM nodes (ODbL); the script prints their along-line km and offsets.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import LineString, Point
from shapely.ops import substring

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.analysis.route_progress import locate_points  # noqa: E402
from tracker.sources.gazetteer import lookup_place  # noqa: E402
from tracker.sources.routes import Route, route_to_geojson  # noqa: E402

OUT = ROOT / "data" / "routes" / "conakry-bamako.geojson"
GEOD = Geod(ellps="WGS84")
#: a transverse Mercator frame centred on the corridor (lon -13.7 .. -8.0): scale error < 0.15 %
LOCAL = "+proj=tmerc +lat_0=0 +lon_0=-10.85 +k=1 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
#: Douglas-Peucker tolerance (m); the simplified line stays within it of the OSRM path
SIMPLIFY_M = 60.0
#: (gazetteer name, waypoint kind), in order along the road
WAYPOINTS = [
    ("Conakry", "city"),
    ("Coyah", "town"),
    ("Kindia", "town"),
    ("Mamou", "town"),
    ("Dabola", "town"),
    ("Kouroussa", "town"),
    ("Kankan", "town"),
    ("Siguiri", "town"),
    ("Kourémalé", "border"),
    ("Naréna", "town"),
    ("Bamako", "city"),
]
#: the via points of the path, in order (the waypoints)
VIA = [
    "Conakry",
    "Coyah",
    "Kindia",
    "Mamou",
    "Dabola",
    "Kouroussa",
    "Kankan",
    "Siguiri",
    "Kourémalé",
    "Naréna",
    "Bamako",
]
#: OSRM legs (flownet node ids, as numbered in edges_real_corridor.geojson) and the towns they join
LEGS = [
    (39, 40, "Conakry", "Coyah/Dubréka junction"),
    (40, 43, "Coyah/Dubréka junction", "Kindia"),
    (43, 49, "Kindia", "Mamou"),
    (49, 56, "Mamou", "Kankan"),
    (56, 82, "Kankan", "Siguiri"),
    (82, 81, "Siguiri", "Bamako"),
]


def _geod_m(coords) -> float:
    xy = np.asarray(coords, dtype=float)
    return float(GEOD.line_length(xy[:, 0], xy[:, 1]))


def _graph(net: dict) -> nx.Graph:
    """Nodes: edge end points (lon, lat); edges carry lon/lat coords and geodesic metres."""
    g = nx.Graph()
    for f in net["features"]:
        c = [tuple(p) for p in f["geometry"]["coordinates"]]
        a, b, m = c[0], c[-1], _geod_m(c)
        if g.has_edge(a, b) and g[a][b]["m"] <= m:
            continue
        g.add_edge(a, b, coords=c, m=m, edge=f["properties"]["edge"])
    return g


def _split_at(g: nx.Graph, lon: float, lat: float, fwd: Transformer) -> tuple:
    """Split the edge nearest to (lon, lat) at the point's foot on it; return that node."""
    px, py = fwd.transform(lon, lat)
    best = None
    for a, b, d in g.edges(data=True):
        xs, ys = fwd.transform(*np.asarray(d["coords"]).T)
        line = LineString(np.column_stack([xs, ys]))
        dist = line.distance(Point(px, py))
        if best is None or dist < best[0]:
            best = (dist, a, b, d, line)
    _, a, b, d, line = best
    s = line.project(Point(px, py))
    coords = d["coords"]
    if d["coords"][0] != a:  # networkx keeps (a, b) unordered: orient coords from a
        coords = coords[::-1]
        xs, ys = fwd.transform(*np.asarray(coords).T)
        line = LineString(np.column_stack([xs, ys]))
        s = line.project(Point(px, py))
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(np.asarray(line.coords), axis=0).T))])
    if s <= 0:
        return a
    if s >= cum[-1]:
        return b
    i = int(np.searchsorted(cum, s, side="right")) - 1
    fx, fy = line.interpolate(s).coords[0]
    back = Transformer.from_crs(LOCAL, "EPSG:4326", always_xy=True)
    node = tuple(round(v, 7) for v in back.transform(fx, fy))
    first, second = [*coords[: i + 1], node], [node, *coords[i + 1 :]]
    g.remove_edge(a, b)
    g.add_edge(a, node, coords=first, m=_geod_m(first), edge=d["edge"])
    g.add_edge(node, b, coords=second, m=_geod_m(second), edge=d["edge"])
    return node


def build(shared: Path) -> dict:
    folder = shared / "routes" / "krantz_osrm"
    net = json.loads((folder / "net_smoothed_corridor.geojson").read_text())
    real = json.loads((folder / "edges_real_corridor.geojson").read_text())
    fwd = Transformer.from_crs("EPSG:4326", LOCAL, always_xy=True)
    g = _graph(net)

    vias = [lookup_place(n) for n in VIA]
    # the network's Conakry node: the end of the road at the port (also flownet/OSRM node 39)
    start = min(
        (n for n in g.nodes if g.degree(n) == 1),
        key=lambda n: GEOD.inv(n[0], n[1], vias[0].lon, vias[0].lat)[2],
    )
    stops = [start] + [_split_at(g, p.lon, p.lat, fwd) for p in vias[1:]]

    coords: list[tuple] = [start]
    used: set = set()
    osm_edges: list[int] = []
    for a, b in zip(stops, stops[1:], strict=False):
        nodes = nx.shortest_path(g, a, b, weight="m")
        for u, v in zip(nodes, nodes[1:], strict=False):
            key = frozenset((u, v))
            assert key not in used, f"the path uses the edge {u}-{v} twice"
            used.add(key)
            d = g[u][v]
            c = d["coords"] if d["coords"][0] == u else d["coords"][::-1]
            coords += c[1:]
            if not osm_edges or osm_edges[-1] != d["edge"]:
                osm_edges.append(d["edge"])
    raw = LineString(coords)
    raw_m = _geod_m(coords)

    # simplify in the local frame; measure how far it strays from the OSRM path
    raw_xy = shapely.transform(raw, fwd.transform, interleaved=False)
    simple_xy = raw_xy.simplify(SIMPLIFY_M, preserve_topology=False)
    back = Transformer.from_crs(LOCAL, "EPSG:4326", always_xy=True)
    simple = LineString(
        [
            (round(x, 6), round(y, 6))
            for x, y in np.column_stack(back.transform(*np.asarray(simple_xy.coords).T))
        ]
    )
    simple_local = shapely.transform(simple, fwd.transform, interleaved=False)
    hausdorff = float(shapely.hausdorff_distance(simple_local, raw_xy, densify=0.05))

    # OSRM road km: project each leg's ends onto the line; linear in between
    legs = {(f["properties"]["from"], f["properties"]["to"]): f for f in real["features"]}
    simple_route = Route(name="tmp", line=simple)
    knots = [(0.0, 0.0)]
    road = 0.0
    leg_rows = []
    for a, b, town_a, town_b in LEGS:
        f = legs.get((a, b)) or legs.get((b, a))
        c = f["geometry"]["coordinates"]
        if (f["properties"]["from"], f["properties"]["to"]) != (a, b):
            c = c[::-1]
        ends = locate_points(simple_route, [c[0][0], c[-1][0]], [c[0][1], c[-1][1]])
        leg_xy = shapely.transform(LineString(c), fwd.transform, interleaved=False)
        off = [round(float(o)) for o in ends["offset_m"]]
        # how far the OSRM leg's own (simplified) geometry strays from the line: the same road?
        part = substring(
            simple_local,
            simple_local.project(Point(*leg_xy.coords[0])),
            simple_local.project(Point(*leg_xy.coords[-1])),
        )
        stray = float(shapely.hausdorff_distance(leg_xy, part, densify=0.05))
        road += f["properties"]["osrm_distance_km"]
        along_b = float(ends["along_km"].iloc[1])
        knots.append((along_b, road))
        leg_rows.append(
            {
                "from": town_a,
                "to": town_b,
                "osrm_edge": f"{a}-{b}",
                "osrm_distance_km": f["properties"]["osrm_distance_km"],
                "osrm_duration_min": f["properties"]["osrm_duration_min"],
                "line_km": round(along_b - float(ends["along_km"].iloc[0]), 1),
                "ends_offset_m": off,
                "max_off_line_m": round(stray),
            }
        )
    length_km = simple_route.length_m / 1000
    if length_km > knots[-1][0]:
        knots.append((length_km, road + length_km - knots[-1][0]))
    road_km = knots[-1][1]

    import pandas as pd

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
        line=simple,
        waypoints=wps,
        source=(
            "OSRM road network of Krantz (2024) (SebKrantz/OptimalAfricanRoads @ b1f7b5a, GPL-3; "
            "World Bank PRWP 10893; OSRM routes on OpenStreetMap data, ODbL 1.0): shortest path "
            "over net_smoothed edges " + "-".join(str(e) for e in osm_edges) + "; road km from "
            "edges_real (OSRM) 39-40-43-49-56-82-81; waypoints from OpenStreetMap nodes (ODbL 1.0)"
        ),
        note=(
            "Real road geometry (OSRM on OpenStreetMap, smoothed to about one vertex per 3-4 km, "
            f"simplified within {SIMPLIFY_M:.0f} m): {length_km:.0f} km along the line, about "
            f"{road_km:.0f} km by road (OSRM distances, mapped leg by leg as road_km_knots). "
            "See data/routes/PROVENANCE.md."
        ),
        road_km_knots=[(round(a, 3), round(r, 3)) for a, r in knots],
    )
    located = locate_points(route, wps["lon"].to_numpy(), wps["lat"].to_numpy())
    gj = route_to_geojson(route)
    gj["features"][0]["properties"]["osrm_legs"] = leg_rows
    for feat, (_, row) in zip(gj["features"][1:], located.iterrows(), strict=True):
        feat["properties"]["along_km"] = round(float(row["along_km"]), 1)
        feat["properties"]["road_km"] = round(float(route.road_km_at(row["along_km"])), 1)
        feat["properties"]["offset_m"] = round(float(row["offset_m"]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(gj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    print(
        f"{OUT.relative_to(ROOT)}: {len(simple.coords)} vertices (OSRM path {len(coords)}), "
        f"{length_km:.1f} km along the line (OSRM path {raw_m / 1000:.1f} km), "
        f"{road_km:.1f} km by road (OSRM); simplified line within {hausdorff:.0f} m of the path"
    )
    print(f"  net_smoothed edges: {osm_edges}")
    for r in leg_rows:
        print(
            f"  leg {r['osrm_edge']:<6} {r['from']:>22} -> {r['to']:<22} road {r['osrm_distance_km']:6.1f} km  "
            f"line {r['line_km']:6.1f} km  ends off {r['ends_offset_m']} m  leg geometry within {r['max_off_line_m']} m"
        )
    via = locate_points(route, [p.lon for p in vias], [p.lat for p in vias])
    for name, row in zip(VIA, via.itertuples(), strict=True):
        print(
            f"  {name:<12} along {row.along_km:7.1f} km  road {route.road_km_at(row.along_km):7.1f} km  "
            f"offset {row.offset_m / 1000:6.2f} km"
        )
    assert np.all(np.diff(via["along_km"].to_numpy()) > 0), "waypoints out of order along the line"
    return gj


if __name__ == "__main__":
    base = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(os.environ.get("TRACKER_SHARED_DATA", ROOT.parent / "shared" / "data"))
    )
    build(base)
