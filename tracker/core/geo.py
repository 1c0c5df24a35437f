"""Geodesy helpers: distances in metres on the WGS84 ellipsoid, unit conversions.

Coordinates are lon/lat degrees (EPSG:4326). Metres never come from degrees.
"""

from __future__ import annotations

import numpy as np
from pyproj import Geod

__all__ = [
    "CRS_LONLAT",
    "KNOT_M_S",
    "M_PER_NM",
    "WGS84",
    "geodesic_distance_m",
    "knots_to_m_s",
    "m_s_to_knots",
]

CRS_LONLAT = "EPSG:4326"
WGS84 = Geod(ellps="WGS84")
M_PER_NM = 1852.0
KNOT_M_S = M_PER_NM / 3600.0


def geodesic_distance_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres between points (scalars or arrays, broadcast; degrees)."""
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lon1, lat1, lon2, lat2)))
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a).ravel() for a in arrays]
    _, _, dist = WGS84.inv(*flat)
    return np.asarray(dist, dtype=float).reshape(shape)


def knots_to_m_s(kn):
    """Knots to metres per second."""
    return np.asarray(kn, dtype=float) * KNOT_M_S


def m_s_to_knots(m_s):
    """Metres per second to knots."""
    return np.asarray(m_s, dtype=float) / KNOT_M_S
