"""``tracker export``: the map's layers as GeoJSON, KML and CSV, read back with other tools.

Vessels are FICTITIOUS (see the ``case_store`` fixture).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from xml.etree import ElementTree as ET

import geopandas as gpd
import pytest

from tracker.cli import main
from tracker.jobs.case_layers import collect_layers
from tracker.outputs.export import layer_features, write_export

KML = "{http://www.opengis.net/kml/2.2}"


@pytest.fixture(scope="module")
def layers(case_store):
    return collect_layers(case_store, ports=["Conakry"])


def test_features_cover_every_layer(layers):
    counts = Counter(f["properties"]["layer"] for f in layer_features(layers))
    assert counts["geofence"] == 2
    assert counts["sighting"] == 2
    assert counts["route"] == 1 and counts["waypoint"] == len(layers.routes[0].waypoints) == 11
    assert (
        counts["route_sighting"] == 2
    )  # the Siguiri video (convoy) and the ship seen in Conakry port
    assert counts["track"] == 1  # --port Conakry: only 999000031 called there
    assert counts["port_call"] == int((layers.events["kind"] == "port_call").sum())
    tracks = [f for f in layer_features(layers) if f["properties"]["layer"] == "track"]
    assert sum(f["properties"]["positions"] for f in tracks) == len(layers.positions)
    assert any(f["properties"]["sanctioned"] for f in tracks)


def test_geojson_reads_back_in_geopandas(layers, tmp_path):
    path, n = write_export(layers, tmp_path / "case.geojson")
    frame = gpd.read_file(path)
    assert len(frame) == n and frame.crs.to_epsg() == 4326
    sat = frame[
        (frame["layer"] == "sighting") & (frame["source"] == "FICTITIOUS Imaging Ltd")
    ].iloc[0]
    assert sat.geometry.geom_type == "Polygon" and sat["licence"] == "CC BY 4.0"


def test_kml_has_a_folder_per_layer_and_times(layers, tmp_path):
    path, n = write_export(layers, tmp_path / "case.kml")
    root = ET.parse(path).getroot()
    folders = {f.find(f"{KML}name").text: f for f in root.iter(f"{KML}Folder")}
    assert {"track", "geofence", "sighting", "route", "waypoint", "port_call"} <= set(folders)
    assert sum(len(f.findall(f"{KML}Placemark")) for f in folders.values()) == n
    track = folders["track"].find(f"{KML}Placemark")
    assert track.find(f"{KML}TimeSpan/{KML}begin").text.endswith("Z")
    assert track.find(f".//{KML}LineString/{KML}coordinates").text.count(",") > 10


def test_csv_one_row_per_feature_and_hostile_text_is_data(layers, tmp_path, capsys, case_store):
    path, n = write_export(layers, tmp_path / "case.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == n and rows[0].keys() >= {
        "layer",
        "name",
        "time",
        "lon",
        "lat",
        "wkt",
        "source",
        "details",
    }
    site = next(r for r in rows if r["layer"] == "sighting" and r["source"] == "FICTITIOUS channel")
    assert json.loads(site["details"])["vehicles"] == {"truck": 12}
    # a spreadsheet formula in a name is written inert
    layers.vessels.loc[0, "name"] = '=HYPERLINK("http://x")'
    path, _ = write_export(layers, tmp_path / "hostile.csv")
    text = path.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


def test_export_cli_json_summary(case_store, tmp_path, capsys):
    db = case_store.url.removeprefix("sqlite:///")
    for fmt in ("geojson", "kml", "csv"):
        out = tmp_path / f"x.{fmt}"
        assert main(["--db", db, "export", "--out", str(out), "--port", "Conakry", "--json"]) == 0
        got = json.loads(capsys.readouterr().out)
        assert (
            got["out"] == str(out) and got["features"] > 10 and out.stat().st_size == got["bytes"]
        )
    assert main(["--db", db, "export", "--out", str(tmp_path / "x.txt")]) == 2
    assert "unknown export format 'txt'" in capsys.readouterr().err
    assert main(["--db", db, "map", "--out", str(tmp_path / "m.html"), "--port", "Atlantis"]) == 2
    assert "no geofence for port(s) ATLANTIS" in capsys.readouterr().err


def test_kml_stays_well_formed_whatever_text_reaches_it(tmp_path):
    """Even a value with NUL/ESC/C1 bytes (stored by an older tracker) gives parseable KML."""
    from xml.etree import ElementTree as ET

    from tracker.outputs.export import _write_kml

    evil = "FICTITIOUS\x00NAME\x1b[31m\x9b<b>&"
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-13.7, 9.5]},
        "properties": {"layer": "sightings", "name": evil, "note": evil, "time": None},
    }
    path = tmp_path / "x.kml"
    _write_kml([feature], path, title=evil)
    root = ET.parse(path).getroot()  # raises on a file that is not well-formed
    names = [e.text for e in root.iter("{http://www.opengis.net/kml/2.2}name")]
    assert "FICTITIOUS\\x00NAME\\x1b[31m\\x9b<b>&" in names
