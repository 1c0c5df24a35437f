"""Draw data/ports/*.geojson from public points: GFW anchorages, Natural Earth ports, WPI.

    python scripts/make_port_geofences.py [SHARED_DATA]

For each port below: the centre is the Natural Earth 10m port point (else the WPI position).
Global Fishing Watch anchorage points (S2 cells of ~0.5 km where ships were seen stopped)
with the port's label within 40 km are clustered (single linkage, 2.5 km); the cluster
within 3 km of the centre becomes the ``port`` polygon, the others ``anchorage`` polygons.
Each polygon is the convex hull of its points buffered by 800 m (port) or 1,200 m
(anchorage) in the local UTM zone. Ports without GFW points get a circle from the WPI
harbour size. data/ports/PROVENANCE.md describes the result.
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from tracker.core.geo import geodesic_distance_m
from tracker.sources.ports import HARBOUR_RADIUS_M, geodesic_circle, read_wpi

OUT = Path(__file__).resolve().parent.parent / "data" / "ports"

# file stem, port name, WPI number, GFW labels, ISO3, Natural Earth port name
PORTS = [
    ("conakry", "CONAKRY", "45855", ["CONAKRY"], "GIN", "Conakry"),
    ("bata", "BATA", "46305", ["BATA"], "GNQ", "Bata"),
    ("kamsar", "KAMSAR", "45850", ["KAMSAR"], "GIN", "Kamsar"),
    ("malabo", "MALABO", "46320", ["MALABO"], "GNQ", "Malabo"),
    ("luba", "LUBA", "46330", ["LUBA"], "GNQ", "Luba"),
    ("lome", "LOME", "46090", ["LOME"], "TGO", "Lome"),
    ("abidjan", "ABIDJAN", "46000", ["ABIDJAN"], "CIV", "Abidjan"),
    ("dakar", "DAKAR", "45820", ["DAKAR"], "SEN", "Dakar"),
    ("tartus", "TARTUS", "45003", ["TARTUS", "TARTOUS"], "SYR", "Tartus"),
    ("baltiysk", "BALTIYSK", "28680", ["BALTIYSK"], "RUS", "Baltiysk"),
    ("ust-luga", "UST-LUGA", "28410", ["UST-LUGA", "UST LUGA"], "RUS", "Ust-Luga"),
    (
        "st-petersburg",
        "ST PETERSBURG",
        "28370",
        ["ST PETERSBURG", "SAINT PETERSBURG"],
        "RUS",
        "Sankt-Peterburg",
    ),
    ("novorossiysk", "NOVOROSSIYSK", "44200", ["NOVOROSSIYSK"], "RUS", "Novorossiysk"),
]
LINK_M = 2_500.0
PORT_M = 3_000.0


def _clusters(lon, lat) -> list[np.ndarray]:
    n = len(lon)
    label = np.arange(n)
    for i in range(n):
        d = geodesic_distance_m(np.full(n, lon[i]), np.full(n, lat[i]), lon, lat)
        for j in np.nonzero(d <= LINK_M)[0]:
            a, b = label[i], label[j]
            if a != b:
                label[label == b] = a
    return [np.nonzero(label == v)[0] for v in np.unique(label)]


def _hull(lon, lat, buffer_m: float) -> shapely.Geometry:
    pts = gpd.GeoSeries(shapely.points(lon, lat), crs="EPSG:4326")
    utm = pts.estimate_utm_crs()
    hull = shapely.convex_hull(
        shapely.multipoints(np.column_stack(shapely.get_coordinates(pts.to_crs(utm).values).T))
    )
    poly = gpd.GeoSeries([hull.buffer(buffer_m, quad_segs=8)], crs=utm).to_crs("EPSG:4326").iloc[0]
    return shapely.set_precision(poly, 1e-6)


def main(shared: Path) -> None:
    wpi, _ = read_wpi(shared / "ports/wpi/UpdatedPub150.csv.gz")
    wpi = wpi.set_index("wpi")
    ne = json.loads((shared / "ports/ne_10m_ports.geojson").read_text())
    ne_points = {f["properties"].get("name"): f["geometry"]["coordinates"] for f in ne["features"]}
    with gzip.open(shared / "ports/gfw/anchorage_overrides.csv.gz", "rt") as fh:
        gfw = list(csv.DictReader(fh))
    OUT.mkdir(parents=True, exist_ok=True)
    for stem, port, wpi_no, labels, iso3, ne_name in PORTS:
        w = wpi.loc[wpi_no]
        centre = ne_points.get(ne_name)
        centre_src = f"Natural Earth 10m port '{ne_name}'"
        if centre is None or geodesic_distance_m(centre[0], centre[1], w.lon, w.lat) > 15_000:
            centre, centre_src = (w.lon, w.lat), f"WPI {wpi_no}"
        pts = [r for r in gfw if r["label"] in labels and r["iso3"] == iso3]
        pts = [
            r
            for r in pts
            if geodesic_distance_m(
                float(r["longitude"]), float(r["latitude"]), centre[0], centre[1]
            )
            < 40_000
        ]
        features = []
        common = {"port": port, "country": w.country, "unlocode": w.unlocode}
        if pts:
            lon = np.array([float(r["longitude"]) for r in pts])
            lat = np.array([float(r["latitude"]) for r in pts])
            for idx in sorted(
                _clusters(lon, lat),
                key=lambda c: geodesic_distance_m(lon[c], lat[c], centre[0], centre[1]).min(),
            ):
                near = geodesic_distance_m(lon[idx], lat[idx], centre[0], centre[1]).min() <= PORT_M
                subs = [pts[i]["sublabel"] for i in idx if pts[i]["sublabel"]]
                kind = "port" if near else "anchorage"
                name = (
                    f"{port} PORT"
                    if near
                    else (max(set(subs), key=subs.count) if subs else f"{port} ANCHORAGE")
                )
                if any(f["properties"]["name"] == name for f in features):
                    name = f"{name} {len(features) + 1}"
                geom = _hull(lon[idx], lat[idx], 800.0 if near else 1_200.0)
                features.append(
                    {
                        "type": "Feature",
                        "properties": {
                            **common,
                            "name": name,
                            "kind": kind,
                            "source": (
                                f"convex hull of {len(idx)} Global Fishing Watch anchorage points (anchorage_overrides.csv, label "
                                f"{'/'.join(labels)}) buffered {800 if near else 1200} m; centre {centre_src}"
                            ),
                        },
                        "geometry": shapely.geometry.mapping(geom),
                    }
                )
            if not any(f["properties"]["kind"] == "port" for f in features):
                geom = geodesic_circle(centre[0], centre[1], 1_500.0)
                features.insert(
                    0,
                    {
                        "type": "Feature",
                        "properties": {
                            **common,
                            "name": f"{port} PORT",
                            "kind": "port",
                            "source": f"circle of 1500 m around {centre_src} (no GFW points within 3 km)",
                        },
                        "geometry": shapely.geometry.mapping(shapely.set_precision(geom, 1e-6)),
                    },
                )
        else:
            radius = HARBOUR_RADIUS_M.get(w.harbour_size or "", 3_000.0)
            geom = geodesic_circle(centre[0], centre[1], radius)
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        **common,
                        "name": f"{port} PORT",
                        "kind": "port",
                        "source": (
                            f"circle of {int(radius)} m (WPI harbour size {w.harbour_size}) around {centre_src}; no GFW anchorage points held"
                        ),
                    },
                    "geometry": shapely.geometry.mapping(shapely.set_precision(geom, 1e-6)),
                }
            )
        (OUT / f"{stem}.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": features}, indent=1) + "\n"
        )
        print(
            f"{stem}: {len(pts)} GFW points -> "
            + ", ".join(f"{f['properties']['kind']}:{f['properties']['name']}" for f in features)
        )


if __name__ == "__main__":
    main(
        Path(
            sys.argv[1]
            if len(sys.argv) > 1
            else Path(__file__).resolve().parents[2] / "shared" / "data"
        )
    )
