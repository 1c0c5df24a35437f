"""Where sightings lie along an overland route, and whether a convoy could have moved that fast.

Distances along the route are geodesic metres summed over the line's segments from its first
vertex; the offset of a point from the route is the geodesic distance to its foot on the
nearest segment (the foot found in a local equirectangular frame at the point's latitude,
which is exact enough for road segments of a few km and offsets of a few tens of km).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tracker.core.geo import geodesic_distance_m
from tracker.sources.routes import Route

__all__ = [
    "DEFAULT_MAX_CONVOY_KMH",
    "DEFAULT_ROUTE_TOLERANCE_M",
    "ROUTE_PROGRESS_COLUMNS",
    "RouteFit",
    "locate_on_route",
    "locate_points",
]

#: Faster than this average (km/h, over the whole interval) no truck convoy moves on these roads.
DEFAULT_MAX_CONVOY_KMH = 60.0
#: A sighting is "on the route" when it is within this many metres of the line (or within its
#: own place uncertainty, if larger). The shipped route follows OSRM road geometry: its waypoint
#: towns lie at most 0.97 km from it (a town centre beside the road), the 54 rural OSM fuel
#: stations within 500 m of it a median 90 m (max 466 m), and OSRM's own leg geometry strays at
#: most 0.7 km from it; 2 km leaves twice the worst town offset (data/routes/PROVENANCE.md).
DEFAULT_ROUTE_TOLERANCE_M = 2_000.0

ROUTE_PROGRESS_COLUMNS = [
    "key",
    "time",
    "kind",
    "source",
    "lon",
    "lat",
    "along_km",
    "road_km",
    "fraction",
    "offset_m",
    "on_route",
    "convoy",
    "previous_waypoint",
    "previous_waypoint_km",
    "next_waypoint",
    "next_waypoint_km",
    "segment",
    "elapsed_h",
    "moved_km",
    "speed_kmh",
    "min_speed_kmh",
    "speed_flag",
    "direction_flag",
]

_R = 6_371_008.8  # mean Earth radius (m), only for choosing the nearest segment


@dataclass(frozen=True)
class RouteFit:
    """A route prepared for locating points: vertices and cumulative geodesic metres."""

    lon: np.ndarray
    lat: np.ndarray
    cum_m: np.ndarray

    @classmethod
    def of(cls, route: Route) -> RouteFit:
        xy = np.asarray(route.line.coords, dtype=float)[:, :2]
        seg = geodesic_distance_m(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])
        return cls(xy[:, 0], xy[:, 1], np.concatenate([[0.0], np.cumsum(seg)]))

    @property
    def length_m(self) -> float:
        return float(self.cum_m[-1])


def locate_points(route: Route | RouteFit, lon, lat) -> pd.DataFrame:
    """For points (degrees) the distance along ``route`` (``along_km``), ``fraction`` of its
    length, and the geodesic ``offset_m`` from the line; one row per point."""
    fit = route if isinstance(route, RouteFit) else RouteFit.of(route)
    px = np.atleast_1d(np.asarray(lon, dtype=float))
    py = np.atleast_1d(np.asarray(lat, dtype=float))
    if len(px) == 0:
        return pd.DataFrame({"along_km": [], "fraction": [], "offset_m": []})
    ax, ay, bx, by = fit.lon[:-1], fit.lat[:-1], fit.lon[1:], fit.lat[1:]
    along = np.empty(len(px))
    offset = np.empty(len(px))
    for i, (x, y) in enumerate(zip(px, py, strict=True)):
        k = np.cos(np.radians(y))
        # segment vectors and point vectors in a local frame (metres) around the point
        sx, sy = (bx - ax) * k, (by - ay)
        vx, vy = (x - ax) * k, (y - ay)
        den = sx * sx + sy * sy
        t = np.where(den > 0, (vx * sx + vy * sy) / np.where(den > 0, den, 1.0), 0.0).clip(0.0, 1.0)
        d2 = (vx - t * sx) ** 2 + (vy - t * sy) ** 2
        j = int(np.argmin(d2))
        fx, fy = ax[j] + t[j] * (bx[j] - ax[j]), ay[j] + t[j] * (by[j] - ay[j])
        offset[i] = float(geodesic_distance_m(x, y, fx, fy))
        along[i] = fit.cum_m[j] + float(geodesic_distance_m(ax[j], ay[j], fx, fy))
    length = fit.length_m
    return pd.DataFrame(
        {
            "along_km": along / 1000.0,
            "fraction": along / length if length > 0 else np.zeros(len(px)),
            "offset_m": offset,
        }
    )


def _waypoint_positions(route: Route, fit: RouteFit) -> pd.DataFrame:
    wps = route.waypoints
    if wps is None or len(wps) == 0:
        return pd.DataFrame({"name": [], "along_km": []})
    loc = locate_points(fit, wps["lon"].to_numpy(), wps["lat"].to_numpy())
    out = pd.DataFrame(
        {"name": wps["name"].astype(str).to_numpy(), "along_km": loc["along_km"].to_numpy()}
    )
    return out.sort_values("along_km", kind="stable").reset_index(drop=True)


def locate_on_route(
    sightings: pd.DataFrame,
    route: Route,
    *,
    max_convoy_kmh: float = DEFAULT_MAX_CONVOY_KMH,
    tolerance_m: float = DEFAULT_ROUTE_TOLERANCE_M,
    min_backwards_m: float = 1_000.0,
) -> pd.DataFrame:
    """Place each sighting on ``route``: km along it from its start, offset from the line (m),
    the waypoints before and after it, and whether it is on the route at all. ``road_km`` is
    the estimated road distance from the start when the route carries road distances
    (``Route.road_km_knots``), else None; speeds use km along the line.

    For the convoy sightings on the route (those naming no vessel), taken in time order, each
    row also gives the time since
    the previous one (``elapsed_h``), the distance moved along the route (``moved_km``), the
    implied average ``speed_kmh`` and, allowing for both sightings' time uncertainties, the
    slowest speed that explains them (``min_speed_kmh``). ``speed_flag`` says when even that
    is faster than ``max_convoy_kmh``. ``direction_flag`` says when a convoy sighting lies
    further back along the route (towards its start) than the convoy sighting before it, by
    more than both sightings' place uncertainty (``radius_m``, at least
    ``min_backwards_m``) while their time windows do not overlap: a second convoy, a return
    trip, or a wrong time or place.
    Rows come back in time order.
    """
    fit = RouteFit.of(route)
    frame = sightings.sort_values("time", kind="stable").reset_index(drop=True)
    loc = locate_points(fit, frame["lon"].to_numpy(), frame["lat"].to_numpy())
    out = pd.DataFrame(
        {
            "key": frame["key"].to_numpy() if "key" in frame else np.arange(len(frame)).astype(str),
            "time": frame["time"].to_numpy()
            if len(frame)
            else pd.Series([], dtype="datetime64[ns, UTC]"),
            "kind": frame["kind"].to_numpy() if "kind" in frame else None,
            "source": frame["source"].to_numpy() if "source" in frame else None,
            "lon": frame["lon"].to_numpy(dtype=float),
            "lat": frame["lat"].to_numpy(dtype=float),
        }
    )
    out["time"] = pd.to_datetime(out["time"], utc=True)
    out["along_km"] = loc["along_km"].to_numpy()
    # estimated road km from the start (the route's road distances, e.g. OSRM), else None
    road = route.road_km_at(out["along_km"].to_numpy()) if route.road_km_knots else None
    out["road_km"] = (
        pd.Series(np.round(road, 3), dtype=object)
        if road is not None
        else pd.Series([None] * len(out), dtype=object)
    )
    out["fraction"] = loc["fraction"].to_numpy()
    out["offset_m"] = loc["offset_m"].to_numpy()
    radius = (
        frame["radius_m"].fillna(0.0).to_numpy(dtype=float)
        if "radius_m" in frame
        else np.zeros(len(frame))
    )
    out["on_route"] = out["offset_m"].to_numpy() <= np.maximum(tolerance_m, radius)
    named = np.zeros(len(frame), dtype=bool)
    for col in ("vessel_name", "vessel_imo", "vessel_mmsi"):
        if col in frame:
            named |= (
                frame[col].notna().to_numpy()
                & (frame[col].astype(str).str.strip() != "").to_numpy()
            )
    # a sighting of a named ship (e.g. unloading at the port where the route starts) is placed
    # on the route but is not a convoy sighting: speeds are only worked out between convoys
    out["convoy"] = out["on_route"].to_numpy() & ~named

    wps = _waypoint_positions(route, fit)
    prev_name, prev_km, next_name, next_km, segment = [], [], [], [], []
    for a in out["along_km"]:
        before = wps[wps["along_km"] <= a]
        after = wps[wps["along_km"] > a]
        p = before.iloc[-1] if len(before) else None
        n = after.iloc[0] if len(after) else None
        prev_name.append(p["name"] if p is not None else None)
        prev_km.append(round(a - p["along_km"], 3) if p is not None else None)
        next_name.append(n["name"] if n is not None else None)
        next_km.append(round(n["along_km"] - a, 3) if n is not None else None)
        segment.append(
            f"{p['name'] if p is not None else 'start'} – {n['name'] if n is not None else 'end'}"
        )
    out["previous_waypoint"] = pd.Series(prev_name, dtype=object)
    out["previous_waypoint_km"] = prev_km
    out["next_waypoint"] = pd.Series(next_name, dtype=object)
    out["next_waypoint_km"] = next_km
    out["segment"] = pd.Series(segment, dtype=object)

    unc = (
        frame["time_uncertainty_h"].fillna(0.0).to_numpy(dtype=float)
        if "time_uncertainty_h" in frame
        else np.zeros(len(frame))
    )
    elapsed = [None] * len(out)
    moved = [None] * len(out)
    speed = [None] * len(out)
    min_speed = [None] * len(out)
    flag = [None] * len(out)
    backwards = [None] * len(out)
    last = None
    for i in range(len(out)):
        if not out.at[i, "convoy"]:
            continue
        if last is not None:
            hours = (out.at[i, "time"] - out.at[last, "time"]).total_seconds() / 3600.0
            signed_km = out.at[i, "along_km"] - out.at[last, "along_km"]
            km = abs(signed_km)
            slack_km = max(min_backwards_m, radius[i] + radius[last]) / 1000.0
            order_known = hours > unc[i] + unc[last]  # else either may have come first
            if signed_km < -slack_km and order_known:
                backwards[i] = (
                    f"backwards: {km:.0f} km back towards the start of the route since the "
                    f"convoy sighting of {out.at[last, 'time']:%Y-%m-%d %H:%M} UTC "
                    f"(at km {out.at[last, 'along_km']:.0f}, now km {out.at[i, 'along_km']:.0f}): "
                    "a second convoy, a return trip, or a wrong time or place"
                )
            widest = hours + unc[i] + unc[last]
            elapsed[i] = round(hours, 3)
            moved[i] = round(km, 3)
            speed[i] = round(km / hours, 1) if hours > 0 else None
            min_speed[i] = round(km / widest, 1) if widest > 0 else None
            if km > 0 and (widest <= 0 or km / widest > max_convoy_kmh):
                shown = f"{km / widest:.0f} km/h" if widest > 0 else "no time at all"
                flag[i] = (
                    f"implausible: {km:.0f} km along the route in {hours:.1f} h "
                    f"(±{unc[i] + unc[last]:.1f} h) needs at least {shown}, "
                    f"more than a convoy's {max_convoy_kmh:.0f} km/h"
                )
        last = i
    out["elapsed_h"] = pd.Series(elapsed, dtype=object)
    out["moved_km"] = pd.Series(moved, dtype=object)
    out["speed_kmh"] = pd.Series(speed, dtype=object)
    out["min_speed_kmh"] = pd.Series(min_speed, dtype=object)
    out["speed_flag"] = pd.Series(flag, dtype=object)
    out["direction_flag"] = pd.Series(backwards, dtype=object)
    return out[ROUTE_PROGRESS_COLUMNS]
