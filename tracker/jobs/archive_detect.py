"""Detection over a position archive on dask.distributed: the same pure detectors as
:func:`tracker.jobs.detect.detect_store`, the same events.

How the work is cut (see :func:`detect_archive`):

- **per-vessel detectors** (port calls, gaps, loitering, implausible): the archive's vessel
  fixes in [since, until] are shuffled (peer-to-peer on a distributed cluster) into
  partitions hashed by MMSI, cut along the hash where the vessels' fix counts add up to
  ``rows_per_bucket``; each task gets whole vessels over the whole time range, so a gap or a
  port call is never cut by a partition edge and no overlap is needed, and at most that many
  fixes (unless one vessel alone has more), so its memory does not grow with the archive.
- **gap coverage** (other vessels heard near a silence): a precomputed (cell, hour) ->
  distinct-vessels table (``DIR/_coverage``, rebuilt when the archive changed) names the
  candidate vessels; only their fixes in the cells and hours concerned are then read to count
  exactly as the store does (same bounding box, same geodesic radius).
- **encounters**: the store path's 7-day windows (with its overlap of twice the minimum
  duration) times space cells of ``cell_deg`` degrees read with a ``margin_deg`` margin; a task
  keeps the encounters whose median position lies in its own cell, then each key's longest
  version is kept, as in the store path. Exact as long as an encounter's fixes lie within
  ``margin_deg`` of its median (1 degree: 30 h of steady drift at the 2 kn encounter limit).

Identity changes are not among the detectors here (they read static reports, which the
archive does not hold; they stay with the store), and neither are sanctions statuses: pass
``identities`` (from the store) with ``entries`` to annotate them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from tracker.analysis.encounters import detect_encounters
from tracker.analysis.events import events_frame
from tracker.analysis.gaps import detect_gaps, silent_at_end
from tracker.analysis.implausible import detect_implausible
from tracker.analysis.loitering import detect_loitering
from tracker.analysis.port_calls import detect_port_calls
from tracker.analysis.status import annotate_sanctions
from tracker.core.geo import geodesic_distance_m
from tracker.core.schema import POSITION_COLUMNS, positions_frame
from tracker.jobs.detect import KINDS, DetectionNotes, _note_chunk, merge_events
from tracker.sources.ais.records import VESSEL_POSITION_TYPES
from tracker.store.archive import (
    COVERAGE_DIR,
    archive_days,
    coverage_cells,
    input_spans,
    read_archive,
    read_manifest,
    scan_table,
    write_manifest,
)

__all__ = [
    "ARCHIVE_KINDS",
    "STORE_ONLY_KINDS",
    "ArchiveRun",
    "build_coverage",
    "cluster_client",
    "detect_archive",
]

#: What the archive path detects; identity changes need the store's static reports.
ARCHIVE_KINDS = KINDS
STORE_ONLY_KINDS = ("identity",)

_READ_COLUMNS = ["id", *POSITION_COLUMNS, "input_id"]
#: Set in a LocalCluster's worker processes: Arrow allocates with the C library's allocator
#: instead of its default (mimalloc), which keeps freed pages; a worker running tens of read,
#: shuffle and detection tasks otherwise grew with their number (measured, per-vessel stage at
#: 10 M positions vs 1 M: worker peak 1.21x with mimalloc, 1.12x with the system allocator).
#: Workers of a cluster started elsewhere (``--scheduler``) keep their own setting: start them
#: with this variable set to get the same.
WORKER_ENV = {"ARROW_DEFAULT_MEMORY_POOL": "system"}
#: Archive rows per hour bucket when the coverage table is built (it keeps ~1 in 6 of them).
COVERAGE_ROWS_PER_BUCKET = 1_000_000
_UTC = "datetime64[us, UTC]"


@dataclass
class ArchiveRun:
    """How a run was cut: tasks per stage, the dashboard and the archive's size."""

    rows: int = 0
    buckets: int = 0
    encounter_tasks: int = 0
    coverage_rows: int = 0
    dashboard: str | None = None


def _utc(value) -> pd.Timestamp:
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


@contextmanager
def cluster_client(
    scheduler: str | None = None,
    *,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    memory_limit: str | None = "auto",
    on_start: Callable[[object], None] | None = None,
):
    """A dask.distributed ``Client``: connected to ``scheduler`` (``tcp://host:8786``), else on
    a new ``LocalCluster`` of ``n_workers`` processes on loopback, closed on exit. ``on_start``
    gets the client (its ``dashboard_link`` says where to watch)."""
    import logging

    from distributed import Client, LocalCluster

    # each shuffle logs two WARNING lines ("initialized by task", "deactivated") that say
    # nothing an analyst can act on; real problems still come as errors
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    if scheduler:
        client = Client(scheduler)
        try:
            if on_start:
                on_start(client)
            yield client
        finally:
            client.close()
        return
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            memory_limit=memory_limit,
            env=WORKER_ENV,
        ) as cluster,
        Client(cluster) as client,
    ):
        if on_start:
            on_start(client)
        yield client


def _day_files(root: Path, since=None, until=None) -> list[str]:
    days = archive_days(root)
    if since is not None:
        days = [d for d in days if d >= _utc(since).strftime("%Y-%m-%d")]
    if until is not None:
        days = [d for d in days if d <= _utc(until).strftime("%Y-%m-%d")]
    return sorted(str(f) for d in days for f in (root / f"day={d}").glob("input-*.parquet"))


def _archive_rows(files: Sequence[str]) -> int:
    """Rows in these Parquet files, from their footers."""
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def _read_ddf(root: Path, columns, since=None, until=None):
    import dask.dataframe as dd

    files = _day_files(root, since, until)
    if not files:
        return None
    ddf = dd.read_parquet(files, columns=list(columns), split_row_groups="adaptive")
    if since is not None:
        ddf = ddf[ddf["ts"] >= _utc(since)]
    if until is not None:
        ddf = ddf[ddf["ts"] <= _utc(until)]
    return ddf


# -- coverage ------------------------------------------------------------------------------


def build_coverage(root: str | Path, client, *, cell_deg: float = 1.0, force: bool = False) -> int:
    """Write ``DIR/_coverage`` (rows ``cx, cy, hour, mmsi``: each vessel heard with a real time
    in each ``cell_deg`` grid cell and UTC hour) unless it is current; returns its row count."""
    import dask

    root = Path(root)
    manifest = read_manifest(root)
    stamp = {"generation": manifest.get("generation", 0), "cell_deg": cell_deg}
    cov = manifest.get("coverage") or {}
    folder = root / COVERAGE_DIR
    if not force and folder.is_dir() and {k: cov.get(k) for k in stamp} == stamp:
        return int(cov.get("rows", 0))
    ddf = _read_ddf(root, ["mmsi", "ts", "ts_assumed", "lon", "lat"])
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.parquet"):
        old.unlink()
    rows = 0
    if ddf is not None:
        meta = pd.DataFrame(
            {c: pd.Series(dtype=t) for c, t in [("cx", "int32"), ("cy", "int32")]}
            | {"hour": pd.Series(dtype="int64"), "mmsi": pd.Series(dtype="int64")}
        )
        cells = ddf.map_partitions(coverage_cells, cell_deg, meta=meta)
        # one partition per hour bucket of the table, deduplicated within it; buckets sized
        # by the archive's row count, so each task's memory stays the same as the data grows
        n = max(1, math.ceil(_archive_rows(_day_files(root)) / COVERAGE_ROWS_PER_BUCKET))
        cells = cells.shuffle("hour", npartitions=n)
        parts = cells.to_delayed()
        # each task writes its own part where it runs (the workers read DIR anyway): the
        # table never passes through this process, whose memory stays flat as it grows
        tasks = [
            dask.delayed(_write_coverage_part)(p, str(folder / f"part-{i:05d}.parquet"))
            for i, p in enumerate(parts)
        ]
        rows = int(sum(client.compute(tasks, sync=True)))
    manifest["coverage"] = {**stamp, "rows": rows}
    write_manifest(root, manifest)
    return rows


def _write_coverage_part(frame: pd.DataFrame, path: str) -> int:
    """Write one hour bucket of the coverage table, deduplicated and sorted; its row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = frame.drop_duplicates().sort_values(["hour", "cx", "cy", "mmsi"])
    if len(frame):
        pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=200_000
        )
    return len(frame)


def _bbox(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    # the store's box (tracker.store.ais.count_vessels_near), so both count the same fixes
    dlat = radius_m / 111_320.0
    dlon = dlat / max(np.cos(np.radians(lat)), 0.05)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def archive_coverage(root: str | Path, cell_deg: float):
    """A gap coverage function (:data:`tracker.analysis.gaps.CoverageFn`) over the archive: the
    (cell, hour) table names candidate vessels, their fixes are read to count exactly."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    root = Path(root)
    table = ds.dataset(str(root / COVERAGE_DIR), format="parquet")

    def count(lon, lat, radius_m, start, end, exclude) -> int:
        west, south, east, north = _bbox(lon, lat, radius_m)
        start, end = _utc(start), _utc(end)
        h0 = int(start.value // 3_600_000_000_000)
        h1 = int(end.value // 3_600_000_000_000)
        cand = scan_table(
            table,
            columns=["mmsi"],
            filter=(pc.field("hour") >= h0)
            & (pc.field("hour") <= h1)
            & (pc.field("cx") >= math.floor(west / cell_deg))
            & (pc.field("cx") <= math.floor(east / cell_deg))
            & (pc.field("cy") >= math.floor(south / cell_deg))
            & (pc.field("cy") <= math.floor(north / cell_deg)),
        )
        mmsis = set(pc.unique(cand["mmsi"]).to_pylist()) - {int(exclude)}
        if not mmsis:
            return 0
        fixes = read_archive(
            root,
            columns=["mmsi", "lon", "lat"],
            since=start,
            until=end,
            mmsi=sorted(mmsis),
            filter=(pc.field("ts") > start.to_pydatetime())
            & (pc.field("ts") < end.to_pydatetime())
            & ~pc.field("ts_assumed")
            & (pc.field("lon") >= west)
            & (pc.field("lon") <= east)
            & (pc.field("lat") >= south)
            & (pc.field("lat") <= north),
        )
        if fixes.empty:
            return 0
        d = geodesic_distance_m(
            lon, lat, fixes["lon"].to_numpy(float), fixes["lat"].to_numpy(float)
        )
        return int(fixes.loc[d <= radius_m, "mmsi"].nunique())

    return count


# -- per-vessel stage ----------------------------------------------------------------------


def mmsi_hash(mmsi: np.ndarray) -> np.ndarray:
    """A stable, non-negative int64 hash of each MMSI (the same in every process and run):
    spreads a fleet's neighbouring MMSIs over the per-vessel partitions."""
    return (pd.util.hash_array(np.asarray(mmsi, dtype="int64")) >> np.uint64(1)).astype("int64")


def _hashed(mmsi: pd.Series) -> pd.Series:
    return pd.Series(mmsi_hash(mmsi.to_numpy()), index=mmsi.index)


def vessel_divisions(counts: pd.Series, limit: int) -> list[int]:
    """Bounds cutting vessels (``counts``: fixes per vessel key, e.g. :func:`mmsi_hash`) into
    runs of consecutive keys holding at most ``limit`` fixes each (a vessel with more is a run
    of its own): the ``divisions`` of a range partitioning, the last bound inclusive. Keys
    must be unique (sum the counts of equal keys first)."""
    counts = counts.sort_index()
    starts: list[int] = []
    held = 0
    for mmsi, n in zip(counts.index, counts.to_numpy(), strict=True):
        if not starts or (held and held + int(n) > limit):
            starts.append(int(mmsi))
            held = 0
        held += int(n)
    if not starts:
        return []
    # the last bound is inclusive (and may equal the one before: a last run of one vessel)
    return [*starts, int(counts.index[-1])]


def _as_positions(part: pd.DataFrame) -> gpd.GeoDataFrame:
    """An archive partition as :func:`tracker.store.ais.read_positions` returns fixes."""
    frame = pd.DataFrame({c: part[c].to_numpy() for c in _READ_COLUMNS})
    frame["source"] = part["source"].astype(object).where(part["source"].notna(), None).to_numpy()
    frame["input_id"] = part["input_id"].astype("Int64").astype(object).to_numpy()
    frame["input_id"] = [None if pd.isna(v) else int(v) for v in frame["input_id"]]
    frame = frame.sort_values(["mmsi", "ts", "id", "input_id"], kind="stable")
    # a transmission ingested straight to the archive from two files is there twice under one
    # id (its key): counted once, as a store keeps one (the copy first in input order stays)
    frame = frame.drop_duplicates("id").reset_index(drop=True)
    return positions_frame(frame)


def _vessel_task(part, ctx: dict) -> dict:
    """Run the per-vessel detectors on one partition of whole vessels."""
    kinds, options = ctx["kinds"], ctx["options"]
    common = {"include_invalid_mmsi": ctx["include_invalid_mmsi"]}
    out = {"events": [], "silent": None, "notes": DetectionNotes(), "rows": len(part)}
    if not len(part):
        return out
    chunk = _as_positions(part)
    _note_chunk(out["notes"], chunk, ctx["include_invalid_mmsi"])
    geofences = ctx["geofences"]
    if "port_call" in kinds:
        out["events"].append(
            detect_port_calls(chunk, geofences, **common, **options.get("port_call", {}))
        )
    if "gap" in kinds:
        gap_opts = dict(options.get("gap", {}))
        mine = chunk["mmsi"].unique()
        horizons = ctx["horizons"]
        horizons = horizons[horizons.index.isin(mine)]
        coverage = archive_coverage(ctx["root"], ctx["cell_deg"])
        out["events"].append(
            detect_gaps(
                chunk,
                coverage=coverage,
                until=horizons,
                windows=ctx["windows"],
                **common,
                **gap_opts,
            )
        )
        out["silent"] = silent_at_end(
            chunk,
            min_gap=gap_opts.get("min_gap", timedelta(hours=6)),
            horizons=horizons,
            **common,
        )
    if "loitering" in kinds:
        out["events"].append(
            detect_loitering(chunk, geofences=geofences, **common, **options.get("loitering", {}))
        )
    if "implausible" in kinds:
        out["events"].append(detect_implausible(chunk, **common, **options.get("implausible", {})))
    out["events"] = [e for e in out["events"] if len(e)]
    return out


# -- encounters ----------------------------------------------------------------------------


def _encounter_task(root: str, lo, hi, cell: tuple[int, int], ctx: dict) -> list[pd.DataFrame]:
    """Encounters of one store window [lo, hi] (inclusive) in one space cell (read with its
    margin), kept when their median position lies in the cell itself."""
    import pyarrow.compute as pc

    opts = ctx["options"].get("encounter", {})
    c, m = ctx["enc_cell_deg"], ctx["margin_deg"]
    x0, y0 = cell[0] * c, cell[1] * c
    part = read_archive(
        root,
        columns=_READ_COLUMNS,
        since=lo,
        until=hi,
        filter=pc.field("msg_type").isin(sorted(VESSEL_POSITION_TYPES))
        & (pc.field("sog_kn") < float(ctx["max_sog_kn"]))
        & (pc.field("lon") >= x0 - m)
        & (pc.field("lon") <= x0 + c + m)
        & (pc.field("lat") >= y0 - m)
        & (pc.field("lat") <= y0 + c + m),
    )
    if part["mmsi"].nunique() < 2:
        return []
    slow = _as_positions(part)
    met = detect_encounters(
        slow,
        geofences=ctx["geofences"],
        include_invalid_mmsi=ctx["include_invalid_mmsi"],
        **opts,
    )
    if not len(met):
        return []
    mine = (met["lon"] >= x0) & (met["lon"] < x0 + c) & (met["lat"] >= y0) & (met["lat"] < y0 + c)
    return [met[mine]] if mine.any() else []


def _slow_cells(part: pd.DataFrame, max_sog_kn: float, cell_deg: float) -> pd.DataFrame:
    p = part[
        part["msg_type"].isin(sorted(VESSEL_POSITION_TYPES))
        & (part["sog_kn"] < max_sog_kn)
        & part["lon"].notna()
        & part["lat"].notna()
    ]
    return pd.DataFrame(
        {
            "day": (p["ts"].dt.as_unit("us").astype("int64") // 86_400_000_000).to_numpy("int64"),
            "cx": np.floor(p["lon"].to_numpy(float) / cell_deg).astype("int64"),
            "cy": np.floor(p["lat"].to_numpy(float) / cell_deg).astype("int64"),
        }
    ).drop_duplicates()


# -- the run -------------------------------------------------------------------------------


def _horizons(carried: pd.DataFrame, spans: dict[int, tuple], until: datetime | None) -> pd.Series:
    """As :func:`tracker.store.ais.data_horizons`, from the archive's (mmsi, input) pairs."""
    limit = _utc(until) if until is not None else None
    ends: dict[int, pd.Timestamp] = {}
    for mmsi, inp in zip(carried["mmsi"], carried["inp"], strict=True):
        span = spans.get(int(inp))
        if span is None or (limit is not None and span[0] > limit):
            continue
        end = span[1] if limit is None else min(span[1], limit)
        m = int(mmsi)
        ends[m] = max(ends[m], end) if m in ends else end
    if not ends:
        return pd.Series(dtype="datetime64[ns, UTC]", name="end")
    return pd.Series(
        pd.to_datetime(list(ends.values()), utc=True), index=list(ends.keys()), name="end"
    )


def detect_archive(
    root: str | Path,
    geofences: gpd.GeoDataFrame,
    client,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    kinds: Sequence[str] = KINDS,
    window: timedelta = timedelta(days=7),
    options: dict[str, dict] | None = None,
    include_invalid_mmsi: bool = False,
    notes: DetectionNotes | None = None,
    entries: pd.DataFrame | None = None,
    identities: pd.DataFrame | None = None,
    rows_per_bucket: int = 200_000,
    buckets: int | None = None,
    cell_deg: float = 1.0,
    enc_cell_deg: float = 10.0,
    margin_deg: float = 1.0,
    run: ArchiveRun | None = None,
) -> pd.DataFrame:
    """All events of ``kinds`` in the archive at ``root`` between ``since`` and ``until`` (UTC),
    computed on the dask.distributed ``client``: the events
    :func:`tracker.jobs.detect.detect_store` finds in the store the archive was exported from
    (same keys, fields and position ids). See the module docstring for how the work is cut.

    ``rows_per_bucket``: most vessel fixes a per-vessel task holds (fewer when the fixes
    would not give two tasks per worker). ``buckets``: instead, at least this many such tasks
    (each holding at most fixes / ``buckets``). ``cell_deg``: coverage grid; ``enc_cell_deg``
    and ``margin_deg``: encounter cells and their margin. With list ``entries`` and the
    store's ``identities`` (:func:`tracker.store.ais.distinct_identities`) each event gets the
    vessel's sanctions status, as in the store path.
    """
    import dask

    options = options or {}
    root = Path(root)
    run = run if run is not None else ArchiveRun()
    unknown = [k for k in kinds if k not in ARCHIVE_KINDS]
    if unknown:
        raise ValueError(f"not detectable from the archive: {', '.join(unknown)}")
    if getattr(client, "dashboard_link", None):
        run.dashboard = client.dashboard_link
    manifest = read_manifest(root)
    ddf = _read_ddf(root, _READ_COLUMNS, since, until)
    if ddf is None:
        return events_frame([])
    # the store path's span: first and last fix (any message type) in [since, until]
    lo, hi, total = client.compute([ddf["ts"].min(), ddf["ts"].max(), ddf.shape[0]], sync=True)
    if pd.isna(lo):
        return events_frame([])
    lo, hi = _utc(lo), _utc(hi)
    run.rows = int(total)
    geo = client.scatter(geofences, broadcast=True)
    ctx = {
        "root": str(root),
        "kinds": tuple(kinds),
        "options": options,
        "include_invalid_mmsi": include_invalid_mmsi,
        "cell_deg": cell_deg,
        "enc_cell_deg": enc_cell_deg,
        "margin_deg": margin_deg,
    }
    found: list[pd.DataFrame] = []
    silences = []
    per_vessel = any(k in kinds for k in ("port_call", "gap", "loitering", "implausible"))
    if per_vessel:
        if "gap" in kinds:
            run.coverage_rows = build_coverage(root, client, cell_deg=cell_deg)
            every = _read_ddf(root, ["mmsi", "input_id", "ts_assumed"])
            timed = every[~every["ts_assumed"]]
            pairs = timed.assign(inp=timed["input_id"].fillna(-1).astype("int64"))[
                ["mmsi", "inp"]
            ].drop_duplicates()
            carried = client.compute(pairs, sync=True)
            spans = input_spans(manifest)
            ctx["horizons"] = _horizons(carried, spans, until)
            ctx["windows"] = {f"i:{i}": s for i, s in spans.items() if i >= 0}
        vessels = ddf[ddf["msg_type"].isin(sorted(VESSEL_POSITION_TYPES))]
        counts = client.compute(vessels["mmsi"].value_counts(), sync=True)
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        fixes = int(counts.sum())
        limit = (
            math.ceil(fixes / buckets)
            if buckets
            else min(rows_per_bucket, max(1, math.ceil(fixes / (2 * workers))))
        )
        # partitions hashed by MMSI, cut at bounds of the hash where the fixes counted add up
        # to ``limit``: each task gets whole vessels, at most ``limit`` fixes of them (hash
        # modulo a partition count gave buckets whose largest grew with their number, and a
        # worker's peak with it: 220 k fixes of 5 buckets at 1 M, 256 k of 50 at 10 M)
        counts.index = mmsi_hash(counts.index.to_numpy())
        divisions = vessel_divisions(counts.groupby(level=0).sum(), limit)
        del counts
        run.buckets = max(0, len(divisions) - 1)
        vessels = vessels.assign(
            vessel_hash=vessels["mmsi"].map_partitions(_hashed, meta=("mmsi", "int64"))
        )
        ctx_f = client.scatter(ctx | {"geofences": None}, broadcast=True)
        tasks = (
            [
                dask.delayed(_with_geofences)(_vessel_task, part, ctx_f, geo)
                for part in vessels.set_index("vessel_hash", divisions=divisions).to_delayed()
            ]
            if divisions
            else []
        )
        for res in _each_result(client, tasks):
            found.extend(res["events"])
            if res["silent"] is not None and len(res["silent"]):
                silences.append(res["silent"])
            if notes is not None:
                notes.assumed_time_fixes += res["notes"].assumed_time_fixes
                notes.invalid_mmsi.update(res["notes"].invalid_mmsi)
        if notes is not None and "gap" in kinds:
            notes.silent_at_end = (
                pd.concat(silences, ignore_index=True).sort_values("mmsi").reset_index(drop=True)
                if silences
                else pd.DataFrame(columns=["mmsi", "last_ts", "lon", "lat", "horizon", "silent_s"])
            )
    if "encounter" in kinds:
        import inspect

        opts = options.get("encounter", {})
        params = inspect.signature(detect_encounters).parameters
        max_sog = opts.get("max_sog_kn", params["max_sog_kn"].default)
        overlap = opts.get("min_duration", params["min_duration"].default) * 2
        ctx["max_sog_kn"] = max_sog
        occupied = client.compute(
            ddf.map_partitions(
                _slow_cells,
                max_sog,
                enc_cell_deg,
                meta={"day": "int64", "cx": "int64", "cy": "int64"},
            ).drop_duplicates(),
            sync=True,
        )
        ctx_e = client.scatter(ctx | {"geofences": None}, broadcast=True)
        tasks = []
        w_lo = lo
        while w_lo <= hi:
            w_hi = w_lo + window
            a, b = w_lo - overlap, min(w_hi, hi)
            d0, d1 = a.value // 86_400_000_000_000, b.value // 86_400_000_000_000
            here = occupied[(occupied["day"] >= d0) & (occupied["day"] <= d1)]
            for cx, cy in sorted(set(zip(here["cx"], here["cy"], strict=True))):
                tasks.append(
                    dask.delayed(_with_geofences)(
                        _encounter_task, str(root), a, b, (int(cx), int(cy)), ctx_e, geo
                    )
                )
            w_lo = w_hi
        run.encounter_tasks = len(tasks)
        for res in _each_result(client, tasks):
            found.extend(res)
    out = merge_events(found)
    if len(out) and entries is not None and len(entries) and identities is not None:
        out = annotate_sanctions(out, identities, entries)
    return out


def _each_result(client, tasks: list) -> Iterator:
    """Each task's result as soon as it completes, its future released at once: finished
    results wait neither on the workers nor, all together, in this process (whose memory then
    holds the events found so far, not every task's result at once). A task's error (or a
    cancellation) is raised here, and the tasks still pending are then cancelled."""
    from distributed import as_completed

    futures = client.compute(tasks)
    try:
        for future in as_completed(futures, loop=client.loop):
            result = future.result()  # the task's own error, or CancelledError, raised here
            future.release()
            yield result
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)


def _with_geofences(fn, *args):
    """Call ``fn`` with the scattered context and geofences put back together (both are
    scattered once to every worker, not shipped with each task)."""
    *head, ctx, geofences = args
    try:
        return fn(*head, ctx | {"geofences": geofences})
    finally:
        _give_back_memory()


def _give_back_memory() -> None:
    """Return the task's freed memory to the system (glibc ``malloc_trim``): without it a
    worker's resident size crept up task after task (measured at 10 M positions: from ~490 to
    ~640 MB at the start of a per-vessel task, ~360-400 MB with it), so its peak grew with the
    number of tasks rather than their size. A no-op where the C library has no such call."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
