"""``tracker db copy``: a whole store moves SQLite -> PostGIS and back, every table's content
equal read through the library (ids kept), counts checked; a non-empty target is refused."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tracker.cli import cli
from tracker.store import open_store

RECORDINGS = ["ais/aisdb/test_data_20210701.csv.gz", "ais/kystverket/Ais1000Lines.nm4"]


@pytest.fixture(scope="module")
def source_db(tmp_path_factory, shared_data) -> str:
    """A SQLite store with real recordings, detected events (some retracted), a watchlist
    edition, sightings and a route."""
    from tracker.jobs.detect import KINDS, detect_store
    from tracker.sources.ports import read_geofences
    from tracker.sources.sanctions.watchlist import read_watchlist
    from tracker.sources.sightings import sighting_from_fields, sightings_frame
    from tracker.store.events import replace_events
    from tracker.store.ingest import ingest_ais_file
    from tracker.store.sanctions import store_list
    from tracker.store.sightings import store_sightings

    tmp = tmp_path_factory.mktemp("copy")
    url = f"sqlite:///{tmp / 'source.db'}"
    store = open_store(url)
    for name in RECORDINGS:
        path = shared_data / name
        if not path.exists():
            pytest.skip(f"real data file missing: {path}")
        ingest_ais_file(store, path)
    found = detect_store(store, read_geofences(), kinds=KINDS)
    replace_events(store, found, kinds=KINDS)
    replace_events(store, found.iloc[5:], kinds=KINDS)  # 5 retracted, kept
    watch = tmp / "watch.csv"
    mmsi = int(found["mmsi"].iloc[0])
    watch.write_text(f"name,mmsi,reason\nFICTITIOUS ENTRY,{mmsi},test entry\n")
    store_list(store, read_watchlist(watch, edition=date(2025, 1, 1)))
    store_sightings(
        store,
        sightings_frame(
            [
                sighting_from_fields(
                    {"time": "2021-07-01T06:00Z", "lon": 5.3, "lat": 60.4, "kind": "video",
                     "source": "FICTITIOUS channel", "vehicles": "truck:2"}
                )
            ]
        ),
    )  # fmt: skip
    store.dispose()
    return url


def _every_table(url: str) -> dict[str, pd.DataFrame]:
    """Every table's rows read through the library's column types, by primary key."""
    from tracker.store.copy import store_tables

    store = open_store(url)
    out = {}
    with store.engine.connect() as conn:
        for table in store_tables():
            (pk,) = table.primary_key.columns
            rows = conn.execute(sa.select(table).order_by(pk)).mappings().all()
            out[table.name] = pd.DataFrame([dict(r) for r in rows], columns=list(table.c.keys()))
    store.dispose()
    return out


def _library_views(url: str) -> dict[str, pd.DataFrame]:
    from tracker.store.ais import read_positions, read_static_reports
    from tracker.store.events import read_events
    from tracker.store.lineage import decode_block
    from tracker.store.sanctions import read_list_entries
    from tracker.store.sightings import read_stored_sightings
    from tracker.store.tables import raw_blocks

    store = open_store(url)
    with store.engine.connect() as conn:
        blocks = [
            (r.id, sorted(decode_block(r.data).items()))
            for r in conn.execute(sa.select(raw_blocks).order_by(raw_blocks.c.id))
        ]
    views = {
        "positions": pd.DataFrame(read_positions(store, vessels_only=False)).drop(
            columns="geometry"
        ),
        "statics": read_static_reports(store),
        "events": read_events(store, retracted=True),
        "sanctions": read_list_entries(store, latest_only=False),
        "sightings": pd.DataFrame(read_stored_sightings(store)).drop(
            columns="geometry", errors="ignore"
        ),
        "raw_blocks": pd.DataFrame({"id": [b[0] for b in blocks], "lines": [b[1] for b in blocks]}),
    }
    store.dispose()
    return views


def _same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        left = a[name].astype(object).where(a[name].notna(), None)
        right = b[name].astype(object).where(b[name].notna(), None)
        pd.testing.assert_frame_equal(left, right, check_dtype=False, obj=name)


def _copy(runner, src: str, dst: str) -> dict:
    out = runner.invoke(
        cli, ["db", "copy", "--from", src, "--to", dst, "--json", "--batch-rows", "700"]
    )
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


@pytest.mark.postgres
def test_copy_sqlite_to_postgis_and_back_round_trips_exactly(source_db, pg_url, tmp_path):
    runner = CliRunner()
    before_tables, before_views = _every_table(source_db), _library_views(source_db)
    assert len(before_tables["positions"]) > 2000 and len(before_tables["raw_blocks"]) >= 2
    assert before_tables["events"]["retracted_at"].notna().sum() == 5
    for name in ("static_reports", "vessels", "ingest_runs", "sanction_entries", "sightings"):
        assert len(before_tables[name]) > 0, name

    there = _copy(runner, source_db, pg_url)
    counts = {n: (c["source"], c["target"]) for n, c in there["tables"].items()}
    assert counts["positions"] == (len(before_tables["positions"]),) * 2
    assert counts["position_keys"] == counts["positions"]  # every key, once
    assert there["counts_equal"] and all(s == t for s, t in counts.values())
    _same(_every_table(pg_url), before_tables)
    _same(_library_views(pg_url), before_views)

    back_db = f"sqlite:///{tmp_path / 'back.db'}"
    _copy(runner, pg_url, back_db)
    _same(_every_table(back_db), before_tables)
    _same(_library_views(back_db), before_views)

    # the copy is a working store: new rows get ids after the copied ones
    from tracker.store.events import read_events, replace_events

    target = open_store(pg_url)
    found = read_events(target).iloc[:0]
    replace_events(target, found, kinds=["gap"])
    with target.engine.begin() as conn:
        new_id = conn.execute(
            sa.text(
                "INSERT INTO ingest_runs (sha256, path, format, status, started_at)"
                " VALUES ('x', 'x', 'x', 'x', now()) RETURNING id"
            )
        ).scalar_one()
    assert new_id > before_tables["ingest_runs"]["id"].max()
    target.dispose()


def test_copy_refuses_a_target_that_holds_rows(source_db, tmp_path):
    runner = CliRunner()
    target = f"sqlite:///{tmp_path / 'full.db'}"
    _copy(runner, source_db, target)
    out = runner.invoke(cli, ["db", "copy", "--from", source_db, "--to", target])
    assert out.exit_code != 0
    lines = [ln for ln in out.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "is not empty (" in lines[0] and "positions" in lines[0], out.output
    assert "Traceback" not in out.output
    # refused before writing anything: the counts are still the first copy's
    assert {n: len(f) for n, f in _every_table(target).items()} == {
        n: len(f) for n, f in _every_table(source_db).items()
    }
    same = runner.invoke(cli, ["db", "copy", "--from", source_db, "--to", source_db])
    assert same.exit_code != 0 and "same store" in same.output


def test_copy_prints_counts_per_table(source_db, tmp_path):
    out = CliRunner().invoke(
        cli, ["db", "copy", "--from", source_db, "--to", f"sqlite:///{tmp_path / 'c.db'}"]
    )
    assert out.exit_code == 0, out.output
    n = len(_every_table(source_db)["positions"])
    assert any(line.split() == ["positions", f"{n:,}"] for line in out.output.splitlines())
    assert "row counts of every table checked equal" in out.output
