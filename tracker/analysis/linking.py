"""Link sightings to AIS: which vessel (if any) was broadcasting where and when a sighting was made.

For each sighting, every vessel's track is interpolated (straight line between consecutive fixes,
constant speed) over the sighting's time interval — its time ± its ``time_uncertainty_h`` — and
the closest approach to the sighting's place is measured (geodesic metres; a polygon place
counts 0 m inside it). A vessel whose closest approach is within ``radius_m`` (plus the
sighting's own place uncertainty) is a candidate. Interpolation only bridges fixes up to
``window`` apart around the sighting; beyond that only the nearest fix inside the window counts,
never an extrapolation.

Outcomes: ``identified`` (one candidate), ``candidates`` (several), ``no_ais`` (none: a
dark-ship candidate if vessels *were* heard in the area then, or a coverage hole if nothing
was), or ``too_vague`` (a time known only to more than ± two weeks), each with a reason an
editor can read. ``named_match`` says whether the identified vessel
is the one the analyst named (by MMSI, IMO or name).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point
from shapely.ops import nearest_points

from tracker.analysis.names import match_key
from tracker.core.geo import geodesic_distance_m

__all__ = [
    "DEFAULT_LINK_RADIUS_M",
    "DEFAULT_LINK_WINDOW",
    "DEFAULT_MAX_UNCERTAINTY_H",
    "LINK_COLUMNS",
    "link_sightings",
]

#: A vessel closer than this to the sighting's place (metres) is a candidate.
DEFAULT_LINK_RADIUS_M = 1_500.0
#: How far (either side of the sighting's time interval) AIS fixes are looked for.
DEFAULT_LINK_WINDOW = timedelta(hours=1)
#: A sighting whose time is vaguer than ± this many hours is not tied to AIS (``too_vague``):
#: over weeks every ship in a port would "match". Two weeks keeps "late May" port sightings.
DEFAULT_MAX_UNCERTAINTY_H = 336.0
#: "Heard in the area" for the coverage check: this many times the link radius.
COVERAGE_FACTOR = 20.0

LINK_COLUMNS = [
    "key",
    "time",
    "kind",
    "source",
    "named",
    "status",
    "mmsi",
    "distance_m",
    "named_match",
    "candidates",
    "vessels_heard",
    "reason",
]


def _named(s: pd.Series) -> str | None:
    parts = []
    if _present(s.get("vessel_name")):
        parts.append(str(s["vessel_name"]))
    if _present(s.get("vessel_imo")):
        parts.append(f"IMO {int(s['vessel_imo'])}")
    if _present(s.get("vessel_mmsi")):
        parts.append(f"MMSI {int(s['vessel_mmsi'])}")
    return ", ".join(parts) or None


def _present(v) -> bool:
    return v is not None and not (isinstance(v, float) and v != v) and v is not pd.NA and v != ""


def _local_dist(lon0, lat0, lon, lat) -> np.ndarray:
    """Approximate metres (equirectangular at lat0): only to rank and to find closest points."""
    k = np.cos(np.radians(lat0))
    return np.hypot((np.asarray(lon) - lon0) * k, np.asarray(lat) - lat0) * 111_195.0


def _clipped_segments(ts, lon, lat, t0: float, t1: float, gap_s: float):
    """The track's segments that overlap [t0, t1] (fixes at most ``gap_s`` apart), clipped to
    it: arrays (ax, ay, bx, by, ca, cb) of start/end lon/lat and start/end times (s)."""
    a, b = ts[:-1], ts[1:]
    ok = (b >= t0) & (a <= t1) & (b - a <= gap_s) & (b > a)
    a, b = a[ok], b[ok]
    x0, y0, x1, y1 = lon[:-1][ok], lat[:-1][ok], lon[1:][ok], lat[1:][ok]
    ca, cb = np.maximum(a, t0), np.minimum(b, t1)
    fa, fb = (ca - a) / (b - a), (cb - a) / (b - a)
    return (
        x0 + fa * (x1 - x0),
        y0 + fa * (y1 - y0),
        x0 + fb * (x1 - x0),
        y0 + fb * (y1 - y0),
        ca,
        cb,
    )


def _closest_on_track(
    ts: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    t0: float,
    t1: float,
    gap_s: float,
    x: float,
    y: float,
) -> tuple[float, float, float, str] | None:
    """Closest approach (lon, lat, time s) of one track to (x, y) while t in [t0, t1].

    ``ts`` in seconds, sorted. Segments longer than ``gap_s`` are not interpolated across.
    Returns None if the track has nothing usable.
    """
    best: tuple[float, float, float, str] | None = None
    # candidates: every fix inside the interval, then the closest point of every segment
    # overlapping it (clipped to it); ties go to the fix (argmin takes the first)
    inside = (ts >= t0) & (ts <= t1)
    px, py, pt = [lon[inside]], [lat[inside]], [ts[inside]]
    ax, ay, bx, by, ca, cb = _clipped_segments(ts, lon, lat, t0, t1, gap_s)
    if len(ax):
        k = np.cos(np.radians(y))
        sx, sy = (bx - ax) * k, by - ay
        vx, vy = (x - ax) * k, y - ay
        den = sx * sx + sy * sy
        u = np.where(
            den > 0, np.clip((vx * sx + vy * sy) / np.where(den > 0, den, 1.0), 0.0, 1.0), 0.0
        )
        px.append(ax + u * (bx - ax))
        py.append(ay + u * (by - ay))
        pt.append(ca + u * (cb - ca))
    n_fix = int(inside.sum())
    allx, ally, allt = np.concatenate(px), np.concatenate(py), np.concatenate(pt)
    if len(allx):
        j = int(np.argmin(_local_dist(x, y, allx, ally)))
        best = (
            float(allx[j]),
            float(ally[j]),
            float(allt[j]),
            "fix" if j < n_fix else "interpolated",
        )
    if best is None:
        # nothing inside the interval and no segment spanning it: nearest fix within the window
        near = np.flatnonzero((ts >= t0 - gap_s / 2) & (ts <= t1 + gap_s / 2))
        if len(near):
            j = near[np.argmin(np.minimum(np.abs(ts[near] - t0), np.abs(ts[near] - t1)))]
            best = (float(lon[j]), float(lat[j]), float(ts[j]), "nearest fix")
    return best


def _track_crossing(
    ts: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    t0: float,
    t1: float,
    gap_s: float,
    area,
) -> tuple[float, float, float, str] | None:
    """Where (lon, lat, time s) the track, clipped to [t0, t1], is inside ``area`` (a polygon),
    or None. Segments longer than ``gap_s`` are not bridged."""
    inside = (ts >= t0) & (ts <= t1)
    hits = np.flatnonzero(inside & shapely.contains_xy(area, lon, lat))
    if len(hits):
        j = hits[0]
        return float(lon[j]), float(lat[j]), float(ts[j]), "fix"
    ax, ay, bx, by, ca, cb = _clipped_segments(ts, lon, lat, t0, t1, gap_s)
    segments = shapely.linestrings(
        np.stack([np.column_stack([ax, ay]), np.column_stack([bx, by])], axis=1)
    )
    for i in np.flatnonzero(shapely.intersects(segments, area)):
        seg = segments[i]
        p = seg.intersection(area).representative_point()
        frac = seg.project(p, normalized=True) if seg.length > 0 else 0.0
        return float(p.x), float(p.y), float(ca[i] + frac * (cb[i] - ca[i])), "interpolated"
    return None


def _distance_to_place(s: pd.Series, px: float, py: float) -> float:
    wkt = s.get("wkt")
    if _present(wkt):
        poly = shapely.from_wkt(wkt)
        p = Point(px, py)
        if poly.covers(p):
            return 0.0
        q = nearest_points(poly.boundary, p)[0]
        return float(geodesic_distance_m(px, py, q.x, q.y))
    return float(geodesic_distance_m(px, py, float(s["lon"]), float(s["lat"])))


def _place_extent_m(s: pd.Series, x: float, y: float) -> float:
    """How far (m, approximately) a polygon place reaches from its point; 0 for a point."""
    wkt = s.get("wkt")
    if not _present(wkt):
        return 0.0
    xy = shapely.get_coordinates(shapely.from_wkt(wkt))
    return float(_local_dist(x, y, xy[:, 0], xy[:, 1]).max()) if len(xy) else 0.0


def _name_check(s: pd.Series, mmsi: int, identities: pd.DataFrame | None) -> str:
    named_mmsi = s.get("vessel_mmsi")
    named_imo = s.get("vessel_imo")
    named_name = s.get("vessel_name")
    if not any(_present(v) for v in (named_mmsi, named_imo, named_name)):
        return "unnamed"
    if _present(named_mmsi):
        return "match" if int(named_mmsi) == mmsi else "mismatch"
    ids = (
        identities[identities["mmsi"] == mmsi]
        if identities is not None and len(identities)
        else None
    )
    if ids is None or len(ids) == 0:
        return "unknown"
    if _present(named_imo):
        imos = {int(v) for v in ids["imo"].dropna()}
        if imos:
            return "match" if int(named_imo) in imos else "mismatch"
    if _present(named_name):
        names = {match_key(v) for v in ids["name"].dropna() if str(v).strip()}
        if names:
            return "match" if match_key(named_name) in names else "mismatch"
    return "unknown"


def _too_vague(s: pd.Series, unc_h: float, max_h: float) -> dict:
    return {
        "key": s.get("key"),
        "time": s["time"],
        "kind": s.get("kind"),
        "source": s.get("source"),
        "named": _named(s),
        "status": "too_vague",
        "mmsi": None,
        "distance_m": None,
        "named_match": None,
        "candidates": [],
        "vessels_heard": 0,
        "reason": f"time known only to ±{unc_h:g} h, wider than ±{max_h:g} h: not tied to AIS",
    }


def link_sightings(
    sightings: pd.DataFrame,
    positions: pd.DataFrame,
    *,
    radius_m: float = DEFAULT_LINK_RADIUS_M,
    window: timedelta = DEFAULT_LINK_WINDOW,
    identities: pd.DataFrame | None = None,
    max_uncertainty_h: float = DEFAULT_MAX_UNCERTAINTY_H,
) -> pd.DataFrame:
    """Link each sighting to the AIS vessels near it at its time; one row per sighting.

    ``sightings``: frame with the columns of :data:`tracker.sources.sightings.SIGHTING_COLUMNS`.
    ``positions``: AIS positions (``mmsi``, ``ts`` UTC, ``lon``, ``lat``). ``identities``
    (``mmsi``, ``imo``, ``name``), e.g. from :func:`tracker.store.ais.distinct_identities`,
    lets a sighting that names a vessel by IMO or name be checked against the AIS vessel.
    ``candidates`` lists dicts (mmsi, distance_m, time, how) nearest first.
    """
    pos = positions.dropna(subset=["lon", "lat"])
    pos = pos.sort_values(["ts"], kind="stable")
    all_t = (
        (pd.to_datetime(pos["ts"], utc=True) - pd.Timestamp(0, tz="UTC"))
        .dt.total_seconds()
        .to_numpy()
    )
    all_m = pos["mmsi"].to_numpy(dtype="int64")
    all_x = pos["lon"].to_numpy(dtype=float)
    all_y = pos["lat"].to_numpy(dtype=float)
    win_s = window.total_seconds()
    rows = []
    for _, s in sightings.iterrows():
        t = pd.Timestamp(s["time"]).timestamp()
        unc_s = float(s.get("time_uncertainty_h") or 0.0) * 3600.0
        if unc_s > max_uncertainty_h * 3600.0:
            rows.append(_too_vague(s, unc_s / 3600.0, max_uncertainty_h))
            continue
        t0, t1 = t - unc_s, t + unc_s
        lo, hi = (
            np.searchsorted(all_t, t0 - win_s),
            np.searchsorted(all_t, t1 + win_s, side="right"),
        )
        reach = radius_m + float(s.get("radius_m") or 0.0)
        x, y = float(s["lon"]), float(s["lat"])
        cands = []
        heard = set()
        m_slice, t_slice, x_slice, y_slice = all_m[lo:hi], all_t[lo:hi], all_x[lo:hi], all_y[lo:hi]
        if hi > lo:
            near_area = _local_dist(x, y, x_slice, y_slice) <= max(
                reach * COVERAGE_FACTOR, 30_000.0
            )
            heard = set(np.unique(m_slice[near_area]).tolist())
            extent = _place_extent_m(s, x, y)
            area = shapely.from_wkt(s["wkt"]) if _present(s.get("wkt")) else None
            d_all = _local_dist(x, y, x_slice, y_slice)
            # one group per vessel, each still in time order (stable sort of a time-sorted slice)
            order = np.argsort(m_slice, kind="stable")
            starts = np.flatnonzero(np.r_[True, np.diff(m_slice[order]) != 0])
            for sel in np.split(order, starts[1:]):
                mmsi = m_slice[sel[0]]
                # quick reject: every fix of this vessel in the window is far away and the
                # vessel cannot have come close between them at any plausible speed (60 kn)
                if d_all[sel].min() > reach + extent + 60 * 1852 * (win_s + unc_s) / 3600:
                    continue
                hit = _closest_on_track(
                    t_slice[sel], x_slice[sel], y_slice[sel], t0, t1, 2 * win_s, x, y
                )
                if hit is None:
                    continue
                d = _distance_to_place(s, hit[0], hit[1])
                if d > 0 and area is not None:
                    crossing = _track_crossing(
                        t_slice[sel], x_slice[sel], y_slice[sel], t0, t1, 2 * win_s, area
                    )
                    if crossing is not None:
                        hit, d = crossing, 0.0
                if d <= reach:
                    cands.append(
                        {
                            "mmsi": int(mmsi),
                            "distance_m": round(d, 1),
                            "time": pd.Timestamp(hit[2], unit="s", tz="UTC").isoformat(),
                            "how": hit[3],
                        }
                    )
        cands.sort(key=lambda c: c["distance_m"])
        named = _named(s)
        when = pd.Timestamp(s["time"]).strftime("%Y-%m-%dT%H:%MZ")
        span = f"{when}" + (f" ±{unc_s / 3600:g} h" if unc_s else "")
        if not cands:
            status, mmsi, dist, nm = "no_ais", None, None, None
            if heard:
                reason = (
                    f"no AIS vessel within {reach:,.0f} m at {span} (±{win_s / 3600:g} h of fixes); "
                    f"{len(heard)} vessel(s) were heard within {max(reach * COVERAGE_FACTOR, 30_000.0) / 1000:.0f} km "
                    "then, so this is a dark-ship candidate"
                )
            else:
                reason = (
                    f"no AIS vessel within {reach:,.0f} m at {span}, and no AIS position at all within "
                    f"{max(reach * COVERAGE_FACTOR, 30_000.0) / 1000:.0f} km then: a coverage hole, or a dark-ship candidate"
                )
        else:
            best = cands[0]
            mmsi, dist = best["mmsi"], best["distance_m"]
            nm = _name_check(s, mmsi, identities)
            status = "identified" if len(cands) == 1 else "candidates"
            how = "interpolated track" if best["how"] == "interpolated" else best["how"]
            reason = f"MMSI {mmsi} {how} {dist:,.0f} m from the sighting at {best['time'][:16]}Z"
            if len(cands) > 1:
                others = ", ".join(
                    f"MMSI {c['mmsi']} at {c['distance_m']:,.0f} m" for c in cands[1:4]
                )
                more = f" and {len(cands) - 4} more" if len(cands) > 4 else ""
                reason = (
                    f"{len(cands)} vessels within {reach:,.0f} m: {reason}; also {others}{more}"
                )
            if nm == "match":
                reason += f"; it is the vessel named ({named})"
            elif nm == "mismatch":
                reason += f"; NOT the vessel named ({named})"
            elif nm == "unknown":
                reason += f"; no AIS identity to compare with the vessel named ({named})"
        rows.append(
            {
                "key": s.get("key"),
                "time": s["time"],
                "kind": s.get("kind"),
                "source": s.get("source"),
                "named": named,
                "status": status,
                "mmsi": mmsi,
                "distance_m": dist,
                "named_match": nm,
                "candidates": cands,
                "vessels_heard": len(heard),
                "reason": reason,
            }
        )
    out = pd.DataFrame(rows, columns=LINK_COLUMNS)
    out["mmsi"] = out["mmsi"].astype("Int64")
    return out
