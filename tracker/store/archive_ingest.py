"""Ingest AIS files straight to a position archive, without a store.

Each file is decoded and deduplicated exactly as ``tracker ingest ais`` does (the same
:func:`tracker.store.ingest.ingest_ais_file`, into a scratch SQLite store of that file alone
under ``DIR/_scratch``), then written to the archive's day files of that input
(:func:`tracker.store.archive.export_archive` with ``standalone``) and the scratch is deleted.
So the archive gets the store's rows and counts for every format the store reads, memory stays
that of an ingest, and a run killed half-way resumes from its scratch store.

Idempotent per input file: a file (by sha256) already archived is not read again unless
``reread``; archiving it again replaces its day files, never adds to them. Lines that could
not be read are kept aside in ``DIR/_quarantine/input-<sha12>.csv`` (line, reason, raw text).

Rows carry their transmission key as ``id`` and ``input_id`` is derived from the file's
sha256 (:func:`tracker.store.archive.archive_input_id`), so inputs never share ids. A
transmission heard in two files is archived with both and counted once by detection over the
archive; static reports (names, call signs) are not archived (the archive holds positions).

Limits: a transmission identified only by its 60 s window (type 27, and position reports
whose second field is 60-63) heard in two files on either side of a minute boundary counts
twice (the store matches neighbouring windows; the archive keeps no neighbours). One writer
at a time per archive folder (the manifest is read, changed and replaced). Do not archive the
same recordings both ways into one folder: exported inputs carry store ids, ingested ones
keys, so their repeats are not matched.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from tracker.core.errors import TrackerError
from tracker.core.records import BadRecord
from tracker.sources.ais.textio import file_sha256
from tracker.store.archive import (
    export_archive,
    input_tag,
    read_manifest,
    write_manifest,
)
from tracker.store.engine import open_store
from tracker.store.ingest import DEFAULT_BATCH_SIZE, IngestSummary, ingest_ais_file
from tracker.store.tables import ingest_runs, quarantine

__all__ = ["QUARANTINE_DIR", "SCRATCH_DIR", "ingest_to_archive"]

SCRATCH_DIR = "_scratch"
QUARANTINE_DIR = "_quarantine"

_COUNTS = ("read", "positions", "statics", "duplicates", "quarantined")


def ingest_to_archive(
    path: str | Path,
    out: str | Path,
    *,
    format: str = "auto",
    assume_time: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_bad: Callable[[BadRecord], None] | None = None,
    on_batch: Callable[[int], None] | None = None,
    reread: bool = False,
    fast: bool = True,
    workers: int | None = None,
) -> IngestSummary:
    """Ingest one AIS file into the archive folder ``out`` (see the module docstring); its
    counts as an ingest into a store would give them. A file-level error (no times, unknown
    format) raises before anything is written to the archive."""
    path = Path(path)
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    sha256 = file_sha256(path)
    tag = input_tag(sha256)
    done = read_manifest(root).get("inputs", {}).get(tag, {})
    scratch = root / SCRATCH_DIR
    db = scratch / f"{tag}.db"
    if done.get("complete") and not reread:
        _remove_scratch(db)  # left by a run killed after it finished writing
        return IngestSummary(already_ingested=1)
    scratch.mkdir(exist_ok=True)
    resuming = db.exists()
    store = open_store(str(db))
    try:
        try:
            ingest_ais_file(
                store,
                path,
                format=format,
                assume_time=assume_time,
                batch_size=batch_size,
                on_bad=on_bad,
                on_batch=on_batch,
                fast=fast,
                workers=workers,
            )
        except TrackerError:
            # refused as a whole (no times, unknown format): a scratch this run made holds
            # nothing; one left by a killed run is kept for the run that resumes it
            if not resuming:
                store.engine.dispose()
                _remove_scratch(db)
            raise
        # the counts of the scratch's one run: a run resumed from a killed one included
        with store.engine.connect() as conn:
            run = conn.execute(sa.select(ingest_runs).where(ingest_runs.c.sha256 == sha256)).one()
            bad = conn.execute(
                sa.select(quarantine.c.line, quarantine.c.reason, quarantine.c.raw).order_by(
                    quarantine.c.line
                )
            ).all()
        summary = IngestSummary(**{name: int(getattr(run, name) or 0) for name in _COUNTS})
        _remove_input_files(root, tag)
        export_archive(store, root, standalone=True)
        _write_quarantine(root, tag, path, bad)
        manifest = read_manifest(root)
        entry = manifest["inputs"].setdefault(tag, {"days": {}})
        entry.update(
            complete=True,
            sha256=sha256,
            path=str(path),
            counts={name: getattr(summary, name) for name in _COUNTS},
        )
        write_manifest(root, manifest)
    finally:
        store.engine.dispose()
    _remove_scratch(db)
    return summary


def _remove_scratch(db: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def _remove_input_files(root: Path, tag: str) -> None:
    """Delete an input's day files (all of them: a re-run may cover other days) and forget
    them in the manifest, before the input is written again."""
    manifest = read_manifest(root)
    for day_file in root.glob(f"day=*/{tag}.parquet"):
        day_file.unlink()
        folder = day_file.parent
        if not any(folder.iterdir()):
            folder.rmdir()
    if tag in manifest.get("inputs", {}):
        manifest["inputs"][tag]["days"] = {}
        manifest["inputs"][tag]["complete"] = False
        write_manifest(root, manifest)


def _write_quarantine(root: Path, tag: str, path: Path, bad: list) -> None:
    """The input's quarantined lines as CSV (``path, line, reason, raw``), or no file."""
    folder = root / QUARANTINE_DIR
    target = folder / f"{tag}.csv"
    if not bad:
        target.unlink(missing_ok=True)
        return
    folder.mkdir(exist_ok=True)
    tmp = folder / f".{tag}.csv.tmp"
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "line", "reason", "raw"])
        for line, reason, raw in bad:
            writer.writerow([str(path), line, reason, raw])
    os.replace(tmp, target)
