"""Write tracker/data/land/land.geojson.gz: Natural Earth 1:50m land, simplified, as package data.

    python scripts/make_land_layer.py [SHARED_DATA]

Source: ``land/ne_50m_land.geojson.gz`` (Natural Earth, public domain / CC0). Simplified with a
0.005 degree tolerance (~0.5 km), coordinates rounded to 1e-4 degree (~11 m). Used for distance
from shore (gaps, loitering) and for positions on land; precise to about 1 km at the coast.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import shapely

OUT = Path(__file__).resolve().parent.parent / "tracker" / "data" / "land"


def main(shared: Path) -> None:
    with gzip.open(shared / "land" / "ne_50m_land.geojson.gz", "rt") as fh:
        data = json.load(fh)
    features = []
    for feat in data["features"]:
        geom = shapely.geometry.shape(feat["geometry"]).simplify(0.005, preserve_topology=True)
        geom = shapely.set_precision(geom, 1e-4)
        if geom.is_empty:
            continue
        features.append(
            {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(geom)}
        )
    OUT.mkdir(parents=True, exist_ok=True)
    with gzip.open(OUT / "land.geojson.gz", "wt", compresslevel=9) as out:
        json.dump({"type": "FeatureCollection", "features": features}, out, separators=(",", ":"))
    (OUT / "LICENSE.txt").write_text(
        "Natural Earth 1:50m land (https://www.naturalearthdata.com/), public domain (CC0).\n"
        "Simplified by tracker's scripts/make_land_layer.py (0.005 degree tolerance).\n"
    )
    print(
        f"{len(features)} polygons -> {OUT / 'land.geojson.gz'} ({(OUT / 'land.geojson.gz').stat().st_size:,} bytes)"
    )


if __name__ == "__main__":
    main(
        Path(
            sys.argv[1]
            if len(sys.argv) > 1
            else Path(__file__).resolve().parents[2] / "shared" / "data"
        )
    )
