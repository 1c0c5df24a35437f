"""Build tracker/data/gazetteer/places.csv from the OSM point nodes in ../shared/data.

    python scripts/make_gazetteer.py [SHARED_DATA]

Source: routes/osm_nodes_obiwanlansi/{guinea,mali,equatorial-guinea}.sqlite.zip (tagged OSM
point nodes as of 2019-09-09, ODbL 1.0, © OpenStreetMap contributors). Each place below is
taken by its OSM node id, so a rebuild gives the same file; Kourémalé and Naréna have no
``place`` node in that extract and are located by the node of the village's community health
centre (``amenity=clinic``), which the ``located_by`` column says.
"""

from __future__ import annotations

import csv
import os
import sqlite3
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tracker" / "data" / "gazetteer" / "places.csv"

#: (country file, OSM node id, name to publish, ISO country, alternative names)
PLACES = [
    ("guinea", 27565062, "Conakry", "GN", "Konakry"),
    ("guinea", 462038591, "Dubréka", "GN", "Dubreka"),
    ("guinea", 462036776, "Coyah", "GN", ""),
    ("guinea", 1979210557, "Kindia", "GN", ""),
    ("guinea", 2173041746, "Mamou", "GN", ""),
    ("guinea", 2134625027, "Dabola", "GN", ""),
    ("guinea", 1717489366, "Faranah", "GN", ""),
    ("guinea", 1717503545, "Kouroussa", "GN", ""),
    ("guinea", 5724319639, "Kankan", "GN", ""),
    ("guinea", 1717506744, "Siguiri", "GN", ""),
    ("guinea", 3053073360, "Dialakoro", "GN", ""),
    ("guinea", 2442440719, "Doko", "GN", ""),
    ("guinea", 321593853, "Kamsar", "GN", ""),
    ("mali", 2163839506, "Kourémalé", "ML", "Kouremale;Kourémalé border post"),
    ("mali", 2163839643, "Naréna", "ML", "Narena"),
    ("mali", 538454688, "Kangaba", "ML", ""),
    ("mali", 3190396966, "Sanankoroba", "ML", ""),
    ("mali", 1703670426, "Kati", "ML", ""),
    ("mali", 27564954, "Bamako", "ML", ""),
    ("equatorial-guinea", 251608438, "Bata", "GQ", ""),
    ("equatorial-guinea", 292521364, "Malabo", "GQ", ""),
]


def main() -> None:
    shared = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(os.environ.get("TRACKER_SHARED_DATA", ROOT.parent / "shared" / "data"))
    )
    folder = shared / "routes" / "osm_nodes_obiwanlansi"
    dbs: dict[str, sqlite3.Connection] = {}
    tmp = Path(tempfile.mkdtemp())
    rows = []
    for country_file, node, name, iso, alt in PLACES:
        if country_file not in dbs:
            with zipfile.ZipFile(folder / f"{country_file}.sqlite.zip") as z:
                z.extract(f"{country_file}.sqlite", tmp)
            dbs[country_file] = sqlite3.connect(tmp / f"{country_file}.sqlite")
        found = (
            dbs[country_file]
            .execute("SELECT LAT, LON, NAME, TAG, VALUE FROM NODE WHERE ID = ?", (node,))
            .fetchone()
        )
        if found is None:
            raise SystemExit(f"OSM node {node} ({name}) not in {country_file}")
        lat, lon, osm_name, tag, value = found
        located_by = "place node" if tag == "place" else f"node of {osm_name!r} ({tag}={value})"
        rows.append(
            {
                "name": name,
                "alt_names": alt,
                "country": iso,
                "kind": value if tag == "place" else "village",
                "lon": round(lon, 6),
                "lat": round(lat, 6),
                "osm_node": node,
                "located_by": located_by,
            }
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} places to {OUT}")


if __name__ == "__main__":
    main()
