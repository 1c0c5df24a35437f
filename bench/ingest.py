"""Benchmark: tracker ingest against bare pyais decoding on the same file, in one run.

    python bench/ingest.py [FILE ...] [--messages N] [--repeat R]

With no FILE, a tag-blocked NMEA file of N fictitious position reports (default 100,000) is
generated once into a temporary folder. For each file it times
  1. the floor: ``pyais.stream.FileReaderStream(path)`` + ``.decode()`` of every message;
  2. tracker: ``ingest_ais_file`` into a fresh SQLite file (parse, checksum, quarantine,
     de-duplicate, write positions/statics/lineage/vessels in batches);
and prints messages per second of each and the ratio (tracker time / pyais time).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyais.stream import FileReaderStream

from tracker.sources.ais.frames import read_nmea
from tracker.sources.ais.synth import sail, track_to_nmea, write_nmea
from tracker.store import open_store
from tracker.store.ingest import ingest_ais_file


def make_file(folder: Path, messages: int) -> Path:
    """A fleet of fictitious ships (MMSI 999...) reporting every minute, ``messages`` reports in all."""
    path = folder / f"fleet-{messages}.nmea"
    if path.exists():
        return path
    lines: list[str] = []
    per_ship = 2000
    start = datetime(2025, 5, 1, tzinfo=UTC)
    ship = 0
    while len(lines) < messages:
        lon, lat = -30.0 + (ship % 50) * 0.5, 5.0 + (ship // 50) * 0.5
        track = sail(
            [(lon, lat), (lon + 3.0, lat + 1.0)],
            start=start,
            speed_kn=12.0,
            report_every=timedelta(minutes=1),
        ).head(min(per_ship, messages - len(lines)))
        lines += track_to_nmea(track, mmsi=999_100_000 + ship, station=f"bench{ship % 7}")
        ship += 1
    return write_nmea(path, lines[:messages])


def time_pyais(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    count = 0
    for msg in FileReaderStream(str(path)):
        try:
            msg.decode()
        except Exception:  # noqa: BLE001 - the floor skips what it cannot decode, as tracker quarantines it
            continue
        count += 1
    return time.perf_counter() - start, count


def time_tracker(path: Path, folder: Path, run: int) -> tuple[float, int]:
    db = folder / f"bench-{path.stem}-{run}.db"
    store = open_store(f"sqlite:///{db}")
    start = time.perf_counter()
    summary = ingest_ais_file(store, path, assume_time=datetime(2020, 1, 1, tzinfo=UTC))
    elapsed = time.perf_counter() - start
    store.dispose()
    db.unlink()
    return elapsed, summary.read - summary.quarantined


def time_read_frames(path: Path) -> float:
    start = time.perf_counter()
    read_nmea(path, assume_time=datetime(2020, 1, 1, tzinfo=UTC))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = args.files or [make_file(folder, args.messages)]
        print(
            f"{'file':<34} {'messages':>9} {'pyais msg/s':>12} {'tracker msg/s':>14} {'ratio':>6} {'frames msg/s':>13}"
        )
        for path in files:
            floor = [time_pyais(path) for _ in range(args.repeat)]
            ours = [time_tracker(path, folder, i) for i in range(args.repeat)]
            frames = [time_read_frames(path) for _ in range(args.repeat)]
            floor_s, count = statistics.median(t for t, _ in floor), floor[0][1]
            ours_s, stored = statistics.median(t for t, _ in ours), ours[0][1]
            frames_s = statistics.median(frames)
            print(
                f"{path.name[:34]:<34} {count:>9} {count / floor_s:>12,.0f} {stored / ours_s:>14,.0f} "
                f"{ours_s / floor_s:>6.2f} {stored / frames_s:>13,.0f}"
            )
        print(
            "ratio = tracker ingest time / bare pyais decode time on the same file (median of runs; lower is better)"
        )


if __name__ == "__main__":
    main()
