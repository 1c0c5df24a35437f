"""Maps of real data, opened in headless Chromium: a store of every real AIS recording in
``shared/data/ais`` with the 2021 OFAC list (the aishub vessel GALAX, MMSI 256629000, matches
OFAC's ALVAN by IMO) stays under 5 MB, shows the sanctioned track on top, no "nan"/"None"
anywhere, a legend row for every symbol drawn and none for absent ones; ``--port`` on the
demo store draws only the vessels that called there. Screenshots go to test-artifacts/.

Expected values come from SQL over the store, pandas over the frames given to the map, and
the list file read as text: never from numbers the map code printed.
"""

from __future__ import annotations

import gzip
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tracker.analysis.case_layers import status_at
from tracker.cli import main
from tracker.jobs.case_layers import collect_layers
from tracker.outputs.maps import MapTooLargeError, build_map, write_map

ASSUMED = datetime(2021, 7, 1, 12, tzinfo=UTC)
#: Recordings without times of their own: ingested with ASSUMED (flagged as assumed).
NEEDS_TIME = {
    "aishub/aishub-ais-nmea-sample.log.gz",
    "pyais/nmea_data_sample.txt",
    "pyais/messages.ais",
    "libais/typeexamples.json",
}
NOT_AIS = {"libais/mid.csv", "kystverket/LICENSE-NLOD.txt"}
OFAC_2021 = "sanctions/ofac/2021-07-07_watchman_bench/sdn.csv.gz"
GALAX = 256629000
BUDGET = 5_000_000
BLANK = re.compile(r"\b(nan|NaN|None|NaT|undefined|null)\b")

MAP_OF = """
var map = null;
Object.keys(window).forEach(function (k) { if (k.indexOf('map_') === 0 && window[k] instanceof L.Map) { map = window[k]; } });
"""
CENSUS = (
    MAP_OF
    + """
var kinds = {};
function add(l) { var k = l.options && l.options.trkKind; if (k) { kinds[k] = (kinds[k] || 0) + 1; } }
map.eachLayer(function (l) {
  // a cluster group holds its markers whether or not they are drawn at this zoom
  if (L.MarkerClusterGroup && l instanceof L.MarkerClusterGroup) { l.getLayers().forEach(add); } else { add(l); }
});
return kinds;
"""
)
#: Open the popups and tooltips (at most 100 of each kind, without panning: the grid and the position dots hold
#: thousands); return [kind, popup title, popup text, tooltip text].
OPEN_ALL = (
    MAP_OF
    + """
var out = [], seen = {};
map.eachLayer(function (l) {
  var kind = (l.options && l.options.trkKind) || "", title = null, popup = null, tip = null;
  seen[kind] = (seen[kind] || 0) + 1;
  if (seen[kind] > 100) { return; }
  var hasPopup = l.getPopup && l.getPopup(), hasTip = l.getTooltip && l.getTooltip();
  if (!hasPopup && !hasTip) { return; }
  var at = l.getLatLng ? l.getLatLng() : (l.getBounds ? l.getBounds().getCenter() : map.getCenter());
  if (hasPopup) {
    l.getPopup().options.autoPan = false;
    l.openPopup(at);
    var el = l.getPopup().getElement();
    if (el) { popup = el.textContent; var b = el.querySelector('.trk-popup > b'); title = b ? b.textContent : ""; }
    l.closePopup();
  }
  if (hasTip) {
    l.openTooltip(at);
    var te = l.getTooltip().getElement();
    if (te) { tip = te.textContent; }
    l.closeTooltip();
  }
  if (popup !== null || tip !== null) { out.push([kind, title, popup, tip]); }
});
return out;
"""
)
SHOW_ALL_OVERLAYS = """
document.querySelectorAll('.leaflet-control-layers-overlays input[type=checkbox]').forEach(function (i) {
  if (!i.checked) { i.click(); }
});
return document.querySelectorAll('.leaflet-control-layers-overlays input:not(:checked)').length;
"""
LEGEND = """
return Array.from(document.querySelectorAll('.trk-legend-row')).map(function (r) {
  return [r.getAttribute('data-kind'), r.textContent];
});
"""


def _open(browser, path: Path) -> list[dict]:
    browser.get_log("browser")
    browser.get(path.resolve().as_uri())
    for _ in range(200):
        if browser.execute_script("return document.readyState") == "complete":
            break
        time.sleep(0.1)
    time.sleep(0.5)
    return browser.get_log("browser")


def _mmsi(label: str) -> int:
    """The MMSI of a track label: ``NAME (MMSI n)`` or ``MMSI n``."""
    return int(re.search(r"MMSI (\d+)\)?$", label).group(1))


def _js_errors(log: list[dict]) -> list[str]:
    return [e["message"] for e in log if e["level"] == "SEVERE" and "net::ERR_" not in e["message"]]


@pytest.fixture(scope="session")
def real_store(tmp_path_factory, shared_data):
    """Every real AIS recording and the 2021 OFAC list in one SQLite store, events detected."""
    from tracker.jobs.detect import KINDS, detect_store
    from tracker.sources.ports import read_geofences
    from tracker.sources.sanctions import read_list
    from tracker.store import open_store
    from tracker.store.events import replace_events
    from tracker.store.ingest import ingest_ais_file
    from tracker.store.sanctions import read_list_entries, store_list

    db = tmp_path_factory.mktemp("real-map") / "real.db"
    store = open_store(f"sqlite:///{db}")
    ais = shared_data / "ais"
    files = sorted(p for p in ais.rglob("*") if p.is_file())
    assert len(files) >= 12
    for path in files:
        rel = path.relative_to(ais).as_posix()
        if rel in NOT_AIS:
            continue
        ingest_ais_file(store, path, assume_time=ASSUMED if rel in NEEDS_TIME else None)
    store_list(store, read_list(shared_data / OFAC_2021, list="ofac"))
    found = detect_store(
        store, read_geofences(), kinds=KINDS, entries=read_list_entries(store, latest_only=False)
    )
    replace_events(store, found, kinds=KINDS)
    return store, db


@pytest.fixture(scope="session")
def real_map(real_store, tmp_path_factory):
    store, _ = real_store
    layers = collect_layers(store)
    m = build_map(layers, tiles="none", title="all real recordings")
    path = write_map(m, tmp_path_factory.mktemp("real-map-html") / "all.html")
    return layers, m, path


def _galax_imo(store) -> int:
    with store.engine.connect() as conn:
        imos = conn.execute(
            sa.text("SELECT DISTINCT imo FROM static_reports WHERE mmsi = :m AND imo > 0"),
            {"m": GALAX},
        ).all()
    assert len(imos) == 1
    return int(imos[0][0])


def test_real_store_map_is_under_budget_and_galax_is_sanctioned(real_map, real_store, shared_file):
    store, _ = real_store
    layers, m, path = real_map
    assert path.stat().st_size < BUDGET
    # oracle: the OFAC file itself names the IMO GALAX broadcasts (read as text, not matched)
    imo = _galax_imo(store)
    with gzip.open(shared_file(OFAC_2021), "rt", encoding="latin-1") as fh:
        assert f"IMO {imo}" in fh.read()
    vessels = layers.vessels.set_index("mmsi")
    assert vessels.loc[GALAX, "sanctioned"] and not vessels.loc[GALAX, "watched"]
    # oracle: SQL over the store: thousands of vessels heard
    with store.engine.connect() as conn:
        heard = conn.execute(sa.text("SELECT COUNT(DISTINCT mmsi) FROM positions")).scalar()
    assert heard > 5_000 and layers.positions["mmsi"].nunique() > 5_000


def test_real_map_in_chromium(real_map, browser, artifacts_dir):
    layers, _, path = real_map
    log = _open(browser, path)
    assert _js_errors(log) == []
    browser.save_screenshot(str(artifacts_dir / "real-store.png"))
    assert (artifacts_dir / "real-store.png").stat().st_size > 10_000
    kinds = browser.execute_script(CENSUS)
    assert kinds.get("track-sanctioned", 0) >= 1 and kinds.get("track", 0) >= 1
    assert kinds.get("grid", 0) > 100  # thousands of one-fix vessels summarised, not drawn

    # the sanctioned track is drawn in the top-most pane of every line and area
    panes = browser.execute_script(
        """
        var out = {};
        document.querySelectorAll('path.leaflet-interactive').forEach(function (p) {
          var pane = p.closest('.leaflet-pane');
          var cls = (p.getAttribute('class') || '').split(' ').filter(function (c) { return c.indexOf('trk-') === 0; })[0] || '?';
          out[cls] = Math.max(out[cls] || 0, Number(getComputedStyle(pane).zIndex));
        });
        return out;
        """
    )
    top = panes.pop("trk-track-sanctioned")
    lines_and_areas = {k: v for k, v in panes.items() if k in {
        "trk-track", "trk-gap", "trk-route", "trk-geofence", "trk-grid-cell", "trk-sighting-area", "trk-land"}}  # fmt: skip
    assert {"trk-track", "trk-grid-cell", "trk-land"} <= set(lines_and_areas)
    assert all(top > z for z in lines_and_areas.values()), (top, panes)
    # ... and it is the first track under the pointer at the middle of GALAX's track
    hit = browser.execute_script(
        MAP_OF
        + """
        var target = null;
        map.eachLayer(function (l) { if (l.options.trkKind === 'track-sanctioned' && l.getTooltip()
            && l.getTooltip().getContent().textContent.indexOf('256629000') >= 0) { target = l; } });
        if (!target) { return null; }
        map.fitBounds(target.getBounds(), {maxZoom: 12});
        var latlngs = target.getLatLngs().flat(), mid = latlngs[Math.floor(latlngs.length / 2)];
        var pt = map.latLngToContainerPoint(mid), box = map.getContainer().getBoundingClientRect();
        var els = document.elementsFromPoint(box.left + pt.x, box.top + pt.y);
        var first = els.filter(function (e) { return /trk-track/.test(e.getAttribute && e.getAttribute('class') || ''); })[0];
        return first ? first.getAttribute('class') : '';
        """
    )
    assert hit is not None and "trk-track-sanctioned" in hit

    # every legend row names a layer on the map, every layer drawn has its row
    assert browser.execute_script(SHOW_ALL_OVERLAYS) == 0
    kinds = browser.execute_script(CENSUS)
    legend = browser.execute_script(LEGEND)
    keys = {k for k, _ in legend}
    as_kind = {"positions": "position"}
    for key in keys:
        assert as_kind.get(key, key.split(":")[0]) in kinds, (key, kinds)
    for kind in kinds:
        assert kind in {as_kind.get(k, k.split(":")[0]) for k in keys}, (kind, keys)

    # positions are conserved: tracks drawn + grid cells hold every position given to the map
    page = browser.execute_script(
        MAP_OF
        + """
        var drawn = [], grid = 0;
        map.eachLayer(function (l) {
          var k = l.options.trkKind;
          if ((k === 'track' || k === 'track-sanctioned') && l.getTooltip()) { drawn.push(l.getTooltip().getContent().textContent); }
          if (k === 'grid') {
            var c = l.getTooltip().getContent(); if (typeof c === 'function') { c = c(l); }
            grid += Number(/^([\\d,]+) positions/.exec(c.textContent)[1].replace(/,/g, ''));
          }
        });
        return [drawn, grid];
        """
    )
    drawn = {_mmsi(t) for t in page[0]}
    pos = layers.positions.dropna(subset=["lon", "lat"])
    multi = pos.groupby("mmsi").size()
    # a vessel with two or more fixes is drawn as a line; the rest are in the grid
    drawn_lines = {m for m in drawn if multi.get(m, 0) >= 2}
    assert GALAX in drawn_lines
    # MMSIs that cannot be ships (0, 123456789, ... shared by transmitters worldwide) are
    # never joined into lines across the map: they stay in the grid
    from tracker.core.identifiers import mmsi_problem

    invalid = {int(m) for m in pos["mmsi"].unique() if mmsi_problem(int(m)) is not None}
    assert {0, 123456789} <= invalid and not (drawn & invalid)
    assert page[1] == int((~pos["mmsi"].isin(drawn)).sum()) > 10_000

    assert _js_errors(browser.get_log("browser")) == []  # (forcing popups open below may log)
    # no "nan"/"None" and no empty title anywhere: popups, tooltips, legend, footer
    opened = browser.execute_script(OPEN_ALL)
    assert len(opened) > 300 and {"track", "track-sanctioned", "grid", "gap"} <= {
        o[0] for o in opened
    }
    for kind, title, popup, tip in opened:
        for text in (title, popup, tip):
            assert text is None or not BLANK.search(text), (kind, text)
        assert title is None or title.strip(), (kind, popup)
        assert tip is None or tip.strip(), kind
    words = " ".join(t for _, t in legend) + browser.execute_script(
        "return document.querySelector('.trk-legend').textContent + document.querySelector('.trk-footer').textContent"
    )
    assert not BLANK.search(words)
    # the legend says what was thinned, with the store's own counts (SQL-independent: pandas)
    assert f"of {pos['mmsi'].nunique():,} vessels" in words and "density grid" in words


def test_size_budget_coarsens_on_the_map_or_refuses(real_store, real_map):
    store, _ = real_store
    layers, m, _ = real_map
    tight = int(m.tracker_summary.bytes * 0.8)
    smaller = build_map(layers, tiles="none", max_bytes=tight)
    html = smaller.get_root().render()
    assert smaller.tracker_summary.coarsened >= 1 and smaller.tracker_summary.bytes <= tight
    assert "Coarsened" in html
    with pytest.raises(MapTooLargeError, match="budget 0.1 MB"):
        build_map(layers, tiles="none", max_bytes=100_000)  # the land layer alone is larger


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo-map")
    db = tmp / "demo.db"
    assert main(["demo", "--demo-db", str(db), "--out", str(tmp / "demo.html"), "--json"]) == 0
    return db


def _called_at(db: Path, port: str) -> set[int]:
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT DISTINCT mmsi FROM events WHERE kind = 'port_call' AND upper(place) = :p"
            ),
            {"p": port},
        ).all()
    engine.dispose()
    return {int(r[0]) for r in rows}


@pytest.mark.parametrize(("port", "expected"), [("CONAKRY", {999000001}), ("BATA", {999000002})])
def test_port_draws_only_the_vessels_that_called_there(
    demo_db, port, expected, tmp_path, browser, artifacts_dir, capsys
):
    assert _called_at(demo_db, port) == expected  # the SQL oracle agrees with the demo's script
    out = tmp_path / f"{port}.html"
    capsys.readouterr()
    assert main(["--db", str(demo_db), "map", "--port", port, "--out", str(out), "--tiles", "none", "--json"]) == 0  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    assert summary["bytes"] == out.stat().st_size < BUDGET
    assert _js_errors(_open(browser, out)) == []
    tracks = browser.execute_script(
        MAP_OF
        + """
        var out = [];
        map.eachLayer(function (l) { if (/^track/.test(l.options.trkKind || '') && l.getTooltip()) { out.push(l.getTooltip().getContent().textContent); } });
        return out;
        """
    )
    assert {_mmsi(t) for t in tracks} == expected
    events = browser.execute_script(OPEN_ALL)
    calls = [p for k, _, p, _ in events if k == "port_call"]
    assert calls and all(any(str(m) in p for m in expected) for p in calls)
    browser.save_screenshot(str(artifacts_dir / f"demo-port-{port.lower()}.png"))


def test_demo_map_popups_agree_on_status_and_points_sit_above_areas(
    demo_db, tmp_path, browser, artifacts_dir, capsys
):
    out = tmp_path / "demo.html"
    assert main(["--db", str(demo_db), "map", "--out", str(out), "--json"]) == 0  # default tiles
    summary = json.loads(capsys.readouterr().out)
    assert _js_errors(_open(browser, out)) == []
    browser.save_screenshot(str(artifacts_dir / "demo-map.png"))
    opened = browser.execute_script(OPEN_ALL)
    for kind, title, popup, tip in opened:
        for text in (title, popup, tip):
            assert text is None or not BLANK.search(text), (kind, text)
        assert title is None or title.strip()
    # the watchlisted FICTITIOUS ship: its track and its port call say the same
    track = next(p for k, _, p, _ in opened if k == "track-sanctioned" and "999000001" in p)
    call = next(p for k, _, p, _ in opened if k == "port_call" and "999000001" in p)
    assert "watchlist (FICTITIOUS CARGO 1, watchlist:999000001)" in track
    assert "999000001: listed by watchlist (FICTITIOUS CARGO 1, watchlist:999000001)" in call
    assert "not listed" not in call.split("999000001:")[1].split(";")[0]
    # the port call at Conakry is what a click there reaches, above the sighting polygon
    hit = browser.execute_script(
        MAP_OF
        + """
        var target = null;
        map.eachLayer(function (l) { if (l.options.trkKind === 'port_call' && l.getPopup()
            && JSON.stringify(l.feature.properties.popup).indexOf('CONAKRY') >= 0) { target = l; } });
        map.closePopup();
        document.querySelectorAll('.leaflet-popup').forEach(function (e) { e.remove(); });
        map.setView(target.getLatLng(), 14, {animate: false});
        var pt = map.latLngToContainerPoint(target.getLatLng()), box = map.getContainer().getBoundingClientRect();
        var under = document.elementsFromPoint(box.left + pt.x, box.top + pt.y).map(function (e) { return e.getAttribute('class') || e.tagName; });
        return [document.elementFromPoint(box.left + pt.x, box.top + pt.y).getAttribute('class'), under];
        """
    )
    assert "trk-port_call" in (hit[0] or ""), hit
    assert any("trk-sighting-area" in c or "trk-geofence" in c for c in hit[1])  # an area is below
    # footer, scale bar and attribution are all visible and do not overlap
    rects = browser.execute_script(
        """
        function r(sel) { var e = document.querySelector(sel); var b = e.getBoundingClientRect();
          var hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
          return [b.left, b.top, b.right, b.bottom, e.contains(hit)]; }
        return [r('.trk-footer'), r('.leaflet-control-scale'), r('.leaflet-control-attribution'),
                window.innerWidth, window.innerHeight];
        """
    )
    *boxes, width, height = rects
    for left, top, right, bottom, visible in boxes:
        assert visible and 0 <= left < right <= width and 0 <= top < bottom <= height
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    # playback: before the Conakry call, the call and the later sightings are hidden
    with sa.create_engine(f"sqlite:///{demo_db}").connect() as conn:
        starts = [
            r[0]
            for r in conn.execute(sa.text("SELECT start FROM events WHERE kind = 'port_call' ORDER BY start"))
        ]  # fmt: skip
        sightings = [r[0] for r in conn.execute(sa.text("SELECT time FROM sightings"))]
    first = int(datetime.fromisoformat(str(starts[0])).replace(tzinfo=UTC).timestamp() * 1000)
    counts = browser.execute_script(
        MAP_OF
        + """
        function count() { var c = {}; map.eachLayer(function (l) { var k = l.options.trkKind; if (k) { c[k] = (c[k] || 0) + 1; } }); return c; }
        var before = count(); window.trkPlayback.show(arguments[0] - 60000); var during = count();
        window.trkPlayback.show(window.trkPlayback.t1); var after = count();
        return [before, during, after];
        """,
        first,
    )
    before, during, after = counts
    assert before.get("port_call") == len(starts) == 2 and during.get("port_call", 0) == 0
    later = sum(
        1
        for t in sightings
        if datetime.fromisoformat(str(t)).replace(tzinfo=UTC).timestamp() * 1000 > first - 60000
    )
    assert later >= 1 and before.get("sighting") - during.get("sighting", 0) == later
    assert after == before
    assert summary["drawn"]["tracks_full"] == 2


def test_status_at_uses_the_listing_date_and_undated_watchlist_entries_count_always():
    from datetime import date

    watch = [{"list": "watchlist", "entry_id": "1", "name": "X", "reason": "MMSI", "since": None, "until": None}]  # fmt: skip
    dated = [{"list": "watchlist", "entry_id": "1", "name": "X", "reason": "MMSI", "since": date(2025, 5, 25), "until": None}]  # fmt: skip
    assert status_at(watch, [], "2020-01-01").startswith("listed by watchlist (X, watchlist:1)")
    assert (
        status_at(dated, [], "2025-05-22")
        == "not listed; listed later by watchlist (X, watchlist:1) from 2025-05-25"
    )
    assert status_at(dated, [], "2025-05-25").startswith("listed by watchlist")
    delisted = [{**dated[0], "until": date(2025, 6, 1)}]
    assert "was listed by watchlist (X, watchlist:1) until 2025-06-01" in status_at(
        delisted, [], "2025-07-01"
    )
