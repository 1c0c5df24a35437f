"""AIS files ingested straight to the archive (no store): the same rows, counts and events as
through a store, idempotent per file, bad lines kept aside. Fictitious vessels only."""

from __future__ import annotations

import csv
import hashlib
import json

import pandas as pd
import pyarrow.dataset as ds
import pytest
import sqlalchemy as sa

from tests.test_archive import fleet
from tracker.cli import main
from tracker.jobs.archive_detect import cluster_client, detect_archive
from tracker.jobs.detect import detect_store
from tracker.sources.ais.synth import track_to_nmea, write_nmea
from tracker.sources.ports import read_geofences
from tracker.store import open_store
from tracker.store.archive import read_manifest
from tracker.store.ingest import ingest_ais_file
from tracker.store.tables import positions

pytestmark = pytest.mark.slow

BAD = "!AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*FF"  # checksum written wrong on purpose


def _messages(lines: list[str]) -> list[list[str]]:
    """Sentences grouped into messages (a two-part type 5 is two sentences)."""
    out: list[list[str]] = []
    for line in lines:
        count, number = line.split("!AIVDM,", 1)[1].split(",")[:2]
        if number == "1" or not out:
            out.append([line])
        else:
            out[-1].append(line)
        assert int(count) >= len(out[-1])
    return out


@pytest.fixture(scope="module")
def two_files(tmp_path_factory):
    """Two inputs of the fictitious fleet: B repeats 40 of A's sentences (a second station
    hearing the same transmissions) and holds one line with a bad checksum."""
    tmp = tmp_path_factory.mktemp("archive-ingest")
    by_vessel = {
        mmsi: track_to_nmea(track, mmsi=mmsi, name=f"TEST {mmsi} FICTITIOUS", station="test")
        for mmsi, track in fleet().items()
    }
    mmsis = sorted(by_vessel)
    a_msgs = [m for v in mmsis[:3] for m in _messages(by_vessel[v])]
    b_msgs = [m for v in mmsis[3:] for m in _messages(by_vessel[v])]
    repeated = a_msgs[100:140]
    b_msgs = b_msgs[:50] + [[BAD]] + repeated + b_msgs[50:]
    a = write_nmea(tmp / "station-a-fictitious.nmea", [s for m in a_msgs for s in m])
    b_lines = [s for m in b_msgs for s in m]
    b = write_nmea(tmp / "station-b-fictitious.nmea", b_lines)
    bad_line = b_lines.index(BAD) + 1
    # by hand: repeated messages, of which one-sentence ones are position reports (type 1)
    rep = {"messages": len(repeated), "positions": sum(len(m) == 1 for m in repeated)}
    assert 0 < rep["positions"] < rep["messages"]  # statics (type 5, two sentences) too
    return tmp, a, b, bad_line, rep


@pytest.fixture(scope="module")
def both_ways(two_files):
    tmp, a, b, _, _ = two_files
    store = open_store(str(tmp / "store.db"))
    via_store = [ingest_ais_file(store, a), ingest_ais_file(store, b)]
    out = tmp / "archive"
    code = main(["archive", "ingest", str(a), str(b), "--out", str(out), "--json"])
    assert code == 0
    return store, out, via_store


def _archived(out) -> pd.DataFrame:
    table = ds.dataset(out, format="parquet", partitioning="hive", exclude_invalid_files=True)
    return table.to_table().to_pandas()


def test_archive_holds_the_rows_an_ingest_stores(both_ways, two_files):
    store, out, _ = both_ways
    rep = two_files[4]
    with store.engine.connect() as conn:
        stored = pd.DataFrame(
            conn.execute(
                sa.select(
                    positions.c.key, positions.c.mmsi, positions.c.lon, positions.c.lat
                ).order_by(positions.c.key)
            ).all(),
            columns=["key", "mmsi", "lon", "lat"],
        )
    got = _archived(out)
    assert len(stored) > 800
    # the repeated position reports are archived with both inputs, under one id: their key
    assert len(got) == len(stored) + rep["positions"]
    assert (got["id"] == got["key"]).all()
    assert got["input_id"].nunique() == 2
    once = got.drop_duplicates("id").sort_values("key").reset_index(drop=True)
    pd.testing.assert_frame_equal(
        once[["key", "mmsi", "lon", "lat"]].astype({"mmsi": "int64"}), stored
    )


def test_counts_and_quarantine_are_the_stores(both_ways, two_files):
    _, out, via_store = both_ways
    _, a, b, bad_line, rep = two_files
    manifest = read_manifest(out)
    counts = {e["path"]: e["counts"] for e in manifest["inputs"].values()}
    # each file is deduplicated within itself: its counts are those of a store of it alone
    for path in (a, b):
        alone = ingest_ais_file(open_store(str(path.with_suffix(".alone.db"))), path)
        want = {k: v for k, v in alone.as_dict().items() if k in counts[str(path)]}
        assert counts[str(path)] == want
    # ...so B's repeats of A are archived again (read once by detection), by hand count
    assert counts[str(a)]["positions"] == via_store[0].positions
    assert counts[str(b)]["positions"] == via_store[1].positions + rep["positions"]
    assert via_store[1].duplicates == rep["messages"] and counts[str(b)]["duplicates"] == 0
    assert counts[str(b)]["quarantined"] == 1
    rows = list(csv.DictReader((out / "_quarantine").glob("*.csv").__next__().open()))
    assert [(r["path"], int(r["line"]), r["raw"]) for r in rows] == [(str(b), bad_line, BAD)]
    assert "checksum" in rows[0]["reason"]
    assert not list((out / "_scratch").glob("*"))  # scratch stores are gone


def test_archive_ingest_again_adds_nothing(both_ways, two_files, capsys):
    _, out, _ = both_ways
    _, a, b, _, _ = two_files

    def digest():
        return {
            str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.glob("day=*/*.parquet"))
        }

    before = digest()
    capsys.readouterr()
    assert main(["archive", "ingest", str(a), str(b), "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["already_ingested"] == 2
    assert digest() == before
    assert main(["archive", "ingest", str(b), "--out", str(out), "--reread"]) == 0
    assert digest() == before  # replaced by the same rows, nothing added


def test_events_from_the_archive_are_the_stores(both_ways):
    store, out, _ = both_ways
    geofences = read_geofences()
    want = detect_store(store, geofences)
    kinds = set(zip(want["kind"], want["mmsi"], strict=True))
    assert {("port_call", 999000001), ("encounter", 999000003)} <= kinds
    with cluster_client(n_workers=2) as client:
        got = detect_archive(out, geofences, client, rows_per_bucket=200)
    with store.engine.connect() as conn:
        key_of = dict(conn.execute(sa.select(positions.c.id, positions.c.key)).all())
    want = want.assign(position_ids=[[key_of[int(i)] for i in ids] for ids in want["position_ids"]])
    a = want.sort_values("key").reset_index(drop=True)
    b = got.sort_values("key").reset_index(drop=True)
    assert list(a["key"]) == list(b["key"]) and len(a) >= 6
    for col in a.columns:
        if col == "position_ids":  # the same fixes (encounters list them sorted by id)
            assert [sorted(map(int, v)) for v in a[col]] == [sorted(map(int, v)) for v in b[col]]
        else:
            assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col


def test_a_file_refused_whole_leaves_nothing_behind(both_ways, two_files, capsys):
    _, out, _ = both_ways
    tmp, a, _, _, _ = two_files
    untimed = tmp / "untimed-fictitious.nmea"  # A's sentences without their tag blocks
    untimed.write_text(
        "".join("!" + line.split("!", 1)[1] + "\n" for line in a.read_text().splitlines())
    )
    before = read_manifest(out)["inputs"]
    capsys.readouterr()
    assert main(["archive", "ingest", str(untimed), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no line carries a time" in err[0] and str(untimed) in err[0]
    assert read_manifest(out)["inputs"] == before
    assert not list((out / "_scratch").glob("*"))
