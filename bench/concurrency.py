"""Stress: concurrent `tracker ingest ais` processes on one store equal a sequential ingest.

    python bench/concurrency.py [--repeat 20] [--backend sqlite|postgresql|both]

Per backend and repetition: (a) four processes ingest four FICTITIOUS fleet files at once into
one existing store; (b) two processes ingest two files at once into a fresh (empty) store. The
store's row counts and content hash (see tests/test_store_concurrency.py) must equal those of
the same files ingested one after another into a second store; every process must exit 0
without a traceback. PostgreSQL: $TRACKER_TEST_PG (default postgres@127.0.0.1:5432).
Prints one line per repetition and the failures per scenario.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_store_concurrency import (
    _reset,
    finish,
    fleet_file,
    run_tracker,
    sequential_oracle,
    store_digest,
)

from tracker.store import open_store

PG = os.environ.get("TRACKER_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def _pg_database(admin: sa.Engine, name: str) -> str:
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG.rsplit("/", 1)[0] + f"/{name}"
    eng = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    eng.dispose()
    return url


def _scenario(url: str, files: list[Path], expected, *, fresh: bool, batch: str) -> str | None:
    _reset(url)
    if not fresh:
        open_store(url).dispose()
    results = finish(
        [run_tracker(url, "ingest", "ais", str(f), "--batch-size", batch) for f in files]
    )
    for rc, _out, err in results:
        if rc != 0 or "Traceback" in err:
            return f"exit {rc}: {err.strip().splitlines()[-1] if err.strip() else ''}"
    got = store_digest(url)
    if got != expected:
        return f"store differs: {got[0]} vs {expected[0]}"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tracker-concurrency-"))
    files = [fleet_file(tmp, i)[0] for i in range(4)]
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    made: list[str] = []
    failures = 0
    try:
        for backend in backends:
            if backend == "sqlite":
                url, oracle4, oracle2 = (f"sqlite:///{tmp / n}.db" for n in ("s", "o4", "o2"))
            else:
                base = f"tracker_bench_{uuid.uuid4().hex[:8]}"
                made += [f"{base}_s", f"{base}_o4", f"{base}_o2"]
                url, oracle4, oracle2 = (_pg_database(admin, n) for n in made[-3:])
            expect4 = sequential_oracle(oracle4, files)
            expect2 = sequential_oracle(oracle2, files[:2])
            fails = {"4 ingests, existing store": 0, "2 ingests, fresh store": 0}
            for rep in range(args.repeat):
                start = time.monotonic()
                a = _scenario(url, files, expect4, fresh=False, batch="150")
                b = _scenario(url, files[:2], expect2, fresh=True, batch="400")
                fails["4 ingests, existing store"] += a is not None
                fails["2 ingests, fresh store"] += b is not None
                took = time.monotonic() - start
                print(
                    f"{backend} {rep + 1}/{args.repeat}: existing {a or 'ok'}; fresh {b or 'ok'} ({took:.1f} s)",
                    flush=True,
                )
            print(f"{backend}: failures {fails} in {args.repeat} repetitions", flush=True)
            failures += sum(fails.values())
    finally:
        for name in made:
            with admin.connect() as conn:
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": name},
                )
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
