"""Ingest into real stores (a SQLite file; PostgreSQL + PostGIS): counts, idempotency, resume."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from aisutil import (
    ASSUMED,
    REAL_NMEA,
    aisstream_lines,
    fictitious_fleet_nmea,
    pyais_counts,
    row_counts,
    store_snapshot,
)

import tracker
from tracker.core.errors import MissingTimeError
from tracker.store import open_store
from tracker.store.ais import list_vessels, read_positions, read_static_reports, vessel_summary
from tracker.store.ingest import ingest_ais_file

NOT_RECORDINGS = {"LICENSE-NLOD.txt", "mid.csv", "PROVENANCE.md", "README.md"}


def _lineage_kinds(engine) -> tuple[int, int, int, int]:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT"
                " sum(CASE WHEN kind IN ('position','both') THEN 1 ELSE 0 END),"
                " count(DISTINCT CASE WHEN kind IN ('position','both') THEN record_key END),"
                " sum(CASE WHEN kind IN ('static','both') THEN 1 ELSE 0 END),"
                " count(DISTINCT CASE WHEN kind IN ('static','both') THEN record_key END)"
                " FROM lineage"
            )
        ).one()


def test_every_real_recording_ingests(shared_data, sqlite_url):
    """Every file under shared/data/ais ingests (an assumed time only where a file has none)."""
    store = open_store(sqlite_url)
    files = sorted(
        p for p in (shared_data / "ais").rglob("*") if p.is_file() and p.name not in NOT_RECORDINGS
    )
    assert len(files) >= 10
    for path in files:
        try:
            summary = ingest_ais_file(store, path)
        except MissingTimeError:
            summary = ingest_ais_file(store, path, assume_time=ASSUMED)
        assert summary.read > 0, path
        assert summary.positions + summary.statics + summary.duplicates > 0, path


@pytest.mark.parametrize("relative", sorted(REAL_NMEA))
def test_stored_counts_match_pyais(shared_file, db_url, relative):
    path = shared_file(relative)
    store = open_store(db_url)
    ingest_ais_file(store, path, assume_time=ASSUMED if REAL_NMEA[relative] else None)
    expected_positions, expected_statics = pyais_counts(path)
    heard_pos, distinct_pos, heard_static, distinct_static = _lineage_kinds(store.engine)
    counts = row_counts(store.engine)
    # every message pyais decodes is stored as lineage; repeats of one transmission are stored once
    assert heard_pos == expected_positions
    assert heard_static == expected_statics
    assert counts["positions"] == distinct_pos
    assert counts["static_reports"] == distinct_static
    store.dispose()


def test_nmea_data_sample_store(shared_file, sqlite_url):
    store = open_store(sqlite_url)
    summary = ingest_ais_file(
        store, shared_file("ais/pyais/nmea_data_sample.txt"), assume_time=ASSUMED
    )
    counts = row_counts(store.engine)
    assert summary.read == 898
    assert counts["lineage"] == 778  # every decodable message, with its line
    assert counts["quarantine"] == summary.quarantined == 120
    assert counts["positions"] + counts["static_reports"] + summary.duplicates <= 778
    with store.engine.connect() as conn:
        reasons = dict(
            conn.execute(sa.text("SELECT reason, count(*) FROM quarantine GROUP BY reason")).all()
        )
    assert reasons["empty payload"] == 100
    assert sum(v for k, v in reasons.items() if k.startswith("incomplete multi-part")) == 20
    assert read_positions(store)["ts_assumed"].all()


def test_dma_rows_land_with_their_own_timestamps(shared_file, db_url):
    path = shared_file("ais/dma/aisdk_header.csv")
    store = open_store(db_url)
    summary = ingest_ais_file(store, path)
    assert summary.read == 138 and summary.quarantined == 0
    stored = read_positions(store, vessels_only=False)
    assert len(stored) == 138
    raw = pd.read_csv(path)
    expected = pd.to_datetime(raw["# Timestamp"], format="%d/%m/%Y %H:%M:%S", utc=True)
    assert sorted(stored["ts"]) == sorted(expected)
    assert not stored["ts_assumed"].any()
    store.dispose()


def test_kystverket_store_keeps_tag_block_times(shared_file, sqlite_url):
    store = open_store(sqlite_url)
    ingest_ais_file(store, shared_file("ais/kystverket/Ais1000Lines.nm4"))
    stored = read_positions(store, vessels_only=False)
    assert len(stored) == 748
    assert stored["ts"].min() >= datetime(2019, 8, 7, tzinfo=UTC)
    assert stored["ts"].max() < datetime(2019, 8, 9, tzinfo=UTC)
    assert not stored["ts_assumed"].any()


def _noaa_csv(path: Path) -> Path:
    rows = [
        "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,Cargo,TransceiverClass",
        "999000011,2025-05-20T00:00:00,9.4,-13.8,10.1,45.0,44,TEST VESSEL K (FICTITIOUS),IMO9999998,TESTK,70,0,120,18,6.5,70,A",
        "999000011,2025-05-20T00:10:00,9.43,-13.77,10.0,45.0,45,TEST VESSEL K (FICTITIOUS),IMO9999998,TESTK,70,0,120,18,6.5,70,A",
        "999000012,2025-05-20T00:05:00,9.1,-14.1,102.3,360.0,511,,,,,,,,,,B",
        "999000013,2025-05-20T00:05:00,95.0,-14.1,1,1,1,,,,,,,,,,A",
        "not,a,row",
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def _format_fixture(kind: str, shared_file, tmp_path: Path) -> tuple[Path, dict]:
    if kind == "nmea":
        return shared_file("ais/kystverket/Ais1000Lines.nm4"), {}
    if kind == "nmea-gz":
        packed = tmp_path / "aisdb.nm4.gz"
        packed.write_bytes(
            gzip.compress(shared_file("ais/aisdb/test_data_20211101.nm4").read_bytes())
        )
        return packed, {}
    if kind == "nmea-assumed":
        return shared_file("ais/pyais/nmea_data_sample.txt"), {"assume_time": ASSUMED}
    if kind == "dma-csv":
        return shared_file("ais/dma/aisdk_header.csv"), {}
    if kind == "decoded-csv":
        return shared_file("ais/aisdb/test_data_20210701.csv.gz"), {}
    if kind == "noaa-csv":
        return _noaa_csv(tmp_path / "noaa.csv"), {}
    if kind == "aisstream-json":
        frames = tracker.read_nmea(shared_file("ais/kystverket/Ais1000Lines.nm4"))
        path = tmp_path / "aisstream.jsonl"
        path.write_text("\n".join(aisstream_lines(frames, limit=200)) + "\n{broken json\n")
        return path, {}
    if kind == "gpsd-json":
        return shared_file("ais/libais/typeexamples.json"), {"assume_time": ASSUMED}
    raise AssertionError(kind)


FORMAT_CASES = [
    "nmea",
    "nmea-gz",
    "nmea-assumed",
    "dma-csv",
    "decoded-csv",
    "noaa-csv",
    "aisstream-json",
    "gpsd-json",
]


@pytest.mark.parametrize("kind", FORMAT_CASES)
def test_ingesting_twice_changes_nothing(kind, shared_file, tmp_path, db_url):
    path, options = _format_fixture(kind, shared_file, tmp_path)
    store = open_store(db_url)
    first = ingest_ais_file(store, path, **options)
    assert first.positions + first.statics > 0
    counts = row_counts(store.engine)
    snapshot = store_snapshot(store.engine)
    second = ingest_ais_file(store, path, **options)
    assert row_counts(store.engine) == counts
    assert store_snapshot(store.engine) == snapshot
    assert second.positions == second.statics == 0
    assert second.read == first.read and second.quarantined == first.quarantined
    store.dispose()


def test_noaa_csv_values(tmp_path, sqlite_url):
    store = open_store(sqlite_url)
    summary = ingest_ais_file(store, _noaa_csv(tmp_path / "noaa.csv"))
    assert (summary.read, summary.positions, summary.quarantined) == (5, 3, 2)
    pos = read_positions(store).set_index(["mmsi", "ts"])
    unavailable = pos.loc[999000012].iloc[0]
    assert (
        pd.isna(unavailable["sog_kn"])
        and pd.isna(unavailable["cog_deg"])
        and pd.isna(unavailable["heading_deg"])
    )
    statics = read_static_reports(store, mmsi=999000011)
    assert len(statics) == 1  # identity repeated on each row is stored once
    assert statics.iloc[0]["imo"] == 9999998
    assert statics.iloc[0]["length_m"] == 120


def test_same_sentence_from_two_receivers_is_stored_once(tmp_path, sqlite_url):
    fleet = fictitious_fleet_nmea(tmp_path / "rx1.nmea", vessels=1, hours=1)
    lines = fleet.read_text().splitlines()
    # the second receiver hears the same sentences, with its own station id and a 2 s later clock
    other = []
    for line in lines:
        tag, sentence = line[1:].split("\\", 1)
        stamp = int(tag.split(",")[0][2:]) + (2 if int(tag.split(",")[0][2:]) % 60 < 50 else 0)
        body = f"c:{stamp},s:rx-other"
        chk = 0
        for ch in body.encode():
            chk ^= ch
        other.append(f"\\{body}*{chk:02X}\\{sentence}")
    second = tmp_path / "rx2.nmea"
    second.write_text("\n".join(other) + "\n")
    store = open_store(sqlite_url)
    a = ingest_ais_file(store, fleet)
    b = ingest_ais_file(store, second)
    assert a.positions > 0 and b.positions == 0 and b.statics == 0
    assert b.duplicates == a.positions + a.statics


def test_file_without_times_stores_nothing(shared_file, sqlite_url):
    store = open_store(sqlite_url)
    with pytest.raises(MissingTimeError):
        ingest_ais_file(store, shared_file("ais/pyais/nmea_data_sample.txt"))
    assert set(row_counts(store.engine).values()) == {0}


HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "Robert'); DROP TABLE vessels;--",
    '&lt;b&gt; "quoted" \' ; --',
]


def test_hostile_names_round_trip_unchanged(tmp_path, db_url):
    header = "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,Cargo,TransceiverClass"
    rows = [header]
    for i, name in enumerate(HOSTILE):
        quoted = '"' + name.replace('"', '""') + '"'
        rows.append(
            f'{999000021 + i},2025-05-20T00:0{i}:00,9.4,-13.8,1,1,1,{quoted},,{quoted[:8]}",70,0,,,,,A'
        )
    path = tmp_path / "hostile.csv"
    path.write_text("\n".join(rows) + "\n")
    store = open_store(db_url)
    summary = ingest_ais_file(store, path)
    assert summary.quarantined == 0, summary
    names = read_static_reports(store).sort_values("mmsi")["name"].tolist()
    assert names == HOSTILE
    assert "vessels" in sa.inspect(store.engine).get_table_names()
    assert len(list_vessels(store)) == 3
    store.dispose()


def test_hostile_six_bit_name_round_trips_through_nmea(tmp_path, sqlite_url):
    from pyais.encode import encode_dict

    from tracker.sources.ais.synth import tag_block

    name = "<SCRIPT>X</SCRIPT>"  # AIS six-bit text is upper case, 20 characters at most
    lines = encode_dict(
        {
            "type": 5,
            "mmsi": 999000031,
            "shipname": name,
            "callsign": "'--",
            "destination": "');DROP",
        },
        talker_id="AI",
        sentence_type="VDM",
        seq_id=1,
    )
    path = tmp_path / "hostile.nmea"
    path.write_text("".join(tag_block(datetime(2025, 5, 20, tzinfo=UTC)) + s + "\n" for s in lines))
    store = open_store(sqlite_url)
    ingest_ais_file(store, path)
    row = read_static_reports(store).iloc[0]
    assert (row["name"], row["callsign"], row["destination"]) == (name, "'--", "');DROP")


def test_vessel_summary_by_mmsi_and_imo(shared_file, sqlite_url):
    store = open_store(sqlite_url)
    ingest_ais_file(store, shared_file("ais/kystverket/Ais1000Lines.nm4"))
    statics = read_static_reports(store)
    row = statics.dropna(subset=["imo"]).iloc[0]
    by_imo = vessel_summary(store, str(row["imo"]))
    by_mmsi = vessel_summary(store, str(row["mmsi"]))
    assert by_imo.mmsis == by_mmsi.mmsis == [row["mmsi"]]
    assert by_imo.statics == len(statics[statics["mmsi"] == row["mmsi"]])


def test_postgis_geometry_follows_lon_lat(shared_file, pg_url):
    store = open_store(pg_url)
    ingest_ais_file(store, shared_file("ais/kystverket/Ais1000Lines.nm4"))
    with store.engine.connect() as conn:
        ok, total = conn.execute(
            sa.text(
                "SELECT count(*) FILTER (WHERE ST_X(geom) = lon AND ST_Y(geom) = lat), count(*)"
                " FROM positions WHERE lon IS NOT NULL"
            )
        ).one()
    assert ok == total > 0
    store.dispose()


def _wait_for_first_batch(db_file: Path, proc: subprocess.Popen, timeout_s: float = 60.0) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"ingest finished before it could be killed (exit {proc.returncode}); use a bigger file"
            )
        if db_file.exists():
            try:
                engine = sa.create_engine(f"sqlite:///{db_file}")
                with engine.connect() as conn:
                    done = conn.execute(
                        sa.text("SELECT coalesce(max(lines_done), 0) FROM ingest_runs")
                    ).scalar()
                engine.dispose()
                if done:
                    return int(done)
            except sa.exc.OperationalError:
                pass
        time.sleep(0.05)
    pytest.fail("no batch committed in time")


def test_killed_ingest_resumes_to_the_store_of_one_clean_run(tmp_path):
    data = fictitious_fleet_nmea(tmp_path / "fleet.nmea", vessels=12, hours=60, every_min=5)
    killed_db, clean_db = tmp_path / "killed.db", tmp_path / "clean.db"
    cmd = [
        sys.executable,
        "-m",
        "tracker.cli",
        "--db",
        str(killed_db),
        "ingest",
        "ais",
        str(data),
        "--batch-size",
        "100",
    ]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done = _wait_for_first_batch(killed_db, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    total_lines = len(data.read_text().splitlines())
    assert 0 < done < total_lines
    partial = sa.create_engine(f"sqlite:///{killed_db}")
    assert 0 < row_counts(partial)["positions"]
    partial.dispose()

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    clean = subprocess.run(
        [*cmd[:4], str(clean_db), *cmd[5:]], env=env, capture_output=True, text=True, timeout=300
    )
    assert clean.returncode == 0, clean.stderr
    resumed_engine, clean_engine = (
        sa.create_engine(f"sqlite:///{killed_db}"),
        sa.create_engine(f"sqlite:///{clean_db}"),
    )
    assert row_counts(resumed_engine) == row_counts(clean_engine)
    assert store_snapshot(resumed_engine) == store_snapshot(clean_engine)
