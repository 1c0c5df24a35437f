"""The team server: retracted events kept (both backends), positions partitioned by month on
PostgreSQL, gaps computed in SQL on PostgreSQL with the SQLite path as the oracle."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tracker.analysis.events import events_frame
from tracker.cli import cli
from tracker.store import open_store
from tracker.store.events import events, read_events, replace_events

T = datetime(2025, 3, 1, tzinfo=UTC)


def _found(n: int, *, wording: str = "fictitious", skip: int = 0, changed: int = 0) -> pd.DataFrame:
    rows = []
    for i in range(skip, n):
        rows.append(
            {
                "kind": "gap",
                "mmsi": 999_100_000 + i,
                "start": T + timedelta(minutes=i),
                "end": T + timedelta(minutes=i, hours=7),
                "lon": -14.0,
                "lat": 9.0,
                "end_lon": -14.1,
                "end_lat": 9.1,
                "status": "closed",
                "confidence": "no AIS received",
                "wording": f"{wording} changed" if i < skip + changed else wording,
                "figures": {"gap_s": 25200.0, "i": i},
                "thresholds": {"min_gap_s": 21600.0},
                "position_ids": [i, i + 1],
            }
        )
    return events_frame(rows)


def _rows(store) -> dict[str, dict]:
    with store.engine.connect() as conn:
        return {r["key"]: dict(r) for r in conn.execute(sa.select(events)).mappings()}


def test_retracted_events_are_kept_and_restored_in_bulk(db_url):
    store = open_store(db_url)
    statements: list[str] = []
    sa.event.listen(
        store.engine,
        "before_cursor_execute",
        lambda conn, cur, stmt, params, ctx, many: statements.append(stmt.split()[0].upper()),
    )
    first = replace_events(store, _found(1200), kinds=["gap"])
    assert (first.added, first.updated, first.retracted) == (1200, 0, 0)
    ids = {k: r["id"] for k, r in _rows(store).items()}
    assert len(ids) == 1200

    statements.clear()
    # 300 no longer found, 100 of the rest worded differently, 800 unchanged
    second = replace_events(store, _found(1200, skip=300, changed=100), kinds=["gap"])
    assert (second.added, second.updated, second.unchanged, second.retracted) == (0, 100, 800, 300)
    # bulk: one UPDATE per 500 retractions and one upsert per 400 rows, never one per row
    assert statements.count("UPDATE") == 1 and statements.count("INSERT") == 1, statements

    rows = _rows(store)
    assert len(rows) == 1200 and {k: r["id"] for k, r in rows.items()} == ids  # nothing deleted
    gone = {k for k, r in rows.items() if r["retracted_at"] is not None}
    assert len(gone) == 300
    assert all(rows[k]["status"] == "retracted" for k in gone)
    assert all("no longer found by the detection run" in rows[k]["retracted_why"] for k in gone)
    expected_gone = set(_found(300)["key"])
    assert gone == expected_gone
    assert set(read_events(store)["key"]) == set(rows) - gone
    listed = read_events(store, retracted=True)
    assert len(listed) == 1200 and listed["retracted_at"].notna().sum() == 300

    runner = CliRunner()
    out = runner.invoke(cli, ["--db", db_url, "events", "list", "--json"])
    assert out.exit_code == 0, out.output
    assert len(json.loads(out.output)) == 900
    out = runner.invoke(cli, ["--db", db_url, "events", "list", "--retracted", "--json"])
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    assert len(got) == 1200 and sum(r["status"] == "retracted" for r in got) == 300
    out = runner.invoke(cli, ["--db", db_url, "events", "list", "--retracted", "--limit", "0"])
    assert out.exit_code == 0 and "(300 of them retracted)" in out.output, out.output
    assert out.output.count("    retracted ") == 300

    # found again: restored in place (same ids), nothing retracted any more
    third = replace_events(store, _found(1200), kinds=["gap"])
    assert (third.added, third.updated, third.unchanged, third.retracted) == (0, 400, 800, 0)
    rows = _rows(store)
    assert {k: r["id"] for k, r in rows.items()} == ids
    assert all(r["retracted_at"] is None and r["status"] == "closed" for r in rows.values())
    # retracting again does not count those already retracted twice
    replace_events(store, _found(1200, skip=1000), kinds=["gap"])
    assert replace_events(store, _found(1200, skip=1000), kinds=["gap"]).retracted == 0
    assert len(read_events(store)) == 200 and len(_rows(store)) == 1200
    store.dispose()


# --- the same real recordings in SQLite and PostGIS -------------------------------------

AISHUB = "ais/aishub/aishub-ais-nmea-sample.log.gz"  # no times: stored with an assumed time
RECORDINGS = [
    "ais/aisdb/test_data_20210701.csv.gz",  # one day of satellite AIS, real times
    "ais/aisdb/test_data_20211101.nm4",
    "ais/kystverket/Ais1000Lines.nm4",
]
ASSUMED = datetime(2021, 7, 1, 12, tzinfo=UTC)


def _ingest_all(url: str, shared_file) -> tuple:
    from tracker.store.ingest import ingest_ais_file

    store = open_store(url)
    done = [ingest_ais_file(store, shared_file(AISHUB), assume_time=ASSUMED)]
    done += [ingest_ais_file(store, shared_file(name)) for name in RECORDINGS]
    counts = [(s.positions, s.statics, s.duplicates) for s in done]
    return store, counts


def _table(store, table, drop=("id",)) -> pd.DataFrame:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(table)).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows]).drop(columns=list(drop), errors="ignore")
    keys = ["key"] if "key" in frame else ["mmsi"]
    return frame.sort_values(keys).reset_index(drop=True)


def _id_keys(store) -> dict[int, int]:
    from tracker.store.tables import positions

    with store.engine.connect() as conn:
        return dict(conn.execute(sa.select(positions.c.id, positions.c.key)).all())


def _comparable(
    events_found: pd.DataFrame, id_keys: dict[int, int], *, as_sets: bool = False
) -> pd.DataFrame:
    """Events with their position ids replaced by the positions' keys (ids differ by
    backend: SQLite numbers them in (mmsi, ts) order, PostgreSQL in key order). ``as_sets``:
    the keys sorted (encounters list their fixes in id order, which differs by backend)."""
    out = events_found.astype(object).where(events_found.notna(), None)  # None or NaN: missing
    out["position_ids"] = [[id_keys[int(i)] for i in ids] for ids in out["position_ids"]]
    if as_sets:
        out["position_ids"] = [sorted(keys) for keys in out["position_ids"]]
    for col in ("figures", "thresholds", "position_ids"):
        out[col] = [json.dumps(v, sort_keys=True, default=str) for v in out[col]]
    return out.sort_values(["kind", "key"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def both_stores(tmp_path_factory, shared_data, request):
    """The same real recordings ingested into SQLite and into PostGIS."""
    from conftest import PG_ADMIN_URL, _drop_database

    def get(name: str):
        path = shared_data / name
        if not path.exists():
            pytest.skip(f"real data file missing: {path}")
        return path

    lite, lite_counts = _ingest_all(f"sqlite:///{tmp_path_factory.mktemp('same') / 'same.db'}", get)
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"tracker_test_same_{datetime.now().strftime('%H%M%S%f')}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        from conftest import _missing

        _missing(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    pg, pg_counts = _ingest_all(url, get)
    yield lite, lite_counts, pg, pg_counts
    lite.dispose()
    pg.dispose()
    _drop_database(admin, name)


@pytest.mark.postgres
def test_same_recordings_give_identical_vessels_positions_and_statics(both_stores):
    from tracker.store.tables import positions, static_reports, vessels

    lite, lite_counts, pg, pg_counts = both_stores
    assert lite_counts == pg_counts and sum(c[0] for c in lite_counts) > 20_000
    for table in (positions, static_reports, vessels):
        a, b = _table(lite, table), _table(pg, table)
        assert len(a) > 100 and list(a.columns) == list(b.columns)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)


@pytest.mark.postgres
def test_same_recordings_give_identical_events_gaps_computed_in_sql(both_stores, monkeypatch):
    from tracker.jobs import detect as detect_job
    from tracker.jobs.detect import KINDS, DetectionNotes, detect_store
    from tracker.sources.ports import read_geofences

    lite, _, pg, _ = both_stores
    fences = read_geofences()
    calls = []
    real = detect_job.gap_candidates
    monkeypatch.setattr(
        detect_job, "gap_candidates", lambda *a, **k: calls.append(k) or real(*a, **k)
    )
    near_calls: list = []
    real_near = detect_job.vessels_near
    monkeypatch.setattr(
        detect_job,
        "vessels_near",
        lambda *a, **k: near_calls.append(real_near(*a, **k)) or near_calls[-1],
    )
    some = None
    for kinds, options in (
        (KINDS, {}),
        (["gap"], {"gap": {"open_gaps": True}}),  # for some vessels: one query per open gap
    ):
        notes_a, notes_b = DetectionNotes(), DetectionNotes()
        a = detect_store(lite, fences, kinds=kinds, options=options, notes=notes_a, mmsi=some)
        assert not calls  # SQLite: gaps from the chunks in Python
        b = detect_store(pg, fences, kinds=kinds, options=options, notes=notes_b, mmsi=some)
        assert len(calls) == 1  # PostgreSQL: gap candidates from the database
        calls.clear()
        gaps = a[a["kind"] == "gap"]
        assert len(gaps) > 10 and len(a) > 50 * (len(kinds) > 1)
        if "port_call" in kinds:  # PostGIS: only vessels near a geofence (ST_DWithin)
            calling = set(a.loc[a["kind"] == "port_call", "mmsi"])
            assert calling and len(near_calls) == 1
            # a superset of the vessels that called, far fewer than every vessel
            assert calling <= near_calls[0] and len(near_calls[0]) < len(set(a["mmsi"])) * 5
            near_calls.clear()
        if options:
            assert (gaps["status"] == "open").any()
        pd.testing.assert_frame_equal(
            _comparable(a, _id_keys(lite)), _comparable(b, _id_keys(pg)), check_dtype=False
        )
        assert notes_a.as_dict() == notes_b.as_dict()
        gap_vessels = sorted(set(gaps["mmsi"]))
        some = gap_vessels[:40] + [m for m in sorted(set(a["mmsi"])) if m not in gap_vessels][:40]
    # gaps alone on PostgreSQL never read the vessels' fixes into Python
    only = detect_store(pg, fences, kinds=["gap"])
    assert len(only) == len(detect_store(lite, fences, kinds=["gap"])) > 10


# --- positions partitioned by month on PostgreSQL ---------------------------------------


@pytest.mark.postgres
def test_positions_are_partitioned_by_month_with_brin_gist_and_unique_keys(
    both_stores, shared_file
):
    from tracker.store.ingest import ingest_ais_file
    from tracker.store.tables import positions

    lite, _, pg, _ = both_stores
    with pg.engine.connect() as conn:
        kind = conn.execute(
            sa.text("SELECT relkind FROM pg_class WHERE relname = 'positions'")
        ).scalar_one()
        parts = dict(
            conn.execute(
                sa.text(
                    "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
                    " JOIN pg_class c ON c.oid = i.inhrelid"
                    " WHERE i.inhparent = 'positions'::regclass"
                )
            ).all()
        )
        indexes = dict(
            conn.execute(
                sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'positions'")
            ).all()
        )
        ts = pd.Series(conn.execute(sa.select(positions.c.ts)).scalars().all())
        n_keys = conn.execute(sa.text("SELECT count(*) FROM position_keys")).scalar_one()
        per_part = dict(
            conn.execute(
                sa.text("SELECT tableoid::regclass::text, count(*) FROM positions GROUP BY 1")
            ).all()
        )
    assert kind == "p"  # a partitioned table
    months = {f"positions_y{t:%Y}m{t:%m}" for t in pd.to_datetime(ts)}
    assert len(months) >= 2 and set(parts) == months  # one partition per month of data
    for name, bound in parts.items():
        y, m = int(name[11:15]), int(name[16:18])
        lo = datetime(y, m, 1)
        assert f"FROM ('{lo:%Y-%m-%d} 00:00:00')" in bound
    counted = pd.to_datetime(ts).dt.strftime("positions_y%Ym%m").value_counts().to_dict()
    assert per_part == counted  # every row in its month's partition
    assert "USING brin (ts)" in indexes["ix_positions_ts_brin"]
    assert "USING gist (geom)" in indexes["ix_positions_geom"]
    assert "(mmsi, ts)" in indexes["ix_positions_mmsi_ts"]
    assert n_keys == len(ts)  # every stored position's key, once
    # a re-run stores nothing new: the keys in position_keys stop every repeat
    again = ingest_ais_file(pg, shared_file(RECORDINGS[0]), reread=True)
    assert again.positions == 0 and again.duplicates > 2000
    assert again == ingest_ais_file(lite, shared_file(RECORDINGS[0]), reread=True)
    with pg.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM positions")).scalar_one() == len(ts)


@pytest.mark.postgres
def test_month_partitions_are_created_once_by_concurrent_writers(pg_url):
    import threading

    import numpy as np

    from tracker.store.batch_writes import ensure_position_partitions

    store = open_store(pg_url)
    july = np.array([1_625_140_800_000_000], dtype=np.int64)  # 2021-07-01T12:00Z
    first = store.engine.connect()
    first.begin()
    assert ensure_position_partitions(first, july) == ["positions_y2021m07"]
    results: list = []

    def second() -> None:
        with store.engine.begin() as conn:  # waits for the first writer's lock
            results.append(ensure_position_partitions(conn, july))

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=1)
    assert thread.is_alive()  # blocked behind the first transaction
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert not thread.is_alive() and len(results) == 1  # no error: created once
    with store.engine.begin() as conn:
        assert ensure_position_partitions(conn, july) == []  # exists now: nothing to do
        n = conn.execute(
            sa.text("SELECT count(*) FROM pg_inherits WHERE inhparent = 'positions'::regclass")
        ).scalar_one()
    assert n == 1
    store.dispose()


@pytest.mark.postgres
def test_encounters_from_sql_candidates_equal_the_sqlite_path(tmp_path, pg_url, monkeypatch):
    """PostGIS finds the vessels that could meet (slow, outside ports, within the distance in
    the same time step) in SQL and reads only theirs: the same events as SQLite reading every
    slow fix. Fictitious fleet: 999000003 and 999000004 lie together at sea for a day and a
    half; 999000001 moors at Tartus (in port: never a candidate)."""
    from tests.test_archive import fleet
    from tracker.jobs import detect as detect_job
    from tracker.jobs.detect import detect_store
    from tracker.sources.ais.synth import track_to_nmea, write_nmea
    from tracker.sources.ports import read_geofences
    from tracker.store.ingest import ingest_ais_file

    lines = []
    for mmsi, track in fleet().items():
        lines += track_to_nmea(track, mmsi=mmsi, name=f"TEST {mmsi} FICTITIOUS", station="test")
    nmea = write_nmea(tmp_path / "fleet-fictitious.nmea", lines)
    lite, pg = open_store(f"sqlite:///{tmp_path / 'lite.db'}"), open_store(pg_url)
    for store in (lite, pg):
        ingest_ais_file(store, nmea)
    seen: list[set[int]] = []
    real = detect_job.encounter_candidates
    monkeypatch.setattr(
        detect_job, "encounter_candidates", lambda *a, **k: seen.append(real(*a, **k)) or seen[-1]
    )
    fences = read_geofences()
    ticks: dict[str, int] = {}
    for name, store in (("lite", lite), ("pg", pg)):
        ticks[name] = 0

        def tick(n: int, name: str = name) -> None:
            ticks[name] += n

        found = detect_store(store, fences, kinds=["encounter"], progress=tick)
        if name == "lite":
            a = found
            assert not seen  # SQLite reads every slow fix
    b = found
    assert set(zip(a["mmsi"], a["other_mmsi"], strict=True)) == {(999000003, 999000004)}
    assert seen and set().union(*seen) == {999000003, 999000004}
    assert ticks["lite"] == ticks["pg"] > 0  # the progress bar counts the same fixes
    pd.testing.assert_frame_equal(
        _comparable(a, _id_keys(lite), as_sets=True),
        _comparable(b, _id_keys(pg), as_sets=True),
        check_dtype=False,
    )
    # one vessel's encounters only: pairs with it (both vessels read), the same event
    only = detect_store(pg, fences, kinds=["encounter"], mmsi=[999000004])
    assert list(only["key"]) == list(a["key"])
    lite.dispose()
    pg.dispose()
