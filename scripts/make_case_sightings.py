"""Write data/sightings/case-2025.csv: the public facts of ../shared/docs/case-brief.md as sightings.

    python scripts/make_case_sightings.py

Only what the public reporting says goes in. Places are the areas the reports name (the port
geofence polygons in data/ports for "docked at Conakry" and "at the dock in Bata"; a 10 km
corridor around the shipped route's Kourémalé–Bamako stretch for "on the RN5 highway leading
into Bamako"), and times carry the uncertainty the reports leave ("late May 2025" is 21–31 May).
No URL, image id or coordinate more precise than the reporting is invented.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import shapely
from pyproj import Transformer
from shapely.ops import substring

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.analysis.route_progress import locate_points  # noqa: E402
from tracker.sources.ports import read_geofences  # noqa: E402
from tracker.sources.routes import read_route  # noqa: E402
from tracker.sources.sightings import SIGHTING_COLUMNS  # noqa: E402

OUT = ROOT / "data" / "sightings" / "case-2025.csv"
AP = "Associated Press investigation (2025), republished by Asharq Al-Awsat"
BRIEF = "facts as in ../shared/docs/case-brief.md"


def _wkt(geom) -> str:
    return shapely.to_wkt(geom, rounding_precision=5, trim=True)


def main() -> None:
    fences = read_geofences(ROOT / "data" / "ports")
    conakry = fences[fences["name"] == "CONAKRY PORT"].geometry.iloc[0]
    bata = fences[fences["name"] == "BATA PORT"].geometry.iloc[0]
    route = read_route(ROOT / "data" / "routes" / "conakry-bamako.geojson")
    wps = route.waypoints.set_index("name")
    fwd = Transformer.from_crs("EPSG:4326", "EPSG:32629", always_xy=True)
    back = Transformer.from_crs("EPSG:32629", "EPSG:4326", always_xy=True)

    def to_utm(g):
        return shapely.transform(g, fwd.transform, interleaved=False)

    def to_ll(g):
        return shapely.transform(g, back.transform, interleaved=False)

    line_utm = to_utm(route.line)
    k = wps.loc["Kourémalé"]
    start = line_utm.project(to_utm(shapely.Point(k["lon"], k["lat"])))
    rn5 = substring(line_utm, start, line_utm.length)
    corridor = to_ll(rn5.buffer(10_000).simplify(250))
    mid = to_ll(rn5.interpolate(0.5, normalized=True))

    rows = [
        {
            "id": "case2025-bata-siyanie-severa",
            "time": "2025-05-29T12:00:00Z",
            "time_uncertainty_h": 12,
            "wkt": _wkt(bata),
            "kind": "satellite_optical",
            "source": f"Planet Labs PBC satellite image, reported by the {AP}",
            "licence": "image © Planet Labs PBC; not held by tracker",
            "vessel_name": "Siyanie Severa",
            "vehicles": "truck",
            "confidence": "confirmed",
            "analyst": "tracker case file",
            "note": (
                "Russian-flagged cargo ship seen unloading trucks at the dock in Bata, Equatorial "
                "Guinea, on 29 May 2025. Time: that UTC day (±12 h); place: the Bata port "
                f"geofence (data/ports/bata.geojson), the report names no berth. {BRIEF}."
            ),
        },
        {
            "id": "case2025-conakry-baltic-leader",
            "time": "2025-05-26T12:00:00Z",
            "time_uncertainty_h": 132,
            "wkt": _wkt(conakry),
            "kind": "satellite_optical",
            "source": f"satellite images, reported by the {AP}",
            "licence": "not stated in the reporting; images not held by tracker",
            "vessel_name": "Baltic Leader",
            "confidence": "confirmed",
            "analyst": "tracker case file",
            "note": (
                "8,800-ton Russian-flagged cargo ship under Western sanctions, docked and "
                "unloaded at Conakry, Guinea, 'late May 2025': taken as 21–31 May (±5.5 days); "
                f"place: the Conakry port geofence (data/ports/conakry.geojson). {BRIEF}."
            ),
        },
        {
            "id": "case2025-conakry-patria",
            "time": "2025-05-26T12:00:00Z",
            "time_uncertainty_h": 132,
            "wkt": _wkt(conakry),
            "kind": "satellite_optical",
            "source": f"satellite images, reported by the {AP}",
            "licence": "not stated in the reporting; images not held by tracker",
            "vessel_name": "Patria",
            "confidence": "confirmed",
            "analyst": "tracker case file",
            "note": (
                "5,800-ton Russian-flagged cargo ship under Western sanctions, docked and "
                "unloaded at Conakry, 'late May 2025': taken as 21–31 May (±5.5 days); place: "
                f"the Conakry port geofence. {BRIEF}."
            ),
        },
        {
            "id": "case2025-rn5-convoy-video",
            "time": "2025-04-01T00:00:00Z",
            "time_uncertainty_h": 91 * 24,
            "lon": round(mid.x, 5),
            "lat": round(mid.y, 5),
            "wkt": _wkt(corridor),
            "kind": "video",
            "source": f"a Malian blogger's video, geolocated and reported by the {AP}",
            "licence": "not stated in the reporting; video not held by tracker",
            "confidence": "probable",
            "analyst": "tracker case file",
            "note": (
                "Long convoy geolocated on the RN5 highway leading into Bamako, Mali; the "
                "reporting does not list the vehicles in this video (after the May delivery, "
                "trucks carrying armoured vehicles and howitzers were reported on the route). The "
                "reporting gives no date for the video and no point on the road: time spans "
                "1 January–30 June 2025 (earlier deliveries in January, the May delivery after); "
                "place: a 10 km corridor around the shipped route's Kourémalé–Bamako stretch "
                "(RN5), lon/lat its middle. Narrow both when the video is found. "
                f"{BRIEF}."
            ),
        },
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", *[c for c in SIGHTING_COLUMNS if c != "key"]])
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in w.fieldnames})
    loc = locate_points(route, [mid.x], [mid.y]).iloc[0]
    print(
        f"{OUT.relative_to(ROOT)}: {len(rows)} sightings; RN5 corridor middle at km {loc.along_km:.0f} of {route.length_m / 1000:.0f}"
    )


if __name__ == "__main__":
    main()
