"""``tracker vessels history``: identity changes with their time and the input line they came
from, on FICTITIOUS type 5 reports encoded with pyais."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pyais import decode
from pyais.encode import encode_dict

from tracker.cli import main
from tracker.sources.ais.synth import tag_block, write_nmea

T1 = datetime(2025, 5, 20, 6, 0, tzinfo=UTC)
T2 = datetime(2025, 5, 22, 18, 30, tzinfo=UTC)


def _renamed(tmp_path):
    """Line 1: a comment; lines 2-3: type 5 'FICTITIOUS ALPHA' at T1; line 4: a position;
    lines 5-6: type 5 'FICTITIOUS BRAVO' at T2 (same MMSI, new call sign)."""

    def static(name, callsign, ts, seq):
        data = {
            "type": 5,
            "mmsi": 999000401,
            "shipname": name,
            "callsign": callsign,
            "ship_type": 70,
        }
        return [
            tag_block(ts, station="test") + s
            for s in encode_dict(data, talker_id="AI", radio_channel="A", seq_id=seq)
        ]

    pos = {"type": 1, "mmsi": 999000401, "lon": -14.0, "lat": 9.0, "speed": 8.0, "second": 0}
    lines = ["# FICTITIOUS test vessel"]
    lines += static("FICTITIOUS ALPHA", "FICTA", T1, 1)
    lines += [tag_block(T1.replace(hour=7), station="test") + encode_dict(pos, talker_id="AI")[0]]
    lines += static("FICTITIOUS BRAVO", "FICTB", T2, 2)
    assert len(lines) == 6
    return write_nmea(tmp_path / "renamed.nmea", lines), lines


def test_history_lists_the_name_change_with_time_and_line(tmp_path, capsys):
    path, lines = _renamed(tmp_path)
    db = str(tmp_path / "t.db")
    assert main(["--db", db, "ingest", "ais", str(path)]) == 0
    capsys.readouterr()
    assert main(["--db", db, "vessels", "history", "999000401", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    changes = {r["attribute"]: r for r in rows if r["change"] == "changed"}
    assert set(changes) == {"name", "callsign"}
    name = changes["name"]
    assert (name["old"], name["new"]) == ("FICTITIOUS ALPHA", "FICTITIOUS BRAVO")
    assert datetime.fromisoformat(name["time"]) == T2
    assert datetime.fromisoformat(name["previous_time"]) == T1
    assert name["input_path"].endswith("renamed.nmea") and (name["line"], name["line_end"]) == (
        5,
        6,
    )
    # oracle: pyais' decode of the lines the history cites
    cited = [lines[n - 1].split("\\")[-1] for n in (name["line"], name["line_end"])]
    assert decode(*cited).asdict()["shipname"] == "FICTITIOUS BRAVO"
    first = [r for r in rows if r["change"] == "first" and r["attribute"] == "name"]
    assert first[0]["new"] == "FICTITIOUS ALPHA" and first[0]["line"] == 2
    # the text form says the same, with the time and file:line
    assert main(["--db", db, "vessels", "history", "999000401"]) == 0
    text = capsys.readouterr().out
    assert "name changed: FICTITIOUS ALPHA -> FICTITIOUS BRAVO" in text
    assert "2025-05-22 18:30:00" in text and "renamed.nmea:5-6" in text
    assert text.strip().endswith("2 changes")


def test_history_of_an_unknown_vessel_is_one_error_line(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "e.db"), "vessels", "history", "999000499"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tracker: error:") and len(err.strip().splitlines()) == 1
