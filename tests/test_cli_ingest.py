"""The command line as a user runs it: ingest, JSON summary, errors, vessels list/show."""

from __future__ import annotations

import json

import pandas as pd
from aisutil import fictitious_fleet_nmea

from tracker.cli import main


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_prints_summary_and_bad_lines(shared_file, tmp_path, capsys):
    db = str(tmp_path / "t.db")
    path = str(shared_file("ais/pyais/nmea_data_sample.txt"))
    code, out, err = _run(
        capsys, "--db", db, "ingest", "ais", path, "--assume-time", "2020-01-01T00:00Z"
    )
    assert code == 0
    assert out.strip().startswith("read 898, stored ")
    assert out.strip().endswith("quarantined 120")
    assert f"{path}:4: empty payload" in err.splitlines()
    assert "more quarantined lines" in err


def _dma_oracle(path) -> tuple[int, int]:
    """(rows, identity changes) of a DMA CSV by pandas: a static report is due for each row whose
    identity columns differ from the same MMSI's previous identity (rows with none given skipped)."""
    raw = pd.read_csv(path, dtype=str).fillna("")
    columns = ["IMO", "Callsign", "Name", "Ship type", "Width", "Length", "Draught", "Destination"]
    ident = raw[["MMSI", *columns]].apply(lambda c: c.str.strip())
    ident = ident.replace({"Unknown": "", "Undefined": ""})
    ident = ident[ident[columns].ne("").any(axis=1)]
    changes = sum(
        (group[columns] != group[columns].shift()).any(axis=1).sum()
        for _, group in ident.groupby("MMSI")
    )
    return len(raw), int(changes)


def test_ingest_json_has_the_summary_keys(shared_file, tmp_path, capsys):
    db = str(tmp_path / "t.db")
    path = shared_file("ais/dma/aisdk_header.csv")
    rows, identities = _dma_oracle(path)
    assert rows > 100 and identities > 0
    code, out, _ = _run(capsys, "--db", db, "ingest", "ais", str(path), "--json")
    assert code == 0
    assert json.loads(out) == {
        "read": rows,
        "positions": rows,
        "statics": identities,
        "duplicates": 0,
        "quarantined": 0,
        "invalid_mmsi": 0,
        "already_ingested": 0,
    }
    code, out, _ = _run(capsys, "--db", db, "ingest", "ais", str(path), "--reread", "--json")
    assert json.loads(out) == {
        "read": rows,
        "positions": 0,
        "statics": 0,
        "duplicates": rows,
        "quarantined": 0,
        "invalid_mmsi": 0,
        "already_ingested": 0,
    }
    code, out, _ = _run(capsys, "--db", db, "ingest", "ais", str(path), "--json")
    assert json.loads(out) == {
        "read": 0,
        "positions": 0,
        "statics": 0,
        "duplicates": 0,
        "quarantined": 0,
        "invalid_mmsi": 0,
        "already_ingested": 1,
    }
    code, out, _ = _run(capsys, "--db", db, "ingest", "ais", str(path))
    assert "1 files already ingested in full, not read again (--reread" in out


def test_ingest_without_times_is_a_one_line_error(shared_file, tmp_path, capsys):
    code, out, err = _run(
        capsys,
        "--db",
        str(tmp_path / "t.db"),
        "ingest",
        "ais",
        str(shared_file("ais/pyais/nmea_data_sample.txt")),
    )
    assert code == 2
    lines = [line for line in err.splitlines() if line]
    assert (
        len(lines) == 1 and lines[0].startswith("tracker: error: ") and "--assume-time" in lines[0]
    )


def test_missing_file_and_unknown_format_are_clear_errors(tmp_path, capsys):
    code, _, err = _run(
        capsys, "--db", str(tmp_path / "t.db"), "ingest", "ais", str(tmp_path / "nope.nmea")
    )
    assert code == 2 and "no such file" in err
    odd = tmp_path / "odd.txt"
    odd.write_text("hello\nworld\n")
    code, _, err = _run(capsys, "--db", str(tmp_path / "t.db"), "ingest", "ais", str(odd))
    assert code == 2 and "cannot tell the AIS format" in err and "--format" in err


def test_db_from_environment(tmp_path, monkeypatch, capsys):
    path = fictitious_fleet_nmea(tmp_path / "f.nmea", vessels=2, hours=1)
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "env.db"))
    code, out, _ = _run(capsys, "ingest", "ais", str(path), "--json")
    assert code == 0 and json.loads(out)["positions"] > 0
    assert (tmp_path / "env.db").exists()


def test_vessels_list_and_show(tmp_path, capsys):
    db = str(tmp_path / "t.db")
    path = fictitious_fleet_nmea(tmp_path / "f.nmea", vessels=2, hours=2)
    _run(capsys, "--db", db, "ingest", "ais", str(path))
    code, out, _ = _run(capsys, "--db", db, "vessels", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and [v["mmsi"] for v in listed] == [999000001, 999000002]
    assert listed[0]["name"] == "TEST VESSEL 1"
    code, out, _ = _run(capsys, "--db", db, "vessels", "show", "999000002", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["mmsi"] == [999000002]
    assert shown["positions"] == listed[1]["positions"] > 0
    assert shown["first_position"]["ts"] < shown["last_position"]["ts"]
    assert {i["name"] for i in shown["identities"]} == {"TEST VESSEL 2"}
    code, out, _ = _run(capsys, "--db", db, "vessels", "show", "999000002")
    assert "TEST VESSEL 2" in out and "positions" in out
    code, _, err = _run(capsys, "--db", db, "vessels", "show", "123456789")
    assert code == 2 and "nothing stored" in err


def test_file_in_the_wrong_format_is_a_one_line_error_and_stores_nothing(
    shared_file, tmp_path, capsys
):
    import sqlalchemy as sa

    db = tmp_path / "t.db"
    nmea = str(shared_file("ais/kystverket/Ais1000Lines.nm4"))
    code, out, err = _run(capsys, "--db", str(db), "ingest", "ais", nmea, "--format", "noaa-csv")
    lines = [line for line in err.splitlines() if line]
    assert (
        code == 2
        and out.strip()
        == "read 0, stored 0 positions and 0 static reports, duplicates 0, quarantined 0"
    )
    assert len(lines) == 1 and lines[0].startswith(
        f"tracker: error: {nmea}: not readable as noaa-csv"
    )
    assert lines[0].endswith("give --format nmea")
    csv = str(shared_file("ais/dma/aisdk_header.csv"))
    code, _, err = _run(
        capsys,
        "--db",
        str(db),
        "ingest",
        "ais",
        csv,
        "--format",
        "nmea",
        "--assume-time",
        "2020-01-01T00:00Z",
    )
    lines = [line for line in err.splitlines() if line]
    assert code == 2 and len(lines) == 1 and "not readable as nmea" in lines[0]
    assert lines[0].endswith("give --format dma-csv")
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        for table in ("ingest_runs", "positions", "static_reports", "raw_blocks", "quarantine"):
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() == 0
    engine.dispose()


def test_invalid_mmsis_are_counted_in_the_summary(tmp_path, capsys):
    from datetime import UTC, datetime

    from pyais.encode import encode_dict

    from tracker.sources.ais.synth import tag_block

    invalid = [0, 222222222, 200123456]  # placeholder, repeated digit, MID 200 unassigned
    lines = [
        tag_block(datetime(2025, 5, 20, 0, i, tzinfo=UTC))
        + encode_dict(
            {"type": 1, "mmsi": m, "lon": 1, "lat": 1}, talker_id="AI", sentence_type="VDM"
        )[0]
        for i, m in enumerate([*invalid, 999000001])
    ]
    path = tmp_path / "m.nmea"
    path.write_text("\n".join(lines) + "\n")
    db = str(tmp_path / "t.db")
    code, out, _ = _run(capsys, "--db", db, "ingest", "ais", str(path))
    assert code == 0 and out.strip().endswith("; 3 messages from invalid MMSIs (kept, flagged)")
    code, out, _ = _run(
        capsys, "--db", str(tmp_path / "u.db"), "ingest", "ais", str(path), "--json"
    )
    assert json.loads(out)["invalid_mmsi"] == 3 and json.loads(out)["positions"] == 4


def test_ingest_progress_bar_only_on_a_terminal_and_json_unchanged(tmp_path, capsys, monkeypatch):
    import io
    import sys

    path = fictitious_fleet_nmea(tmp_path / "f.nmea", vessels=2, hours=1)
    code, piped, err = _run(
        capsys, "--db", str(tmp_path / "a.db"), "ingest", "ais", str(path), "--json"
    )
    assert code == 0 and err == ""  # capsys: stderr is not a terminal, no bar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    fake = Terminal()
    monkeypatch.setattr(sys, "stderr", fake)
    code, shown, _ = _run(
        capsys, "--db", str(tmp_path / "b.db"), "ingest", "ais", str(path), "--json"
    )
    assert code == 0 and "f.nmea" in fake.getvalue() and " msg" in fake.getvalue()
    assert json.loads(shown) == json.loads(piped) and json.loads(piped)["positions"] > 0
