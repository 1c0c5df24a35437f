"""Concurrent writers on one store: several `tracker ingest ais` processes at once, and several
processes opening a fresh store at once, end with the store that running them one after
another gives (the oracle: the same files ingested sequentially into a second store).

Files are FICTITIOUS fleets (MMSIs 999xxxxxx) made with tracker.sources.ais.synth; each holds
type 1 positions (exact transmission keys) and type 5 statics (60 s window keys).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from aisutil import lineage_entries

from tracker.sources.ais.synth import sail, track_to_nmea, write_nmea
from tracker.store import open_store
from tracker.store.ingest import ingest_ais_file
from tracker.store.tables import (
    ingest_runs,
    positions,
    quarantine,
    static_reports,
    vessels,
)

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2025, 5, 20, tzinfo=UTC)
#: Repetitions in the unit test (bench/concurrency.py runs 20).
REPEATS = int(os.environ.get("TRACKER_CONCURRENCY_REPEATS", "2"))
SHIPS, HOURS = 4, 3


def fleet_file(folder: Path, index: int) -> tuple[Path, int]:
    """A FICTITIOUS fleet file; returns (path, position reports sent)."""
    lines: list[str] = []
    n_pos = 0
    for ship in range(SHIPS):
        mmsi = 999_100_000 + index * 100 + ship
        lat = -10.0 + index + ship * 0.1
        track = sail(
            [(-20.0, lat), (-18.0, lat + 0.5)],
            start=T0 + timedelta(seconds=7 * ship + index),
            speed_kn=12.0,
            report_every=timedelta(minutes=1),
        )
        track = track[track["ts"] < T0 + timedelta(hours=HOURS)]
        sent = track_to_nmea(
            track,
            mmsi=mmsi,
            name=f"FICTITIOUS {index} {ship}",
            static_every=timedelta(minutes=20),
            station=f"test{index}",
        )
        lines += sent
        n_pos += len(track)
    lines.sort(key=lambda s: s.split("c:")[1].split("*")[0].split(",")[0])
    return write_nmea(folder / f"fleet{index}.nmea", lines), n_pos


def run_tracker(url: str, *args: str, timeout: int = 120) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "tracker", "--db", url, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def finish(procs: list[subprocess.Popen], timeout: int = 180) -> list[tuple[int, str, str]]:
    done = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        done.append((proc.returncode, out, err))
    return done


def _rows(conn, table: sa.Table, order: list[str], sha: dict) -> list[tuple]:
    cols = [c for c in table.columns if c.name not in ("id",)]
    out = []
    for rec in conn.execute(sa.select(*cols)).mappings():
        row = dict(rec)
        if "input_id" in row:
            row["input_id"] = sha.get(row["input_id"])
        out.append(row)
    out.sort(key=lambda r: tuple(str(r[k]) for k in order))
    return [tuple(sorted((k, repr(v)) for k, v in r.items())) for r in out]


def store_digest(url: str) -> tuple[dict[str, int], str]:
    """Row counts and a content hash of the AIS tables, ordered by key; ingest run ids
    (which depend on the order runs started) replaced by the file's sha256."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            sha = dict(conn.execute(sa.select(ingest_runs.c.id, ingest_runs.c.sha256)).all())
            runs = [
                tuple(r)
                for r in conn.execute(
                    sa.select(
                        ingest_runs.c.sha256,
                        ingest_runs.c.status,
                        ingest_runs.c.read,
                        ingest_runs.c.positions,
                        ingest_runs.c.statics,
                        ingest_runs.c.duplicates,
                        ingest_runs.c.quarantined,
                        ingest_runs.c.lines_done,
                    ).order_by(ingest_runs.c.sha256)
                )
            ]
            content = {
                "ingest_runs": runs,
                "positions": _rows(conn, positions, ["key"], sha),
                "static_reports": _rows(conn, static_reports, ["key"], sha),
                "vessels": _rows(conn, vessels, ["mmsi"], sha),
                "lineage": lineage_entries(engine),
                "quarantine": _rows(conn, quarantine, ["key"], sha),
            }
    finally:
        engine.dispose()
    counts = {name: len(rows) for name, rows in content.items()}
    digest = hashlib.sha256(repr(sorted(content.items())).encode()).hexdigest()
    return counts, digest


def sequential_oracle(url: str, files: list[Path]) -> tuple[dict[str, int], str]:
    store = open_store(url)
    try:
        for path in files:
            ingest_ais_file(store, path)
    finally:
        store.dispose()
    return store_digest(url)


def _second_url(url: str, tmp_path: Path, name: str) -> str:
    """Another store on the same backend: a SQLite file, or a second PostgreSQL database."""
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / name}.db"
    admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    db = url.rsplit("/", 1)[1] + f"_{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{db}"'))
    admin.dispose()
    return url.rsplit("/", 1)[0] + f"/{db}"


def _drop_second(url: str) -> None:
    if url.startswith("sqlite"):
        return
    admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    db = url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": db},
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}"'))
    admin.dispose()


def _reset(url: str) -> None:
    """Empty the store completely (a fresh store for the next repetition)."""
    if url.startswith("sqlite"):
        path = Path(sa.engine.make_url(url).database)
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
        return
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        names = [t for t in sa.inspect(conn).get_table_names() if t != "spatial_ref_sys"]
        for name in names:
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fleet")
    return [fleet_file(folder, i) for i in range(4)]


def _assert_clean(results, what: str) -> None:
    for rc, out, err in results:
        assert rc == 0, f"{what}: exit {rc}: {err}"
        assert "Traceback" not in err, err
        assert "read " in out, out


def test_fleet_oracle_is_not_empty(fleet, sqlite_url):
    counts, _ = sequential_oracle(sqlite_url, [p for p, _ in fleet])
    assert counts["positions"] == sum(n for _, n in fleet) > 1000
    assert counts["vessels"] == 4 * SHIPS
    assert counts["static_reports"] > 4 * SHIPS
    assert counts["ingest_runs"] == 4


def test_concurrent_ingests_into_an_existing_store_equal_sequential(db_url, fleet, tmp_path):
    files = [p for p, _ in fleet]
    oracle_url = _second_url(db_url, tmp_path, "oracle")
    try:
        expected = sequential_oracle(oracle_url, files)
    finally:
        _drop_second(oracle_url)
    assert expected[0]["positions"] == sum(n for _, n in fleet)
    for rep in range(REPEATS):
        _reset(db_url)
        open_store(db_url).dispose()  # an existing (empty) store: no migration race here
        procs = [run_tracker(db_url, "ingest", "ais", str(f), "--batch-size", "150") for f in files]
        _assert_clean(finish(procs), f"repetition {rep}")
        assert store_digest(db_url) == expected, f"repetition {rep}"


def test_processes_opening_a_fresh_store_at_once(db_url, fleet, tmp_path):
    files = [p for p, _ in fleet[:2]]
    oracle_url = _second_url(db_url, tmp_path, "oracle")
    try:
        expected = sequential_oracle(oracle_url, files)
    finally:
        _drop_second(oracle_url)
    assert expected[0]["positions"] > 0
    for rep in range(REPEATS):
        _reset(db_url)
        procs = [run_tracker(db_url, "ingest", "ais", str(f), "--batch-size", "400") for f in files]
        _assert_clean(finish(procs), f"repetition {rep}")
        assert store_digest(db_url) == expected, f"repetition {rep}"
    # two read commands at once on the store change nothing
    reads = finish([run_tracker(db_url, "vessels", "list") for _ in range(2)])
    assert all(rc == 0 and "FICTITIOUS" in out and not err for rc, out, err in reads), reads
    assert store_digest(db_url) == expected
