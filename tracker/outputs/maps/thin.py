"""Make tracks light enough to publish: split at gaps, simplify, keep turns and stops."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
from pyproj import Transformer
from shapely import LineString

__all__ = ["TrackPiece", "thin_arrays", "thin_track", "to_mercator"]

_TO_MERCATOR = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)


def to_mercator(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Web Mercator x, y (m) of lon/lat arrays (latitudes clipped to ±85°)."""
    x, y = _TO_MERCATOR.transform(lon, np.clip(lat, -85.0, 85.0))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


@dataclass
class TrackPiece:
    """A continuous stretch of one vessel's track: kept vertices and their UTC times (ms)."""

    lonlat: np.ndarray  # shape (n, 2)
    times_ms: np.ndarray  # shape (n,)
    stops: np.ndarray  # bool per kept vertex: the ship was stopped there


def _simplify_indices(x: np.ndarray, y: np.ndarray, lat: np.ndarray, tolerance_m: float):
    """Indices of the vertices Douglas-Peucker keeps at ``tolerance_m`` metres (local Mercator scale)."""
    if len(x) <= 2:
        return np.arange(len(x))
    scale = 1.0 / max(np.cos(np.radians(np.nanmean(lat))), 0.05)  # Mercator stretches by 1/cos(lat)
    line = LineString(np.column_stack([x, y]))
    kept = np.asarray(line.simplify(tolerance_m * scale, preserve_topology=False).coords)
    lookup = {(px, py): i for i, (px, py) in enumerate(zip(x.tolist(), y.tolist(), strict=True))}
    indices = sorted({lookup[(px, py)] for px, py in kept.tolist() if (px, py) in lookup})
    return np.asarray(indices or [0, len(x) - 1], dtype=int)


def thin_arrays(
    ms: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    sog: np.ndarray,
    *,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    max_gap: timedelta = timedelta(hours=6),
    tolerance_m: float = 250.0,
    stop_sog_kn: float = 0.5,
) -> list[TrackPiece]:
    """:func:`thin_track` on one vessel's arrays, sorted by time (``ms``: UTC milliseconds);
    ``x``/``y`` are its Web Mercator coordinates if already computed."""
    if len(ms) == 0:
        return []
    if x is None or y is None:
        x, y = to_mercator(lon, lat)
    stopped = np.nan_to_num(sog, nan=99.0) < stop_sog_kn
    breaks = np.flatnonzero(np.diff(ms) > max_gap.total_seconds() * 1000) + 1
    pieces = []
    for idx in np.split(np.arange(len(ms)), breaks):
        keep = set(_simplify_indices(x[idx], y[idx], lat[idx], tolerance_m).tolist())
        change = np.flatnonzero(np.diff(stopped[idx].astype(int)) != 0)
        keep.update(change.tolist())
        keep.update((change + 1).tolist())
        order = idx[sorted(keep)]
        pieces.append(
            TrackPiece(np.column_stack([lon[order], lat[order]]), ms[order], stopped[order])
        )
    return pieces


def thin_track(
    track: pd.DataFrame,
    *,
    max_gap: timedelta = timedelta(hours=6),
    tolerance_m: float = 250.0,
    stop_sog_kn: float = 0.5,
) -> list[TrackPiece]:
    """Split one vessel's positions (``ts, lon, lat[, sog_kn]``) at silences longer than ``max_gap``
    and simplify each piece with a ``tolerance_m`` metre Douglas-Peucker, keeping every turn beyond
    the tolerance and the first and last fix of every stop (SOG below ``stop_sog_kn`` knots).
    """
    frame = track.dropna(subset=["lon", "lat"]).sort_values("ts")
    if frame.empty:
        return []
    times = pd.to_datetime(frame["ts"], utc=True)
    ms = (times - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(milliseconds=1)
    ms = ms.to_numpy(dtype=np.int64)
    lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
    sog = frame["sog_kn"].to_numpy(float) if "sog_kn" in frame else np.full(len(frame), np.nan)
    return thin_arrays(
        ms, lon, lat, sog, max_gap=max_gap, tolerance_m=tolerance_m, stop_sog_kn=stop_sog_kn
    )
