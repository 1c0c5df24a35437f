"""Write tracker's land layers as package data, from Natural Earth (public domain / CC0).

    python scripts/make_land_layer.py [SHARED_DATA]

- ``tracker/data/land/land10m.geojson.gz``: ``land/ne_10m_land.geojson.gz`` simplified with a
  0.002 degree tolerance (~200 m), coordinates rounded to 1e-4 degree (~11 m). Used by the
  analysis: distance from shore (gaps, loitering) and positions on land. The 1:10m layer keeps
  the small islands and reefs the 1:50m one drops (an offshore gap near a reef must not count
  as "far from shore").
- ``tracker/data/land/land.geojson.gz``: ``land/ne_50m_land.geojson.gz`` simplified with a
  0.005 degree tolerance (~0.5 km): the light background of offline maps (``--tiles none``).
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import shapely

OUT = Path(__file__).resolve().parent.parent / "tracker" / "data" / "land"


def _write(source: Path, out: Path, tolerance_deg: float) -> None:
    with gzip.open(source, "rt") as fh:
        data = json.load(fh)
    features = []
    for feat in data["features"]:
        geom = shapely.geometry.shape(feat["geometry"]).simplify(
            tolerance_deg, preserve_topology=True
        )
        geom = shapely.set_precision(geom, 1e-4)
        if geom.is_empty:
            continue
        features.append(
            {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(geom)}
        )
    with gzip.open(out, "wt", compresslevel=9) as fh:
        json.dump({"type": "FeatureCollection", "features": features}, fh, separators=(",", ":"))
    print(f"{len(features)} polygons -> {out} ({out.stat().st_size:,} bytes)")


def main(shared: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    _write(shared / "land" / "ne_10m_land.geojson.gz", OUT / "land10m.geojson.gz", 0.002)
    _write(shared / "land" / "ne_50m_land.geojson.gz", OUT / "land.geojson.gz", 0.005)
    (OUT / "LICENSE.txt").write_text(
        "Natural Earth 1:10m and 1:50m land (https://www.naturalearthdata.com/), public domain "
        "(CC0).\nSimplified by tracker's scripts/make_land_layer.py (0.002 and 0.005 degree "
        "tolerance).\n"
    )


if __name__ == "__main__":
    main(
        Path(
            sys.argv[1]
            if len(sys.argv) > 1
            else Path(__file__).resolve().parents[2] / "shared" / "data"
        )
    )
