"""``tracker report``: every claim of the brief names its source, the lineage points at real
lines of the input, and text from AIS, lists and sightings is escaped in HTML and Markdown."""

from __future__ import annotations

import csv
import gzip
import html
import re
from datetime import UTC, datetime

import pytest
from pyais import decode
from pyais.encode import encode_dict

from tracker.cli import main
from tracker.jobs.demo_case import DEMO_AIS, DEMO_WATCHLIST, load_demo_case
from tracker.sources.ais.synth import tag_block, write_nmea
from tracker.sources.sightings import sighting_from_fields, sightings_frame
from tracker.store import open_store
from tracker.store.ingest import ingest_ais_file
from tracker.store.sightings import store_sightings

CONAKRY_QUAY = (-13.715, 9.515)  # lon, lat of the demo ship's berth (scripts/make_demo_ais.py)
HOSTILE = "<img src=x onerror=alert(1)>"
# AIS names are 20 characters of the 6-bit alphabet: upper case, no lower case letters
HOSTILE_6BIT = "<SCRIPT>X</SCRIPT>"

SOURCE_PATTERNS = [
    re.compile(r"AIS input #\d+ \S+:\d+"),  # AIS input file and line
    re.compile(r"list \w+, edition \d{4}-\d{2}-\d{2}"),  # list + edition (+ entry)
    re.compile(r"sighting source .+, licence "),  # sighting source and licence
    re.compile(r"^store: \w+"),  # an absence: the table that was searched
]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("report") / "demo.db"
    store = open_store(str(db))
    load_demo_case(store)
    store.dispose()
    return db


def _tables(markdown: str) -> dict[str, list[list[str]]]:
    """Section title -> rows (cells split on unescaped |) of its claim table."""
    out: dict[str, list[list[str]]] = {}
    title = None
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip()
            continue
        if (
            not line.startswith("|")
            or line.startswith("|---")
            or line == "| when | claim | source |"
        ):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        out.setdefault(title, []).append(cells)
    return out


def _line(path, number: int) -> str:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as f:
        for i, text in enumerate(f, start=1):
            if i == number:
                return text.rstrip("\n")
    raise AssertionError(f"{path} has no line {number}")


def test_every_claim_of_the_demo_brief_names_its_source(demo_db, tmp_path, capsys):
    out = tmp_path / "brief.md"
    assert main(["--db", str(demo_db), "report", "--vessel", "999000001", "--out", str(out)]) == 0
    tables = _tables(out.read_text())
    rows = [r for t, rs in tables.items() if t != "Sources" for r in rs]
    assert len(rows) >= 8  # identity, sanctions, first/last fix, port call, gap, sightings...
    for _when, claim, source in rows:
        assert claim and any(p.search(source) for p in SOURCE_PATTERNS), (claim, source)
    # the demo ship called at Conakry: the port call names the demo NMEA file and a line
    calls = tables["Port calls"]
    assert len(calls) == 1 and "CONAKRY" in calls[0][1]
    m = re.search(r"first fix in port: AIS input #\d+ (\S+):(\d+)", calls[0][2])
    assert m and m.group(1) == DEMO_AIS.name
    text = _line(DEMO_AIS, int(m.group(2)))
    # oracle: pyais' decode of that very line, and its NMEA 4 tag-block time
    msg = decode(text.split("\\")[-1]).asdict()
    sent = datetime.fromtimestamp(int(re.search(r"c:(\d+)", text).group(1)), UTC)
    assert msg["mmsi"] == 999000001
    assert abs(msg["lon"] - CONAKRY_QUAY[0]) < 0.05 and abs(msg["lat"] - CONAKRY_QUAY[1]) < 0.05
    assert calls[0][0] == f"{sent:%Y-%m-%d %H:%M} UTC"  # the call starts at that fix
    # the identity claim points at the type 5 report's two lines, which carry the name
    first_name = next(r for r in tables["Identity history (AIS static reports)"] if "name" in r[1])
    m = re.search(r"AIS input #\d+ (\S+):(\d+)-(\d+)", first_name[2])
    parts = [_line(DEMO_AIS, n).split("\\")[-1] for n in (int(m.group(2)), int(m.group(3)))]
    assert decode(*parts).asdict()["shipname"].strip() in first_name[1]
    # the sanctions claim names the list, its edition and the entry, as the watchlist file has it
    with open(DEMO_WATCHLIST, newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        entry = next(r for r in rows if r.get("mmsi") == "999000001")
    listed = [
        r for r in tables[next(t for t in tables if t.startswith("Sanctions"))] if "LISTED" in r[1]
    ]
    assert listed and "list watchlist, edition 2025-06-01" in listed[0][2]
    assert entry["name"].upper() in listed[0][1]
    # the gap keeps its wording and the rule that chose it
    (gap,) = tables["AIS gaps"]
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{demo_db}")
    with engine.connect() as conn:
        (wording,) = conn.execute(
            sa.text("SELECT wording FROM events WHERE kind = 'gap' AND mmsi = 999000001")
        ).one()
    engine.dispose()
    assert wording in gap[1] and "rule:" in gap[1] and "last fix before" in gap[2]


def _hostile_store(tmp_path):
    """A FICTITIOUS vessel whose names are script: the exact HTML payload (NOAA CSV: AIS 6-bit
    names cannot hold it), a 6-bit one encoded with pyais, and a hostile sighting naming it."""
    t = datetime(2025, 5, 20, 6, tzinfo=UTC)
    lines = []
    for i, data in enumerate(
        [
            {"type": 5, "mmsi": 999000301, "shipname": HOSTILE_6BIT, "callsign": "FICT9"},
            {"type": 1, "mmsi": 999000301, "lon": -14.0, "lat": 9.0, "speed": 5.0, "second": 0},
        ]
    ):
        lines += [
            tag_block(t.replace(minute=i), station="test") + s
            for s in encode_dict(data, talker_id="AI", radio_channel="A", seq_id=1)
        ]
    store = open_store(str(tmp_path / "hostile.db"))
    ingest_ais_file(store, write_nmea(tmp_path / "hostile.nmea", lines))
    csv_path = tmp_path / "hostile.csv"
    csv_path.write_text(
        "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,"
        "Length,Width,Draft,Cargo,TransceiverClass\n"
        f'999000301,2025-05-21T00:00:00,9.1,-14.1,1,1,1,"{HOSTILE}",,FICT9,70,0,,,,,A\n'
    )
    ingest_ais_file(store, csv_path)
    store_sightings(
        store,
        sightings_frame(
            [
                sighting_from_fields(
                    {
                        "time": "2025-05-21T00:00Z",
                        "lon": -14.1,
                        "lat": 9.1,
                        "kind": "photo",
                        "source": HOSTILE,
                        "licence": HOSTILE,
                        "url": "javascript:alert(1)",
                        "vessel_mmsi": "999000301",
                        "note": HOSTILE,
                    }
                )
            ]
        ),
    )
    store.dispose()
    return tmp_path / "hostile.db"


def test_html_brief_escapes_ais_and_sighting_text(tmp_path):
    db = _hostile_store(tmp_path)
    page = tmp_path / "brief.html"
    assert main(["--db", str(db), "report", "--vessel", "999000301", "--out", str(page)]) == 0
    text = page.read_text()
    assert HOSTILE not in text and "<SCRIPT>" not in text and "<script" not in text.lower()
    assert html.escape(HOSTILE) in text  # shown, as text (oracle: the standard library)
    assert html.escape(HOSTILE_6BIT) in text
    # a URL that is not plain http(s) is shown as text, never made a link
    assert "javascript:alert(1)" in text and not re.search(r"href=[\"']?\s*javascript", text)
    # the name change from the NMEA name to the CSV name is a claim with both sources
    assert re.search(r"name changed from .*SCRIPT.* to .*IMG SRC", text)
    md = tmp_path / "brief.md"
    assert main(["--db", str(db), "report", "--vessel", "999000301", "--out", str(md)]) == 0
    assert "<img" not in md.read_text().lower() and "<script" not in md.read_text().lower()


def test_case_brief_covers_watchlist_and_sighted_vessels(demo_db, tmp_path, capsys):
    out = tmp_path / "case.md"
    assert main(["--db", str(demo_db), "report", "--case", "--out", str(out), "--json"]) == 0
    import json

    vessels = json.loads(capsys.readouterr().out)["vessels"]
    # oracle: the demo watchlist (999000001) and the case watchlist's IMOs, read here with csv
    from tracker.core.paths import project_data

    with open(project_data("watchlists", "case-2025.csv"), newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        imos = {f"IMO{r['imo']}" for r in rows if r["imo"]}
    assert "999000001" in vessels and imos <= set(vessels)


def test_report_needs_a_vessel_or_case(demo_db, tmp_path, capsys):
    code = main(["--db", str(demo_db), "report", "--out", str(tmp_path / "x.md")])
    assert code == 2 and "--vessel" in capsys.readouterr().err
    code = main(
        ["--db", str(demo_db), "report", "--vessel", "999000001", "--out", str(tmp_path / "x.pdf")]
    )
    assert code == 2 and not (tmp_path / "x.pdf").exists()
