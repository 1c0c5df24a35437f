"""Routes: the shipped Conakry–Bamako route, GPX/KML/GeoJSON import, locating sightings along
a route, convoy speeds, and the gazetteer. Test sightings are FICTITIOUS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from pyproj import Geod

from tracker.analysis.route_progress import locate_on_route, locate_points
from tracker.cli import main
from tracker.core.errors import InputError
from tracker.sources.gazetteer import lookup_place
from tracker.sources.routes import find_route, read_route, read_routes
from tracker.sources.sightings import read_sightings, sighting_from_fields, sightings_frame

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def route(project_data_dir):
    return read_route(project_data_dir / "routes" / "conakry-bamako.geojson")


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _at(name: str):
    p = lookup_place(name)
    return p.lon, p.lat


def test_shipped_route_runs_conakry_to_bamako_through_the_named_towns(route):
    names = list(route.waypoints["name"])
    assert names == [
        "Conakry",
        "Coyah",
        "Kindia",
        "Mamou",
        "Kankan",
        "Siguiri",
        "Kourémalé",
        "Naréna",
        "Bamako",
    ]
    assert set(route.waypoints["kind"]) >= {"city", "town", "border"}
    assert 940_000 <= route.length_m < 1_000_000
    loc = locate_points(route, route.waypoints["lon"], route.waypoints["lat"])
    # every waypoint lies near the line and in order along it
    assert len(loc) == 9 and (loc["offset_m"] < 1_500).all()
    assert np.all(np.diff(loc["along_km"]) > 0)
    assert "OSRM" in route.source and "GPL-3" in route.source and "ODbL" in route.source
    # road km: more than along the (smoothed) line, but not by more than a tenth
    assert route.length_m / 1000 < route.road_km < 1.1 * route.length_m / 1000


@pytest.mark.parametrize("side", [90, -90])
def test_a_sighting_2_km_off_the_road_reports_about_2_km(route, side):
    xy = np.asarray(route.line.coords)
    # a straight stretch in Guinea: the longest segment west of 10 W whose neighbours turn by
    # less than 20 degrees, so that 2 km either side no other part of the road is nearer
    # (the real road bends: a fixed vertex index can land in a bend)
    az, _, dist = GEOD.inv(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])
    turn = np.abs((np.diff(az) + 180) % 360 - 180)
    ok = [
        j
        for j in range(1, len(dist) - 1)
        if xy[j, 0] < -10 and turn[j - 1] < 20 and turn[j] < 20 and dist[j] > 2_000
    ]
    assert ok
    i = max(ok, key=lambda j: dist[j])
    a, b = xy[i], xy[i + 1]
    az, _, seg_m = GEOD.inv(a[0], a[1], b[0], b[1])
    mx, my, _ = GEOD.fwd(a[0], a[1], az, seg_m / 2)
    ox, oy, _ = GEOD.fwd(mx, my, az + side, 2_000)
    on, off = locate_points(route, [mx, ox], [my, oy]).itertuples()
    assert on.offset_m < 5
    assert off.offset_m == pytest.approx(2_000, abs=30)
    assert off.along_km == pytest.approx(on.along_km, abs=0.1)


def _convoy(route, fractions_times, unc=0.0):
    rows = []
    for frac, when in fractions_times:
        pt = route.line.interpolate(frac, normalized=True)
        rows.append(
            sighting_from_fields(
                {
                    "time": when.isoformat(),
                    "lon": pt.x,
                    "lat": pt.y,
                    "kind": "video",
                    "source": "FICTITIOUS",
                    "time_uncertainty_h": unc,
                    "vehicles": "truck:10",
                }
            )
        )
    return sightings_frame(rows)


def test_convoy_speeds_between_sightings_and_impossible_ones_flagged(route):
    t0 = datetime(2025, 6, 1, 6, tzinfo=UTC)
    s = _convoy(route, [(0.5, t0), (0.6, t0 + timedelta(hours=4)), (0.9, t0 + timedelta(hours=6))])
    out = locate_on_route(s, route)
    assert out["elapsed_h"].tolist()[1:] == [4.0, 2.0]
    km = out["moved_km"].iloc[1]
    assert km == pytest.approx(0.1 * route.length_m / 1000, rel=0.02)
    assert out["speed_kmh"].iloc[1] == pytest.approx(km / 4, abs=0.1)
    assert out["speed_flag"].iloc[1] is None  # ~22 km/h: a convoy can do that
    assert "implausible" in out["speed_flag"].iloc[2]  # ~130 km/h: it cannot
    # with ±6 h on each time, 0.3 of the route (about 290 km) in 2 h becomes possible
    # (290 km / 14 h < 60 km/h)
    vague = locate_on_route(
        _convoy(route, [(0.6, t0), (0.9, t0 + timedelta(hours=2))], unc=6.0), route
    )
    assert vague["speed_flag"].iloc[1] is None and vague["min_speed_kmh"].iloc[1] < 60


def test_convoy_that_moves_backwards_along_the_route_is_flagged(route):
    """Sightings at 50 %, 40 % then 70 % of the route, 10 h apart: the second lies about
    0.1 x route length back towards Conakry (a hand-made layout, not the code's output)."""
    t0 = datetime(2025, 6, 1, 6, tzinfo=UTC)
    s = _convoy(
        route,
        [(0.5, t0), (0.4, t0 + timedelta(hours=10)), (0.7, t0 + timedelta(hours=20))],
    )
    out = locate_on_route(s, route)
    flags = out["direction_flag"].tolist()
    assert flags[0] is None and flags[2] is None
    assert flags[1].startswith("backwards")
    back_km = 0.1 * route.length_m / 1000
    assert f"{back_km:.0f} km back" in flags[1]
    # forward progress only: nothing flagged
    onward = locate_on_route(_convoy(route, [(0.4, t0), (0.5, t0 + timedelta(hours=10))]), route)
    assert onward["direction_flag"].isna().all()
    # times known to ±6 h each: 10 h apart, either may have come first: no claim
    vague = _convoy(route, [(0.5, t0), (0.4, t0 + timedelta(hours=10))], unc=6.0)
    assert locate_on_route(vague, route)["direction_flag"].isna().all()


def test_case_sightings_lie_on_the_route(route, project_data_dir):
    case = read_sightings(project_data_dir / "sightings" / "case-2025.csv").sightings
    out = locate_on_route(case, route).set_index("key")
    video = out.loc["id:case2025-rn5-convoy-video"]
    kou = locate_points(route, *_at("Kourémalé"))["along_km"].iloc[0]
    assert video["on_route"] and video["convoy"]
    assert kou < video["along_km"] <= route.length_m / 1000  # on RN5, between the border and Bamako
    assert video["offset_m"] < 2_000
    for key in ("id:case2025-conakry-baltic-leader", "id:case2025-conakry-patria"):
        # the ships unloaded where the road leg begins; they are not a convoy themselves
        assert (
            out.loc[key, "along_km"] < 5 and out.loc[key, "on_route"] and not out.loc[key, "convoy"]
        )
    assert not out.loc["id:case2025-bata-siyanie-severa", "on_route"]


GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <metadata><name>Test track FICTITIOUS</name></metadata>
  <wpt lat="12.00" lon="-8.70"><name>Start &amp; &lt;b&gt;village&lt;/b&gt;</name></wpt>
  <trk><name>t</name><trkseg>
    <trkpt lat="12.00" lon="-8.70"/><trkpt lat="12.10" lon="-8.60"/><trkpt lat="12.20" lon="-8.50"/>
  </trkseg></trk>
</gpx>
"""
KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
  <Placemark><name>Road FICTITIOUS</name><LineString><coordinates>
    -8.70,12.00,0 -8.60,12.10,0 -8.50,12.20,0
  </coordinates></LineString></Placemark>
  <Placemark><name>Checkpoint</name><Point><coordinates>-8.60,12.10,0</coordinates></Point></Placemark>
</Document></kml>
"""


GX_TRACK = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2"><Document>
  <Placemark><name>Drive FICTITIOUS</name><gx:Track>
    <when>2025-06-01T10:00:00Z</when><when>2025-06-01T10:10:00Z</when><when>2025-06-01T10:20:00Z</when>
    <gx:coord>-8.70 12.00 0</gx:coord><gx:coord>-8.60 12.10 0</gx:coord><gx:coord>-8.50 12.20 0</gx:coord>
  </gx:Track></Placemark>
  <Placemark><name>Checkpoint</name><Point><coordinates>-8.60,12.10,0</coordinates></Point></Placemark>
</Document></kml>
"""


@pytest.mark.parametrize("suffix, text", [("gpx", GPX), ("kml", KML), ("kml", GX_TRACK)])
def test_gpx_and_kml_routes_read_with_waypoints(tmp_path, suffix, text):
    path = tmp_path / f"road.{suffix}"
    path.write_text(text)
    r = read_route(path)
    assert list(np.round(np.asarray(r.line.coords)[:, 0], 2)) == [-8.7, -8.6, -8.5]
    assert 28_000 < r.length_m < 32_000
    assert len(r.waypoints) == 1


def test_xml_bombs_are_refused(tmp_path):
    bomb = tmp_path / "bomb.kml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><kml>&b;</kml>'
    )
    with pytest.raises(InputError):
        read_route(bomb)


def test_routes_import_list_locate_cli(tmp_path, capsys):
    db = str(tmp_path / "t.db")
    gpx = tmp_path / "road.gpx"
    gpx.write_text(GPX)
    code, out, _ = _run(
        capsys, "--db", db, "routes", "import", str(gpx), "--name", "Test road", "--json"
    )
    assert code == 0 and json.loads(out) == {
        "name": "Test road",
        "status": "added",
        "length_km": 31.0,
        "waypoints": 1,
    }
    code, out, _ = _run(
        capsys, "--db", db, "routes", "import", str(gpx), "--name", "Test road", "--json"
    )
    assert json.loads(out)["status"] == "unchanged"
    code, out, _ = _run(capsys, "--db", db, "routes", "list", "--json")
    names = [r["name"] for r in json.loads(out)]
    assert "Test road" in names and "Conakry–Bamako (N1/RN5)" in names
    _run(capsys, "--db", db, "sightings", "add", "--time", "2025-06-01T10:00Z", "--lat", "12.05", "--lon", "-8.65",
         "--kind", "photo", "--source", "FICTITIOUS", "--vehicles", "truck:3")  # fmt: skip
    _run(capsys, "--db", db, "sightings", "add", "--time", "2025-06-01T10:10Z", "--lat", "12.20", "--lon", "-8.50",
         "--kind", "photo", "--source", "FICTITIOUS", "--vehicles", "truck:3")  # fmt: skip
    code, out, _ = _run(capsys, "--db", db, "routes", "locate", "--route", "test road", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 2
    assert rows[0]["along_km"] == pytest.approx(7.5, abs=0.5) and rows[0]["offset_m"] < 50
    assert rows[1]["speed_kmh"] > 100 and "implausible" in rows[1]["speed_flag"]
    code, _, err = _run(capsys, "--db", db, "routes", "locate", "--route", "nowhere")
    assert code == 2 and "no route called 'nowhere'" in err


def test_default_routes_and_lookup_by_file_name(project_data_dir):
    routes = read_routes()
    assert find_route(routes, "conakry-bamako").name == "Conakry–Bamako (N1/RN5)"
    assert find_route(routes, "CONAKRY BAMAKO").name == "Conakry–Bamako (N1/RN5)"


def test_gazetteer_folds_accents_and_suggests():
    assert lookup_place("KOUREMALE").name == "Kourémalé"
    assert lookup_place("Konakry").name == "Conakry"
    p = lookup_place("bamako", country="ml")
    assert (round(p.lon, 3), round(p.lat, 3)) == (-8.0, 12.649) and p.osm_node == 27564954
    with pytest.raises(InputError, match="did you mean kankan"):
        lookup_place("Kankann")
    with pytest.raises(InputError, match="not in the gazetteer"):
        lookup_place("Bamako", country="GN")


def test_route_pieces_out_of_order_are_chained(tmp_path):
    # three ways of one road exported out of order, one reversed, with small gaps between them
    feats = [
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[-8.6, 12.1], [-8.55, 12.15]]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[-8.7, 12.0], [-8.6001, 12.0999]]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[-8.5, 12.2], [-8.5499, 12.1501]]}},
    ]  # fmt: skip
    path = tmp_path / "ways.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    r = read_route(path)
    xs = np.asarray(r.line.coords)[:, 0]
    assert np.all(np.diff(xs) > 0) or np.all(np.diff(xs) < 0)  # one direction, no zig-zag
    assert 28_000 < r.length_m < 32_000
