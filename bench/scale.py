"""Bench: detection at scale, through the store (SQLite, PostGIS) and through the archive on a
2-worker dask LocalCluster, with peak memory per process, at 1 M positions and at N.

    .venv/bin/python bench/scale.py [--positions 10_000_000] [--vessels 5000]
        [--pg-url postgresql+psycopg2://postgres@127.0.0.1:5432/tracker_scale] [--workdir DIR]

Data: fictitious vessels (MMSIs 999100000 + i, tracker.sources.ais.synth.fleet_tracks) calling
at the West African ports of data/ports along a fictitious sea lane over a year, one fix every
10 minutes; two pairs meet at sea (encounters, loitering), one vessel in 40 is unheard for 14 h
(gaps). The store is filled with the bulk writer (write_message_batch, one ingest_runs row with
first_ts/last_ts and the vessels summary, as an ingest would), the archive with export_archive.

Each size runs every path in its own fresh process (fill, then one detection per path), so a
process's peak RSS (``ru_maxrss``, read as soon as detection returns, before the events are
hashed for the comparison) is that path's alone; for the cluster the driver's and each
worker's peak (sampled from the workers through ``client.run``) are printed. The 1 M run keeps
the fixes per vessel of the N run (vessels scale with positions), so "grows" means more
vessels over the same year. The PostgreSQL database of ``--pg-url`` is dropped and recreated;
when no server answers, the PostGIS rows say why and are skipped. Events of all paths must be
equal (same keys and fields); the run prints whether they are.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

START = datetime(2025, 1, 1, tzinfo=UTC)
SMALL = 1_000_000
#: vessels written per transaction (and generated at a time: memory bounded by this slice)
SLICE_ROWS = 500_000
PG_DEFAULT = "postgresql+psycopg2://postgres@127.0.0.1:5432/tracker_scale"


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# -- children: each runs in a fresh interpreter and prints one JSON line -------------------


def child_fill(url: str, positions: int, vessels: int, archive: str | None) -> dict:
    import sqlalchemy as sa

    from tracker.sources.ais.synth import fleet_batch, fleet_tracks
    from tracker.store import open_store
    from tracker.store.archive import export_archive
    from tracker.store.batch_writes import span_datetimes, upsert_vessels, write_message_batch
    from tracker.store.tables import ingest_runs

    t0 = time.perf_counter()
    store = open_store(url)
    with store.engine.begin() as conn:
        input_id = conn.execute(
            ingest_runs.insert().values(
                sha256=hashlib.sha256(f"bench-scale {positions} {vessels}".encode()).hexdigest(),
                path=f"bench/scale.py fleet: {positions} positions of {vessels} vessels",
                format="synthetic",
                status="running",
                started_at=datetime.now(UTC),
            )
        ).inserted_primary_key[0]
    per_slice = max(1, SLICE_ROWS * vessels // positions)
    stored, line, lo, hi = 0, 1, None, None
    for first in range(0, vessels, per_slice):
        frame = fleet_tracks(
            vessels=vessels,
            positions=positions,
            start=START,
            only=range(first, min(vessels, first + per_slice)),
        )
        batch = fleet_batch(frame, station="bench-scale", first_line=line)
        line += len(frame)
        with store.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            result = write_message_batch(conn, input_id, batch)
            upsert_vessels(conn, result.per_vessel)
        stored += result.positions
        if result.timed_span is not None:
            a, b = result.timed_span
            lo, hi = min(a, lo if lo is not None else a), max(b, hi if hi is not None else b)
    first_ts, last_ts = span_datetimes((lo, hi))
    with store.engine.begin() as conn:
        conn.execute(
            ingest_runs.update()
            .where(ingest_runs.c.id == input_id)
            .values(
                status="complete",
                finished_at=datetime.now(UTC),
                lines_done=line - 1,
                read=line - 1,
                positions=stored,
                first_ts=first_ts,
                last_ts=last_ts,
            )
        )
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    out = {"stored": stored, "fill_s": time.perf_counter() - t0}
    if archive:
        t1 = time.perf_counter()
        summary = export_archive(store, archive)
        out |= {"export_s": time.perf_counter() - t1, "archived": summary.rows}
        out["archive_files"] = summary.files
        out["archive_mb"] = sum(p.stat().st_size for p in Path(archive).rglob("*")) / 2**20
    with store.engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM positions")).scalar_one()
    assert count == positions == stored, (count, positions, stored)
    out["peak_mb"] = _peak_mb()
    return out


def _digest(events, *, ids: bool = True) -> str:
    """Same events: same keys and every field, as text (test_archive's comparison), hashed a
    row at a time (no text of the whole frame). Without ``ids``, ``position_ids`` is compared
    by count only: those are the store's row ids, which PostgreSQL numbers in key order and
    SQLite in (mmsi, ts) order."""
    frame = events.sort_values("key").reset_index(drop=True)
    digest = hashlib.sha256("\t".join(map(str, frame.columns)).encode())
    pos = list(frame.columns).index("position_ids")
    for row in frame.itertuples(index=False, name=None):
        cells = list(row)
        cells[pos] = list(map(int, cells[pos])) if ids else len(cells[pos])
        digest.update(("\n" + "\t".join(map(str, cells))).encode())
    return digest.hexdigest()[:16]


def _kinds(events) -> dict:
    return {str(k): int(n) for k, n in events["kind"].value_counts().sort_index().items()}


def child_detect_store(url: str) -> dict:
    from tracker.jobs.detect import detect_store
    from tracker.sources.ports import read_geofences
    from tracker.store import open_store

    geofences = read_geofences()
    store = open_store(url)
    t0 = time.perf_counter()
    events = detect_store(store, geofences)
    seconds, peak = time.perf_counter() - t0, _peak_mb()  # before the comparison's own work
    return {
        "seconds": seconds,
        "events": len(events),
        "kinds": _kinds(events),
        "digest": _digest(events),
        "digest_counts": _digest(events, ids=False),
        "peak_mb": peak,
    }


def child_detect_archive(root: str) -> dict:
    import resource

    from tracker.jobs.archive_detect import ArchiveRun, cluster_client, detect_archive
    from tracker.sources.ports import read_geofences

    def worker_peak_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    geofences = read_geofences()
    run = ArchiveRun()
    t0 = time.perf_counter()
    with cluster_client(n_workers=2) as client:
        started = time.perf_counter() - t0
        t1 = time.perf_counter()
        events = detect_archive(root, geofences, client, run=run)
        seconds, peak = time.perf_counter() - t1, _peak_mb()  # before the comparison's work
        workers = client.run(worker_peak_mb)
    return {
        "seconds": seconds,
        "cluster_start_s": started,
        "events": len(events),
        "kinds": _kinds(events),
        "digest": _digest(events),
        "digest_counts": _digest(events, ids=False),
        "peak_mb": peak,
        "workers_peak_mb": sorted(workers.values()),
        "buckets": run.buckets,
        "encounter_tasks": run.encounter_tasks,
        "coverage_rows": run.coverage_rows,
    }


def _child(args: argparse.Namespace) -> None:
    if args.child == "fill":
        out = child_fill(args.url, args.positions, args.vessels, args.archive)
    elif args.child == "store":
        out = child_detect_store(args.url)
    else:
        out = child_detect_archive(args.archive)
    print("RESULT " + json.dumps(out))


def _run(*argv: str) -> dict:
    """Run this script as a child in a fresh interpreter; its JSON result."""
    proc = subprocess.run(
        [sys.executable, __file__, *argv], capture_output=True, text=True, check=False
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
        return {"error": f"exit {proc.returncode}: {tail}"}
    return json.loads(lines[-1][len("RESULT ") :])


# -- the run -------------------------------------------------------------------------------


def _pg(url: str) -> tuple[str | None, str | None]:
    """``url`` ready (database recreated with PostGIS), or None and why not."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": parsed.database},
            )
            quoted = conn.dialect.identifier_preparer.quote(parsed.database)
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted}"))
            conn.execute(sa.text(f"CREATE DATABASE {quoted}"))
        db = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with db.connect() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        db.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means no usable server
        return None, str(exc).strip().splitlines()[0]
    finally:
        admin.dispose()
    return url, None


def _size(n: int, vessels: int, work: Path, pg_url: str | None, pg_why: str | None) -> dict:
    db = work / f"store-{n}.db"
    archive = work / f"archive-{n}"
    sqlite_url = f"sqlite:///{db}"
    common = ["--positions", str(n), "--vessels", str(vessels)]
    res: dict = {"positions": n, "vessels": vessels}
    print(f"\n== {n:,} positions of {vessels:,} fictitious vessels ==", flush=True)
    fill = _run("--child", "fill", "--url", sqlite_url, "--archive", str(archive), *common)
    res["fill_sqlite"] = fill
    if "error" in fill:
        print(f"  SQLite fill failed: {fill['error']}")
        return res
    print(
        f"  fill SQLite {fill['fill_s']:7.1f} s ({n / fill['fill_s']:,.0f} positions/s, "
        f"{db.stat().st_size / 2**20:,.0f} MB); export archive {fill['export_s']:.1f} s "
        f"({fill['archive_files']} files, {fill['archive_mb']:,.0f} MB)",
        flush=True,
    )
    if pg_url:
        pg_url, pg_why = _pg(pg_url)
    if pg_url:
        pg_fill = _run("--child", "fill", "--url", pg_url, *common)
        res["fill_pg"] = pg_fill
        if "error" in pg_fill:
            pg_why = f"fill failed: {pg_fill['error']}"
        else:
            print(
                f"  fill PostGIS {pg_fill['fill_s']:6.1f} s "
                f"({n / pg_fill['fill_s']:,.0f} positions/s)",
                flush=True,
            )
    paths = [("SQLite store (detect_store)", "sqlite", ("--child", "store", "--url", sqlite_url))]
    if pg_url and pg_why is None:
        paths.append(("PostGIS store (detect_store)", "pg", ("--child", "store", "--url", pg_url)))
    paths.append(
        ("archive, 2-worker LocalCluster", "archive", ("--child", "archive", "--archive", archive))
    )
    if pg_why is not None:
        res["pg_skipped"] = pg_why
    for label, name, argv in paths:
        out = _run(*map(str, argv))
        res[name] = out
        if "error" in out:
            print(f"  {label:<32} FAILED {out['error']}", flush=True)
            continue
        mem = f"peak {out['peak_mb']:,.0f} MB"
        if "workers_peak_mb" in out:
            w = " + ".join(f"{m:,.0f}" for m in out["workers_peak_mb"])
            mem = f"driver peak {out['peak_mb']:,.0f} MB, workers {w} MB"
        print(
            f"  {label:<32} {out['seconds']:7.1f} s  {n / out['seconds']:>9,.0f} pos/s  "
            f"{out['events']:>6,} events  {mem}",
            flush=True,
        )
    if pg_why is not None:
        print(f"  PostGIS skipped: {pg_why}")
    done = [res[k] for k in ("sqlite", "pg", "archive") if k in res and "error" not in res[k]]
    if done:
        print(f"  events by kind: {done[0]['kinds']}")
        names = [k for k in ("sqlite", "pg", "archive") if k in res and "error" not in res[k]]
        same = len({d["digest_counts"] for d in done}) == 1
        print(
            f"  events equal across {', '.join(names)} (every field; cited positions by count): "
            f"{'yes' if same else 'NO'}"
        )
        if "sqlite" in names and "archive" in names:
            exact = res["sqlite"]["digest"] == res["archive"]["digest"]
            print(
                "  events equal SQLite vs archive (every field, position ids too): "
                f"{'yes' if exact else 'NO'}"
            )
            same = same and exact
        res["equal"] = same
    return res


def _flatness(small: dict, big: dict) -> None:
    print(f"\n== memory flatness: peak RSS at {big['positions']:,} / at {small['positions']:,} ==")

    def peak(res: dict, name: str, field: str = "peak_mb") -> float | None:
        out = res.get(name) or {}
        if "error" in out or field not in out:
            return None
        value = out[field]
        return max(value) if isinstance(value, list) else value

    rows = [
        ("SQLite detect_store process", "sqlite", "peak_mb"),
        ("PostGIS detect_store process", "pg", "peak_mb"),
        ("archive: driver process", "archive", "peak_mb"),
        ("archive: largest worker", "archive", "workers_peak_mb"),
    ]
    for label, name, field in rows:
        a, b = peak(small, name, field), peak(big, name, field)
        if a is None or b is None:
            print(f"  {label:<30} not measured at both sizes")
            continue
        ratio = b / a
        verdict = "within 20 %" if abs(ratio - 1) <= 0.2 else "NOT within 20 %"
        print(f"  {label:<30} {a:7,.0f} MB -> {b:7,.0f} MB  ratio {ratio:.2f}  ({verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=10_000_000)
    parser.add_argument("--vessels", type=int, default=5000)
    parser.add_argument("--pg-url", default=PG_DEFAULT, help="'' to skip PostGIS")
    parser.add_argument("--workdir", type=Path, help="where the temporary work folder goes")
    parser.add_argument("--child", choices=["fill", "store", "archive"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--archive", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    pg_why = None if args.pg_url else "no --pg-url given"
    sizes = sorted({min(SMALL, args.positions), args.positions})
    per_vessel = args.positions / args.vessels
    print(
        f"scale bench: sizes {', '.join(f'{n:,}' for n in sizes)} positions, "
        f"{per_vessel:,.0f} fixes per fictitious vessel (10 min apart) over a year"
    )
    results = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        for n in sizes:
            vessels = max(2, round(n / per_vessel))
            results.append(_size(n, vessels, work, args.pg_url or None, pg_why))
    if len(results) == 2:
        _flatness(results[0], results[1])
    else:
        print("\nmemory flatness: one size only (--positions <= 1,000,000)")


if __name__ == "__main__":
    main()
