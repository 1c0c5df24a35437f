"""Column names and dtypes of the frames tracker passes between layers.

Positions and static reports have the same columns whether they come from a file reader or
from the store (the store adds ``id``). Times are tz-aware UTC in ``ts``; coordinates are
lon/lat degrees in EPSG:4326.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from tracker.core.geo import CRS_LONLAT

__all__ = [
    "POSITION_COLUMNS",
    "STATIC_COLUMNS",
    "positions_frame",
    "statics_frame",
    "typed_positions",
]

POSITION_COLUMNS = [
    "mmsi",
    "ts",
    "lon",
    "lat",
    "sog_kn",
    "cog_deg",
    "heading_deg",
    "nav_status",
    "msg_type",
    "source",
    "ts_assumed",
]
STATIC_COLUMNS = [
    "mmsi",
    "ts",
    "imo",
    "name",
    "callsign",
    "ship_type",
    "to_bow",
    "to_stern",
    "to_port",
    "to_starboard",
    "length_m",
    "beam_m",
    "draught_m",
    "destination",
    "eta",
    "msg_type",
    "source",
    "ts_assumed",
]

_FLOATS = ("lon", "lat", "sog_kn", "cog_deg", "heading_deg", "length_m", "beam_m", "draught_m")
_NULLABLE_INTS = ("nav_status", "imo", "ship_type", "to_bow", "to_stern", "to_port", "to_starboard")


def _typed(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    for column in columns:
        if column not in frame.columns:
            frame[column] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    ordered = (["id"] if "id" in frame.columns else []) + columns
    extra = [c for c in frame.columns if c not in ordered]
    frame = frame[ordered + extra].copy()
    frame["ts"] = (
        pd.to_datetime(frame["ts"], utc=True, format="mixed")
        if len(frame)
        else pd.Series([], dtype="datetime64[ns, UTC]")
    )
    frame["mmsi"] = frame["mmsi"].astype("int64")
    frame["msg_type"] = frame["msg_type"].astype("int64")
    frame["ts_assumed"] = frame["ts_assumed"].astype(bool)
    for column in _FLOATS:
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in _NULLABLE_INTS:
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    return frame


def typed_positions(frame: pd.DataFrame) -> pd.DataFrame:
    """Type a positions table (UTC ``ts``, float coordinates, nullable ints), no geometry."""
    return _typed(frame, POSITION_COLUMNS)


def positions_frame(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """Type a positions table and give it point geometry (EPSG:4326; empty where lon/lat is NULL)."""
    frame = _typed(frame, POSITION_COLUMNS)
    geometry = gpd.points_from_xy(frame["lon"], frame["lat"], crs=CRS_LONLAT)
    geometry[frame["lon"].isna().to_numpy() | frame["lat"].isna().to_numpy()] = None
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS_LONLAT)


def statics_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Type a static-reports table (no geometry: identity reports have no place)."""
    return _typed(frame, STATIC_COLUMNS)
