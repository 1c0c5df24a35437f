"""The team server: retracted events kept (both backends), positions partitioned by month on
PostgreSQL, gaps computed in SQL on PostgreSQL with the SQLite path as the oracle."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
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
