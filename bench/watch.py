"""Bench: one watch cycle's cost grows with the new data, not with the store.

Builds a store of fictitious tracks (tracker.sources.ais.synth, MMSIs 999xxxxxx) with
``--positions`` stored positions (default 1,000,000, bulk-inserted), then times watch cycles
(:func:`tracker.jobs.watch.run_cycle`) of ``--new`` new NMEA messages each (default 1,000)
on the same vessels, and the same cycles on a store 10x smaller: the ratio should be near 1.
Each cycle checks its own result (every new message stored once).

    .venv/bin/python bench/watch.py [--positions 1000000] [--new 1000] [--cycles 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from tracker.core.paths import project_data
from tracker.jobs.watch import run_cycle
from tracker.sources.ais.feeds import Feed
from tracker.sources.ais.nmea import iter_nmea_lines
from tracker.sources.ais.records import message_key
from tracker.sources.ais.synth import sail, track_to_nmea
from tracker.sources.ports import read_geofences
from tracker.store import open_store
from tracker.store.tables import ingest_runs, positions, vessels

START = datetime(2026, 1, 1, tzinfo=UTC)
VESSELS = 1000


def _fill(store, n: int) -> None:
    per = n // VESSELS
    rows = []
    with store.engine.begin() as conn:
        # the stored positions come from one input, as a file ingest would record it
        input_id = conn.execute(
            ingest_runs.insert().values(
                sha256=f"bench-{n}".ljust(64, "0"),
                path=f"bench fill of {n} positions",
                format="nmea",
                status="complete",
                started_at=datetime.now(UTC),
                first_ts=START,
                last_ts=START + timedelta(seconds=60 * (per - 1)),
            )
        ).inserted_primary_key[0]
        for v in range(VESSELS):
            mmsi = 999_000_000 + v
            lon0, lat0 = -30 + (v % 50), -20 + v // 50
            track = sail(
                [(lon0, lat0), (lon0 + 6, lat0)],
                start=START,
                speed_kn=12,
                report_every=timedelta(seconds=60),
            ).head(per)
            for r in track.itertuples():
                rows.append(
                    {
                        "key": message_key("bench", mmsi, r.ts.isoformat()),
                        "mmsi": mmsi,
                        "ts": r.ts.to_pydatetime(),
                        "ts_assumed": False,
                        "lon": r.lon,
                        "lat": r.lat,
                        "sog_kn": r.sog_kn,
                        "cog_deg": r.cog_deg,
                        "nav_status": 0,
                        "msg_type": 1,
                        "input_id": input_id,
                    }
                )
            if len(rows) >= 50_000:
                conn.execute(positions.insert(), rows)
                rows = []
        if rows:
            conn.execute(positions.insert(), rows)
        # and the per-vessel summary an ingest keeps with them
        conn.execute(
            vessels.insert().from_select(
                ["mmsi", "first_seen", "last_seen", "positions", "statics"],
                sa.select(
                    positions.c.mmsi,
                    sa.func.min(positions.c.ts),
                    sa.func.max(positions.c.ts),
                    sa.func.count(),
                    sa.literal(0),
                ).group_by(positions.c.mmsi),
            )
        )


def _new_messages(feed: Feed, cycle: int, n: int, start_line: int) -> list:
    lines: list[str] = []
    start = START + timedelta(days=7, hours=cycle)
    for v in range(0, VESSELS, max(1, VESSELS * 10 // n)):  # n messages over n/10 vessels
        track = sail(
            [
                (-30 + (v % 50) + 0.5, -20 + v // 50 + 0.5),
                (-30 + (v % 50) + 0.6, -20 + v // 50 + 0.6),
            ],
            start=start,
            speed_kn=12,
            report_every=timedelta(seconds=30),
        ).head(10)
        lines += track_to_nmea(track, mmsi=999_000_000 + v, static_every=timedelta(days=1))
    numbered = [(start_line + i, s.encode()) for i, s in enumerate(lines[:n])]
    return [(feed, item) for item in iter_nmea_lines(numbered, path=feed.label)]


def _time(url: str, total: int, new: int, cycles: int, geofences) -> float:
    store = open_store(url)
    t = time.perf_counter()
    _fill(store, total)
    print(f"  stored {total:,} positions in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    feed = Feed("tcp://127.0.0.1:9", session=f"bench-{total}")
    runs: dict = {}
    times = []
    for cycle in range(cycles):
        got = _new_messages(feed, cycle, new, 1 + cycle * new)
        result = run_cycle(store, got, runs=runs, geofences=geofences)
        stored = sum(1 for _, m in got if getattr(m, "position", None) is not None)
        assert result.stored >= stored > 0, (result.stored, stored)
        times.append(result.seconds)
        print(
            f"  cycle {cycle}: {len(got)} messages, {result.stored} stored, "
            f"{len(result.vessels)} vessels, {result.seconds:.2f}s {result.note}",
            file=sys.stderr,
        )
    with store.engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(positions)).scalar()
    assert count >= total + cycles * new * 0.9, count
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=3)
    args = parser.parse_args()
    geofences = read_geofences() if project_data("ports").is_dir() else None
    with tempfile.TemporaryDirectory() as tmp:
        small = _time(
            f"sqlite:///{Path(tmp) / 'small.db'}",
            args.positions // 10,
            args.new,
            args.cycles,
            geofences,
        )
        big = _time(
            f"sqlite:///{Path(tmp) / 'big.db'}", args.positions, args.new, args.cycles, geofences
        )
    print(
        f"watch cycle of {args.new} new messages: {big:.2f}s with {args.positions:,} stored, "
        f"{small:.2f}s with {args.positions // 10:,} stored (ratio {big / small:.2f}; floor: < 2)"
    )


if __name__ == "__main__":
    main()
