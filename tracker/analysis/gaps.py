"""AIS gaps: silences of a vessel, worded by the rule that applied.

A gap is a silence of at least ``min_gap`` (6 h) between two fixes of one vessel. It is called
**"likely disabled"** only under the definition of AIS disabling events of Global Fishing
Watch, Welch et al. (2022), "Hot spots of unseen fishing vessels", *Science Advances* 8(44),
eabq2109, doi:10.1126/sciadv.abq2109: a gap of at least 12 hours (``disabled_min_gap``) that
began at least 50 nautical miles from shore (``min_shore_distance_m``) where reception was good,
shown here by at least ``min_other_vessels`` other vessels heard within ``coverage_radius_m``
during the silence. tracker adds two safeguards of its own: the vessel must have been heard
regularly before the silence (``min_fixes_before`` fixes in the ``disabled_min_gap`` before it),
so that a ship caught once by a satellite pass is never said to have gone dark; and the whole
silence must lie within the data of the receivers (inputs) that heard it, so that the months
between two recordings are never taken for a silence. Every other gap
is worded "no AIS received", with the reasons it is not a likely disabling.

A silence still going on at the end of the data is never "likely disabled": nobody knows yet
how long it lasts. Such *open* gaps are measured against the end of the data of the
receivers (inputs) that heard the vessel, not the end of the whole store, and they are
returned as events only on request (``open_gaps=True``); :func:`silent_at_end` summarises them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from tracker.analysis.events import events_frame, note_skipped, position_ids, prepare_positions
from tracker.analysis.shore import Land, shore_distance_m
from tracker.core.geo import M_PER_NM, geodesic_distance_m, m_s_to_knots

__all__ = [
    "DISABLING_DEFINITION",
    "CoverageFn",
    "coverage_from_positions",
    "data_horizons",
    "data_windows",
    "CANDIDATE_COLUMNS",
    "detect_gaps",
    "gap_candidates",
    "gap_thresholds",
    "gaps_from_candidates",
    "silent_at_end",
]

#: coverage(lon, lat, radius_m, start, end, exclude_mmsi) -> number of other vessels heard
CoverageFn = Callable[[float, float, float, pd.Timestamp, pd.Timestamp, int], int]

#: The published definition the "likely disabled" wording follows.
DISABLING_DEFINITION = (
    "Welch et al. 2022, Science Advances 8(44) eabq2109 (Global Fishing Watch AIS disabling): "
    "a closed gap of >= 12 h that began >= 50 nm from shore with good reception"
)


def coverage_from_positions(reference: pd.DataFrame) -> CoverageFn:
    """A coverage function counting other MMSIs in ``reference`` positions near a place and time.

    Fixes whose time was only assumed (``ts_assumed``) never count as coverage.
    """
    ref = reference[reference["lon"].notna() & reference["lat"].notna()]
    if "ts_assumed" in ref:
        ref = ref[~ref["ts_assumed"].fillna(False).astype(bool)]
    ref = ref.assign(ts=pd.to_datetime(ref["ts"], utc=True)).sort_values("ts")
    ts = ref["ts"].dt.as_unit("ns").astype("int64").to_numpy()
    lon, lat, mmsi = ref["lon"].to_numpy(float), ref["lat"].to_numpy(float), ref["mmsi"].to_numpy()

    def count(x: float, y: float, radius_m: float, start, end, exclude: int) -> int:
        a = np.searchsorted(ts, pd.Timestamp(start).as_unit("ns").value, side="right")
        b = np.searchsorted(ts, pd.Timestamp(end).as_unit("ns").value, side="left")
        if b <= a:
            return 0
        sel = slice(a, b)
        others = mmsi[sel] != exclude
        if not others.any():
            return 0
        d = geodesic_distance_m(x, y, lon[sel][others], lat[sel][others])
        return int(len(np.unique(mmsi[sel][others][d <= radius_m])))

    return count


def _utc(value) -> pd.Timestamp:
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def data_horizons(positions: pd.DataFrame, *, by: str = "source") -> pd.Series:
    """The end of the data that could have heard each vessel (UTC), indexed by MMSI.

    For each MMSI: the newest fix (with a real time) of any vessel from the same ``by`` groups
    (receiver ``source``, or ``input_id``) that heard it; fixes with no ``by`` value form one
    group. A vessel can only be "still silent" up to the end of those receivers' data.
    """
    p = positions[positions["lon"].notna() & positions["lat"].notna()]
    if "ts_assumed" in p:
        p = p[~p["ts_assumed"].fillna(False).astype(bool)]
    if p.empty:
        return pd.Series(dtype="datetime64[ns, UTC]")
    ts = pd.to_datetime(p["ts"], utc=True)
    group = p[by].astype("string").fillna("") if by in p else pd.Series("", index=p.index)
    group_end = ts.groupby(group).max()
    pairs = pd.DataFrame({"mmsi": p["mmsi"].to_numpy(), "group": group.to_numpy()})
    pairs = pairs.drop_duplicates()
    pairs["end"] = pairs["group"].map(group_end)
    return pairs.groupby("mmsi")["end"].max()


def _receiver_keys(p: pd.DataFrame) -> pd.Series:
    """Which input or receiver each fix came from: ``input_id`` where known, else ``source``."""
    source = (
        p["source"].astype("string").fillna("")
        if "source" in p
        else pd.Series("", index=p.index, dtype="string")
    )
    key = "s:" + source
    if "input_id" in p:
        known = p["input_id"].notna()
        ids = pd.to_numeric(p["input_id"], errors="coerce").astype("Int64").astype("string")
        key = key.where(~known, "i:" + ids)
    return key


def data_windows(positions: pd.DataFrame) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """First and last fix (real times only, UTC) of each input or receiver in ``positions``:
    the spans during which those receivers were recording at all."""
    p = positions[positions["lon"].notna() & positions["lat"].notna()]
    if "ts_assumed" in p:
        p = p[~p["ts_assumed"].fillna(False).astype(bool)]
    if p.empty:
        return {}
    ts = pd.to_datetime(p["ts"], utc=True)
    spans = ts.groupby(_receiver_keys(p)).agg(["min", "max"])
    return {str(k): (r["min"], r["max"]) for k, r in spans.iterrows()}


def _covered_s(start: pd.Timestamp, end: pd.Timestamp, spans: list[tuple]) -> float:
    """Seconds of (start, end) inside the union of ``spans``."""
    parts = sorted((max(a, start), min(b, end)) for a, b in spans if a < end and b > start)
    total, cur_a, cur_b = 0.0, None, None
    for a, b in parts:
        if cur_b is None or a > cur_b:
            if cur_b is not None:
                total += (cur_b - cur_a).total_seconds()
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_b is not None:
        total += (cur_b - cur_a).total_seconds()
    return total


def silent_at_end(
    positions: pd.DataFrame,
    *,
    min_gap: timedelta = timedelta(hours=6),
    horizons: Mapping[int, pd.Timestamp] | pd.Series | None = None,
    include_invalid_mmsi: bool = False,
) -> pd.DataFrame:
    """Vessels silent for at least ``min_gap`` at the end of their receivers' data: one row
    per MMSI with ``last_ts`` (last fix, UTC), ``horizon`` (end of the data that could have
    heard it) and ``silent_s``. A summary, not events: how long these silences last is unknown."""
    p = prepare_positions(positions, include_invalid_mmsi=include_invalid_mmsi)
    columns = ["mmsi", "last_ts", "lon", "lat", "horizon", "silent_s"]
    if p.empty:
        return pd.DataFrame(columns=columns)
    hz = data_horizons(p) if horizons is None else pd.Series(horizons)
    last = p.groupby("mmsi", sort=True).tail(1)
    out = pd.DataFrame(
        {
            "mmsi": last["mmsi"].astype(int).to_numpy(),
            "last_ts": last["ts"].to_numpy(),
            "lon": last["lon"].to_numpy(float),
            "lat": last["lat"].to_numpy(float),
        }
    )
    out["last_ts"] = pd.to_datetime(out["last_ts"], utc=True)
    out["horizon"] = pd.to_datetime(out["mmsi"].map(hz), utc=True)
    out["silent_s"] = (out["horizon"] - out["last_ts"]).dt.total_seconds()
    out = out[out["silent_s"] >= min_gap.total_seconds()]
    return out[columns].reset_index(drop=True)


def detect_gaps(
    positions: pd.DataFrame,
    *,
    min_gap: timedelta = timedelta(hours=6),
    disabled_min_gap: timedelta = timedelta(hours=12),
    min_shore_distance_m: float = 50 * M_PER_NM,
    coverage_radius_m: float = 100_000.0,
    min_other_vessels: int = 1,
    min_fixes_before: int = 3,
    coverage: CoverageFn | pd.DataFrame | None = None,
    until: datetime | Mapping[int, datetime] | pd.Series | None = None,
    windows: Mapping[str, tuple[pd.Timestamp, pd.Timestamp]] | None = None,
    max_unobserved: timedelta = timedelta(minutes=30),
    open_gaps: bool = False,
    land: Land | None = None,
    include_invalid_mmsi: bool = False,
) -> pd.DataFrame:
    """One row per AIS gap (kind ``gap``) of at least ``min_gap``.

    ``start``/``end`` are the last fix before and the first after the silence (UTC), with
    their positions (``lon``/``lat``, ``end_lon``/``end_lat``). A gap is "likely disabled"
    (Welch et al. 2022, see the module docstring) only when it is closed, lasted at least
    ``disabled_min_gap``, began at least ``min_shore_distance_m`` metres from shore, and at
    least ``min_other_vessels`` other vessels were heard within ``coverage_radius_m`` metres of
    its start during it (``coverage``: reference positions or a function; default:
    ``positions``), and the vessel was heard regularly before it (at least
    ``min_fixes_before`` fixes in the ``disabled_min_gap`` up to its start). ``figures.checks`` records each condition and ``figures.rule`` which
    wording applied.

    A silence counts only as far as the data that heard the vessel covers it: its inputs or
    receivers (``input_id``, else ``source``) were recording (``windows``: first and last fix
    per input, default :func:`data_windows` of ``positions``). Two recordings months apart are
    no gap: a silence is reported only when no more than ``max_unobserved`` of it falls outside
    the data of the receivers that heard the vessel (``figures.unobserved_s``), and one with
    any such hole over a minute is never "likely disabled".

    With ``open_gaps`` a vessel silent for ``min_gap`` before the end of the data that could
    have heard it (``until``: one UTC time, or one per MMSI; default :func:`data_horizons`)
    also gets an ``open`` gap with no ``end``, never "likely disabled".
    Fixes with assumed times are never used (``figures.assumed_time_fixes_skipped``).
    """
    thresholds = gap_thresholds(
        {
            "min_gap": min_gap,
            "disabled_min_gap": disabled_min_gap,
            "min_shore_distance_m": min_shore_distance_m,
            "coverage_radius_m": coverage_radius_m,
            "min_other_vessels": min_other_vessels,
            "min_fixes_before": min_fixes_before,
            "max_unobserved": max_unobserved,
        }
    )
    p = prepare_positions(positions, include_invalid_mmsi=include_invalid_mmsi)
    if p.empty:
        return events_frame([])
    cover = (
        coverage_from_positions(p)
        if coverage is None
        else (coverage_from_positions(coverage) if isinstance(coverage, pd.DataFrame) else coverage)
    )
    horizon_of: dict[int, pd.Timestamp] = {}
    if open_gaps:
        if until is None:
            horizon_of = {int(k): _utc(v) for k, v in data_horizons(p).items()}
        elif isinstance(until, Mapping | pd.Series):
            horizon_of = {int(k): _utc(v) for k, v in dict(until).items()}
        else:
            horizon_of = {int(m): _utc(until) for m in p["mmsi"].unique()}
    candidates = gap_candidates(p, min_gap=min_gap, window=disabled_min_gap)
    heard_by = {}
    if candidates["next_ts"].notna().any():
        heard_by = (
            pd.DataFrame({"mmsi": p["mmsi"].to_numpy(), "key": _receiver_keys(p).to_numpy()})
            .drop_duplicates()
            .groupby("mmsi")["key"]
            .agg(list)
            .to_dict()
        )
    rows = gaps_from_candidates(
        candidates,
        heard_by=heard_by,
        windows=data_windows(p) if windows is None else dict(windows),
        coverage=cover,
        horizons=horizon_of if open_gaps else None,
        thresholds=thresholds,
        land=land,
    )
    return note_skipped(rows, positions)


def gap_thresholds(options: Mapping | None = None) -> dict:
    """The ``thresholds`` an event records, from :func:`detect_gaps` keyword ``options``
    (its defaults for those not given)."""
    import inspect

    args = {
        k: v.default
        for k, v in inspect.signature(detect_gaps).parameters.items()
        if v.default is not inspect.Parameter.empty
    }
    args.update(options or {})
    return {
        "min_gap_s": args["min_gap"].total_seconds(),
        "disabled_min_gap_s": args["disabled_min_gap"].total_seconds(),
        "min_shore_distance_m": args["min_shore_distance_m"],
        "coverage_radius_m": args["coverage_radius_m"],
        "min_other_vessels": args["min_other_vessels"],
        "min_fixes_before": args["min_fixes_before"],
        "max_unobserved_s": args["max_unobserved"].total_seconds(),
    }


#: Columns of a gap candidate frame (:func:`gap_candidates`): the fix before a silence, how
#: many fixes the vessel had in the ``window`` up to it (itself included), and the first fix
#: after it (all ``next_*`` missing: the vessel's last fix, a possible open gap).
CANDIDATE_COLUMNS = [
    "mmsi", "ts", "lon", "lat", "pid", "fixes_before", "next_ts", "next_lon", "next_lat",
    "next_pid",
]  # fmt: skip


def gap_candidates(p: pd.DataFrame, *, min_gap: timedelta, window: timedelta) -> pd.DataFrame:
    """The gap candidates of prepared positions ``p`` (:func:`prepare_positions`): each pair
    of consecutive fixes of one vessel at least ``min_gap`` apart, and each vessel's last fix,
    with the number of the vessel's fixes in the ``window`` up to the first fix (itself
    included). A database computes the same with ``LAG(ts) OVER (PARTITION BY mmsi ORDER BY
    ts)`` (:func:`tracker.store.ais.gap_candidates`)."""
    mmsi = p["mmsi"].to_numpy()
    same = mmsi[1:] == mmsi[:-1]
    dt = np.diff(p["ts"].to_numpy()).astype("timedelta64[s]").astype(float)
    idx = np.nonzero(same & (dt >= min_gap.total_seconds()))[0]
    last = np.nonzero(np.append(~same, True))[0]
    starts = np.concatenate([idx, last]).astype(int)
    ts_ns = p["ts"].dt.as_unit("ns").astype("int64").to_numpy()
    first = np.arange(len(p)) - p.groupby("mmsi", sort=False).cumcount().to_numpy()
    window_ns = int(window.total_seconds() * 1e9)
    before = np.array(
        [
            i + 1 - (first[i] + np.searchsorted(ts_ns[first[i] : i + 1], ts_ns[i] - window_ns))
            for i in starts
        ],
        dtype=np.int64,
    )
    out = pd.DataFrame(
        {
            "mmsi": mmsi[starts].astype(np.int64),
            "ts": p["ts"].to_numpy()[starts],
            "lon": p["lon"].to_numpy(float)[starts],
            "lat": p["lat"].to_numpy(float)[starts],
            "pid": p["pid"].to_numpy()[starts],
            "fixes_before": before,
        }
    )
    closed = np.arange(len(starts)) < len(idx)
    nxt = np.where(closed, starts + 1, 0)
    out["ts"] = pd.to_datetime(out["ts"], utc=True)
    out["next_ts"] = pd.Series(p["ts"].to_numpy()[nxt]).where(closed).to_numpy()
    out["next_ts"] = pd.to_datetime(out["next_ts"], utc=True)
    out["next_lon"] = np.where(closed, p["lon"].to_numpy(float)[nxt], np.nan)
    out["next_lat"] = np.where(closed, p["lat"].to_numpy(float)[nxt], np.nan)
    # nullable integers: a float column would round ids beyond 2**53 (archive keys)
    out["next_pid"] = pd.array(p["pid"].to_numpy(np.int64)[nxt], dtype="Int64")
    out.loc[~closed, "next_pid"] = pd.NA
    return out[CANDIDATE_COLUMNS]


def gaps_from_candidates(
    candidates: pd.DataFrame,
    *,
    heard_by: Mapping[int, list[str]],
    windows: Mapping[str, tuple[pd.Timestamp, pd.Timestamp]],
    coverage: CoverageFn,
    horizons: Mapping[int, pd.Timestamp] | None,
    thresholds: dict,
    land: Land | None = None,
) -> pd.DataFrame:
    """Gap events of :func:`gap_candidates` rows (from positions or from a database): the
    rules of :func:`detect_gaps`, whose ``thresholds`` dict they take. ``heard_by``: the
    receiver keys (``i:<input id>`` / ``s:<source>``) of each vessel's fixes; ``windows``:
    each receiver's recording span; ``horizons``: with open gaps, the end of the data that
    could have heard each vessel (None: no open gaps)."""
    min_gap_s = thresholds["min_gap_s"]
    disabled_s = thresholds["disabled_min_gap_s"]
    coverage_radius_m = thresholds["coverage_radius_m"]
    max_unobserved_s = thresholds["max_unobserved_s"]
    c = candidates
    closed = c[c["next_ts"].notna()]
    closed = closed[(closed["next_ts"] - closed["ts"]).dt.total_seconds() >= min_gap_s]
    closed = closed.sort_values(["mmsi", "ts"], kind="stable")
    opened = c.iloc[:0]
    horizon_of: dict[int, pd.Timestamp] = {}
    if horizons is not None:
        horizon_of = {int(k): _utc(v) for k, v in dict(horizons).items()}
        last = c[c["next_ts"].isna()]
        hz = last["mmsi"].map(lambda m: horizon_of.get(int(m), pd.NaT))
        silent = (pd.to_datetime(hz, utc=True) - last["ts"]).dt.total_seconds()
        opened = last[(silent >= min_gap_s).to_numpy()].sort_values("mmsi", kind="stable")
    observed = np.array([])
    if len(closed):
        observed = np.array(
            [
                _covered_s(a, b, [windows[k] for k in heard_by.get(m, []) if k in windows])
                for m, a, b in zip(closed["mmsi"], closed["ts"], closed["next_ts"], strict=True)
            ]
        )
        silence = (closed["next_ts"] - closed["ts"]).dt.total_seconds().to_numpy()
        keep = (observed >= min_gap_s) & (silence - observed <= max_unobserved_s)
        closed, observed = closed[keep], observed[keep]
    starts = pd.concat([closed, opened], ignore_index=True)
    if starts.empty:
        return events_frame([])
    shore = shore_distance_m(
        starts["lon"].to_numpy(float), starts["lat"].to_numpy(float), land=land
    )
    rows = []
    for k, a in enumerate(starts.itertuples(index=False)):
        is_open = k >= len(closed)
        mmsi = int(a.mmsi)
        end_ts = horizon_of[mmsi] if is_open else a.next_ts
        gap_s = (end_ts - a.ts).total_seconds()
        hours = gap_s / 3600
        others = coverage(float(a.lon), float(a.lat), coverage_radius_m, a.ts, end_ts, mmsi)
        heard_before = int(a.fixes_before)
        unobserved_s = 0.0 if is_open else max(gap_s - float(observed[k]), 0.0)
        checks = {
            "closed": not is_open,
            "long_enough": gap_s >= disabled_s,
            "fully_observed": unobserved_s <= 60.0,
            "far_from_shore": bool(shore[k] >= thresholds["min_shore_distance_m"]),
            "reception_shown": others >= thresholds["min_other_vessels"],
            "heard_regularly_before": heard_before >= thresholds["min_fixes_before"],
        }
        disabled = all(checks.values())
        nm = max(float(shore[k]), 0.0) / M_PER_NM
        if disabled:
            rule = (
                "likely disabled (Welch et al. 2022: closed, >= 12 h, >= 50 nm from shore, "
                "reception shown; tracker: heard regularly before, silence covered by data)"
            )
            wording = (
                f"likely disabled: {hours:.1f} h silent, began {nm:.0f} nm from shore while "
                f"{others} other vessels were heard within {coverage_radius_m / 1000:.0f} km"
            )
        else:
            rule = "no AIS received (not every condition of a likely disabling held)"
            why = []
            if is_open:
                why.append("still silent at the end of the data that heard it")
            elif not checks["long_enough"]:
                why.append(f"shorter than {disabled_s / 3600:.0f} h")
            if not checks["fully_observed"]:
                why.append(f"no data from its receivers for {unobserved_s / 3600:.1f} h of it")
            if not checks["far_from_shore"]:
                why.append(f"began {nm:.0f} nm from shore")
            if not checks["reception_shown"]:
                why.append(f"no other vessel heard within {coverage_radius_m / 1000:.0f} km")
            if not checks["heard_regularly_before"]:
                why.append(f"only {heard_before} fixes in the {disabled_s / 3600:.0f} h before it")
            length = f"at least {hours:.1f} h" if is_open else f"{hours:.1f} h"
            wording = f"no AIS received for {length} ({'; '.join(why)})"
        figures = {
            "gap_s": gap_s,
            "shore_distance_m": float(shore[k]),
            "other_vessels_heard": int(others),
            "unobserved_s": unobserved_s,
            "fixes_before": heard_before,
            "likely_disabled": disabled,
            "checks": checks,
            "rule": rule,
        }
        if not is_open:
            dist = float(geodesic_distance_m(a.lon, a.lat, a.next_lon, a.next_lat))
            figures["distance_m"] = dist
            figures["implied_speed_kn"] = float(m_s_to_knots(dist / max(gap_s, 1.0)))
        else:
            figures["data_end"] = end_ts.isoformat()
        rows.append(
            {
                "kind": "gap",
                "mmsi": mmsi,
                "start": a.ts,
                "end": None if is_open else a.next_ts,
                "lon": float(a.lon),
                "lat": float(a.lat),
                "end_lon": None if is_open else float(a.next_lon),
                "end_lat": None if is_open else float(a.next_lat),
                "status": "open" if is_open else "closed",
                "confidence": "likely disabled" if disabled else "no AIS received",
                "wording": wording,
                "figures": figures,
                "thresholds": thresholds,
                "position_ids": position_ids([a.pid] + ([] if is_open else [a.next_pid])),
            }
        )
    return events_frame(rows)
