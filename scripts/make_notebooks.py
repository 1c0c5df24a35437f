"""Write notebooks/case-2025.ipynb (no outputs): the case investigation through the library.

python scripts/make_notebooks.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]

CELLS = [
    (
        "md",
        """# Case 2025: sanctioned cargo to Conakry and Bata, armour by road to Bamako

An investigation notebook built on `tracker`'s library. **What is real:** the case sightings
(`data/sightings/case-2025.csv`, public reporting: AP investigation republished by Asharq
Al-Awsat, Planet Labs image of Bata), the Conakry–Bamako route (OSRM road geometry on OpenStreetMap, OSM
waypoints), the port geofences. **What is FICTITIOUS:** the AIS tracks (two made-up ships,
MMSIs 999000001/2, generated with pyais), one watchlist entry and the convoy sightings marked
FICTITIOUS. Replace the demo AIS with your own recordings (`tracker ingest ais FILE`) to work
a real case.""",
    ),
    (
        "code",
        """from pathlib import Path

import pandas as pd

from tracker import maps
from tracker.jobs.demo_case import load_demo_case
from tracker.store import open_store

db = Path("notebook-case.db")
db.unlink(missing_ok=True)
store = open_store(f"sqlite:///{db.resolve()}")
loaded = load_demo_case(store)
print(loaded.ingest)
print(loaded.event_summary)""",
    ),
    ("md", "## Events: port calls and AIS gaps (thresholds and figures behind each)"),
    ("code", """loaded.events[["kind", "mmsi", "place", "start", "end", "wording"]]"""),
    ("md", "## Sightings tied to AIS (or not: dark-ship candidates and coverage holes)"),
    (
        "code",
        """layers = maps.collect_layers(store)
layers.links[["time", "named", "status", "reason"]]""",
    ),
    ("md", "## The road leg: convoy sightings along Conakry → RN5 → Bamako"),
    (
        "code",
        """convoy = layers.route_locations[layers.route_locations["convoy"]]
convoy[["time", "along_km", "offset_m", "segment", "elapsed_h", "speed_kmh", "speed_flag"]]""",
    ),
    ("md", "## The map (one self-contained HTML file, every feature with its source)"),
    (
        "code",
        """m = maps.build_map(layers, tiles="none")
maps.write_map(m, "maps/notebook-case.html")
m""",
    ),
]


def main() -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell(t) if k == "md" else nbformat.v4.new_code_cell(t)
        for k, t in CELLS
    ]
    out = ROOT / "notebooks" / "case-2025.ipynb"
    nbformat.write(nb, out)
    print(out)


if __name__ == "__main__":
    main()
