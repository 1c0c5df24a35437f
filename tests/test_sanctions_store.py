"""Sanctions in the store and on the command line: load, editions, status, match, update."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tracker.analysis.status import sanction_status
from tracker.cli import cli
from tracker.sources.ais.synth import sail, track_to_nmea, write_nmea
from tracker.sources.sanctions import read_list
from tracker.store import open_store
from tracker.store.sanctions import read_list_entries, store_list

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "Robert'); DROP TABLE vessels;--",
    '&lt;b&gt; &amp; "quoted"',
]


def _counts(store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("sanction_editions", "sanction_entries")
        }


def _watchlist(path: Path, rows: list[str]) -> Path:
    path.write_text("name,imo,mmsi,reason,listed_on\n" + "\n".join(rows) + "\n")
    return path


def test_load_is_idempotent_per_edition_and_keeps_older_editions(db_url, shared_file, tmp_path):
    store = open_store(db_url)
    sdn = shared_file("sanctions/ofac/2021-07-07_watchman_bench/sdn.csv.gz")
    first = store_list(store, read_list(sdn, list="ofac"))
    again = store_list(store, read_list(sdn, list="ofac"))
    assert first.new and not again.new and first.entries == 406
    assert _counts(store) == {"sanction_editions": 1, "sanction_entries": 406}
    newer = store_list(
        store,
        read_list(shared_file("sanctions/ofac/2025-05-16_watchman_ofactest_fixture"), list="ofac"),
    )
    assert newer.new and _counts(store) == {"sanction_editions": 2, "sanction_entries": 410}
    latest = read_list_entries(store)
    assert set(latest["edition"]) == {date(2025, 5, 16)} and len(latest) == 4
    assert len(read_list_entries(store, latest_only=False)) == 410


def test_same_edition_with_other_content_is_refused(sqlite_url, tmp_path):
    from tracker.core.errors import InputError

    store = open_store(sqlite_url)
    a = _watchlist(tmp_path / "a.csv", ["FICTITIOUS ONE,9999993,,test,"])
    b = _watchlist(tmp_path / "b.csv", ["FICTITIOUS TWO,,999000002,test,"])
    store_list(store, read_list(a, list="watchlist", edition=date(2025, 1, 1)))
    with pytest.raises(InputError, match="already held with different content"):
        store_list(store, read_list(b, list="watchlist", edition=date(2025, 1, 1)))
    assert _counts(store)["sanction_entries"] == 1


def test_hostile_list_text_round_trips_inertly(db_url, tmp_path):
    store = open_store(db_url)
    rows = [
        f'"{n.replace(chr(34), chr(34) * 2)}",,99900000{i},"{n.replace(chr(34), chr(34) * 2)}",'
        for i, n in enumerate(HOSTILE)
    ]
    store_list(store, read_list(_watchlist(tmp_path / "w.csv", rows), list="watchlist"))
    entries = read_list_entries(store)
    assert sorted(entries["name"]) == sorted(HOSTILE)
    assert _counts(store)["sanction_entries"] == 3  # the DROP TABLE text did nothing
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM vessels")).scalar_one() == 0


def test_point_in_time_status_listed_since_and_delisted(sqlite_url, tmp_path):
    store = open_store(sqlite_url)
    one = _watchlist(
        tmp_path / "w1.csv",
        ["FICTITIOUS ONE,9999993,,test,2025-03-01", "FICTITIOUS TWO,,999000002,test,"],
    )
    two = _watchlist(tmp_path / "w2.csv", ["FICTITIOUS TWO,,999000002,test,"])
    store_list(store, read_list(one, list="watchlist", edition=date(2025, 4, 1)))
    store_list(store, read_list(two, list="watchlist", edition=date(2025, 6, 1)))
    entries = read_list_entries(store, latest_only=False)
    vessel = {"mmsi": 999000001, "imo": 9999993, "name": "FICTITIOUS ONE"}
    may = sanction_status(vessel, at="2025-05-10", entries=entries)
    assert may.listed and may.listed_by == ["watchlist"]
    s = may.lists[0]
    assert (s.edition, s.listed_since, s.delisted_on, s.reason) == (
        date(2025, 4, 1),
        date(2025, 3, 1),
        date(2025, 6, 1),
        "imo 9999993 + name 1.00",
    )
    assert not sanction_status(vessel, at="2025-07-01", entries=entries).listed  # dropped in June
    early = sanction_status(vessel, at="2025-03-15", entries=entries)  # before any edition held
    assert early.listed and "answered from the listing date" in early.lists[0].note
    assert not sanction_status(vessel, at="2025-02-01", entries=entries).listed
    two_status = sanction_status({"mmsi": 999000002}, at="2025-07-01", entries=entries)
    assert two_status.listed and two_status.lists[0].listed_since == date(2025, 4, 1)


def _ingest_fictitious(runner, db, tmp_path) -> None:
    from datetime import UTC, datetime, timedelta

    track = sail(
        [(-14.0, 9.0), (-13.8, 9.4)],
        start=datetime(2025, 5, 20, tzinfo=UTC),
        speed_kn=10,
        report_every=timedelta(minutes=30),
    )
    lines = track_to_nmea(track, mmsi=999000701, name="M/V BALTIC-LEADER", callsign="TEST7")
    lines += track_to_nmea(track, mmsi=999000702, name="NORDIC FICTITIOUS", callsign="TEST8")
    path = write_nmea(tmp_path / "fleet.nmea", lines)
    result = runner.invoke(cli, ["--db", db, "ingest", "ais", str(path)])
    assert result.exit_code == 0, result.output


def test_cli_load_match_and_vessels_show(tmp_path, project_data_dir):
    runner = CliRunner()
    db = str(tmp_path / "t.db")
    _ingest_fictitious(runner, db, tmp_path)
    watch = project_data_dir / "watchlists" / "case-2025.csv"
    out = runner.invoke(
        cli,
        [
            "--db",
            db,
            "sanctions",
            "load",
            str(watch),
            "--list",
            "watchlist",
            "--edition",
            "2025-06-01",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == {
        "list": "watchlist",
        "edition": "2025-06-01",
        "entries": 3,
        "bad": 0,
        "new": True,
    }
    again = runner.invoke(
        cli,
        [
            "--db",
            db,
            "sanctions",
            "load",
            str(watch),
            "--list",
            "watchlist",
            "--edition",
            "2025-06-01",
            "--json",
        ],
    )
    assert json.loads(again.output)["new"] is False
    match = runner.invoke(cli, ["--db", db, "sanctions", "match", "--json"])
    rows = json.loads(match.output)
    assert [(r["mmsi"], r["entry_name"], r["method"]) for r in rows] == [
        (999000701, "BALTIC LEADER", "name")
    ]
    assert rows[0]["reason"] == "name 1.00"
    show = runner.invoke(cli, ["--db", db, "vessels", "show", "999000701", "--json"])
    assert json.loads(show.output)["sanctions_matches"][0]["entry_id"] == "9220639"
    status = runner.invoke(
        cli, ["--db", db, "sanctions", "status", "999000701", "--at", "2025-06-02"]
    )
    # a name alone (the MMSI differs) is a possible match, never "LISTED"
    assert status.exit_code == 0 and "possible name match only" in status.output
    assert "LISTED" not in status.output and "BALTIC LEADER (watchlist:9220639" in status.output
    lists = runner.invoke(cli, ["--db", db, "sanctions", "lists"])
    assert "watchlist" in lists.output and "3 entries" in lists.output


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    truncated: set[str] = set()

    def do_GET(self):
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header(
            "Content-Length", str(len(body) + (1000 if self.path in self.truncated else 0))
        )
        self.end_headers()
        self.wfile.write(body)
        if self.path in self.truncated:
            self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def list_server(shared_data):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_update_downloads_from_a_real_local_server(tmp_path, shared_file, list_server):
    import gzip

    server, base = list_server
    sdn_dir = shared_file("sanctions/ofac/2025-05-16_watchman_ofactest_fixture")
    _Handler.files = {
        f"/ofac/{n.upper()}": (sdn_dir / n).read_bytes()
        for n in ("sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv")
    }
    _Handler.files["/un.xml"] = gzip.decompress(
        shared_file("sanctions/un/UN_consolidated_2026-02-27.xml.gz").read_bytes()
    )
    _Handler.truncated = set()
    runner = CliRunner()
    db = str(tmp_path / "t.db")
    out = runner.invoke(
        cli,
        [
            "--db",
            db,
            "sanctions",
            "update",
            "--url",
            f"ofac={base}/ofac/SDN.CSV",
            "--url",
            f"un={base}/un.xml",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    got = {r["list"]: r for r in json.loads(out.output)}
    assert (
        got["ofac"]["entries"] == 4
        and got["un"]["entries"] == 0
        and got["un"]["edition"] == "2026-02-27"
    )


def test_update_partial_download_stores_nothing(tmp_path, shared_file, list_server):
    server, base = list_server
    sdn_dir = shared_file("sanctions/ofac/2025-05-16_watchman_ofactest_fixture")
    _Handler.files = {
        f"/ofac/{n}": (sdn_dir / n).read_bytes()
        for n in ("sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv")
    }
    _Handler.truncated = {"/ofac/add.csv"}
    runner = CliRunner()
    db = str(tmp_path / "t.db")
    keep = tmp_path / "downloads"
    out = runner.invoke(
        cli,
        [
            "--db",
            db,
            "sanctions",
            "update",
            "--url",
            f"ofac={base}/ofac/sdn.csv",
            "--timeout",
            "5",
            "--keep",
            str(keep),
        ],
    )
    assert out.exit_code == 2
    assert "download incomplete" in out.output or "download failed" in out.output
    assert not list((keep / "ofac").glob("*"))  # neither finished files nor .part files left
    assert _counts(open_store(db)) == {"sanction_editions": 0, "sanction_entries": 0}


def test_update_offline_is_a_clear_error(tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here now
    out = CliRunner().invoke(
        cli,
        [
            "--db",
            str(tmp_path / "t.db"),
            "sanctions",
            "update",
            "--url",
            f"un=http://127.0.0.1:{port}/un.xml",
            "--timeout",
            "3",
        ],
    )
    assert out.exit_code == 2
    assert "cannot connect" in out.output and "offline" in out.output


def test_find_and_remove_editions_and_empty_editions(db_url, tmp_path):
    from tracker.core.errors import InputError
    from tracker.sources.sanctions.entries import ListRead, entries_frame
    from tracker.store.sanctions import find_editions, list_editions, remove_edition

    store = open_store(db_url)
    w = _watchlist(
        tmp_path / "w.csv", ["FICTITIOUS ONE,9999993,,test,", "FICTITIOUS TWO,,999000002,test,"]
    )
    store_list(store, read_list(w, list="watchlist", edition=date(2025, 1, 1)))
    store_list(store, read_list(w, list="watchlist", edition=date(2025, 2, 1)))
    held = list_editions(store)
    assert list(held["entries"]) == [2, 2] and held["id"].is_unique
    assert len(find_editions(store, "watchlist")) == 2  # ambiguous
    one = find_editions(store, "watchlist:2025-02-01")
    assert len(one) == 1 and len(find_editions(store, str(int(one["id"].iloc[0])))) == 1
    assert len(find_editions(store, "2025-01-01")) == 1 and find_editions(store, "ofac").empty
    # an edition without vessels would hide the two held: refused unless allowed
    empty = ListRead(
        "watchlist",
        date(2025, 3, 1),
        entries_frame([], list_name="watchlist", edition=date(2025, 3, 1)),
        source="empty.csv",
        counts={"records": 5, "entries": 0},
    )
    with pytest.raises(InputError, match="would hide the 4 entries of the 2 older edition"):
        store_list(store, empty)
    assert _counts(store) == {"sanction_editions": 2, "sanction_entries": 4}
    assert store_list(store, empty, allow_empty=True).new
    removed = remove_edition(store, int(one["id"].iloc[0]))
    assert (removed["list"], str(removed["edition"]), removed["entries"]) == (
        "watchlist",
        "2025-02-01",
        2,
    )
    assert _counts(store) == {"sanction_editions": 2, "sanction_entries": 2}
    with pytest.raises(InputError, match="no list edition with id"):
        remove_edition(store, int(one["id"].iloc[0]))
