"""Events in the store: idempotent detection, late data updating events, CLI, sanctions."""

from __future__ import annotations

import json
from datetime import timedelta

from click.testing import CliRunner
from tracks import T0, voyage

from tracker.cli import cli
from tracker.sources.ais.synth import track_to_nmea, write_nmea
from tracker.store import open_store
from tracker.store.events import read_events

BERTH = (-13.712, 9.515)
OFFSHORE = (-14.6, 9.1)


def _ingest(runner, db, path) -> None:
    out = runner.invoke(cli, ["--db", db, "ingest", "ais", str(path)])
    assert out.exit_code == 0, out.output


def _detect(runner, db) -> dict:
    out = runner.invoke(cli, ["--db", db, "events", "detect", "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def test_detect_is_idempotent_and_late_data_updates_instead_of_duplicating(db_url, tmp_path):
    runner = CliRunner()
    full = voyage(
        ("sail", [OFFSHORE, BERTH], 10.0), ("stay", 30), ("sail", [BERTH, OFFSHORE], 10.0)
    )
    cut = full["ts"] <= full["ts"].iloc[0] + timedelta(
        hours=20
    )  # data so far: arrived, still in port
    first = write_nmea(
        tmp_path / "first.nmea", track_to_nmea(full[cut], mmsi=999002001, name="FICTITIOUS ONE")
    )
    late = write_nmea(
        tmp_path / "late.nmea", track_to_nmea(full[~cut], mmsi=999002001, name="FICTITIOUS ONE")
    )
    _ingest(runner, db_url, first)
    s1 = _detect(runner, db_url)
    assert s1["by_kind"]["port_call"] == 1 and s1["added"] == s1["found"]
    call = read_events(open_store(db_url), kind="port_call").iloc[0]
    assert call["status"] == "open"
    s2 = _detect(runner, db_url)
    assert (s2["added"], s2["updated"], s2["retracted"], s2["unchanged"]) == (0, 0, 0, s1["found"])
    _ingest(runner, db_url, late)
    s3 = _detect(runner, db_url)
    assert s3["by_kind"]["port_call"] == 1 and s3["updated"] >= 1
    calls = read_events(open_store(db_url), kind="port_call")
    assert (
        len(calls) == 1
        and calls.iloc[0]["status"] == "closed"
        and calls.iloc[0]["key"] == call["key"]
    )
    assert calls.iloc[0]["figures"]["stop_s"] > 29 * 3600


def test_events_list_filters_and_carry_sanctions_status(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "t.db")
    a = voyage(("sail", [OFFSHORE, BERTH], 10.0), ("stay", 30), ("sail", [BERTH, OFFSHORE], 10.0))
    lines = track_to_nmea(a, mmsi=999002101, name="FICTITIOUS LISTED") + track_to_nmea(
        a, mmsi=999002102, name="FICTITIOUS FREE"
    )
    _ingest(runner, db, write_nmea(tmp_path / "a.nmea", lines))
    watch = tmp_path / "watch.csv"
    watch.write_text("name,mmsi,reason,listed_on\nFICTITIOUS LISTED,999002101,test,2025-01-01\n")
    assert (
        runner.invoke(
            cli,
            [
                "--db",
                db,
                "sanctions",
                "load",
                str(watch),
                "--list",
                "watchlist",
                "--edition",
                "2025-02-01",
            ],
        ).exit_code
        == 0
    )
    _detect(runner, db)
    out = runner.invoke(
        cli, ["--db", db, "events", "list", "--kind", "port_call", "--port", "conakry", "--json"]
    )
    rows = {r["mmsi"]: r for r in json.loads(out.output)}
    assert set(rows) == {999002101, 999002102}
    assert (
        rows[999002101]["sanctions"]
        == "999002101: listed by watchlist (FICTITIOUS LISTED, watchlist:999002101)"
    )
    assert rows[999002102]["sanctions"] == "999002102: not listed"
    assert rows[999002101]["start"].startswith(str(T0.date()))
    one = runner.invoke(cli, ["--db", db, "events", "list", "--vessel", "999002102", "--json"])
    assert {r["mmsi"] for r in json.loads(one.output)} == {999002102}
    text = runner.invoke(cli, ["--db", db, "events", "list", "--kind", "port_call"])
    assert "sanctions: 999002101: listed by watchlist" in text.output


def test_ports_cli(tmp_path, shared_file):
    runner = CliRunner()
    out = runner.invoke(cli, ["ports", "list", "--json"])
    ports = {r["port"] for r in json.loads(out.output)}
    assert {
        "CONAKRY",
        "BATA",
        "KAMSAR",
        "MALABO",
        "LUBA",
        "LOME",
        "ABIDJAN",
        "DAKAR",
        "TARTUS",
        "BALTIYSK",
        "UST-LUGA",
        "ST PETERSBURG",
        "NOVOROSSIYSK",
    } <= ports
    dest = tmp_path / "wpi.geojson"
    res = runner.invoke(
        cli,
        [
            "ports",
            "import-wpi",
            str(shared_file("ports/wpi/UpdatedPub150.csv.gz")),
            "--port",
            "GN CKY",
            "--port",
            "Bata",
            "--out",
            str(dest),
            "--json",
        ],
    )
    assert json.loads(res.output) == {"ports": 2, "bad": 0, "out": str(dest)}
    listed = json.loads(
        runner.invoke(cli, ["ports", "list", "--ports", str(dest), "--json"]).output
    )
    by = {r["port"]: r for r in listed}
    assert abs(by["BATA"]["area_km2"] - 12.57) < 0.2  # Very Small: 2 km circle
    assert abs(by["CONAKRY"]["area_km2"] - 78.5) < 1.0  # Medium: 5 km


def _event_rows(store) -> dict[str, dict]:
    """Every stored event row as SQL holds it, by key (the oracle: rows before and after)."""
    import sqlalchemy as sa

    from tracker.store.events import events

    with store.engine.connect() as conn:
        return {r["key"]: dict(r) for r in conn.execute(sa.select(events)).mappings()}


def test_detect_for_some_vessels_only_touches_their_events(db_url, tmp_path):
    import sqlalchemy as sa

    from tracker.jobs.detect import KINDS, detect_store
    from tracker.sources.ports import read_geofences
    from tracker.store.events import events, replace_events
    from tracker.store.ingest import ingest_ais_file

    one, two = 999002001, 999002002
    legs = (("sail", [OFFSHORE, BERTH], 10.0), ("stay", 30), ("sail", [BERTH, OFFSHORE], 10.0))
    store = open_store(db_url)
    for mmsi, start in ((one, T0), (two, T0 + timedelta(days=5))):
        path = write_nmea(
            tmp_path / f"{mmsi}.nmea",
            track_to_nmea(voyage(*legs, start=start), mmsi=mmsi, name=f"FICTITIOUS {mmsi}"),
        )
        ingest_ais_file(store, path)
    fences = read_geofences()
    replace_events(store, detect_store(store, fences), kinds=KINDS)
    # a stale event of each vessel, as an earlier run with other data would have left
    stale = {
        "kind": "gap",
        "start": T0 + timedelta(days=20),
        "figures": "{}",
        "thresholds": "{}",
        "position_ids": "[]",
        "detected_at": T0,
    }
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(events),
            [
                {**stale, "key": "stale-one", "mmsi": one},
                {**stale, "key": "stale-two", "mmsi": two},
            ],
        )
    before = _event_rows(store)
    assert {r["mmsi"] for r in before.values()} == {one, two}
    assert sum(r["kind"] == "port_call" for r in before.values()) == 2

    found = detect_store(store, fences, mmsi=[one])
    assert len(found) and set(found["mmsi"]) == {one}
    summary = replace_events(store, found, kinds=KINDS, mmsi=[one])
    after = _event_rows(store)

    assert summary.retracted == 1 and summary.added == 0 and summary.updated == 0
    # the retracted event keeps its row, marked retracted with when and why
    assert set(after) == set(before)
    gone = after["stale-one"]
    assert gone["status"] == "retracted" and gone["retracted_at"] is not None
    assert "no longer found" in gone["retracted_why"] and "1 vessel(s)" in gone["retracted_why"]
    assert {k: v for k, v in gone.items() if not k.startswith("retracted") and k != "status"} == {
        k: v
        for k, v in before["stale-one"].items()
        if not k.startswith("retracted") and k != "status"
    }
    assert "stale-one" not in set(read_events(store)["key"])
    assert "stale-one" in set(read_events(store, retracted=True)["key"])
    # the other vessel's rows are exactly as they were, its stale event included
    theirs = {k for k, r in before.items() if one not in (r["mmsi"], r["other_mmsi"])}
    assert "stale-two" in theirs and len(theirs) >= 2
    assert {k: after[k] for k in theirs} == {k: before[k] for k in theirs}
    # the first vessel's real events were found again, unchanged
    mine = {k for k, r in before.items() if r["mmsi"] == one and k != "stale-one"}
    assert mine and {k: after[k] for k in mine} == {k: before[k] for k in mine}

    # no vessel at all: nothing found, nothing retracted
    assert detect_store(store, fences, mmsi=[]).empty
    assert (
        replace_events(store, detect_store(store, fences, mmsi=[]), kinds=KINDS, mmsi=[]).retracted
        == 0
    )
    assert _event_rows(store) == after
