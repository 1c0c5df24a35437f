"""Detection over a store of real recordings: assumed times never feed a speed or duration,
invalid MMSIs stay out of events, silences at the end of an input are summarised."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from tracker.cli import main
from tracker.core.identifiers import mmsi_problem
from tracker.jobs.detect import DetectionNotes, detect_store
from tracker.sources.ports import read_geofences
from tracker.store import open_store
from tracker.store.ingest import ingest_ais_file
from tracker.store.tables import ingest_runs, positions

AISHUB = "ais/aishub/aishub-ais-nmea-sample.log.gz"  # no times at all: needs --assume-time
SATELLITE = "ais/aisdb/test_data_20210701.csv.gz"  # one day of satellite AIS, real times
VESSEL_TYPES = [1, 2, 3, 18, 19, 27]  # what detection reads
ASSUMED = datetime(2021, 7, 1, 12, tzinfo=UTC)  # inside the satellite day on purpose


@pytest.fixture(scope="module")
def real_store(tmp_path_factory, shared_data):
    db = tmp_path_factory.mktemp("detect") / "real.db"
    store = open_store(str(db))
    ingest_ais_file(store, shared_data / AISHUB, assume_time=ASSUMED)
    ingest_ais_file(store, shared_data / SATELLITE)
    ingest_ais_file(store, shared_data / "ais/aisdb/test_data_20211101.nm4")
    notes = DetectionNotes()
    events = detect_store(store, read_geofences(), notes=notes)
    return store, events, notes, db


def _assumed_ids(store) -> set[int]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(positions.c.id).where(
                positions.c.ts_assumed == sa.true(), positions.c.msg_type.in_(VESSEL_TYPES)
            )
        )
        return {int(r[0]) for r in rows}


def test_no_event_uses_a_fix_whose_time_was_assumed(real_store):
    store, events, notes, _ = real_store
    assumed = _assumed_ids(store)
    assert len(assumed) > 10_000  # the aishub sample is stored, with its times flagged
    assert len(events) > 50  # the satellite day still yields gaps, port calls, implausible
    used = {pid for ids in events["position_ids"] for pid in ids}
    assert used and not (used & assumed)
    assert notes.assumed_time_fixes == len(assumed)
    for figures in events["figures"]:
        for value in figures.values():
            assert not (isinstance(value, float) and value in (float("inf"), float("-inf")))
    # every event lasts as its own fixes say; no zero-length port call from one assumed instant
    calls = events[events["kind"] == "port_call"]
    assert len(calls) > 0 and not (calls["start"] == pd.Timestamp(ASSUMED)).any()


def test_invalid_mmsis_are_kept_in_the_store_but_not_in_events(real_store):
    store, events, notes, _ = real_store
    with store.engine.connect() as conn:
        heard = {int(r[0]) for r in conn.execute(sa.select(positions.c.mmsi).distinct())}
    invalid = {m for m in heard if mmsi_problem(m) is not None}
    assert {0, 123456789} <= invalid or len(invalid) >= 10  # real recordings carry them
    assert not (set(events["mmsi"]) & invalid)
    others = set(events["other_mmsi"].dropna().astype(int))
    assert not (others & invalid)
    assert set(notes.invalid_mmsi) <= invalid and len(notes.invalid_mmsi) > 0


def test_no_open_gap_and_no_gap_under_12_h_is_likely_disabled_in_the_store(real_store):
    _, events, notes, _ = real_store
    gaps = events[events["kind"] == "gap"]
    assert len(gaps) > 0
    assert (gaps["status"] == "closed").all()  # open gaps are summarised, not stored
    disabled = gaps[gaps["confidence"] == "likely disabled"]
    assert ((disabled["end"] - disabled["start"]) >= pd.Timedelta(hours=12)).all()
    assert notes.silent_at_end is not None and len(notes.silent_at_end) > 0
    # a silence runs to the end of the input that heard the vessel, never beyond
    assert (notes.silent_at_end["horizon"] <= pd.Timestamp("2021-07-02", tz="UTC")).all()


def test_events_detect_cli_says_what_it_left_out(real_store, capsys):
    _, _, notes, db = real_store
    code = main(["--db", str(db), "events", "detect", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["assumed_time_fixes_skipped"] == notes.assumed_time_fixes
    assert out["invalid_mmsi_vessels_skipped"] == len(notes.invalid_mmsi)
    assert out["silent_at_end"] == len(notes.silent_at_end)
    code = main(["--db", str(db), "events", "detect"])
    text = capsys.readouterr().out
    assert "fixes whose time was only assumed" in text and "cannot be ships" in text


def test_each_input_keeps_its_span_of_timed_fixes(real_store):
    """ingest_runs.first_ts/last_ts (kept batch by batch) equal min/max over the input's own
    stored positions with real times; the assumed-time aishub input has none."""
    store, _, _, _ = real_store
    with store.engine.connect() as conn:
        r = ingest_runs
        runs = conn.execute(
            sa.select(r.c.id, r.c.path, r.c.first_ts, r.c.last_ts).order_by(r.c.id)
        ).all()
        p = positions  # read through the column type: integer microseconds on SQLite
        oracle = {
            r.input_id: (r.lo, r.hi)
            for r in conn.execute(
                sa.select(
                    p.c.input_id, sa.func.min(p.c.ts).label("lo"), sa.func.max(p.c.ts).label("hi")
                )
                .where(p.c.ts_assumed == sa.false())
                .group_by(p.c.input_id)
            )
        }
    assert len(runs) == 3 and len(oracle) == 2
    for run in runs:
        if run.path.endswith("aishub-ais-nmea-sample.log.gz"):
            assert run.first_ts is None and run.last_ts is None
        else:
            lo, hi = oracle[run.id]
            assert (pd.Timestamp(run.first_ts), pd.Timestamp(run.last_ts)) == (
                pd.Timestamp(lo),
                pd.Timestamp(hi),
            )


def test_chunks_hold_whole_vessels_and_at_most_chunk_rows(real_store):
    """Row-bounded chunks: every chunk under the bound (or one vessel alone), each vessel in
    exactly one chunk, and together the very rows of one full read (pandas comparison)."""
    from tracker.store.ais import iter_positions, read_positions

    store = real_store[0]
    whole = read_positions(store)
    per_vessel = whole.groupby("mmsi").size()
    bound = 100
    assert per_vessel.max() > bound  # one vessel alone over the bound: it comes alone
    chunks = list(iter_positions(store, chunk_rows=bound, chunk_vessels=10_000))
    assert len(chunks) > 10
    seen: set[int] = set()
    for chunk in chunks:
        mmsis = set(chunk["mmsi"])
        assert not (mmsis & seen)  # a vessel never spans two chunks
        seen |= mmsis
        assert len(chunk) <= bound or len(mmsis) == 1
    joined = pd.concat(chunks, ignore_index=True).sort_values("id").reset_index(drop=True)
    expect = whole.sort_values("id").reset_index(drop=True)

    def plain(frame):  # text columns as objects: a chunk without any source is object-typed
        out = pd.DataFrame(frame.drop(columns="geometry"))
        return out.assign(source=out["source"].astype(object).where(out["source"].notna(), None))

    pd.testing.assert_frame_equal(plain(joined), plain(expect))
    assert joined.geometry.equals(expect.geometry)
