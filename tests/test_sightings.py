"""Sightings: hand entry, CSV/GeoJSON import with bad rows, idempotent store, linking to AIS.

Every vessel and sighting made up here is FICTITIOUS (MMSIs in the 999 range); the case
sightings file holds only public reporting.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import shapely
from tracks import as_positions, voyage

from tracker.analysis.linking import link_sightings
from tracker.cli import main
from tracker.core.errors import InputError
from tracker.jobs.linking import link_stored_sightings
from tracker.sources.ais.synth import track_to_nmea, write_nmea
from tracker.sources.ports import read_geofences
from tracker.sources.sightings import (
    parse_vehicles,
    read_sightings,
    sighting_from_fields,
    sightings_frame,
)
from tracker.store import open_store
from tracker.store.ais import read_positions
from tracker.store.ingest import ingest_ais_file
from tracker.store.sightings import read_stored_sightings, store_sightings

HEADER = "id,time,time_uncertainty_h,lon,lat,radius_m,kind,source,source_id,vessel_name,vessel_imo,vehicles,confidence,note\n"


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _csv(tmp_path, body: str, name: str = "s.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


GOOD = (
    "a1,2025-05-20T10:00:00Z,1,-13.70,9.50,200,satellite_optical,FICTITIOUS Sat Co,IMG-1,TEST SHIP FICTITIOUS,,,probable,test\n"
    "a2,2025-05-21T10:00:00Z,,-8.5,12.2,,video,FICTITIOUS channel,post 7,,,tank:4; truck:20,possible,convoy\n"
)
BAD = (
    ",not a time,,-13.7,9.5,,photo,src,,,,,,\n"  # line 4
    ",2025-05-20T10:00Z,,200,9.5,,photo,src,,,,,,\n"  # line 5
    ",2025-05-20T10:00Z,,-13.7,9.5,,drone,src,,,,,,\n"  # line 6
    ",2025-05-20T10:00Z,,-13.7,9.5,,photo,,,,,,,\n"  # line 7
    ",2025-05-20T10:00Z,,-13.7,9.5,,photo,src,,,1234568,,,\n"  # line 8
    ",2025-05-20T10:00Z,,-13.7,9.5,,photo,src,,,,tank:four,,\n"  # line 9
    ",2025-05-20T10:00Z,,-13.7,9.5,,photo,src,,,,,sure,\n"  # line 10
)


def test_vehicles_text_parses_types_and_counts():
    assert parse_vehicles("Tank:4; truck : 20, howitzer") == {
        "tank": 4,
        "truck": 20,
        "howitzer": None,
    }
    with pytest.raises(ValueError, match="not a whole number"):
        parse_vehicles("tank:many")


def test_import_reports_bad_rows_with_line_and_reason_and_keeps_the_rest(tmp_path, capsys):
    db = str(tmp_path / "t.db")
    path = _csv(tmp_path, GOOD + BAD)
    code, out, err = _run(capsys, "--db", db, "sightings", "import", str(path), "--json")
    assert code == 0
    summary = json.loads(out)
    assert (summary["read"], summary["added"], summary["duplicates"], summary["bad"]) == (
        2,
        2,
        0,
        7,
    )
    lines = err.splitlines()
    assert f"{path}:4: time 'not a time' is not an ISO 8601 time" in lines[0]
    expected = {
        5: "out of range",
        6: "kind 'drone' is not one of",
        7: "source is missing",
        8: "vessel_imo '1234568' fails the IMO check digit",
        9: "vehicle count 'four' is not a whole number",
        10: "confidence 'sure' is not one of",
    }
    for n, text in expected.items():
        assert any(ln.startswith(f"{path}:{n}: ") and text in ln for ln in lines), (n, lines)
    # the bad rows are kept aside in quarantine with their raw text
    store = open_store(db)
    with store.engine.connect() as conn:
        q = conn.exec_driver_sql("SELECT line, reason, raw FROM quarantine ORDER BY line").all()
    assert [r[0] for r in q] == list(range(4, 11))
    assert "not a time" in q[0][2]


def test_reimport_adds_nothing_twice(db_url, tmp_path):
    path = _csv(tmp_path, GOOD + BAD)
    store = open_store(db_url)
    got = read_sightings(path)
    first = store_sightings(store, got.sightings, bad=got.bad, imported_from=str(path))
    again = read_sightings(path)
    second = store_sightings(store, again.sightings, bad=again.bad, imported_from=str(path))
    assert (first.added, first.duplicates) == (2, 0)
    assert (second.added, second.duplicates) == (0, 2)
    stored = read_stored_sightings(store)
    assert len(stored) == 2
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM quarantine").scalar() == 7
    store.engine.dispose()


def test_rows_without_id_are_keyed_by_content(tmp_path):
    body = "x,2025-05-20T10:00:00Z,,-13.7,9.5,,photo,src,,,,,,\n".replace("x,", ",", 1)
    a = read_sightings(_csv(tmp_path, body, "a.csv")).sightings
    b = read_sightings(_csv(tmp_path, body + body, "b.csv")).sightings
    assert len(b) == 1 and a["key"].iloc[0] == b["key"].iloc[0]


def test_add_import_list_round_trip(tmp_path, capsys):
    db = str(tmp_path / "t.db")
    code, out, err = _run(
        capsys,
        "--db", db, "sightings", "add",
        "--time", "2025-05-22T08:30:00+01:00",
        "--lat", "9.51", "--lon", "-13.71",
        "--kind", "satellite",
        "--source", "FICTITIOUS Imaging",
        "--source-id", "scene-42",
        "--vessel", "<b>TEST</b> FICTITIOUS",
        "--imo", "9074729",
        "--time-uncertainty-h", "0.5",
        "--radius-m", "300",
        "--confidence", "Probable",
        "--note", "two cranes working",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    added = json.loads(out)
    assert added["status"] == "added"
    assert added["sighting"]["time"] == "2025-05-22T07:30:00+00:00"
    assert added["sighting"]["kind"] == "satellite_optical"
    geo = tmp_path / "s.geojson"
    geo.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Polygon", "coordinates": [[[9.72, 1.81], [9.75, 1.81], [9.75, 1.84], [9.72, 1.84], [9.72, 1.81]]]},
                        "properties": {"time": "2025-05-29T12:00Z", "kind": "sar", "source": "FICTITIOUS SAR", "time_uncertainty_h": 12},
                    },
                    {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "properties": {"time": "2025-05-29T12:00Z", "kind": "sar", "source": "x"}},
                ],
            }
        )
    )  # fmt: skip
    code, out, err = _run(capsys, "--db", db, "sightings", "import", str(geo))
    assert code == 0
    assert "1 sightings read, 1 added" in out
    assert f"{geo}:2: feature 2: place must be a Point or Polygon, not LineString" in err
    code, out, _ = _run(capsys, "--db", db, "sightings", "list", "--json")
    rows = json.loads(out)
    assert [r["kind"] for r in rows] == ["satellite_optical", "sar"]
    first = rows[0]
    assert first["vessel_name"] == "<b>TEST</b> FICTITIOUS"
    assert (first["vessel_imo"], first["source_id"], first["confidence"]) == (
        9074729,
        "scene-42",
        "probable",
    )
    assert (first["time_uncertainty_h"], first["radius_m"], first["note"]) == (
        0.5,
        300.0,
        "two cranes working",
    )
    poly = shapely.from_wkt(rows[1]["wkt"])
    assert poly.geom_type == "Polygon" and poly.covers(
        shapely.Point(rows[1]["lon"], rows[1]["lat"])
    )
    code, out, _ = _run(capsys, "--db", db, "sightings", "list")
    assert out.strip().endswith("2 sightings")


def test_add_by_gazetteer_place_and_bad_input(tmp_path, capsys):
    db = str(tmp_path / "t.db")
    code, out, _ = _run(
        capsys, "--db", db, "sightings", "add", "--time", "2025-06-01T10:00Z", "--place", "kouremale",
        "--kind", "video", "--source", "FICTITIOUS channel", "--vehicles", "truck:12", "--json",
    )  # fmt: skip
    assert code == 0
    s = json.loads(out)["sighting"]
    assert (round(s["lon"], 3), round(s["lat"], 3)) == (-8.780, 11.956)
    assert s["vehicles"] == {"truck": 12}
    code, _, err = _run(
        capsys, "--db", db, "sightings", "add", "--time", "2025-06-01T10:00Z", "--place", "Kouremalee",
        "--kind", "video", "--source", "x",
    )  # fmt: skip
    assert code == 2 and "not in the gazetteer; did you mean kouremale" in err
    code, _, err = _run(
        capsys, "--db", db, "sightings", "add", "--time", "yesterday", "--lat", "1", "--lon", "2",
        "--kind", "video", "--source", "x",
    )  # fmt: skip
    assert code == 2 and err.startswith("tracker: error: sighting not stored: time 'yesterday'")


# --- linking to AIS ----------------------------------------------------------------------

T = datetime(2025, 5, 20, tzinfo=UTC)
# a fictitious ship sailing east along 9.40 N off Conakry at 10 kn, fixes every 10 minutes
PASSING = ("sail", [(-14.20, 9.40), (-13.60, 9.40)], 10.0)


def _sighting(lon, lat, when, **extra):
    return sightings_frame(
        [
            sighting_from_fields(
                {
                    "time": when.isoformat(),
                    "lon": lon,
                    "lat": lat,
                    "kind": "satellite",
                    "source": "FICTITIOUS test",
                    **extra,
                }
            )
        ]
    )


def test_a_track_passing_the_sighting_point_is_identified(tmp_path):
    track = voyage(PASSING, start=T)
    positions = as_positions(
        tmp_path,
        {
            999000001: track,
            999000002: voyage(("sail", [(-14.2, 9.2), (-13.6, 9.2)], 10.0), start=T),
        },
    )
    # the sighting is between two fixes: 3 minutes after a fix, 400 m north of the track
    fix = track.iloc[20]
    when = fix["ts"].to_pydatetime() + timedelta(minutes=3)
    s = _sighting(float(fix["lon"]) + 0.0085, 9.40 + 0.0036, when, vessel_mmsi="999000001")
    out = link_sightings(s, positions)
    row = out.iloc[0]
    assert row["status"] == "identified", row["reason"]
    assert row["mmsi"] == 999000001
    assert 300 < row["distance_m"] < 500
    assert row["named_match"] == "match"
    assert row["candidates"][0]["how"] == "interpolated"
    assert (
        "MMSI 999000001 interpolated track" in row["reason"]
        and "it is the vessel named" in row["reason"]
    )
    # named as another vessel: linked, but flagged as not the vessel named
    other = link_sightings(
        _sighting(float(fix["lon"]) + 0.0085, 9.4036, when, vessel_mmsi="999000009"), positions
    ).iloc[0]
    assert other["named_match"] == "mismatch" and "NOT the vessel named" in other["reason"]


def test_a_sighting_with_no_track_nearby_is_a_dark_ship_candidate(tmp_path):
    positions = as_positions(tmp_path, {999000001: voyage(PASSING, start=T)})
    when = positions["ts"].iloc[10].to_pydatetime()
    # 5 km south of the track: no vessel within 1,500 m, but one was heard in the area
    out = link_sightings(_sighting(-13.9, 9.355, when), positions).iloc[0]
    assert out["status"] == "no_ais"
    assert pd.isna(out["mmsi"]) and out["candidates"] == []
    assert out["vessels_heard"] == 1
    assert "dark-ship candidate" in out["reason"]
    # a day later nothing at all was heard: still no AIS, worded as a possible coverage hole
    late = link_sightings(_sighting(-13.9, 9.355, when + timedelta(days=1)), positions).iloc[0]
    assert (
        late["status"] == "no_ais"
        and late["vessels_heard"] == 0
        and "coverage hole" in late["reason"]
    )


def test_two_ships_near_the_point_are_candidates_nearest_first(tmp_path):
    positions = as_positions(
        tmp_path,
        {
            999000001: voyage(PASSING, start=T),
            999000003: voyage(("sail", [(-14.20, 9.405), (-13.60, 9.405)], 10.0), start=T),
        },
    )
    when = positions["ts"].iloc[40].to_pydatetime()
    lon = float(positions[positions["ts"] == positions["ts"].iloc[40]]["lon"].iloc[0])
    out = link_sightings(_sighting(lon, 9.4010, when), positions).iloc[0]
    assert out["status"] == "candidates"
    assert [c["mmsi"] for c in out["candidates"]] == [999000001, 999000003]
    assert out["mmsi"] == 999000001 and out["named_match"] == "unnamed"


def test_time_uncertainty_widens_the_search(tmp_path):
    positions = as_positions(tmp_path, {999000001: voyage(PASSING, start=T)})
    fix = positions.iloc[10]
    when = fix["ts"].to_pydatetime() + timedelta(hours=5)  # the ship was far east by then
    exact = link_sightings(_sighting(float(fix["lon"]), 9.40, when), positions).iloc[0]
    assert exact["status"] == "no_ais"
    vague = link_sightings(
        _sighting(float(fix["lon"]), 9.40, when, time_uncertainty_h=6), positions
    ).iloc[0]
    assert vague["status"] == "identified" and vague["distance_m"] < 50


def test_polygon_sighting_links_a_ship_inside_the_port(tmp_path, project_data_dir):
    conakry = read_geofences(project_data_dir / "ports")
    port = conakry[conakry["name"] == "CONAKRY PORT"].geometry.iloc[0]
    inside = port.representative_point()
    track = voyage(("sail", [(-13.80, 9.45), (inside.x, inside.y)], 8.0), ("stay", 24), start=T)
    positions = as_positions(tmp_path, {999000004: track})
    when = track["ts"].iloc[-1].to_pydatetime() - timedelta(hours=6)
    s = sightings_frame(
        [
            sighting_from_fields(
                {
                    "time": when.isoformat(),
                    "wkt": port.wkt,
                    "kind": "satellite",
                    "source": "FICTITIOUS",
                }
            )
        ]
    )
    row = link_sightings(s, positions).iloc[0]
    assert row["status"] == "identified" and row["distance_m"] == 0.0


def test_link_stored_sightings_uses_the_store_and_names(tmp_path, sqlite_url, capsys):
    track = voyage(PASSING, start=T)
    path = write_nmea(
        tmp_path / "fleet.nmea",
        track_to_nmea(track, mmsi=999000001, name="PASSER FICTITIOUS", station="test"),
    )
    store = open_store(sqlite_url)
    ingest_ais_file(store, path)
    fix = read_positions(store).iloc[15]
    s = _sighting(
        float(fix["lon"]), 9.401, fix["ts"].to_pydatetime(), vessel_name="Passer Fictitious"
    )
    store_sightings(store, s)
    row = link_stored_sightings(store, read_stored_sightings(store)).iloc[0]
    assert row["status"] == "identified" and row["named_match"] == "match", row["reason"]
    db = sqlite_url.removeprefix("sqlite:///")
    code, out, _ = _run(capsys, "--db", db, "sightings", "link", "--json")
    assert code == 0
    got = json.loads(out)
    assert got[0]["status"] == "identified" and got[0]["mmsi"] == 999000001


# --- the case sightings ------------------------------------------------------------------


def test_case_sightings_load_inside_the_geofences(project_data_dir):
    got = read_sightings(project_data_dir / "sightings" / "case-2025.csv")
    assert got.bad == []
    s = got.sightings.set_index("vessel_name", drop=False)
    fences = read_geofences(project_data_dir / "ports")
    conakry = fences[fences["port"] == "CONAKRY"].union_all()
    bata = fences[fences["port"] == "BATA"].union_all()
    for name, fence in (("Baltic Leader", conakry), ("Patria", conakry), ("Siyanie Severa", bata)):
        row = s.loc[name]
        assert fence.covers(shapely.Point(row["lon"], row["lat"])), name
        assert fence.buffer(1e-4).covers(shapely.from_wkt(row["wkt"])), name
        assert row["kind"] == "satellite_optical" and "Associated Press" in row["source"]
    bata_row = s.loc["Siyanie Severa"]
    assert (
        bata_row["time"] == pd.Timestamp("2025-05-29T12:00Z")
        and bata_row["time_uncertainty_h"] == 12
    )
    assert "Planet Labs" in bata_row["source"]
    # "late May" is honest about its spread: 21-31 May
    lm = s.loc["Patria"]
    assert lm["time"] - pd.Timedelta(hours=lm["time_uncertainty_h"]) == pd.Timestamp(
        "2025-05-21T00:00Z"
    )
    assert lm["time"] + pd.Timedelta(hours=lm["time_uncertainty_h"]) == pd.Timestamp(
        "2025-06-01T00:00Z"
    )
    # no invented links or image ids
    assert got.sightings["url"].isna().all() and got.sightings["source_id"].isna().all()


def test_a_bare_date_means_that_utc_day(tmp_path):
    rec = sighting_from_fields(
        {"time": "2025-05-29", "lon": 9.74, "lat": 1.83, "kind": "photo", "source": "FICTITIOUS"}
    )
    assert (
        rec["time"].isoformat() == "2025-05-29T12:00:00+00:00" and rec["time_uncertainty_h"] == 12.0
    )
    given = sighting_from_fields(
        {
            "time": "2025-05-29",
            "time_uncertainty_h": "2",
            "lon": 9.74,
            "lat": 1.83,
            "kind": "photo",
            "source": "FICTITIOUS",
        }
    )
    assert (
        given["time"].isoformat() == "2025-05-29T00:00:00+00:00"
        and given["time_uncertainty_h"] == 2.0
    )


def test_a_file_without_the_needed_columns_is_refused_with_its_header(tmp_path, capsys):
    path = tmp_path / "odd.csv"
    path.write_text("when_seen,lat\n2025-01-01,1\n")
    with pytest.raises(
        InputError,
        match=r"odd.csv:1: the header has no time, kind, source, lon and lat \(or wkt\) column",
    ):
        read_sightings(path)
    good = _csv(tmp_path, GOOD)
    code, out, err = _run(
        capsys, "--db", str(tmp_path / "t.db"), "sightings", "import", str(path), str(good)
    )
    assert code == 0 and "odd.csv:1: the header has no" in err and "2 added" in out


def test_a_sighting_known_only_to_months_is_not_tied_to_ais(tmp_path):
    positions = as_positions(tmp_path, {999000001: voyage(PASSING, start=T)})
    fix = positions.iloc[5]
    s = _sighting(float(fix["lon"]), 9.40, fix["ts"].to_pydatetime(), time_uncertainty_h=24 * 91)
    row = link_sightings(s, positions).iloc[0]
    assert row["status"] == "too_vague" and row["candidates"] == []
    assert "±2184 h, wider than ±336 h" in row["reason"]


def test_a_track_crossing_an_area_is_linked_even_far_from_its_point(tmp_path):
    # an L-shaped area: a bar along 9.40 N and an arm up to 9.60 N at its east end; the ship
    # sails along 9.55 N and crosses only the arm, ~15 km from where the bar's point is
    area = shapely.Polygon(
        [
            (-14.0, 9.39),
            (-13.64, 9.39),
            (-13.64, 9.60),
            (-13.66, 9.60),
            (-13.66, 9.41),
            (-14.0, 9.41),
        ]
    )
    crossing = voyage(("sail", [(-13.80, 9.55), (-13.50, 9.55)], 10.0), start=T)
    positions = as_positions(tmp_path, {999000005: crossing})
    when = crossing["ts"].iloc[len(crossing) // 2].to_pydatetime()
    s = sightings_frame(
        [
            sighting_from_fields(
                {
                    "time": when.isoformat(),
                    "wkt": area.wkt,
                    "lon": -13.9,  # the analyst's point: in the bar, far from the arm
                    "lat": 9.40,
                    "kind": "sar",
                    "source": "FICTITIOUS",
                    "time_uncertainty_h": 2,
                }
            )
        ]
    )
    row = link_sightings(s, positions, radius_m=500).iloc[0]
    assert row["status"] == "identified" and row["distance_m"] == 0.0, row["reason"]


def test_remove_sighting_by_key_or_analyst_id(db_url, tmp_path):
    from tracker.core.errors import InputError
    from tracker.store.engine import open_store
    from tracker.store.sightings import read_stored_sightings, store_sightings
    from tracker.store.sightings_remove import remove_sighting

    path = tmp_path / "s.csv"
    path.write_text(
        "id,time,lon,lat,kind,source\n"
        "a1,2025-05-29T10:00:00Z,-13.7,9.5,photo,analyst\n"
        ",2025-05-29T11:00:00Z,-13.7,9.5,photo,analyst\n"
        ",2025-05-29T12:00:00Z,-13.7,9.5,photo,analyst\n"
    )
    read = read_sightings(path)
    store = open_store(db_url)
    store_sightings(store, read.sightings)
    keys = sorted(read_stored_sightings(store)["key"])
    assert len(keys) == 3 and "id:a1" in keys
    removed = remove_sighting(store, "a1")
    assert removed["key"] == "id:a1"
    other = next(k for k in keys if k != "id:a1")
    assert remove_sighting(store, other)["key"] == other
    left = read_stored_sightings(store)["key"].tolist()
    assert left == [k for k in keys if k not in ("id:a1", other)]
    with pytest.raises(InputError, match="no stored sighting"):
        remove_sighting(store, "a1")
    store.engine.dispose()


def test_sightings_remove_cli_takes_out_one_row_and_refuses_unknown_ids(
    tmp_path, project_data_dir, capsys
):
    import sqlalchemy as sa

    from tracker.cli import main

    db = str(tmp_path / "s.db")
    case = project_data_dir / "sightings" / "case-2025.csv"
    assert main(["--db", db, "sightings", "import", str(case)]) == 0
    with open(case, newline="", encoding="utf-8") as fh:
        rows_in_file = sum(1 for _ in csv.DictReader(fh))

    def count() -> int:
        engine = sa.create_engine(f"sqlite:///{db}")
        with engine.connect() as conn:
            n = conn.execute(sa.text("SELECT count(*) FROM sightings")).scalar_one()
        engine.dispose()
        return n

    assert count() == rows_in_file >= 4
    capsys.readouterr()
    assert main(["--db", db, "sightings", "remove", "case2025-conakry-patria"]) == 0
    assert "removed sighting id:case2025-conakry-patria" in capsys.readouterr().out
    assert count() == rows_in_file - 1
    assert main(["--db", db, "sightings", "remove", "case2025-conakry-patria"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no stored sighting" in err
    assert count() == rows_in_file - 1


def test_a_header_with_control_characters_is_named_escaped_in_the_error(tmp_path):
    from tracker.core.errors import InputError

    path = tmp_path / "hdr.csv"
    path.write_bytes(b"ti\x1b[31mme,lat\x07,lon\n2025-01-01,1,2\n")
    with pytest.raises(InputError) as err:
        read_sightings(path)
    text = str(err.value)
    assert "\x1b" not in text and "\x07" not in text
    assert "ti\\x1b[31mme" in text and "lat\\x07" in text
