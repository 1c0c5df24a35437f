"""Distances from positions to port geofences, in metres (0 inside a polygon)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tracker.core.geo import geodesic_distance_m

__all__ = ["nearest_port"]

_M_PER_DEG = 111_320.0


def _ports(geofences: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    merged = geofences.dissolve(by="port") if len(geofences) else geofences
    return np.asarray(merged.index, dtype=object), np.asarray(merged.geometry.values, dtype=object)


def nearest_port(
    lon, lat, geofences: gpd.GeoDataFrame, *, within_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the nearest port (all geofences of a port merged) within ``within_m``
    metres and the geodesic distance to it (0 inside); ``None`` / NaN when none is that near."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    names_out = np.full(lon.shape, None, dtype=object)
    dist_out = np.full(lon.shape, np.nan)
    if len(lon) == 0 or len(geofences) == 0:
        return names_out, dist_out
    names, geoms = _ports(geofences)
    tree = shapely.STRtree(geoms)
    ok = np.isfinite(lon) & np.isfinite(lat)
    idx = np.nonzero(ok)[0]
    pts = shapely.points(lon[idx], lat[idx])
    # generous degree box: metres -> degrees of longitude at this latitude, doubled
    pad = within_m / (_M_PER_DEG * np.maximum(np.cos(np.radians(lat[idx])), 0.05)) * 2.0
    boxes = shapely.buffer(pts, pad, quad_segs=2)
    pi, gi = tree.query(boxes, predicate="intersects")
    if len(pi) == 0:
        return names_out, dist_out
    cand_pts = pts[pi]
    inside = shapely.contains(geoms[gi], cand_pts)
    lines = shapely.shortest_line(cand_pts, geoms[gi])
    c = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    d = geodesic_distance_m(c[:, 0, 0], c[:, 0, 1], c[:, 1, 0], c[:, 1, 1])
    d = np.where(inside, 0.0, d)
    cand = pd.DataFrame({"p": idx[pi], "port": names[gi], "d": d})
    cand = cand[cand["d"] <= within_m].sort_values("d").drop_duplicates("p")
    names_out[cand["p"].to_numpy()] = cand["port"].to_numpy()
    dist_out[cand["p"].to_numpy()] = cand["d"].to_numpy()
    return names_out, dist_out
