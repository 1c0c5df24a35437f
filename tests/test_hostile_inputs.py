"""Hostile inputs through every reader (issue 14): NUL and control characters, dates 0001 and
9999, 1e308, reserved ship-type codes, non-vessel stations, literal ``\\x0d\\x0a`` text, huge
lines, gzip and ODS bombs, billion laughs and external entities in XML, sidecar symlinks.

Every case asserts one of: a clear one-line error (an ``InputError``), or quarantine with its
worded reason, with everything else stored (counts checked against a hand count written here)
and nothing stored wrongly. The cases that could blow up run in a subprocess under a 1 GB
address-space limit and a 60 s timeout, and must end with a one-line error, never a traceback.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import subprocess
import sys
import textwrap
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pyais
import pytest
import sqlalchemy as sa
from aisutil import lineage_entries
from pyais.encode import encode_dict

from tracker.core.records import BadRecord
from tracker.core.shiptypes import ship_type_label
from tracker.core.text import TextProblem, check_text, escape_raw, xml_text
from tracker.sources.ais.nmea import iter_nmea_lines
from tracker.sources.sightings import read_sightings
from tracker.store.ais import distinct_identities, list_vessels
from tracker.store.engine import open_store
from tracker.store.ingest import ingest_ais_file
from tracker.store.sightings import read_stored_sightings, store_sightings

ROOT = Path(__file__).resolve().parents[1]
T0 = 1748512800  # 2025-05-29T10:00:00Z
MEMORY_LIMIT = 1 << 30  # 1 GB address space
TIME_LIMIT = 60  # seconds


# ---------------------------------------------------------------- helpers


def _sentence(data: dict, ts: int) -> str:
    (sentence,) = encode_dict(data, talker_id="AI", radio_channel="A")
    body = f"c:{ts}"
    checksum = 0
    for ch in body.encode():
        checksum ^= ch
    return f"\\{body}*{checksum:02X}\\{sentence}"


def _position(mmsi: int, i: int, *, msg_type: int = 1) -> dict:
    return {
        "type": msg_type,
        "mmsi": mmsi,
        "lon": 10.0 + i / 100,
        "lat": 55.0 + i / 100,
        "speed": 10.0,
        "course": 90.0,
        "heading": 90,
        "second": i % 60,
    }


def _table_counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        out = {
            name: conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()
            for name in ("positions", "static_reports", "quarantine")
        }
        out["lineage"] = len(lineage_entries(engine))  # messages whose raw text is kept
    engine.dispose()
    return out


def _texts(url: str, sql: str) -> list[str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = [r[0] for r in conn.execute(sa.text(sql))]
    engine.dispose()
    return rows


def _stored_times(url: str) -> list:
    """``positions.ts`` read through its column type (UTC datetimes on either backend)."""
    from tracker.store.tables import positions

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        times = list(conn.execute(sa.select(positions.c.ts)).scalars())
    engine.dispose()
    return times


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


_RUNNER = """
import json, resource, sys, traceback
from tracker.core.errors import TrackerError
try:
{body}
except TrackerError as exc:
    print("ERROR " + str(exc))
    sys.exit(3)
"""


def run_limited(body: str, tmp_path: Path, env: dict | None = None) -> tuple[str, str]:
    """Run ``body`` (Python, indented into a try block) in a subprocess with 1 GB and 60 s.

    Returns ``("error", message)`` for a TrackerError (one line), ``("ok", stdout)`` for a
    clean exit; fails the test on a traceback, a crash (memory limit) or a timeout.
    """
    script = _RUNNER.format(body=textwrap.indent(textwrap.dedent(body), "    "))
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        **(env or {}),
    }
    try:
        proc = subprocess.run(
            [sys.executable, "-c", script],
            cwd=tmp_path,
            env=environment,
            preexec_fn=_limits,
            capture_output=True,
            text=True,
            timeout=TIME_LIMIT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"hang: no answer within {TIME_LIMIT} s")
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    if proc.returncode == 3:
        lines = [line for line in proc.stdout.splitlines() if line.startswith("ERROR ")]
        assert len(lines) == 1, proc.stdout[-2000:]
        message = lines[0].removeprefix("ERROR ")
        assert "\n" not in message and message.strip(), message
        return "error", message
    assert proc.returncode == 0, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    return "ok", proc.stdout


# ---------------------------------------------------------------- core helpers


def test_check_text_refuses_control_characters_and_escape_raw_shows_them():
    with pytest.raises(
        TextProblem, match=r"name contains a control character U\+0000 NUL at character 4"
    ):
        check_text("ABC\x00DEF", "name")
    with pytest.raises(TextProblem, match=r"U\+001B ESC"):
        check_text("A\x1b[31mB", "note")
    with pytest.raises(TextProblem, match="lone surrogate"):
        check_text("A\udcffB", "note")
    assert check_text("  A \t B\nC  ", "name") == "A B C"
    assert check_text("A   B\t", "name", collapse=False) == "A   B"
    assert escape_raw("a\x00b\x1bc\u0085") == "a\\x00b\\x1bc\\x85"
    assert escape_raw(b"!AIVDM\x00\xff") == "!AIVDM\\x00\\xff"
    long = escape_raw("x" * 5000)
    assert long.startswith("x" * 4000) and long.endswith("... [1000 more characters]")
    assert escape_raw(long) == long  # idempotent
    assert xml_text("ok\x00\x0b") == "ok\\x00\\x0b"
    bad = BadRecord("p\x00", 1, "why\x00", "raw\x00")
    assert (bad.path, bad.reason, bad.raw) == ("p\\x00", "why\\x00", "raw\\x00")


def test_ship_type_labels():
    assert ship_type_label(30) == "fishing"
    assert ship_type_label(35) == "military operations"
    assert ship_type_label(52) == "tug"
    assert ship_type_label(55) == "law enforcement"
    assert ship_type_label(66).startswith("passenger")
    assert ship_type_label(70) == "cargo, all ships of this type"
    assert ship_type_label(77) == "cargo, reserved"
    assert ship_type_label(84) == "tanker, hazardous category D"
    for code in (1, 9, 10, 38, 39, 100, 255):
        assert ship_type_label(code) == "reserved", code
    assert ship_type_label(0) == "not available"


# ---------------------------------------------------------------- NMEA through both backends


def _nul_nmea(tmp_path: Path) -> Path:
    lines = [_sentence(_position(211000000 + i, i), T0 + 60 * i) for i in range(20)]
    # line 7: a NUL inside the payload (the checksum no longer matches)
    lines[6] = lines[6][:40] + "\x00" + lines[6][40:]
    path = tmp_path / "nul.nmea"
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return path


def test_nul_byte_nmea_stores_the_same_rows_on_both_backends(db_url, tmp_path):
    path = _nul_nmea(tmp_path)
    store = open_store(db_url)
    summary = ingest_ais_file(store, path)
    store.engine.dispose()
    # hand count: 20 lines, 1 with a NUL -> 19 positions, 1 quarantined
    assert (summary.positions, summary.quarantined) == (19, 1)
    counts = _table_counts(db_url)
    assert counts["positions"] == 19 and counts["quarantine"] == 1 and counts["lineage"] == 19
    (reason,) = _texts(db_url, "SELECT reason FROM quarantine")
    (raw,) = _texts(db_url, "SELECT raw FROM quarantine")
    # a NUL leaves the XOR checksum as it was: pyais refuses the payload, in words
    assert reason == "payload does not decode as type 1: characters outside the AIS 6-bit alphabet"
    assert "\\x00" in raw and "\x00" not in raw
    assert _texts(db_url, "SELECT status FROM ingest_runs") == ["complete"]
    # line 7 is the one missing; every other MMSI is stored
    mmsis = {int(m) for m in _texts(db_url, "SELECT mmsi FROM positions")}
    assert mmsis == {211000000 + i for i in range(20) if i != 6}


def test_nmea_times_out_of_range_are_quarantined_with_their_reason(db_url, tmp_path):
    lines = [_sentence(_position(211000000 + i, i), T0 + 60 * i) for i in range(5)]
    lines.append(_sentence(_position(211000099, 1), 100))  # 1970-01-01
    lines.append(_sentence(_position(211000098, 2), 4102444800))  # 2100-01-01
    path = tmp_path / "dates.nmea"
    path.write_text("\n".join(lines) + "\n")
    store = open_store(db_url)
    summary = ingest_ais_file(store, path)
    store.engine.dispose()
    assert (summary.positions, summary.quarantined) == (5, 2)
    reasons = sorted(_texts(db_url, "SELECT reason FROM quarantine"))
    assert "before 1990-01-01" in reasons[0] + reasons[1]
    assert "in the future" in reasons[0] + reasons[1]
    years = {t.year for t in _stored_times(db_url)}
    assert years == {2025}


# ---------------------------------------------------------------- NOAA CSV through both backends

_NOAA_HEADER = (
    "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,"
    "Length,Width,Draft,Cargo,TransceiverClass"
)


def _noaa_row(mmsi: int, ts: str, name: str, *, length="100.0", width="20.0", sog="10.0") -> str:
    return (
        f"{mmsi},{ts},55.0,10.0,{sog},90.0,90,{name},IMO9000001,CALL,70,0,{length},{width},5.0,70,A"
    )


def test_noaa_nul_name_dates_and_ranges_both_backends(db_url, tmp_path):
    rows = [
        _noaa_row(211000001, "2025-05-29T10:00:00", "GOOD ONE"),
        _noaa_row(211000002, "2025-05-29T10:01:00", "BAD\x00NAME"),  # NUL in the name
        _noaa_row(211000003, "0001-01-01T00:00:00", "OLD"),  # before 1990
        _noaa_row(211000004, "9999-12-31T23:59:59", "LATE"),  # in the future
        _noaa_row(211000005, "2025-05-29T10:02:00", "ZERO DIMS", length="0.0", width="0.0"),
        _noaa_row(211000006, "2025-05-29T10:03:00", "HUGE", length="1e308"),  # 1e308 m
        _noaa_row(211000007, "2025-05-29T10:04:00", "FAST", sog="1e308"),
        _noaa_row(211000008, "2025-05-29T10:05:00", "ESC\x1b[31mRED"),  # terminal escape
        _noaa_row(211000009, "2025-05-29T10:06:00", "GOOD TWO"),
    ]
    path = tmp_path / "noaa.csv"
    path.write_bytes(("\n".join([_NOAA_HEADER, *rows]) + "\n").encode())
    store = open_store(db_url)
    summary = ingest_ais_file(store, path)
    store.engine.dispose()
    # hand count: rows 1, 5, 9 usable -> 3 positions, 3 static reports; 6 quarantined
    assert (summary.positions, summary.statics, summary.quarantined) == (3, 3, 6)
    reasons = _texts(db_url, "SELECT reason FROM quarantine ORDER BY line")
    assert len(reasons) == 6
    assert "name contains a control character U+0000 NUL" in reasons[0]
    assert "before 1990-01-01" in reasons[1]
    assert "in the future" in reasons[2]
    assert "Length 1e+308 m outside 0..600" in reasons[3]
    assert "SOG 1e+308 kn" in reasons[4]
    assert "U+001B ESC" in reasons[5]
    for raw in _texts(db_url, "SELECT raw FROM quarantine"):
        assert "\x00" not in raw and "\x1b" not in raw
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        dims = dict(conn.execute(sa.text("SELECT mmsi, length_m FROM static_reports")).all())
        widths = dict(conn.execute(sa.text("SELECT mmsi, beam_m FROM static_reports")).all())
    engine.dispose()
    assert dims == {211000001: 100.0, 211000005: None, 211000009: 100.0}
    assert widths[211000005] is None  # 0.0 is "unknown", never 0 m


# ---------------------------------------------------------------- sightings through both backends


def test_sightings_hostile_rows_both_backends(db_url, tmp_path):
    header = "time,lon,lat,kind,source,vessel_name,time_uncertainty_h,radius_m,note"
    rows = [
        "2025-05-29T10:00:00Z,-13.7,9.5,photo,analyst,GOOD ONE,1,100,fine",
        "2025-05-29T11:00:00Z,-13.7,9.5,photo,analyst,GOOD TWO,,,fine",
        "2025-05-29T12:00:00Z,-13.7,9.5,photo,analyst,NOTE NUL,,,a\x00b",
        "9999-12-31T23:59:59Z,-13.7,9.5,photo,analyst,LATE,,,",
        "0001-01-01T00:00:00Z,-13.7,9.5,photo,analyst,OLD,,,",
        "0001-01-01T00:00:00+02:00,-13.7,9.5,photo,analyst,OVERFLOW,,,",
        "2025-05-29T13:00:00Z,-13.7,9.5,photo,analyst,UNC,1e308,,",
        "2025-05-29T14:00:00Z,-13.7,9.5,photo,analyst,RADIUS,,1e308,",
        "2025-05-29T15:00:00Z,-13.7,9.5,photo,analyst,NEG,,-5,",
        "2025-05-29T16:00:00Z,-13.7,9.5,photo,analyst,NAME\x07BELL,,,",
        "2025-05-29T17:00:00Z,-13.7,9.5,photo,analyst,GOOD THREE,24,5000,fine",
    ]
    path = tmp_path / "s.csv"
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode())
    read = read_sightings(path)
    # hand count: 3 good rows, 8 quarantined
    assert len(read.sightings) == 3 and len(read.bad) == 8
    why = [b.reason for b in sorted(read.bad, key=lambda b: b.line)]
    assert "note contains a control character U+0000 NUL" in why[0]
    assert "in the future" in why[1]
    assert "before 1990-01-01" in why[2]
    assert "is not an ISO 8601 time" in why[3]
    assert "time_uncertainty_h 1e+308 outside" in why[4]
    assert "radius_m 1e+308 outside" in why[5]
    assert "radius_m -5 outside" in why[6]
    assert "vessel_name contains a control character U+0007" in why[7]
    store = open_store(db_url)
    saved = store_sightings(store, read.sightings, bad=read.bad, imported_from=str(path))
    assert (saved.added, saved.quarantined) == (3, 8)
    back = read_stored_sightings(store)
    store.engine.dispose()
    assert sorted(back["vessel_name"]) == ["GOOD ONE", "GOOD THREE", "GOOD TWO"]
    assert back["time"].dt.year.tolist() == [2025, 2025, 2025]
    for raw in _texts(db_url, "SELECT raw FROM quarantine"):
        assert "\x00" not in raw and "\x07" not in raw


def test_sightings_geojson_nul_and_dates(tmp_path):
    def feature(props):
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-13.7, 9.5]},
            "properties": {"kind": "photo", "source": "a", **props},
        }

    features = [
        feature({"time": "2025-05-29T10:00:00Z"}),
        feature({"time": "2025-05-29T10:00:00Z", "note": "x\u0000y"}),
        feature({"time": "9999-12-31T23:59:59Z"}),
        feature({"time": "2025-05-29T11:00:00Z", "time_uncertainty_h": 1e308}),
    ]
    path = tmp_path / "s.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    read = read_sightings(path)
    assert len(read.sightings) == 1 and len(read.bad) == 3
    reasons = " | ".join(b.reason for b in read.bad)
    assert "U+0000 NUL" in reasons and "in the future" in reasons
    assert "time_uncertainty_h" in reasons


# ---------------------------------------------------------------- AIS details


def _armor(bits: str) -> str:
    out = []
    for i in range(0, len(bits), 6):
        value = int(bits[i : i + 6].ljust(6, "0"), 2)
        out.append(chr(value + 48 if value < 40 else value + 56))
    return "".join(out)


def _with_ship_type(sentences: list[str], code: int) -> list[str]:
    """Type 5 sentences with the raw 8-bit ship type set to ``code`` (pyais' encoder would
    collapse a reserved code just as its decoder does)."""
    parts = [s.split(",") for s in sentences]
    payload = "".join(p[5] for p in parts)
    fill = int(parts[-1][6][0])
    bits = "".join(f"{(ord(c) - 48) - (8 if ord(c) - 48 > 40 else 0):06b}" for c in payload)
    bits = bits[: len(bits) - fill]
    bits = bits[:232] + f"{code:08b}" + bits[240:]
    armored = _armor(bits)
    chunks = [armored[i : i + 60] for i in range(0, len(armored), 60)]
    out = []
    for n, chunk in enumerate(chunks, start=1):
        fill_bits = (6 - len(bits) % 6) % 6 if n == len(chunks) else 0
        body = f"AIVDM,{len(chunks)},{n},0,A,{chunk},{fill_bits}"
        checksum = 0
        for ch in body.encode():
            checksum ^= ch
        out.append(f"!{body}*{checksum:02X}")
    return out


def test_raw_ship_type_codes_are_kept(tmp_path):
    lines = []
    for i, code in enumerate((66, 77, 9, 38, 30, 70)):
        data = {
            "type": 5,
            "mmsi": 211000100 + i,
            "shipname": f"SHIP {i}",
            "callsign": "ABCD",
            "ship_type": code,
            "to_bow": 50,
            "to_stern": 50,
            "to_port": 10,
            "to_starboard": 10,
            "draught": 5.0,
        }
        sentences = _with_ship_type(encode_dict(data, talker_id="AI", radio_channel="A"), code)
        lines.extend(f"\\c:{T0 + i}*00\\{s}" for s in sentences)
    items = list(iter_nmea_lines(enumerate((line.encode() for line in lines), start=1)))
    statics = {m.mmsi: m.static["ship_type"] for m in items if not isinstance(m, BadRecord)}
    assert statics == {
        211000100: 66,
        211000101: 77,
        211000102: 9,
        211000103: 38,
        211000104: 30,
        211000105: 70,
    }
    assert len(items) == 6
    # the oracle: the bits as written; pyais' enum collapses them (65, 75, 0, 0)
    collapsed = [
        int(pyais.decode(*_with_ship_type(encode_dict({"type": 5, "mmsi": 1}), c)).ship_type)
        for c in (66, 77, 9, 38)
    ]
    assert collapsed == [65, 75, 0, 0]


def test_literal_crlf_text_after_a_sentence_is_tolerated():
    good = _sentence(_position(211000001, 1), T0)
    lines = [good + "\\x0d\\x0a", good.replace("c:", "c:") + "\\r\\n"]
    items = list(iter_nmea_lines(enumerate((line.encode() for line in lines), start=1)))
    kept = [i for i in items if not isinstance(i, BadRecord)]
    assert len(kept) == 2 and kept[0].mmsi == 211000001
    assert kept[0].position["lon"] == pytest.approx(10.01, abs=1e-4)


def test_non_vessel_stations_are_no_vessels(db_url, tmp_path):
    base = {
        "type": 4,
        "mmsi": 2190000,
        "year": 2025,
        "month": 5,
        "day": 29,
        "hour": 10,
        "minute": 0,
        "second": 0,
        "lon": 12.0,
        "lat": 55.5,
    }
    aton = {"type": 21, "mmsi": 992191000, "name": "BUOY 7", "lon": 12.1, "lat": 55.6}
    sar = {"type": 9, "mmsi": 111219000, "lon": 12.2, "lat": 55.7, "speed": 120, "alt": 300}
    lines = [
        _sentence(base, T0),
        _sentence(aton, T0 + 10),
        _sentence(sar, T0 + 20),
        _sentence(_position(211000001, 1), T0 + 30),
        _sentence(_position(211000001, 2), T0 + 90),
    ]
    path = tmp_path / "stations.nmea"
    path.write_text("\n".join(lines) + "\n")
    store = open_store(db_url)
    summary = ingest_ais_file(store, path)
    assert summary.positions == 5 and summary.quarantined == 0
    vessels = list_vessels(store)
    identities = distinct_identities(store)
    store.engine.dispose()
    assert vessels["mmsi"].tolist() == [211000001]
    assert identities["mmsi"].tolist() == [211000001]
    types = sorted(int(t) for t in _texts(db_url, "SELECT msg_type FROM positions"))
    assert types == [1, 1, 4, 9, 21]


# ---------------------------------------------------------------- bombs and huge inputs


def _gzip_bomb(path: Path, megabytes: int = 3000, line: bytes | None = None) -> Path:
    block = (line * ((1 << 20) // len(line))) if line else b"\0" * (1 << 20)
    with gzip.open(path, "wb", compresslevel=9) as fh:
        for _ in range(megabytes):
            fh.write(block)
    return path


@pytest.fixture(scope="module")
def bomb_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bombs")
    _gzip_bomb(folder / "bomb.gz", 3000)
    row = b"2025-05-29T10:00:00Z,-13.7,9.5,photo,analyst,X,,,\n"
    header = b"time,lon,lat,kind,source,vessel_name,time_uncertainty_h,radius_m,note\n"
    with gzip.open(folder / "sightings.csv.gz", "wb", compresslevel=9) as fh:
        fh.write(header)
        block = row * ((1 << 20) // len(row))
        for _ in range(3000):
            fh.write(block)
    return folder


def test_gzip_bomb_nmea_is_one_line_error(bomb_dir, tmp_path):
    kind, message = run_limited(
        f"""
        from tracker.store.engine import open_store
        from tracker.store.ingest import ingest_ais_file
        store = open_store("sqlite:///{tmp_path}/t.db")
        ingest_ais_file(store, "{bomb_dir}/bomb.gz", format="nmea")
        """,
        tmp_path,
    )
    assert kind == "error" and "decompression bomb" in message


def test_gzip_bomb_sightings_is_one_line_error(bomb_dir, tmp_path):
    kind, message = run_limited(
        f"""
        from tracker.sources.sightings import read_sightings
        read_sightings("{bomb_dir}/sightings.csv.gz")
        """,
        tmp_path,
    )
    # repeated CSV rows deflate less than 1000:1: the whole-file cap (512 MB) stops it first
    assert kind == "error" and "limit $TRACKER_MAX_TEXT_FILE_BYTES" in message


def test_decompressed_size_cap_is_configurable(tmp_path):
    path = tmp_path / "small.nmea.gz"
    lines = "\n".join(_sentence(_position(211000001, i), T0 + i) for i in range(3000))
    path.write_bytes(gzip.compress(lines.encode()))
    kind, message = run_limited(
        f"""
        from tracker.sources.ais.nmea import iter_nmea
        n = sum(1 for _ in iter_nmea("{path}"))
        print(n)
        """,
        tmp_path,
        env={"TRACKER_MAX_DECOMPRESSED_BYTES": "50000"},
    )
    assert kind == "error" and "inflates past 50,000 bytes" in message
    kind, out = run_limited(
        f"""
        from tracker.sources.ais.nmea import iter_nmea
        print(sum(1 for _ in iter_nmea("{path}")))
        """,
        tmp_path,
    )
    assert kind == "ok" and out.split() == ["3000"]


def test_huge_line_is_quarantined_and_the_rest_stored(tmp_path):
    good = [_sentence(_position(211000000 + i, i), T0 + 60 * i) for i in range(4)]
    path = tmp_path / "huge.nmea"
    with open(path, "wb") as fh:
        fh.write((good[0] + "\n" + good[1] + "\n").encode())
        fh.write(b"!AIVDM," + b"A" * (200 * 2**20) + b"\n")  # one 200 MB line
        fh.write((good[2] + "\n" + good[3] + "\n").encode())
    kind, out = run_limited(
        f"""
        from tracker.store.engine import open_store
        from tracker.store.ingest import ingest_ais_file
        store = open_store("sqlite:///{tmp_path}/t.db")
        bad = []
        s = ingest_ais_file(store, "{path}", on_bad=bad.append)
        print(json.dumps([s.positions, s.quarantined, [b.line for b in bad], [b.reason for b in bad]]))
        """,
        tmp_path,
    )
    assert kind == "ok"
    positions, quarantined, lines, reasons = json.loads(out.strip().splitlines()[-1])
    assert (positions, quarantined, lines) == (4, 1, [3])
    assert "longer than 1,048,576" in reasons[0]


def test_huge_csv_line_is_quarantined(tmp_path):
    path = tmp_path / "noaa_huge.csv"
    with open(path, "wb") as fh:
        fh.write((_NOAA_HEADER + "\n").encode())
        fh.write((_noaa_row(211000001, "2025-05-29T10:00:00", "A") + "\n").encode())
        fh.write(b"211000002," + b"9" * (50 * 2**20) + b"\n")
        fh.write((_noaa_row(211000003, "2025-05-29T10:01:00", "B") + "\n").encode())
    kind, out = run_limited(
        f"""
        from tracker.sources.ais.exports import iter_noaa_csv
        from tracker.core.records import BadRecord
        items = list(iter_noaa_csv("{path}"))
        print(json.dumps([[i.line, isinstance(i, BadRecord)] for i in items]))
        """,
        tmp_path,
    )
    assert kind == "ok"
    assert json.loads(out.strip().splitlines()[-1]) == [[2, False], [3, True], [4, False]]


def _ods(path: Path, content_body: str) -> Path:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="S">'
        f"{content_body}</table:table></office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
    return path


_CELL = '<table:table-cell office:value-type="string"{attr}><text:p>x</text:p></table:table-cell>'


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        (
            "columns",
            "<table:table-row>"
            + _CELL.format(attr=' table:number-columns-repeated="2000000000"')
            + "</table:table-row>",
            "columns",
        ),
        (
            "rows",
            '<table:table-row table:number-rows-repeated="2000000000">'
            + _CELL.format(attr="")
            + "</table:table-row>",
            "rows",
        ),
        (
            "cells",
            '<table:table-row table:number-rows-repeated="100000">'
            + _CELL.format(attr=' table:number-columns-repeated="1000"')
            + "</table:table-row>",
            "cells",
        ),
    ],
)
def test_ods_bomb_is_one_line_error(tmp_path, name, body, expected):
    path = _ods(tmp_path / f"bomb_{name}.ods", body)
    assert path.stat().st_size < 2000
    kind, message = run_limited(
        f"""
        from tracker.sources.sanctions.readers import read_list
        read_list("{path}", list="uk")
        """,
        tmp_path,
    )
    assert kind == "error" and expected in message and "TRACKER_MAX_ODS" in message


def test_ods_reader_prints_nothing_on_stdout(tmp_path):
    path = _ods(tmp_path / "broken.ods", "<table:table-row><unclosed></table:table-row>")
    kind, message = run_limited(
        f"""
        from tracker.sources.sanctions.readers import read_list
        read_list("{path}", list="uk")
        """,
        tmp_path,
    )
    assert kind == "error" and "SAX" not in message


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol9 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">]>
<{root}>&lol9;</{root}>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<{root}>&secret;</{root}>
"""


@pytest.mark.parametrize("template", [BILLION_LAUGHS, EXTERNAL], ids=["laughs", "external"])
@pytest.mark.parametrize(
    ("reader", "root", "suffix"),
    [
        ("un", "CONSOLIDATED_LIST", "xml"),
        ("eu", "export", "xml"),
        ("kml", "kml", "kml"),
        ("gpx", "gpx", "gpx"),
    ],
)
def test_xml_entities_are_refused(tmp_path, template, reader, root, suffix):
    path = tmp_path / f"hostile.{suffix}"
    path.write_text(template.format(root=root))
    if reader in ("un", "eu"):
        body = f'from tracker.sources.sanctions.readers import read_list\nread_list("{path}", list="{reader}")'
    else:
        body = f'from tracker.sources.routes import read_route\nread_route("{path}")'
    kind, message = run_limited(body, tmp_path)
    assert kind == "error"
    assert "root:" not in message  # /etc/passwd never read into the message
    assert "unsafe XML" in message or "entity" in message.lower()


def test_sidecar_symlinks_are_refused(tmp_path):
    folder = tmp_path / "ofac"
    folder.mkdir()
    (folder / "sdn.csv").write_text(
        '36,"TEST SHIP","vessel","RUSSIA-EO14024","-0-","-0-","-0-","-0-","-0-","-0-","-0-",'
        '"IMO 9000001"\n'
    )
    (folder / "alt.csv").symlink_to("/dev/zero")
    kind, message = run_limited(
        f"""
        from tracker.sources.sanctions.readers import read_list
        read_list("{folder}", list="ofac")
        """,
        tmp_path,
    )
    assert kind == "error" and "alt.csv" in message
    (folder / "alt.csv").unlink()
    (folder / "alt.csv").symlink_to("/etc/passwd")
    kind, message = run_limited(
        f"""
        from tracker.sources.sanctions.readers import read_list
        read_list("{folder}", list="ofac")
        """,
        tmp_path,
    )
    assert kind == "error" and "symlink out of the list's folder" in message


def test_random_bytes_as_ofac_is_one_line_error(tmp_path):
    import random

    rng = random.Random(14)
    path = tmp_path / "random.csv"
    path.write_bytes(bytes(rng.randrange(256) for _ in range(20000)))
    kind, message = run_limited(
        f"""
        from tracker.sources.sanctions.readers import read_list
        read_list("{path}", list="ofac")
        """,
        tmp_path,
    )
    assert kind == "error" and "nothing stored" in message


def test_device_as_input_is_refused(tmp_path):
    kind, message = run_limited(
        """
        from tracker.sources.ais.nmea import iter_nmea
        list(iter_nmea("/dev/zero"))
        """,
        tmp_path,
    )
    assert kind == "error" and "not a regular file" in message


def test_assume_time_out_of_range_is_refused(tmp_path):
    path = tmp_path / "notime.nmea"
    path.write_text(_sentence(_position(211000001, 1), T0).split("\\")[-1] + "\n")
    kind, message = run_limited(
        f"""
        from datetime import datetime, UTC
        from tracker.sources.ais.formats import iter_ais
        list(iter_ais("{path}", assume_time=datetime(1, 1, 1, tzinfo=UTC)))
        """,
        tmp_path,
    )
    assert kind == "error" and "before 1990-01-01" in message


def test_now_is_inside_the_plausible_range():
    from tracker.core.timeutil import time_problem

    assert time_problem(datetime.now(UTC)) is None
    assert time_problem(datetime(1989, 12, 31, tzinfo=UTC)) is not None
