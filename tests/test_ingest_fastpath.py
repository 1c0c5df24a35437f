"""The fast ingest path stores exactly what the pyais path stores (issue 16 acceptance).

Each real NMEA recording (plus the AISHub sample, given tag-block times and heard again by a
second station so re-heard duplicates span batches) is ingested twice into fresh stores of
the same backend: once with the vectorised decoder in worker processes, once with pyais for
every line in this process. Every table's content must be identical; the comparison is not
empty (rows are counted first).
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from aisutil import ASSUMED, REAL_NMEA, row_counts, store_snapshot

from tracker.store import open_store
from tracker.store.ais import read_positions, read_static_reports
from tracker.store.ingest import ingest_ais_file

AISHUB = "ais/aishub/aishub-ais-nmea-sample.log.gz"
AISHUB_START = int(datetime(2015, 10, 6, 12, tzinfo=UTC).timestamp())


def _tag(body: str) -> str:
    check = 0
    for byte in body.encode("ascii"):
        check ^= byte
    return f"\\{body}*{check:02X}\\"


def aishub_heard_twice(source: Path, out: Path) -> Path:
    """The AISHub sample with tag-block times spread over its 3 minutes, heard by two stations."""
    lines = [
        line
        for line in gzip.open(source, "rt", encoding="ascii", errors="replace").read().splitlines()
        if line and not line.startswith("#")
    ]
    text = []
    for station in ("aishub1", "aishub2"):
        for i, line in enumerate(lines):
            text.append(_tag(f"s:{station},c:{AISHUB_START + i * 180 // len(lines)}") + line)
    out.write_text("\n".join(text) + "\n", encoding="ascii")
    return out


def _ingest_both(fast_store, slow_store, path: Path, assume, batch_size: int) -> None:
    fast = ingest_ais_file(
        fast_store, path, assume_time=assume, batch_size=batch_size, fast=True, workers=2
    )
    slow = ingest_ais_file(
        slow_store, path, assume_time=assume, batch_size=batch_size, fast=False, workers=0
    )
    assert fast.as_dict() == slow.as_dict()


@pytest.mark.parametrize("relative", sorted(REAL_NMEA), ids=lambda r: Path(r).name)
def test_real_recording_same_store_fast_or_pyais(shared_file, tmp_path, relative):
    path = shared_file(relative)
    assume = ASSUMED if REAL_NMEA[relative] else None
    fast_store = open_store(str(tmp_path / "fast.db"))
    slow_store = open_store(str(tmp_path / "slow.db"))
    _ingest_both(fast_store, slow_store, path, assume, batch_size=97)
    counts = row_counts(slow_store.engine)
    assert counts["positions"] + counts["static_reports"] + counts["quarantine"] > 0
    assert row_counts(fast_store.engine) == counts
    assert store_snapshot(fast_store.engine) == store_snapshot(slow_store.engine)


@pytest.mark.postgres
def test_aishub_heard_twice_same_store_on_both_backends(
    shared_file, tmp_path, pg_url, second_pg_url
):
    """SQLite and PostgreSQL, fast and pyais: four stores, one content (duplicates across batches)."""
    corpus = aishub_heard_twice(shared_file(AISHUB), tmp_path / "aishub-2x.nmea")
    lite_fast, lite_slow = open_store(str(tmp_path / "f.db")), open_store(str(tmp_path / "s.db"))
    _ingest_both(lite_fast, lite_slow, corpus, None, batch_size=20_000)
    counts = row_counts(lite_slow.engine)
    # every sentence of the second station repeats one of the first: half the input is repeats
    assert counts["positions"] > 70_000
    snapshot = store_snapshot(lite_slow.engine)
    assert store_snapshot(lite_fast.engine) == snapshot

    pg_fast, pg_slow = open_store(pg_url), open_store(second_pg_url)
    _ingest_both(pg_fast, pg_slow, corpus, None, batch_size=20_000)
    assert row_counts(pg_fast.engine) == counts
    assert store_snapshot(pg_fast.engine) == store_snapshot(pg_slow.engine)
    # across backends, read through the library (times are integers on SQLite, timestamps on
    # PostgreSQL): the same positions and static reports
    for read in (_positions, _statics):
        assert read(pg_fast).equals(read(lite_fast))


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Without surrogate ids, in the order of every column (ties of MMSI and time are stored
    in key order on PostgreSQL, in input order on SQLite)."""
    frame = frame.drop(columns=[c for c in ("id", "input_id") if c in frame])
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def _positions(store) -> pd.DataFrame:
    return _sorted(pd.DataFrame(read_positions(store, vessels_only=False).drop(columns="geometry")))


def _statics(store) -> pd.DataFrame:
    return _sorted(read_static_reports(store))
