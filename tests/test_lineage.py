"""Lineage in the lean store: raw blocks round-trip any text, look-ups find each stored
message's input lines (also across overlapping blocks), and ``tracker lineage`` /
``tracker vessels show --raw`` print the exact original sentences after the input file is gone."""

from __future__ import annotations

import json
import zlib

import pyais
import pytest
import sqlalchemy as sa
from aisutil import fictitious_fleet_nmea
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.cli import main
from tracker.core.text import escape_raw, xml_text
from tracker.store import open_store
from tracker.store.ingest import ingest_ais_file
from tracker.store.lineage import (
    BLOCK_VERSION,
    block_row,
    decode_block,
    encode_block,
    raw_lineage,
    raw_text,
)
from tracker.store.tables import ingest_runs, raw_blocks

#: Text a reader may hand over: C0/C1 controls, the block's own separator, NMEA delimiters,
#: backslashes, bidi overrides, surrogates, non-characters, astral characters.
HOSTILE = [
    "\x1e",
    "\x1f",
    "\x00",
    "\x1b[2J",
    "\\x1e",
    ",",
    "*",
    "!",
    "\\",
    "\t",
    "\r",
    "\u202e",
    "\u2028",
    "\ud800",
    "\ufffe",
    "\U0001f6a2",
    "\x85",
    "\x7f",
]


def _hostile_text():
    """Any text, with the pieces above more often than chance would give them."""
    piece = st.one_of(st.sampled_from(HOSTILE), st.characters())
    return st.lists(piece, max_size=30).map("".join)


def _escaped_raw():
    """Raw text as readers store it: escaped, fragments of a multi-part message joined by \\n."""
    return st.lists(_hostile_text().map(escape_raw), min_size=1, max_size=3).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 2**31 - 1), st.integers(0, 5), _escaped_raw()),
        max_size=40,
    )
)
def test_block_round_trip(messages):
    """Escaped text, any line order (a multi-part message completed later comes after lines
    past it): every message comes back as it went in; a line given twice keeps its last."""
    lines = [m[0] for m in messages]
    ends = [m[0] + m[1] for m in messages]
    raws = [m[2] for m in messages]
    data = encode_block(lines, ends, raws)
    assert data[0] == BLOCK_VERSION
    expected = {line: (end, raw) for line, end, raw in zip(lines, ends, raws, strict=True)}
    assert decode_block(data) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(_hostile_text(), max_size=12))
def test_unescaped_text_is_never_ambiguous(texts):
    """Text a reader did not escape (the separator U+001E in it, say) is stored escaped as
    ``escape_raw`` would (visible ``\\x1e``), so the other messages of the block are intact."""
    lines = list(range(1, len(texts) + 1))
    decoded = decode_block(encode_block(lines, [None] * len(texts), texts))
    assert sorted(decoded) == lines
    separator = any("\x1e" in t for t in texts)
    for line, text in zip(lines, texts, strict=True):
        end, raw = decoded[line]
        assert end == line
        assert raw == (xml_text(text) if separator else text)


def test_block_by_hand():
    raws = [
        "!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*23",
        "\\g:1-2-9999,c:1565218798*53\\!BSVDM,2,1,3,A,53nPnh8,0*72\n\\g:2-2-9999*53\\!BSVDM,2,2,3,A,0,2*3E",
        escape_raw("EVIL\x1e\x1b[2J\x00 name\ttab"),
        "",
    ]
    lines, ends = [7, 3, 12, 9], [7, 5, 12, None]
    decoded = decode_block(encode_block(lines, ends, raws))
    assert decoded == {7: (7, raws[0]), 3: (5, raws[1]), 12: (12, raws[2]), 9: (9, "")}
    assert "\\x1e" in decoded[12][1] and "\x1e" not in decoded[12][1]
    assert decode_block(encode_block([], [], [])) == {}
    row = block_row(4, lines, ends, raws)
    assert (row["input_id"], row["first_line"], row["last_line"], row["messages"]) == (4, 3, 12, 4)
    with pytest.raises(ValueError, match="1-based"):
        encode_block([0], [0], ["x"])
    with pytest.raises(ValueError, match="line_end"):
        encode_block([5], [4], ["x"])
    with pytest.raises(ValueError, match="unknown layout"):
        decode_block(b"\x07" + zlib.compress(b"1\x1e1\x1e0\x1ex"))
    with pytest.raises(ValueError, match="corrupt"):
        decode_block(bytes((BLOCK_VERSION,)) + zlib.compress(b"2\x1e1,1\x1e0,0\x1eonly one"))


def test_overlapping_blocks_are_all_searched(sqlite_url):
    """Blocks of one input may overlap (a multi-part message completed in a later batch): a
    look-up finds each line in whichever block holds it."""
    store = open_store(sqlite_url)
    with store.engine.begin() as conn:
        input_id = conn.execute(
            ingest_runs.insert()
            .values(
                sha256="0" * 64,
                path="gone.nmea",
                format="nmea",
                status="complete",
                started_at=sa.func.now(),
            )
            .returning(ingest_runs.c.id)
        ).scalar_one()
        conn.execute(
            raw_blocks.insert(),
            [
                block_row(input_id, [10, 12, 20], [10, 12, 20], ["a10", "a12", "a20"]),
                block_row(input_id, [11, 13], [14, 13], ["b11\nb14", "b13"]),
                block_row(input_id, [30], [30], ["c30"]),
            ],
        )
    found = {line: raw_text(store, input_id, line) for line in range(9, 32)}
    assert {k: v for k, v in found.items() if v is not None} == {
        10: "a10",
        11: "b11\nb14",
        12: "a12",
        13: "b13",
        20: "a20",
        30: "c30",
    }
    with store.engine.connect() as conn:  # a connection works as well as a store
        assert raw_text(conn, input_id, 13) == "b13"
        assert raw_text(conn, input_id + 1, 13) is None
    store.dispose()


# --- the command line, on a store whose input file is gone --------------------------------


@pytest.fixture
def gone_input(tmp_path):
    """A store of a fictitious fleet (type 1 fixes, two-sentence type 5 statics) whose input
    file was deleted after the ingest; returns (db path, the file's lines)."""
    path = fictitious_fleet_nmea(tmp_path / "fleet.nmea", vessels=2, hours=2)
    lines = path.read_text().splitlines()
    db = tmp_path / "tracker.db"
    store = open_store(str(db))
    summary = ingest_ais_file(store, path)
    assert summary.positions > 0 and summary.statics > 0
    store.dispose()
    path.unlink()
    return db, lines


def _run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    return code, out


def test_lineage_json_gives_the_exact_lines_after_the_file_is_gone(gone_input, capsys):
    db, lines = gone_input
    _, out = _run(capsys, "--db", str(db), "lineage", "999000001", "--json", "--limit", "0")
    messages = json.loads(out)
    # hand count: 2 h of fixes every 10 min (13) and the statics the synthesiser sends
    fixes = [m for m in messages if m["kind"] == "position"]
    statics = [m for m in messages if m["kind"] == "static"]
    assert len(fixes) == 13 and len(statics) >= 1
    assert [m["ts"] for m in messages] == sorted(m["ts"] for m in messages)
    for m in messages:
        # the kept text is the input: the line itself, or every fragment's line
        fragments = m["raw"].split("\n")
        assert fragments[0] == lines[m["line"] - 1]
        assert fragments[-1] == lines[m["line_end"] - 1]
        assert m["input_path"].endswith("fleet.nmea") and len(m["sha256"]) == 64
        decoded = pyais.decode(*[f.split("\\")[-1] for f in fragments])  # pyais: the oracle
        assert (decoded.mmsi, decoded.msg_type) == (999000001, m["msg_type"])
    assert all(m["line_end"] == m["line"] for m in fixes)
    assert all(m["line_end"] == m["line"] + 1 for m in statics)  # two-sentence type 5


def test_lineage_text_by_mmsi_name_and_window(gone_input, capsys):
    db, lines = gone_input
    _, everything = _run(capsys, "--db", str(db), "lineage", "999000002", "--limit", "0")
    # every stored message of the vessel: its header line, then its exact input lines
    rows = everything.splitlines()
    assert rows[0].startswith("vessel 999000002: MMSI 999000002")
    kept = [r.strip() for r in rows[1:] if r.startswith("    ")]
    own = [line for line in lines if "rx1" in line]  # the synthesiser's station for vessel 2
    assert kept and sorted(kept) == sorted(own)
    heads = [r for r in rows[1:] if not r.startswith("    ")]
    assert len(heads) == len(own) - sum(" static " in h for h in heads)  # type 5: two lines
    assert all(" fleet.nmea:" in h or "/fleet.nmea:" in h for h in heads)
    # by broadcast name (any case), and limited
    _, by_name = _run(capsys, "--db", str(db), "lineage", "test vessel 2", "--limit", "3")
    assert "MMSI 999000002, 3 stored messages" in by_name and "--limit N for more" in by_name
    # a time window: the first hour only (fixes at 00:00 .. 01:00)
    _, window = _run(
        capsys,
        "--db",
        str(db),
        "lineage",
        "999000002",
        "--until",
        "2025-05-20T01:00Z",
        "--json",
        "--limit",
        "0",
    )
    times = [m["ts"] for m in json.loads(window)]
    assert times and max(times) <= "2025-05-20T01:00:00+00:00"
    assert len([m for m in json.loads(window) if m["kind"] == "position"]) == 7


def test_lineage_of_unknown_name_is_one_error_line(gone_input, capsys):
    db, _ = gone_input
    assert main(["--db", str(db), "lineage", "NO SUCH SHIP"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no stored static report names a vessel" in err


def test_vessels_show_raw(gone_input, capsys):
    db, lines = gone_input
    _, out = _run(capsys, "--db", str(db), "vessels", "show", "999000001", "--raw")
    raw_rows = [r for r in out.splitlines() if r.strip().startswith("raw ")]
    assert len(raw_rows) >= 3  # first fix, last fix, the identity reports
    for row in raw_rows:
        where, text = row.strip()[4:].split("  ", 1)
        first = int(where.rsplit(":", 1)[1].split("-")[0])
        assert text == lines[first - 1]
    _, plain = _run(capsys, "--db", str(db), "vessels", "show", "999000001")
    assert "raw " not in plain
    _, js = _run(capsys, "--db", str(db), "vessels", "show", "999000001", "--raw", "--json")
    shown = json.loads(js)
    assert shown["first_position"]["raw"] == lines[shown["first_position"]["line"] - 1]
    assert all(i["raw"].split("\n")[0] == lines[i["line"] - 1] for i in shown["identities"])


def test_raw_lineage_frame(gone_input):
    db, lines = gone_input
    store = open_store(str(db))
    with store.engine.connect() as conn:
        ids = list(conn.execute(sa.text("SELECT id FROM static_reports")).scalars())
    frame = raw_lineage(store, "static_reports", [*ids, 10**9])  # an id not stored: left out
    assert list(frame["id"]) == sorted(ids)
    assert list(frame.columns) == [
        "id",
        "input_id",
        "input_path",
        "sha256",
        "line",
        "line_end",
        "raw",
    ]
    for r in frame.itertuples():
        assert r.raw == "\n".join(lines[r.line - 1 : r.line_end])  # the two sentences, in a row
    store.dispose()
