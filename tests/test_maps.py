"""Maps opened in a real headless Chromium: no JavaScript errors, the expected layers in the DOM,
popups with their sources, hostile text rendered as text; the demo map and its screenshot.

Every vessel here is FICTITIOUS (MMSIs in the 999 range).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from tracks import as_positions, voyage

from tracker.analysis.linking import link_sightings
from tracker.analysis.route_progress import locate_on_route
from tracker.cli import main
from tracker.jobs.case_layers import collect_layers
from tracker.outputs.maps import build_map, write_map
from tracker.sources.ports import read_geofences
from tracker.sources.routes import Route, read_route
from tracker.sources.sightings import sighting_from_fields, sightings_frame

T = datetime(2025, 5, 20, tzinfo=UTC)
QUAY = (-13.715, 9.515)

#: JavaScript: the Leaflet map of the page and a census of its layers by tracker kind.
CENSUS = """
var map = null;
Object.keys(window).forEach(function (k) { if (k.indexOf('map_') === 0 && window[k] instanceof L.Map) { map = window[k]; } });
var kinds = {};
map.eachLayer(function (l) { var k = l.options && l.options.trkKind; if (k) { kinds[k] = (kinds[k] || 0) + 1; } });
return kinds;
"""
#: JavaScript: open every popup and tooltip on the map, return the popups' text.
OPEN_ALL = """
var map = null;
Object.keys(window).forEach(function (k) { if (k.indexOf('map_') === 0 && window[k] instanceof L.Map) { map = window[k]; } });
var texts = [];
map.eachLayer(function (l) {
  if (l.getTooltip && l.getTooltip()) { l.openTooltip(l.getLatLng ? l.getLatLng() : map.getCenter()); }
  if (l.getPopup && l.getPopup()) {
    l.openPopup(l.getLatLng ? l.getLatLng() : map.getCenter());
    var el = l.getPopup().getElement();
    if (el) { texts.push(el.textContent); }
    l.closePopup();
  }
});
return texts;
"""


def _open(browser, path: Path) -> list[dict]:
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(path.resolve().as_uri())
    for _ in range(100):
        if browser.execute_script("return document.readyState") == "complete":
            break
        time.sleep(0.1)
    time.sleep(0.5)
    return browser.get_log("browser")


def _js_errors(log: list[dict]) -> list[str]:
    """Severe console entries other than base-map tiles failing to load (no network in tests)."""
    return [e["message"] for e in log if e["level"] == "SEVERE" and "net::ERR_" not in e["message"]]


def test_map_in_chromium_has_the_layers_and_no_js_errors(case_store, tmp_path, browser):
    layers = collect_layers(case_store, ports=["Conakry"])
    assert layers.vessels.set_index("mmsi").loc[999000031, "sanctioned"]
    path = write_map(build_map(layers, tiles="none"), tmp_path / "case.html")
    log = _open(browser, path)
    assert _js_errors(log) == []
    kinds = browser.execute_script(CENSUS)
    # --port Conakry: only the vessel that called there (999000031), its pieces split at
    # silences drawn as one multi-line; the vessel passing by (999000032) is not drawn
    assert kinds.get("track-sanctioned") == 1 and kinds.get("track") is None
    assert set(layers.positions["mmsi"]) == {999000031}
    n_paths = browser.execute_script(
        "return document.querySelectorAll('path.leaflet-interactive').length"
    )
    assert n_paths >= 1 + 2 + 1  # track, geofences, route at least
    assert kinds.get("geofence") == len(layers.geofences) == 2
    assert kinds.get("sighting") == 2 and kinds.get("sighting-area") == 1
    assert (
        kinds.get("route") == 1 and kinds.get("waypoint") == len(layers.routes[0].waypoints) == 11
    )
    assert kinds.get("route-sighting") == 1  # the video at Siguiri, on the route
    assert kinds.get("port_call") == int((layers.events["kind"] == "port_call").sum()) >= 1
    # the sighting badges and the playback control are in the DOM
    assert len(browser.find_elements("css selector", ".leaflet-marker-pane .trk-badge")) == 3
    assert browser.find_elements("css selector", ".trk-playback input[type=range]")
    # the footer shows two lines and unfolds on hover: read its whole text
    footer = browser.find_element("css selector", ".trk-footer")
    assert "FICTITIOUS Imaging Ltd" in footer.get_attribute("textContent")
    texts = browser.execute_script(OPEN_ALL)
    sat = [t for t in texts if "FICTITIOUS Imaging Ltd" in t]
    assert sat and "CC BY 4.0" in sat[0] and "probable" in sat[0] and "source link" in sat[0]
    assert any("Siguiri" in t and "distance along the route" in t for t in texts)
    assert _js_errors(browser.get_log("browser")) == []


HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_2 = '"><script>window.__xss=1</script><svg onload="window.__xss=2">'


def test_hostile_names_render_as_text_in_every_layer(tmp_path, browser):
    track = voyage(("sail", [(-14.40, 9.30), QUAY], 10.0), ("stay", 4), start=T)
    positions = as_positions(tmp_path, {999000041: track})
    vessels = pd.DataFrame(
        {"mmsi": [999000041], "name": [HOSTILE], "imo": [None], "callsign": [HOSTILE_2], "destination": [HOSTILE],
         "sanctioned": [True], "sanction_reason": [HOSTILE_2]}
    )  # fmt: skip
    fence = read_geofences()
    fence = fence[fence["name"] == "CONAKRY PORT"].copy()
    fence["name"], fence["source"] = HOSTILE, HOSTILE_2
    events = pd.DataFrame(
        [
            {"kind": "port_call", "mmsi": 999000041, "place": HOSTILE, "start": T, "end": T, "lon": QUAY[0], "lat": QUAY[1], "wording": HOSTILE_2},
            {"kind": "gap", "mmsi": 999000041, "place": None, "start": T, "end": T, "lon": -14.4, "lat": 9.3, "end_lon": -14.0, "end_lat": 9.4, "wording": HOSTILE},
            {"kind": "encounter", "mmsi": 999000041, "other_mmsi": 999000042, "place": HOSTILE, "start": T, "end": T, "lon": -14.1, "lat": 9.35, "wording": HOSTILE},
        ]
    )  # fmt: skip
    when = track["ts"].iloc[5].isoformat()
    sightings = sightings_frame(
        [
            sighting_from_fields({"time": when, "lon": -13.72, "lat": 9.51, "kind": "photo", "source": HOSTILE, "vessel_name": HOSTILE,
                                  "note": HOSTILE_2, "licence": HOSTILE, "url": "javascript:alert(1)"}),
            sighting_from_fields({"time": when, "lon": -9.175151, "lat": 11.419526, "kind": "video", "source": HOSTILE_2,
                                  "vehicles": "tank:1", "note": HOSTILE}),
        ]
    )  # fmt: skip
    shipped = read_route(
        Path(__file__).resolve().parent.parent / "data" / "routes" / "conakry-bamako.geojson"
    )
    wps = shipped.waypoints.copy()
    wps.loc[0, "name"] = HOSTILE
    route = Route(name=HOSTILE_2, line=shipped.line, waypoints=wps, source=HOSTILE, note=HOSTILE_2)
    located = locate_on_route(sightings, route)
    located.insert(0, "route", route.name)
    m = build_map(
        positions=positions,
        vessels=vessels,
        geofences=gpd.GeoDataFrame(fence, crs="EPSG:4326"),
        events=events,
        sightings=sightings,
        links=link_sightings(sightings, positions),
        routes=[route],
        route_locations=located[located["on_route"]],
        tiles="none",
        title=HOSTILE,
    )
    path = write_map(m, tmp_path / "hostile.html")
    log = _open(browser, path)
    assert _js_errors(log) == []
    texts = browser.execute_script(OPEN_ALL)
    # nothing ran: no alert, no script side effect, no injected element
    assert browser.execute_script("return window.__xss === undefined")
    assert (
        browser.execute_script(
            "return document.querySelectorAll('img[src=\"x\"], svg[onload]').length"
        )
        == 0
    )
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    # ... and the names are there as text in every kind of popup
    joined = "\n".join(texts)
    assert joined.count(HOSTILE) >= 6 and HOSTILE_2 in joined
    tooltips = " ".join(e.text for e in browser.find_elements("css selector", ".leaflet-tooltip"))
    assert HOSTILE in tooltips
    assert browser.find_elements("css selector", "a[href^='javascript']") == []
    assert _js_errors(browser.get_log("browser")) == []


def test_demo_writes_the_map_and_a_screenshot(
    tmp_path, browser, artifacts_dir, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    code = main(["demo", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["map"] == "maps/demo.html" and (tmp_path / "maps" / "demo.html").is_file()
    assert out["events_by_kind"].get("port_call") == 2 and out["speed_flags"] == 1
    assert out["links"].get("identified", 0) >= 1 and out["links"].get("no_ais", 0) >= 1
    log = _open(browser, tmp_path / "maps" / "demo.html")
    assert _js_errors(log) == []
    kinds = browser.execute_script(CENSUS)
    assert kinds.get("track-sanctioned", 0) >= 1 and kinds.get("sighting") == out["sightings"]
    shot = artifacts_dir / "demo.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    # running it again rebuilds the demo store from scratch: same result; offline style too
    assert main(["demo", "--tiles", "none", "--out", "maps/demo-offline.html", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["positions"] == out["positions"] and again["sightings"] == out["sightings"]
    log = _open(browser, tmp_path / "maps" / "demo-offline.html")
    assert [e for e in log if e["level"] == "SEVERE"] == []  # nothing fetched from the network
    assert browser.execute_script(CENSUS).get("land", 0) > 100
    browser.save_screenshot(str(artifacts_dir / "demo-offline.png"))


def test_page_data_cannot_end_a_script_or_carry_a_script_link():
    from tracker.outputs.maps.safe import popup_data, safe_url, script_json

    text = script_json({"name": "</script><script>alert(1)</script>\u2028&"})
    assert "</script" not in text and "<" not in text and "\u2028" not in text and "&" not in text
    assert json.loads(text)["name"].startswith("</script>")
    for bad in (
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,x",
        "//evil.example",
        "ftp://x",
    ):
        assert safe_url(bad) is None
    assert safe_url("https://example.org/a?b=<c>") == "https://example.org/a?b=<c>"
    d = popup_data(
        "<b>t</b>",
        [("when", pd.Timestamp("2025-05-29T10:00Z")), ("empty", None)],
        link="javascript:x",
    )
    assert d == {"t": "<b>t</b>", "r": [["when", "2025-05-29 10:00 UTC"]]}


def test_a_route_of_a_million_points_is_simplified_for_display_and_said_so(tmp_path):
    import numpy as np
    from shapely import LineString

    n = 1_000_000
    lon = np.linspace(-13.7, -8.0, n)
    lat = 9.5 + 0.5 * np.sin(np.linspace(0, 40, n)) + 1e-6 * np.arange(n) % 3  # wiggly, dense
    route = Route(name="dense FICTITIOUS", line=LineString(np.column_stack([lon, lat])))
    m = build_map(routes=[route], tiles="none")
    path = write_map(m, tmp_path / "route.html")
    summary = m.tracker_summary
    assert summary.route_vertices_held == n  # oracle: the points given
    assert summary.route_vertices <= 4_000 and path.stat().st_size < 1_500_000
    html = path.read_text(encoding="utf-8")
    assert f"of {n:,} vertices" in html  # the legend note says it


def test_tracks_crossing_the_antimeridian_take_the_short_way():
    """179.9 E -> 179.9 W is 0.2 degrees of longitude, not 359.8 (hand values)."""
    import numpy as np

    from tracker.outputs.maps.build import _unwrap_lon

    line = _unwrap_lon(np.array([[179.9, 60.0], [-179.9, 60.1], [-179.5, 60.2]]))
    steps = np.abs(np.diff(line[:, 0]))
    assert steps.tolist() == pytest.approx([0.2, 0.4])
    assert line[:, 1].tolist() == [60.0, 60.1, 60.2]
    # a line that does not cross is left as it is
    assert _unwrap_lon(np.array([[10.0, 0.0], [20.0, 1.0]])).tolist() == [[10.0, 0.0], [20.0, 1.0]]
