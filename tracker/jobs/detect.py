"""Run every detector over a store, streaming: whole vessels in chunks of at most
``chunk_rows`` fixes for the per-vessel detectors, slow fixes in time windows for encounters,
coverage queried per gap. Memory stays bounded by one chunk (plus the events found, a few
hundred bytes each), however many positions and vessels the store holds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import geopandas as gpd
import pandas as pd

from tracker.analysis.encounters import detect_encounters
from tracker.analysis.events import events_frame, invalid_mmsis, note_skipped
from tracker.analysis.gaps import detect_gaps, gap_thresholds, gaps_from_candidates, silent_at_end
from tracker.analysis.implausible import detect_implausible
from tracker.analysis.loitering import detect_loitering
from tracker.analysis.port_calls import detect_port_calls
from tracker.analysis.status import annotate_sanctions
from tracker.core.identifiers import mmsi_problem
from tracker.store.ais import (
    count_slow_fixes,
    count_vessels_near,
    data_horizons,
    distinct_identities,
    encounter_candidates,
    gap_candidates,
    input_windows,
    iter_positions,
    read_positions,
    vessels_near,
)
from tracker.store.engine import Store

__all__ = ["KINDS", "DetectionNotes", "detect_store", "merge_events"]

KINDS = ("port_call", "gap", "encounter", "loitering", "implausible")


def _span(store: Store, since, until, mmsi=None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last fix time (UTC) in [since, until] of ``mmsi`` (default: every vessel),
    through the (mmsi, ts) index (there is none on ts alone): over those vessels' fixes, or
    every vessel's first and last one, or None when there is none."""
    import sqlalchemy as sa

    from tracker.store.ais import active_mmsis
    from tracker.store.tables import positions as p
    from tracker.store.tables import vessels

    window = []
    if since is not None:
        window.append(p.c.ts >= since)
    if until is not None:
        window.append(p.c.ts <= until)
    if mmsi is not None:
        stmt = sa.select(sa.func.min(p.c.ts), sa.func.max(p.c.ts)).where(
            p.c.mmsi.in_(mmsi), *window
        )
    else:  # per vessel heard then: two index look-ups each, not a scan of every fix

        def bound(fn):
            return sa.select(fn(p.c.ts)).where(p.c.mmsi == vessels.c.mmsi, *window)

        each = (
            active_mmsis(since, until)
            .add_columns(
                bound(sa.func.min).scalar_subquery().label("lo"),
                bound(sa.func.max).scalar_subquery().label("hi"),
            )
            .subquery()
        )
        stmt = sa.select(sa.func.min(each.c.lo), sa.func.max(each.c.hi))
    with store.engine.connect() as conn:
        lo, hi = conn.execute(stmt).one()
    if lo is None:
        return None
    lo, hi = pd.Timestamp(lo), pd.Timestamp(hi)
    lo = lo.tz_localize("UTC") if lo.tzinfo is None else lo
    hi = hi.tz_localize("UTC") if hi.tzinfo is None else hi
    return lo, hi


@dataclass
class DetectionNotes:
    """What a detection run left out or summarised instead of reporting as events.

    ``assumed_time_fixes``: fixes whose time was only assumed (``--assume-time``), never used
    for speeds, durations or dwell; ``invalid_mmsi``: MMSI -> (reason, fixes) of stations that
    cannot be ships, left out of events; ``silent_at_end``: vessels silent for at least the
    minimum gap at the end of the data that heard them (one row per MMSI, see
    :func:`tracker.analysis.gaps.silent_at_end`), summarised rather than reported as gaps.
    """

    assumed_time_fixes: int = 0
    invalid_mmsi: dict[int, tuple[str, int]] = field(default_factory=dict)
    silent_at_end: pd.DataFrame | None = None

    def as_dict(self) -> dict:
        """Plain JSON-ready counts."""
        silent = self.silent_at_end
        return {
            "assumed_time_fixes_skipped": int(self.assumed_time_fixes),
            "invalid_mmsi_vessels_skipped": len(self.invalid_mmsi),
            "invalid_mmsi_fixes_skipped": int(sum(n for _, n in self.invalid_mmsi.values())),
            "silent_at_end": 0 if silent is None else len(silent),
        }


def detect_store(
    store: Store,
    geofences: gpd.GeoDataFrame,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    kinds: Sequence[str] = KINDS,
    chunk_vessels: int = 500,
    chunk_rows: int = 250_000,
    window: timedelta = timedelta(days=7),
    options: dict[str, dict] | None = None,
    entries: pd.DataFrame | None = None,
    include_invalid_mmsi: bool = False,
    notes: DetectionNotes | None = None,
    progress: Callable[[int], None] | None = None,
    mmsi: Sequence[int] | None = None,
) -> pd.DataFrame:
    """All events of ``kinds`` in the store between ``since`` and ``until`` (UTC).

    ``chunk_vessels``/``chunk_rows``: the most vessels and fixes read at a time for the
    per-vessel detectors (see :func:`tracker.store.ais.iter_positions`).
    ``options`` maps a kind to keyword arguments of its detector (thresholds). With list
    ``entries`` (every edition) each event gets the vessel's sanctions status at its start.
    Fixes with assumed times and (unless ``include_invalid_mmsi``) MMSIs that cannot be ships
    are left out; a vessel's silence runs at most to the end of the data of the inputs that
    heard it. Pass ``notes`` to learn what was left out and which vessels are silent at the end.

    ``progress`` is called with the number of fixes just worked through: each vessel chunk's
    fixes (vessels only, in [since, until]) when a per-vessel detector runs, then, for
    encounters, each time window's fixes slower than the encounter ``max_sog_kn`` (0 for an
    empty window). The calls add up to those two counts, so a caller can size a bar from them.

    ``mmsi`` (incremental runs): only these vessels' events: their per-vessel events and the
    encounters where one of them is either vessel (met against every slow vessel stored).
    Store the result with :func:`tracker.store.events.replace_events` given the same ``mmsi``
    so that only those vessels' events are retracted.
    """
    options = options or {}
    wanted = None if mmsi is None else sorted({int(m) for m in mmsi})
    if wanted is not None and not wanted:
        return events_frame([])
    span = _span(store, since, until, wanted)
    if span is None:
        return events_frame([])
    found = []
    silences = []
    horizons = data_horizons(store, until=until, mmsi=mmsi) if "gap" in kinds else None
    windows = input_windows(store, mmsi=mmsi) if "gap" in kinds else None
    gap_opts = dict(options.get("gap", {}))
    min_gap = gap_opts.get("min_gap", timedelta(hours=6))

    def coverage(lon, lat, radius_m, start, end, exclude):
        return count_vessels_near(store, lon, lat, radius_m, start, end, exclude)

    common = {"include_invalid_mmsi": include_invalid_mmsi}
    # PostgreSQL: gap candidates come from the database (LAG over each vessel's fixes), the
    # rules of tracker.analysis.gaps are applied to them; the chunks serve the other kinds
    gaps_in_sql = "gap" in kinds and store.dialect == "postgresql"
    if gaps_in_sql:
        found.append(
            _gaps_from_store(
                store,
                since=since,
                until=until,
                mmsi=wanted,
                options=gap_opts,
                horizons=horizons,
                windows=windows,
                coverage=coverage,
                include_invalid_mmsi=include_invalid_mmsi,
            )
        )
    per_vessel = any(k in kinds for k in ("port_call", "loitering", "implausible")) or (
        "gap" in kinds and (not gaps_in_sql or notes is not None)
    )
    # PostGIS: port calls only for the vessels with a fix near a geofence (ST_DWithin on the
    # GiST-indexed geom; a margin over the detector's entry distance: a superset)
    calling = None
    if "port_call" in kinds and store.dialect == "postgresql" and len(geofences):
        import inspect

        enter_m = options.get("port_call", {}).get(
            "enter_m", inspect.signature(detect_port_calls).parameters["enter_m"].default
        )
        calling = vessels_near(
            store,
            list(geofences.geometry),
            enter_m * 1.5 + 1000.0,
            since=since,
            until=until,
            mmsi=wanted,
        )
    chunks = (
        iter_positions(
            store,
            since=since,
            until=until,
            chunk_vessels=chunk_vessels,
            chunk_rows=chunk_rows,
            mmsi=wanted,
        )
        if per_vessel
        else ()
    )
    for chunk in chunks:
        if notes is not None:
            _note_chunk(notes, chunk, include_invalid_mmsi)
        if "port_call" in kinds:
            near = chunk if calling is None else chunk[chunk["mmsi"].isin(calling)]
            found.append(
                detect_port_calls(near, geofences, **common, **options.get("port_call", {}))
            )
        if "gap" in kinds and not gaps_in_sql:
            found.append(
                detect_gaps(
                    chunk, coverage=coverage, until=horizons, windows=windows, **common, **gap_opts
                )
            )
        if "gap" in kinds and notes is not None:
            silences.append(silent_at_end(chunk, min_gap=min_gap, horizons=horizons, **common))
        if "loitering" in kinds:
            found.append(
                detect_loitering(
                    chunk, geofences=geofences, **common, **options.get("loitering", {})
                )
            )
        if "implausible" in kinds:
            found.append(detect_implausible(chunk, **common, **options.get("implausible", {})))
        if progress is not None and per_vessel:
            progress(len(chunk))
    if notes is not None and silences:
        notes.silent_at_end = pd.concat(silences, ignore_index=True)
    if "encounter" in kinds:
        import inspect

        opts = options.get("encounter", {})
        params = inspect.signature(detect_encounters).parameters
        enc = {k: opts.get(k, params[k].default) for k in ("max_sog_kn", "max_distance_m", "step")}
        overlap = opts.get("min_duration", params["min_duration"].default) * 2
        # PostGIS: only the vessels with a close slow pair outside the ports (found in SQL)
        # have their slow fixes read; elsewhere every slow fix of the window is
        in_sql = store.dialect == "postgresql"
        ports = [g for g in geofences.geometry if g is not None] if len(geofences) else []
        lo = span[0]
        while lo <= span[1]:
            hi = lo + window
            bounds = {"since": lo - overlap, "until": min(hi, span[1])}
            pairs = None
            if in_sql:
                pairs = encounter_candidates(store, **bounds, **enc, ports=ports, mmsi=wanted)
            if pairs is not None and not pairs:
                slow = read_positions(store, mmsi=[], **bounds)
            else:
                slow = read_positions(store, mmsi=pairs, **bounds, max_sog_kn=enc["max_sog_kn"])
            if wanted is not None and len(slow) and not slow["mmsi"].isin(wanted).any():
                slow = slow.iloc[:0]
            if len(slow):
                met = detect_encounters(slow, geofences=geofences, **common, **opts)
                if wanted is not None and len(met):
                    met = met[met["mmsi"].isin(wanted) | met["other_mmsi"].isin(wanted)]
                found.append(met)
            if progress is not None:
                if in_sql:
                    own = count_slow_fixes(store, lo, hi, enc["max_sog_kn"])
                else:
                    own = ((slow["ts"] >= lo) & (slow["ts"] < hi)).sum() if len(slow) else 0
                progress(int(own))
            lo = hi
    out = merge_events(found)
    if not len(out):
        return out
    if entries is not None and len(entries):
        ids = distinct_identities(
            store, mmsi=sorted(set(out["mmsi"]) | set(out["other_mmsi"].dropna().astype(int)))
        )
        out = annotate_sanctions(out, ids, entries)
    return out


def merge_events(found: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One event frame from the detectors' frames: an event found twice (encounters seen in two
    overlapping windows or cells) is kept once, its longest version; ordered by start, kind,
    MMSI. Pure: the archive path (:mod:`tracker.jobs.archive_detect`) merges the same way."""
    found = [f for f in found if len(f)]
    if not found:
        return events_frame([])
    out = pd.concat(found, ignore_index=True)
    out = out.sort_values(
        ["duration_s", "key"], ascending=[False, True], na_position="last", kind="stable"
    ).drop_duplicates("key")
    # the key breaks ties: the same order whatever order the frames came in (the archive
    # path merges results in the order its tasks complete)
    return out.sort_values(["start", "kind", "mmsi", "key"], kind="stable").reset_index(drop=True)


def _gaps_from_store(
    store: Store,
    *,
    since,
    until,
    mmsi,
    options: dict,
    horizons,
    windows,
    coverage,
    include_invalid_mmsi: bool,
) -> pd.DataFrame:
    """Gap events from candidates the database computed (:func:`gap_candidates`), by the
    same rules as :func:`detect_gaps` (:func:`gaps_from_candidates`)."""
    opts = dict(options)
    thresholds = gap_thresholds(
        {k: v for k, v in opts.items() if k not in ("open_gaps", "land", "coverage", "until")}
    )
    open_gaps = bool(opts.get("open_gaps", False))
    candidates, heard_by, assumed = gap_candidates(
        store,
        min_gap=timedelta(seconds=thresholds["min_gap_s"]),
        window=timedelta(seconds=thresholds["disabled_min_gap_s"]),
        since=since,
        until=until,
        mmsi=mmsi,
        last_fixes=open_gaps,
    )
    if not include_invalid_mmsi and len(candidates):
        candidates = candidates[~candidates["mmsi"].isin(invalid_mmsis(candidates["mmsi"]))]
    if candidates.empty:
        return events_frame([])
    found = gaps_from_candidates(
        candidates,
        heard_by=heard_by,
        windows=windows or {},
        coverage=coverage,
        horizons=horizons if open_gaps else None,
        thresholds=thresholds,
        land=opts.get("land"),
    )
    skipped = pd.DataFrame(
        {
            "mmsi": [m for m, n in assumed.items() for _ in range(n)],
            "ts_assumed": True,
        }
    )
    return note_skipped(found, skipped) if len(skipped) else found


def _note_chunk(notes: DetectionNotes, chunk: pd.DataFrame, include_invalid_mmsi: bool) -> None:
    if "ts_assumed" in chunk:
        notes.assumed_time_fixes += int(chunk["ts_assumed"].fillna(False).astype(bool).sum())
    if include_invalid_mmsi:
        return
    bad = invalid_mmsis(chunk["mmsi"])
    if bad:
        for mmsi, n in chunk.loc[chunk["mmsi"].isin(bad), "mmsi"].value_counts().items():
            notes.invalid_mmsi[int(mmsi)] = (mmsi_problem(int(mmsi)) or "", int(n))
