"""``tracker events list --limit/--offset`` and the summary line (SQL counts as the oracle);
progress bars only on a terminal, with stdout and --json unchanged."""

from __future__ import annotations

import io
import json
import sqlite3
import sys

import pytest

from tracker.cli import main
from tracker.jobs.demo_case import load_demo_case
from tracker.jobs.detect import KINDS, detect_store
from tracker.sources.ports import read_geofences
from tracker.store import open_store


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("events") / "demo.db"
    store = open_store(str(db))
    load_demo_case(store)
    store.dispose()
    return db


def _sql(db, query: str, *args):
    with sqlite3.connect(db) as conn:
        return conn.execute(query, args).fetchall()


@pytest.mark.parametrize("limit,offset", [(1, 0), (2, 1), (5, 2), (0, 1)])
def test_list_window_matches_the_stored_rows(demo_db, capsys, limit, offset):
    total = _sql(demo_db, "SELECT count(*) FROM events")[0][0]
    assert total >= 3
    ordered = [k for (k,) in _sql(demo_db, "SELECT key FROM events ORDER BY start, id")]
    want = ordered[offset : offset + limit] if limit else ordered[offset:]
    args = ["--db", str(demo_db), "events", "list", "--limit", str(limit), "--offset", str(offset)]
    assert main([*args, "--json"]) == 0
    assert [e["key"] for e in json.loads(capsys.readouterr().out)] == want
    assert main(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = lines[-1]
    assert len([ln for ln in lines[:-1] if not ln.startswith("    ")]) == len(want)
    assert summary.startswith(f"showing {offset + 1}-{offset + len(want)} of {total} events")
    kinds = dict(_sql(demo_db, "SELECT kind, count(*) FROM events GROUP BY kind"))
    assert "by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) in summary
    assert ("--offset" in summary) == (offset + len(want) < total)


def test_list_without_limit_prints_every_event_when_not_a_terminal(demo_db, capsys):
    total = _sql(demo_db, "SELECT count(*) FROM events")[0][0]
    assert main(["--db", str(demo_db), "events", "list", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == total
    assert main(["--db", str(demo_db), "events", "list", "--offset", "99"]) == 0
    assert "showing none of" in capsys.readouterr().out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_and_json_unchanged(demo_db, capsys, monkeypatch):
    args = ["--db", str(demo_db), "events", "detect", "--json"]
    assert main(args) == 0
    piped = capsys.readouterr()
    assert piped.err == ""  # capsys: stderr is not a terminal, so no bar
    fake = _Terminal()
    monkeypatch.setattr(sys, "stderr", fake)
    assert main(args) == 0
    shown = capsys.readouterr()
    assert "detecting events" in fake.getvalue()  # the bar was drawn on the "terminal"
    assert json.loads(shown.out) == json.loads(piped.out)  # and stdout is the same JSON


def test_progress_callback_adds_up_to_the_fixes_worked_through(demo_db):
    # oracle: SQL counts written here, independent of the CLI's own count
    vessel_types = "(1, 2, 3, 18, 19, 27)"
    every = _sql(demo_db, f"SELECT count(*) FROM positions WHERE msg_type IN {vessel_types}")[0][0]
    slow = _sql(
        demo_db,
        f"SELECT count(*) FROM positions WHERE msg_type IN {vessel_types} AND sog_kn < 2.0",
    )[0][0]
    assert every > slow > 0
    calls: list[int] = []
    store = open_store(str(demo_db))
    detect_store(store, read_geofences(), kinds=KINDS, progress=calls.append)
    assert sum(calls) == every + slow
    calls.clear()
    detect_store(store, read_geofences(), kinds=("gap",), progress=calls.append)
    assert sum(calls) == every and len(calls) >= 1
    store.dispose()
