"""An interrupted ingest resumes after its last stored batch and ends as one clean run: the
same rows and the same run counts (read, duplicates, quarantined, lines done), whatever the
batch size of either run, with multi-part messages straddling the resume point."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from aisutil import store_snapshot

from tracker.store import open_store
from tracker.store.ingest import ingest_ais_file
from tracker.store.tables import ingest_runs

REAL = [
    "ais/kystverket/Ais1000Lines.nm4",  # tag-block groups (g:) of multi-part statics
    "ais/aisdb/test_data_20211101.nm4",
]


class Interrupt(Exception):
    """Stands in for a crash after some batches were committed."""


def _run_counts(store) -> tuple:
    with store.engine.connect() as conn:
        return tuple(
            conn.execute(
                sa.select(
                    ingest_runs.c.status,
                    ingest_runs.c.read,
                    ingest_runs.c.positions,
                    ingest_runs.c.statics,
                    ingest_runs.c.duplicates,
                    ingest_runs.c.quarantined,
                    ingest_runs.c.lines_done,
                )
            ).one()
        )


@pytest.mark.parametrize("relative", REAL)
@pytest.mark.parametrize(("first_batch", "second_batch"), [(97, 97), (50, 211), (211, 7)])
def test_interrupted_run_resumes_to_a_clean_run(
    shared_file, tmp_path, relative, first_batch, second_batch
):
    path = shared_file(relative)
    clean = open_store(str(tmp_path / "clean.db"))
    ingest_ais_file(clean, path, batch_size=second_batch, workers=0)

    broken = open_store(str(tmp_path / "broken.db"))
    batches = []

    def crash_after_three(n: int) -> None:
        batches.append(n)
        if len(batches) == 3:
            raise Interrupt

    with pytest.raises(Interrupt):
        ingest_ais_file(broken, path, batch_size=first_batch, on_batch=crash_after_three)
    status, read, *_rest, lines_done = _run_counts(broken)
    assert status == "running" and 0 < read and 0 < lines_done < 1000
    resumed = ingest_ais_file(broken, path, batch_size=second_batch, workers=0)
    assert _run_counts(broken) == _run_counts(clean)
    assert _run_counts(clean)[0] == "complete" and _run_counts(clean)[4] == 0  # no repeats
    assert resumed.read == _run_counts(clean)[1]
    assert store_snapshot(broken.engine) == store_snapshot(clean.engine)
