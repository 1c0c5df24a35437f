"""Ingest into real stores (a SQLite file; PostgreSQL + PostGIS): counts, idempotency, resume."""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from aisutil import (
    ASSUMED,
    REAL_NMEA,
    aisstream_lines,
    fictitious_fleet_nmea,
    lineage_entries,
    pyais_counts,
    pyais_kinds,
    row_counts,
    store_snapshot,
    stored_with_raw,
)
from pyais.encode import encode_dict

import tracker
from tracker.core.errors import InputError, MissingTimeError
from tracker.sources.ais.textio import file_sha256
from tracker.store import open_store
from tracker.store.ais import list_vessels, read_positions, read_static_reports, vessel_summary
from tracker.store.ingest import ingest_ais_file

NOT_RECORDINGS = {"LICENSE-NLOD.txt", "mid.csv", "PROVENANCE.md", "README.md"}


def _both_stored(engine) -> int:
    """Transmissions stored as a position and a static report (type 19: one key in both)."""
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT count(*) FROM positions p JOIN static_reports s ON s.key = p.key")
        ).scalar_one()


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
    summary = ingest_ais_file(store, path, assume_time=ASSUMED if REAL_NMEA[relative] else None)
    expected_positions, expected_statics, expected_both = pyais_kinds(path)
    counts = row_counts(store.engine)
    both = _both_stored(store.engine)
    # every message pyais decodes is stored once per transmission, or counted as a repeat
    stored = counts["positions"] + counts["static_reports"] - both
    assert stored + summary.duplicates == expected_positions + expected_statics - expected_both
    assert (counts["positions"], counts["static_reports"]) == (summary.positions, summary.statics)
    # lineage: every stored transmission, and nothing else, has its raw text kept
    assert counts["raw_blocks"] == stored
    assert all(r["raw"] is not None for r in stored_with_raw(store.engine))
    store.dispose()


def test_nmea_data_sample_store(shared_file, sqlite_url):
    store = open_store(sqlite_url)
    summary = ingest_ais_file(
        store, shared_file("ais/pyais/nmea_data_sample.txt"), assume_time=ASSUMED
    )
    counts = row_counts(store.engine)
    assert summary.read == 898
    # 778 decodable messages: each stored (with its raw text kept) or counted as a repeat
    stored = counts["positions"] + counts["static_reports"]
    assert counts["raw_blocks"] == stored  # no type 19 here: one kept text per stored row
    assert 0 < stored and stored + summary.duplicates <= 778
    assert counts["quarantine"] == summary.quarantined == 120
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
    path = shared_file("ais/kystverket/Ais1000Lines.nm4")
    ingest_ais_file(store, path)
    stored = read_positions(store, vessels_only=False)
    assert len(stored) == pyais_counts(path)[0] > 0
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
    second = ingest_ais_file(store, path, reread=True, **options)
    assert row_counts(store.engine) == counts
    assert store_snapshot(store.engine) == snapshot
    assert second.positions == second.statics == 0
    assert second.read == first.read and second.quarantined == first.quarantined
    # without --reread a file ingested in full is not read again at all
    third = ingest_ais_file(store, path, **options)
    assert (third.read, third.positions, third.statics, third.already_ingested) == (0, 0, 0, 1)
    assert row_counts(store.engine) == counts
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


# --- transmission identity: one transmission heard by two receivers is stored once ---------

RX_TIME = datetime(2025, 5, 29, 12, 0, 59, tzinfo=UTC)


def _nmea_checksum(body: str) -> str:
    """NMEA checksum (XOR of the bytes between the delimiter and ``*``), computed here."""
    chk = 0
    for byte in body.encode("ascii"):
        chk ^= byte
    return f"{chk:02X}"


def _tagged(sentences: list[str], when: datetime, station: str) -> list[str]:
    body = f"c:{int(when.timestamp())},s:{station}"
    return [f"\\{body}*{_nmea_checksum(body)}\\{s}" for s in sentences]


TYPE1 = encode_dict(
    {"type": 1, "mmsi": 999000041, "lon": -13.7, "lat": 9.5, "speed": 0.0, "second": 58},
    talker_id="AI",
    sentence_type="VDM",
)
TYPE5 = encode_dict(
    {"type": 5, "mmsi": 999000042, "shipname": "TEST VESSEL W", "callsign": "TESTW"},
    talker_id="AI",
    sentence_type="VDM",
    seq_id=2,
)


def _hearings(sentences, offsets_s: list[float]) -> list[str]:
    lines: list[str] = []
    for i, offset in enumerate(offsets_s):
        lines += _tagged(sentences, RX_TIME + timedelta(seconds=offset), station=f"rx{i % 2}")
    return lines


def _stored_and_lineage(store) -> tuple[int, list[dict]]:
    """How many rows are stored, and each with the raw text kept for it, checked against
    pyais' own decode of that text (the oracle: the same MMSI and message type)."""
    import pyais

    rows = stored_with_raw(store.engine)
    for row in rows:
        assert row["raw"] is not None, row
        decoded = pyais.decode(*_SENTENCE.findall(row["raw"]))
        assert (decoded.mmsi, decoded.msg_type) == (row["mmsi"], row["msg_type"]), row
    return len(rows), rows


def _hearing_text(path: Path, first: int, count: int) -> tuple[int, int, str]:
    """(first line, last line, text) of ``count`` lines of ``path`` from line ``first``."""
    lines = path.read_text().splitlines()[first - 1 : first - 1 + count]
    return first, first + count - 1, "\n".join(lines)


@pytest.mark.parametrize("sentences", [TYPE1, TYPE5], ids=["type1-position", "type5-static"])
@pytest.mark.parametrize("batch_size", [1, 5000], ids=["batch-each", "one-batch"])
def test_hearings_either_side_of_a_minute_are_one_transmission(
    sentences, batch_size, tmp_path, db_url
):
    # 12:00:59 at receiver rx0 and 12:01:01 at receiver rx1: one transmission
    path = tmp_path / "two-receivers.nmea"
    path.write_text("\n".join(_hearings(sentences, [0, 2])) + "\n")
    store = open_store(db_url)
    summary = ingest_ais_file(store, path, batch_size=batch_size)
    stored, rows = _stored_and_lineage(store)
    assert stored == 1
    assert (summary.positions + summary.statics, summary.duplicates) == (1, 1)
    # the row keeps the first hearing's lines; the repeat is counted, its text not kept
    (row,) = rows
    assert (row["line"], row["line_end"], row["raw"]) == _hearing_text(path, 1, len(sentences))
    assert len(lineage_entries(store.engine)) == 1
    with store.engine.connect() as conn:
        sources = {
            r[0]
            for r in conn.execute(
                sa.text("SELECT source FROM positions UNION ALL SELECT source FROM static_reports")
            )
        }
    assert sources == {"rx0"}  # the first hearing's receiver
    again = ingest_ais_file(store, path, batch_size=batch_size)
    assert (again.positions, again.statics) == (0, 0)
    assert _stored_and_lineage(store)[0] == 1
    store.dispose()


@pytest.mark.parametrize("sentences", [TYPE1, TYPE5], ids=["type1-position", "type5-static"])
@pytest.mark.parametrize("batch_size", [1, 5000], ids=["batch-each", "one-batch"])
def test_same_payload_two_minutes_apart_is_two_transmissions(
    sentences, batch_size, tmp_path, db_url
):
    path = tmp_path / "two-minutes.nmea"
    path.write_text("\n".join(_hearings(sentences, [0, 120])) + "\n")
    store = open_store(db_url)
    summary = ingest_ais_file(store, path, batch_size=batch_size)
    stored, rows = _stored_and_lineage(store)
    assert stored == 2 and summary.duplicates == 0
    n = len(sentences)
    kept = sorted((r["line"], r["line_end"], r["raw"]) for r in rows)
    assert kept == [_hearing_text(path, 1, n), _hearing_text(path, 1 + n, n)]
    store.dispose()


def test_window_repeat_found_in_the_store_from_another_file(tmp_path, sqlite_url):
    # a static heard at 12:00:59 by one receiver's file, at 12:01:40 by another's: 41 s apart
    first, second = tmp_path / "rx0.nmea", tmp_path / "rx1.nmea"
    first.write_text("\n".join(_tagged(TYPE5, RX_TIME, "rx0")) + "\n")
    second.write_text(
        "\n".join(_tagged(TYPE5, RX_TIME + timedelta(seconds=41), "rx1"))
        + "\n"
        + "\n".join(_tagged(TYPE5, RX_TIME + timedelta(seconds=200), "rx1"))
        + "\n"
    )
    store = open_store(sqlite_url)
    ingest_ais_file(store, first)
    summary = ingest_ais_file(store, second)
    assert (summary.statics, summary.duplicates) == (1, 1)  # 41 s: repeat; 200 s: a new one
    stored, rows = _stored_and_lineage(store)
    assert stored == 2
    # the first file's hearing and the second file's 200 s one are kept; the 41 s repeat in
    # the second file (its lines 1-2) is counted, its text not kept
    kept = sorted((r["sha256"], r["line"], r["line_end"], r["raw"]) for r in rows)
    assert kept == sorted(
        [
            (file_sha256(first), *_hearing_text(first, 1, 2)),
            (file_sha256(second), *_hearing_text(second, 3, 2)),
        ]
    )
    assert [e[:2] for e in lineage_entries(store.engine)] == sorted(
        [(file_sha256(first), 1), (file_sha256(second), 3)]
    )


def test_second_field_not_available_falls_back_to_the_window(tmp_path, sqlite_url):
    no_second = encode_dict(
        {"type": 1, "mmsi": 999000043, "lon": -13.7, "lat": 9.5, "second": 60},
        talker_id="AI",
        sentence_type="VDM",
    )
    path = tmp_path / "no-second.nmea"
    path.write_text("\n".join(_hearings(no_second, [0, 2, 150])) + "\n")
    store = open_store(sqlite_url)
    summary = ingest_ais_file(store, path)
    assert (summary.positions, summary.duplicates) == (2, 1)


# --- bad input: a file unreadable in the chosen format is refused, nothing stored -----------


@pytest.mark.parametrize(
    ("relative", "wrong", "right"),
    [
        ("ais/kystverket/Ais1000Lines.nm4", "noaa-csv", "nmea"),
        ("ais/kystverket/Ais1000Lines.nm4", "dma-csv", "nmea"),
        ("ais/dma/aisdk_header.csv", "nmea", "dma-csv"),
        ("ais/dma/aisdk_header.csv", "aisstream-json", "dma-csv"),
        ("ais/aisdb/test_data_20210701.csv.gz", "nmea", "decoded-csv"),
        ("ais/libais/typeexamples.json", "decoded-csv", "gpsd-json"),
    ],
)
def test_file_in_another_format_is_refused_and_stores_nothing(
    relative, wrong, right, shared_file, sqlite_url
):
    path = shared_file(relative)
    store = open_store(sqlite_url)
    with pytest.raises(InputError) as info:
        ingest_ais_file(store, path, format=wrong, assume_time=ASSUMED)
    message = str(info.value)
    assert str(path) in message and f"not readable as {wrong}" in message
    assert f"--format {right}" in message
    assert set(row_counts(store.engine).values()) == {0}  # no ingest_runs row, no quarantine


def test_small_all_garbage_file_is_refused(tmp_path, sqlite_url):
    path = tmp_path / "garbage.nmea"
    path.write_text("hello\n!AIVDM,this is not,*00\nworld\n")
    store = open_store(sqlite_url)
    with pytest.raises(InputError, match="not readable as nmea"):
        ingest_ais_file(store, path, format="nmea", assume_time=ASSUMED)
    assert set(row_counts(store.engine).values()) == {0}


# --- invalid MMSIs are kept, stored and counted --------------------------------------------

#: Hand-picked: placeholders and MMSIs whose MID (first three digits) the ITU never assigned.
INVALID_MMSIS = [0, 123, 222222222, 123456789, 200123456]
VALID_MMSIS = [273297850, 999000051]  # a Russian ship station; tracker's fictitious range


def test_invalid_mmsis_are_stored_and_counted(tmp_path, db_url):
    lines = []
    for i, mmsi in enumerate(INVALID_MMSIS + VALID_MMSIS):
        (sentence,) = encode_dict(
            {"type": 1, "mmsi": mmsi, "lon": -13.7 + i / 100, "lat": 9.5, "second": 10},
            talker_id="AI",
            sentence_type="VDM",
        )
        lines += _tagged([sentence], RX_TIME + timedelta(minutes=i), "rx0")
    path = tmp_path / "mmsis.nmea"
    path.write_text("\n".join(lines) + "\n")
    store = open_store(db_url)
    summary = ingest_ais_file(store, path)
    assert summary.invalid_mmsi == len(INVALID_MMSIS)
    assert f"{len(INVALID_MMSIS)} messages from invalid MMSIs (kept, flagged)" in str(summary)
    stored = set(read_positions(store, vessels_only=False)["mmsi"])
    assert stored == set(INVALID_MMSIS + VALID_MMSIS)
    store.dispose()


# --- stored rows against pyais' own decode of the same input lines -------------------------

_SENTENCE = re.compile(r"![A-Z]{2}VD[MO],[^*]*\*[0-9A-Fa-f]{2}")
_REAL_FOR_ORACLE = {**REAL_NMEA, "ais/aishub/aishub-ais-nmea-sample.log.gz": True}


def _text_or_none(value) -> str | None:
    text = (value or "").replace("@", " ").strip()
    return text or None


def _expected_position(d) -> dict:
    lon, lat = d.lon, d.lat
    if lon is None or lat is None or lon == 181 or lat == 91:
        lon = lat = None
    speed = getattr(d, "speed", None)
    unavailable = {9: 1023, 27: 63}.get(d.msg_type, 102.3)
    if speed is not None and speed >= unavailable:
        speed = None
    course = getattr(d, "course", None)
    if course is not None and course >= 360:
        course = None
    heading = getattr(d, "heading", None)
    if heading is not None and heading >= 360:
        heading = None
    return {"lon": lon, "lat": lat, "sog_kn": speed, "cog_deg": course, "heading_deg": heading}


def _raw_ship_type(sentences: list[str], msg_type: int) -> int | None:
    """The 8-bit ship-type code read straight from the payload (ITU-R M.1371 6-bit armouring:
    char - 48, minus 8 more above 40), not through pyais' ShipType enum, which collapses
    reserved codes (66 -> 65)."""
    payload = "".join(s.split(",")[5] for s in sentences)
    bits = "".join(f"{(v - 8 if (v := ord(c) - 48) > 40 else v):06b}" for c in payload)
    start = {5: 232, 19: 263, 24: 40}[msg_type]
    if len(bits) < start + 8:
        return None
    return int(bits[start : start + 8], 2) or None


def _expected_static(d, sentences: list[str]) -> dict:
    ship_type = _raw_ship_type(sentences, d.msg_type)
    if d.msg_type == 24 and d.partno == 0:
        return {"name": _text_or_none(d.shipname)}
    if d.msg_type == 24:
        return {"callsign": _text_or_none(d.callsign), "ship_type": ship_type}
    out = {"name": _text_or_none(d.shipname), "ship_type": ship_type}
    if d.msg_type == 5:
        out |= {"callsign": _text_or_none(d.callsign), "imo": d.imo or None}
    return out


def _input_lines(path: Path) -> list[str]:
    """The file's lines as tracker keeps raw text (whitespace stripped), gzip or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        return [line.decode("ascii", "backslashreplace").strip() for line in fh]


@pytest.mark.parametrize("relative", sorted(_REAL_FOR_ORACLE))
def test_stored_rows_equal_pyais_decode_of_their_input_lines(shared_file, sqlite_url, relative):
    """Every stored row has its raw text kept: the input line(s) it came from, which pyais
    decodes to the row's values (the oracle: pyais on the kept text, read back from the store)."""
    import pyais

    from tracker.store.tables import positions, static_reports

    path = shared_file(relative)
    store = open_store(sqlite_url)
    ingest_ais_file(store, path, assume_time=ASSUMED if _REAL_FOR_ORACLE[relative] else None)
    lines = _input_lines(path)
    rows = stored_with_raw(store.engine)
    assert len(rows) > 0
    values = {}
    with store.engine.connect() as conn:
        for table, names in (
            (positions, ["lon", "lat", "sog_kn", "cog_deg", "heading_deg"]),
            (static_reports, ["name", "callsign", "imo", "ship_type"]),
        ):
            for rec in conn.execute(sa.select(table.c.id, *[table.c[n] for n in names])):
                values[(table.name, rec[0])] = dict(zip(names, rec[1:], strict=True))
    compared = 0
    for row in rows:
        raw = row["raw"]
        assert raw is not None, row
        # the kept text is the input: first fragment at `line`, last at `line_end`
        fragments = raw.split("\n")
        first, last = row["line"], row["line_end"]
        assert fragments[0] == lines[first - 1] and fragments[-1] == lines[last - 1], row
        assert set(fragments) <= set(lines[first - 1 : last]), row
        decoded = pyais.decode(*_SENTENCE.findall(raw))
        assert (row["mmsi"], row["msg_type"]) == (decoded.mmsi, decoded.msg_type), raw
        got = values[(row["table"], row["id"])]
        if row["table"] == "positions":
            for name, value in _expected_position(decoded).items():
                if value is None:
                    assert got[name] is None, (name, raw)
                else:
                    assert got[name] == pytest.approx(value, abs=1e-6), (name, raw)
        else:
            for name, value in _expected_static(decoded, _SENTENCE.findall(raw)).items():
                assert got[name] == value, (name, raw)
        compared += 1
    assert compared == len(rows) == len(values)
    store.dispose()
